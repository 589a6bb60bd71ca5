import { expect } from '@jest/globals';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { TestServer } from './server.js';

export interface Message {
  operation: string;
  cursor: string;
  id: string | null;
  [field: string]: unknown;
}

/** Something that collects what arrives over a socket, and lets a test wait for a condition on it. */
export class Observed {
  private readonly listeners = new Set<() => void>();

  /** Waits until `done` holds for what arrived so far (5 s at most). */
  async until(done: (observed: this) => boolean, what = 'the expected messages', timeoutMs = 5000): Promise<void> {
    if (done(this)) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners.delete(check);
        // the socket or client itself is not what arrived (and may be circular)
        const arrived = JSON.stringify(this, (key, value: unknown) => (key === 'socket' || key === 'client' ? undefined : value));
        reject(new Error(`timed out waiting for ${what}; got ${arrived}`));
      }, timeoutMs);
      const check = () => {
        if (!done(this)) return;
        clearTimeout(timer);
        this.listeners.delete(check);
        resolve();
      };
      this.listeners.add(check);
    });
  }

  /** Applies what arrived, then re-checks every waiting condition. */
  protected update(change: () => unknown): void {
    change();
    for (const listener of [...this.listeners]) listener();
  }
}

/**
 * A real graphql-ws client running one subscription, collecting what arrives. `field` is the
 * subscription's root field; errors and the socket's close event are kept for assertions.
 */
export class Feed extends Observed {
  readonly messages: Message[] = [];
  readonly errors: unknown[] = [];
  closed: { code: number; reason: string } | null = null;
  completed = false;
  private readonly client: Client;

  constructor(wsUrl: string, headers: Record<string, string>, query: string, variables: Record<string, unknown> = {}) {
    super();
    const field = /\{\s*(\w+)/.exec(query.replace(/^\s*subscription[^{]*/, ''))?.[1] ?? '';
    this.client = createClient({
      url: wsUrl,
      webSocketImpl: WebSocket,
      connectionParams: headers,
      retryAttempts: 0,
      lazy: false,
      // the close is kept in `closed`; graphql-ws would also print the whole CloseEvent
      onNonLazyError: () => {},
      on: { closed: (event) => this.update(() => (this.closed = event as { code: number; reason: string })) },
    });
    this.client.subscribe<Record<string, Message>>(
      { query, variables },
      {
        next: (result) => this.update(() => (result.errors ? this.errors.push(...result.errors) : this.messages.push(result.data![field]))),
        error: (error) => this.update(() => this.errors.push(error)),
        complete: () => this.update(() => (this.completed = true)),
      },
    );
  }

  /** Waits for the LIVE marker: the opening is complete. */
  live(): Promise<void> {
    return this.until((f) => f.messages.some((m) => m.operation === 'LIVE'), 'the LIVE marker');
  }

  /** Changes after the LIVE marker. */
  get changes(): Message[] {
    const live = this.messages.findIndex((m) => m.operation === 'LIVE');
    return live < 0 ? [] : this.messages.slice(live + 1);
  }

  get lastCursor(): string {
    const last = this.messages.at(-1);
    expect(last).toBeDefined();
    return last!.cursor;
  }

  async dispose(): Promise<void> {
    await this.client.dispose();
  }
}

/**
 * Writes made outside a mutation (fixtures flushed directly, raw SQL) reach subscribers on the hub's
 * next poll. This announces them now and waits until the hub has passed them, so they cannot
 * arrive in the middle of a later step.
 */
export async function settleEvents(server: TestServer): Promise<number> {
  const [{ head }] = await server.sql<{ head: number }>('select coalesce(max(cursor), 0)::int as head from events');
  server.berth.events.announce(head);
  for (const until = Date.now() + 5000; server.berth.events.position < head; ) {
    if (Date.now() > until) throw new Error(`the hub did not reach cursor ${head}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return head;
}

/** Waits until `check` holds, asking again every 20 ms (5 s at most). */
export async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
