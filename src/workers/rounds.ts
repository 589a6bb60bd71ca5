import type { EventHub } from '../events/event-hub.js';
import type { EventTable } from '../events/event-types.js';

export interface RoundsOptions {
  round: () => Promise<void>;
  /** how long until the next round without a wake-up */
  next: () => number | Promise<number>;
  /** a round that threw: reported, and the rounds go on */
  failed: (err: unknown) => void;
  /** the changes that wake it: every change to these tables this replica's hub reads from the log */
  wakeOn: { hub: Pick<EventHub, 'onChange'>; tables: readonly EventTable[] };
  /** a wake-up while this says no is dropped (the worker wakes itself once it can act again) */
  wanted?: () => boolean;
}

/**
 * How Berth's workers pace their work: a round on every wake-up (a change that concerns them, or the worker itself)
 * and again `next()` ms after the last one ended, never two at once; a wake-up during a round runs one more right
 * after it, so no change is missed and a burst of changes costs one or two rounds.
 */
export class Rounds {
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly options: RoundsOptions) {}

  /** A first round now, then on every change to the tables and after each pause. */
  start(): void {
    const { hub, tables } = this.options.wakeOn;
    this.unsubscribe = hub.onChange(tables, () => this.wake());
    this.wake();
  }

  wake(): void {
    if (this.stopped || this.options.wanted?.() === false) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.again = false;
    clearTimeout(this.timer);
    this.running = this.options
      .round()
      .catch(this.options.failed)
      .then(async () => {
        if (this.again || this.stopped) return;
        const wait = await this.options.next();
        if (!this.stopped) this.timer = setTimeout(() => this.wake(), wait);
      })
      .catch(this.options.failed)
      .finally(() => {
        this.running = undefined;
        if (this.again) this.wake();
      });
  }

  /** No round starts after this, nor on a change; waits for the one under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    clearTimeout(this.timer);
    await this.running;
  }
}
