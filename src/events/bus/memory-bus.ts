import type { EventBus } from './event-bus.js';

/** One process only: the embedded database serves a single process, and tests. */
export class MemoryBus implements EventBus {
  readonly engine = 'memory';
  private readonly handlers: ((cursor: number) => void)[] = [];

  async publish(cursor: number): Promise<void> {
    // after the publisher's own work, as a real broker would deliver it
    queueMicrotask(() => this.handlers.forEach((handler) => handler(cursor)));
  }

  onMessage(handler: (cursor: number) => void): void {
    this.handlers.push(handler);
  }

  async close(): Promise<void> {
    this.handlers.length = 0;
  }
}
