import type { SqlEntityManager } from '@mikro-orm/sql';
import type { HelmRegistry } from '../entities/index.js';
import { DomainError, ErrorCode } from '../errors/domain-error.js';
import type { Logger } from '../logging/logger.js';
import { ChartArchiveError, chartLayer, readChartArchive, type ChartExtensions } from '../registries/chart-archive.js';
import { HELM_CONFIG, OciRepository } from '../registries/oci-client.js';
import { systemContext } from '../request/context.js';
import type { ChartRegistration } from '../services/helm-chart.service.js';
import type { Services } from '../services/index.js';

const ACTOR = 'chart-discovery';

export interface ChartDiscoveryOptions {
  /** how long after a round the next one starts */
  pollMs: number;
  /** the longest one call to a registry may take */
  timeoutMs: number;
  /** registry domains (lower case) called over http */
  plainHttp: ReadonlySet<string>;
}

/**
 * Registers the charts pushed to the registries Berth polls (`HelmRegistryService.discoverable`): every `pollMs`, each
 * registry's tags are listed, and each tag not registered yet has its manifest and chart archive fetched and is
 * registered through `HelmChartService.register` as the system identity `chart-discovery`, with its digest, its tag
 * (parsed by the tag formats) and its chart-ext documents; an archive that cannot be read is registered with its
 * error, unavailable. A tag that could not be fetched (timeout, refusal, a redirect to another host) is only logged
 * and tried again next round. Registries are polled side by side, so a slow one holds up no other. Every replica
 * polls: when two register the same tag, the unique (registry, tag) lets one write it and the other sees a CONFLICT,
 * taken as done.
 */
export class ChartDiscovery {
  private readonly abort = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  private stopped = false;
  /** `<registry id> <tag>` of artifacts that are not Helm charts: looked at once per process */
  private readonly notCharts = new Set<string>();

  constructor(
    private readonly em: SqlEntityManager,
    private readonly services: Services,
    private readonly options: ChartDiscoveryOptions,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.tick();
  }

  private tick(): void {
    void this.poll().then(() => {
      if (!this.stopped) this.timer = setTimeout(() => this.tick(), this.options.pollMs);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    // calls under way end now rather than at their timeout
    this.abort.abort();
    await this.queued;
    await this.running;
  }

  /**
   * One round now; when one is under way (it may have read the registries before the caller's change), one more right
   * after it, shared by every caller meanwhile. Never rejects: each failure is logged.
   */
  poll(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (!this.running) return (this.running = this.round().finally(() => (this.running = undefined)));
    return (this.queued ??= this.running.then(() => {
      this.queued = undefined;
      return this.poll();
    }));
  }

  private async round(): Promise<void> {
    try {
      const registries = await this.services.helmRegistries.discoverable(this.context());
      await Promise.all(registries.map((registry) => this.pollRegistry(registry)));
    } catch (err) {
      this.logger.warn({ err }, 'reading the registries to poll failed; trying again next round');
    }
  }

  private async pollRegistry(registry: HelmRegistry): Promise<void> {
    const name = `${registry.domainName}/${registry.repoName}`;
    let repository: OciRepository;
    let tags: string[];
    let known: Set<string>;
    try {
      repository = new OciRepository(registry.domainName, registry.repoName, {
        timeoutMs: this.options.timeoutMs,
        plainHttp: this.options.plainHttp.has(registry.domainName.toLowerCase()),
        signal: this.abort.signal,
      });
      [tags, known] = await Promise.all([repository.tags(), this.services.helmCharts.registeredTags(this.context(), registry.id)]);
    } catch (err) {
      this.failed({ registry: name }, err, 'listing the tags of a chart registry failed; trying again next round');
      return;
    }
    for (const tag of tags) {
      if (this.stopped) return;
      if (known.has(tag) || this.notCharts.has(`${registry.id} ${tag}`)) continue;
      await this.discover(registry, name, repository, tag).catch((err: unknown) => this.failed({ registry: name, tag }, err, 'fetching a chart failed; trying again next round'));
    }
  }

  private async discover(registry: HelmRegistry, name: string, repository: OciRepository, tag: string): Promise<void> {
    const manifest = await repository.manifest(tag);
    if (manifest.config.mediaType !== HELM_CONFIG) {
      this.notCharts.add(`${registry.id} ${tag}`);
      this.logger.debug({ registry: name, tag, mediaType: manifest.config.mediaType }, 'not a Helm chart; skipped');
      return;
    }
    let extensions: ChartExtensions | undefined;
    let error: string | undefined;
    try {
      extensions = await readChartArchive(await repository.blob(chartLayer(manifest)));
    } catch (err) {
      // anything else (a timeout, a refusal) is the registry's doing, not the chart's: tried again next round
      if (!(err instanceof ChartArchiveError)) throw err;
      error = err.message;
    }
    await this.register(name, { helmRegistryId: registry.id, imageDigest: manifest.digest, imageTag: tag, ...extensions, error });
  }

  private async register(name: string, input: ChartRegistration): Promise<void> {
    try {
      const chart = await this.services.helmCharts.register(this.context(), input);
      const fields = { registry: name, tag: chart.imageTag, chart: chart.id };
      if (chart.error) this.logger.warn({ ...fields, reason: chart.error }, 'registered a chart that cannot be read, as unavailable');
      else this.logger.info(fields, 'registered a chart');
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      // another replica registered it first
      if (err.code === ErrorCode.CONFLICT) return;
      // chart-ext documents the API refuses (a values-ui without inputs, an unknown cardinality) make the chart unreadable
      if (err.code === ErrorCode.BAD_USER_INPUT && DOCUMENT_FIELDS.has(err.field ?? '')) {
        const { helmRegistryId, imageDigest, imageTag } = input;
        return this.register(name, { helmRegistryId, imageDigest, imageTag, error: err.message });
      }
      throw err;
    }
  }

  /** a failure is news, unless it is the abort of stop() */
  private failed(fields: object, err: unknown, msg: string): void {
    if (!this.stopped) this.logger.warn({ ...fields, reason: (err as Error).message }, msg);
  }

  private context() {
    return systemContext(this.em.fork(), ACTOR);
  }
}

/** the input fields of the chart-ext documents, as RegisterHelmChartInput names them in its errors */
const DOCUMENT_FIELDS = new Set(['input.valuesUi', 'input.actionsSchema', 'input.features', 'input.resourceTypes']);
