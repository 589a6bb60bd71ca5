import { ListWatch, Watch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import { Backoff } from './backoff.js';

export interface ResourceWatchHandlers<T extends KubernetesObject> {
  /** an object added or changed */
  changed(object: T): void;
  removed(object: T): void;
  /** a (re)list: every object there is now (those not in it are gone) */
  listed(objects: T[]): void;
  /** the watch works (true, after a list or once a watch is open) or has failed (false, with the error) */
  health(ok: boolean, error?: unknown): void;
}

export interface ResourceWatchOptions {
  labelSelector?: string;
  backoffBaseMs: number;
  backoffMaxMs: number;
}

/**
 * One list-and-watch of one resource path, kept alive. client-node's informer resumes from the last
 * resourceVersion when a watch ends cleanly and relists on 410 Gone, but stops for good on an error: this restarts
 * it after a backoff with jitter, resuming from where it was. After stop(), nothing opens again (client-node may
 * still open a reconnect that was under way: the watch it asks for is refused here).
 */
export class ResourceWatch<T extends KubernetesObject> {
  private readonly informer: ListWatch<T>;
  private readonly backoff: Backoff;
  private stopped = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(
    kc: KubeConfig,
    path: string,
    list: () => Promise<KubernetesListObject<T>>,
    private readonly handlers: ResourceWatchHandlers<T>,
    options: ResourceWatchOptions,
  ) {
    this.backoff = new Backoff(options.backoffBaseMs, options.backoffMaxMs);
    const watch = new Watch(kc);
    const guarded = {
      watch: async (path: string, query: Parameters<Watch['watch']>[1], event: Parameters<Watch['watch']>[2], done: (err: unknown) => void) => {
        if (this.stopped) return new AbortController();
        // client-node reports a refused watch only through `done`, before watch() returns
        let refused = false;
        const controller = await watch.watch(path, query, event, (err: unknown) => ((refused ||= !!err), done(err)));
        // a watch resumed without a list is working again too
        if (!refused && !this.stopped) this.working();
        return controller;
      },
    } as Watch;
    this.informer = new ListWatch<T>(path, guarded, () => this.listed(list), false, options.labelSelector);
    this.informer.on('add', (o) => handlers.changed(o));
    this.informer.on('update', (o) => handlers.changed(o));
    this.informer.on('delete', (o) => handlers.removed(o));
    this.informer.on('error', (err) => this.failed(err));
  }

  /** The objects as last seen, in one namespace. */
  objects(namespace: string): T[] {
    return [...this.informer.list(namespace)];
  }

  start(): void {
    this.stopped = false;
    void this.informer.start().catch((err: unknown) => this.failed(err));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    await this.informer.stop();
  }

  private async listed(list: () => Promise<KubernetesListObject<T>>): Promise<KubernetesListObject<T>> {
    const result = await list();
    this.handlers.listed(result.items);
    this.working();
    return result;
  }

  private working(): void {
    this.backoff.reset();
    this.handlers.health(true);
  }

  private failed(err: unknown): void {
    // informer.stop() reports its own abort as an error
    if (this.stopped) return;
    this.handlers.health(false, err);
    clearTimeout(this.retry);
    this.retry = setTimeout(() => this.start(), this.backoff.next());
  }
}
