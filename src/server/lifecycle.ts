import type { Logger } from '../logging/logger.js';

/**
 * What has started, in order, so that it closes in reverse: on stop(), and when a start fails half way (then
 * nothing it opened stays open). Each closer is logged and bounded in time, and one that fails or hangs does not
 * keep the others from closing.
 */
export class Lifecycle {
  private readonly closers: { component: string; close: () => Promise<unknown> }[] = [];
  private closing: Promise<void> | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly stepTimeoutMs: number,
  ) {}

  /** Registers what closes `component`, right after it started. */
  started(component: string, close: () => Promise<unknown>): void {
    this.closers.push({ component, close });
  }

  /** Closes everything started, newest first; never throws. Called twice, the second call waits on the first. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (let closer = this.closers.pop(); closer; closer = this.closers.pop()) await this.closeOne(closer.component, closer.close);
    })();
    return this.closing;
  }

  private async closeOne(component: string, close: () => Promise<unknown>): Promise<void> {
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), this.stepTimeoutMs)));
    try {
      const outcome = await Promise.race([close().then(() => 'closed' as const), timedOut]);
      const ms = Math.round(performance.now() - started);
      if (outcome === 'timeout') this.logger.warn({ component, ms }, `${component} did not close in time; going on`);
      else this.logger.debug({ component, ms }, `${component} closed`);
    } catch (err) {
      this.logger.warn({ component, err }, `${component} failed to close; going on`);
    } finally {
      clearTimeout(timer);
    }
  }
}
