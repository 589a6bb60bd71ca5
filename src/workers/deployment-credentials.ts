import type { SqlEntityManager } from '@mikro-orm/sql';
import { openProcessLocks, type ProcessLocks } from '../db/advisory-locks.js';
import type { DatabaseTarget } from '../db/orm.js';
import type { EventHub } from '../events/event-hub.js';
import type { Logger } from '../logging/logger.js';
import { systemContext } from '../request/context.js';
import type { Services } from '../services/index.js';

const ACTOR = 'deployment-credentials';

/** The Secret every deployment's namespace holds, as Platz names it. */
export const CREDENTIALS_SECRET = 'platz-creds';

export interface DeploymentCredentialsOptions {
  /** how often every deployment's token is written anew (well within a token's lifetime) */
  refreshMs: number;
  /** Berth's address, as the deployments reach it (`server_url`) */
  serverUrl: string;
}

/**
 * Keeps `platz-creds` (a token acting as the deployment, `server_url`, `expires_at`) in every enabled deployment's
 * namespace: all of them every `refreshMs`, and a deployment's own on each change to it (its namespace made,
 * renamed, re-enabled). One replica writes them, the holder of an advisory lock; the others stand by.
 */
export class DeploymentCredentials {
  private locks: ProcessLocks;
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly changed = new Set<string>();
  private writing: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly em: SqlEntityManager,
    private readonly services: Services,
    private readonly database: DatabaseTarget,
    private readonly hub: EventHub,
    private readonly options: DeploymentCredentialsOptions,
    private readonly logger: Logger,
  ) {
    this.locks = openProcessLocks(database, ACTOR);
  }

  start(): void {
    this.unsubscribe = this.hub.onChange(['deployments'], (event) => {
      if (event.operation === 'DELETE') return;
      this.changed.add(event.id);
      this.kick();
    });
    const refresh = () => {
      void this.run(undefined).finally(() => {
        if (!this.stopped) this.timer = setTimeout(refresh, this.options.refreshMs);
      });
    };
    refresh();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    clearTimeout(this.timer);
    await this.writing;
    await this.locks.close();
  }

  /** Writes for the deployments that changed, unless a write is under way (it kicks again when done). */
  private kick(): void {
    if (this.writing || this.stopped || !this.changed.size) return;
    const ids = [...this.changed];
    this.changed.clear();
    void this.run(ids);
  }

  /** Writes the credentials of `ids` (all deployments when undefined), one write at a time. */
  private async run(ids: string[] | undefined): Promise<void> {
    while (this.writing) await this.writing;
    this.writing = this.write(ids)
      .catch((err: unknown) => this.logger.warn({ err }, 'writing deployment credentials failed'))
      .finally(() => {
        this.writing = undefined;
        this.kick();
      });
    await this.writing;
  }

  private async write(ids: string[] | undefined): Promise<void> {
    if (this.stopped) return;
    if (!this.locks.held) {
      await this.locks.close();
      this.locks = openProcessLocks(this.database, ACTOR);
    }
    if (!(await this.locks.tryAcquire('all'))) return;
    const ctx = systemContext(this.em.fork(), ACTOR);
    for (const target of await this.services.deployments.withNamespaces(ctx, ids)) {
      try {
        const call = await this.services.k8sClusters.connect(ctx, target.clusterId);
        const { token, expiresAt } = await this.services.auth.deploymentToken(ctx, target.id);
        // loaded with the first deployment to write to: @kubernetes/client-node takes about 300 ms and 70 MB to load
        const { applySecret } = await import('../k8s/helm-release.js');
        await applySecret(call, target.namespace, CREDENTIALS_SECRET, { access_token: token, server_url: this.options.serverUrl, expires_at: expiresAt.toISOString() });
      } catch (err) {
        // a namespace not made yet (the task is on its way) gets them on the deployment's next change
        this.logger.debug({ err, deployment: target.id }, 'deployment credentials not written');
      }
    }
  }
}
