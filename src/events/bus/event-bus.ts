/**
 * Carries "the event log has grown to cursor N" between replicas. Messages are only wake-ups:
 * every replica reads the events themselves from the log, so a lost message delays delivery
 * (until the next message or poll) but never loses an event.
 */
export interface EventBus {
  readonly engine: 'memory' | 'postgres' | 'redis';
  publish(cursor: number): Promise<void>;
  /** called for every cursor published by any replica, this one included */
  onMessage(handler: (cursor: number) => void): void;
  close(): Promise<void>;
}

/** The channel name, shared by the PostgreSQL and Redis engines. */
export const EVENT_CHANNEL = 'berth_events';

/** A published payload back to a cursor; anything else is ignored (another writer on the channel). */
export function parseCursor(payload: string): number | null {
  return /^\d{1,16}$/.test(payload) ? Number(payload) : null;
}
