/**
 * How Berth's workers pace their work: a round on every wake-up (an event that concerns them) and again `next()` ms
 * after the last one ended, never two at once; a wake-up during a round runs one more right after it, so no change
 * is missed and a burst of changes costs one or two rounds.
 */
export class Rounds {
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly round: () => Promise<void>,
    /** how long until the next round without a wake-up */
    private readonly next: () => number | Promise<number>,
    /** a round that threw: reported, and the rounds go on */
    private readonly failed: (err: unknown) => void,
  ) {}

  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.again = false;
    clearTimeout(this.timer);
    this.running = this.round()
      .catch(this.failed)
      .then(async () => {
        if (this.again || this.stopped) return;
        const wait = await this.next();
        if (!this.stopped) this.timer = setTimeout(() => this.wake(), wait);
      })
      .catch(this.failed)
      .finally(() => {
        this.running = undefined;
        if (this.again) this.wake();
      });
  }

  /** No round starts after this; waits for the one under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
