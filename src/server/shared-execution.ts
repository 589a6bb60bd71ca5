import { createSourceEventStream, execute, getOperationAST, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';
import { identityKey } from '../policy/grants.js';
import { sharedScopeKey } from '../policy/visibility.js';
import type { ChangeEvent } from '../events/event-log.js';
import type { EventMessage } from '../events/event-stream.js';
import type { GraphQLContext } from '../graphql/context.js';
import type { KnownIdentity } from '../request/identity.js';
import { selectionSharing, type SelectionSharing } from '../graphql/selection-sharing.js';

/** A subscription's part of the sharing key: its document, operation and variables, and what its selection depends on. */
interface Share {
  base: string;
  sharing: SelectionSharing;
}

/**
 * Subscriptions for many subscribers at once. graphql-js executes the selection once per message and
 * subscriber; at thousands of subscribers of one event that is most of the server's CPU. Here, subscribers
 * running the same document with the same variables share one execution of each live event whenever the
 * result cannot differ between them: it is computed by the first and handed to the others. Who may share
 * is decided per message (its class, see `classOf`), so a subscriber whose grants change moves to the
 * class of its new grants with the first message judged with them. Anything else (snapshots, replays,
 * errors) executes per subscriber.
 */
export class SharedExecution {
  /** Live events by the hub's event object (every stream receives the same one), then results by sharing key. */
  private readonly results = new WeakMap<ChangeEvent, Map<string, Promise<ExecutionResult>>>();
  private readonly documentIds = new WeakMap<DocumentNode, number>();
  private nextDocumentId = 0;
  private count = 0;

  /** how many times a live event's selection was executed, however many subscribers received the result (metrics, tests) */
  get executions(): number {
    return this.count;
  }

  readonly subscribe = (args: ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> =>
    Promise.resolve(createSourceEventStream(args)).then((source) => {
      if (!(Symbol.asyncIterator in source)) return source;
      const iterator = source[Symbol.asyncIterator]() as AsyncIterator<EventMessage>;
      const share = this.shareOf(args);
      const run = (message: EventMessage) => this.execute(args, message, share);
      // a plain iterator rather than an async generator: return() must reach the source at once,
      // even while a next() waits for an event that may never come
      const mapped: AsyncIterableIterator<ExecutionResult> = {
        next: async () => {
          const step = await iterator.next();
          return step.done ? step : { done: false, value: await run(step.value) };
        },
        return: async () => {
          await iterator.return?.();
          return { done: true, value: undefined };
        },
        throw: async (error: unknown) => {
          await iterator.return?.();
          throw error;
        },
        [Symbol.asyncIterator]: () => mapped,
      };
      return mapped;
    });

  private execute(args: ExecutionArgs, message: EventMessage, share: Share | null): Promise<ExecutionResult> {
    const single = () => Promise.resolve(execute({ ...args, rootValue: message }));
    if (!message.event || !share) return single();
    const key = `${share.base}|${message.operation}|${classOf(share.sharing, message, args.contextValue as GraphQLContext)}`;
    let results = this.results.get(message.event);
    if (!results) this.results.set(message.event, (results = new Map()));
    let result = results.get(key);
    if (!result) {
      this.count++;
      results.set(key, (result = single()));
    }
    return result;
  }

  /** What makes two executions of an event's message equal, besides the message's class: the same document (parsed once per query text), operation and variables. */
  private shareOf(args: ExecutionArgs): Share | null {
    const ctx = args.contextValue as GraphQLContext;
    if (ctx.identity.kind === 'anonymous') return null;
    let id = this.documentIds.get(args.document);
    if (id === undefined) this.documentIds.set(args.document, (id = this.nextDocumentId++));
    return {
      base: `${id}|${args.operationName ?? ''}|${JSON.stringify(declaredVariables(args))}`,
      sharing: selectionSharing(args.schema, args.document, args.operationName),
    };
  }
}

/**
 * Who gets the same result for the same message (the same event, delivered as the same operation, so with the
 * same object): everyone when the selection reads only the message; identities whose grants, as the message
 * was judged with them, see the same rows of what its relations read; otherwise the identity alone.
 */
function classOf(sharing: SelectionSharing, message: EventMessage, ctx: GraphQLContext): string {
  if (sharing.kind === 'message') return '*';
  const scope = sharing.kind === 'scope' && message.grants ? sharedScopeKey(message.grants, sharing.entities) : null;
  return scope === null ? `identity:${identityKey(ctx.identity as KnownIdentity)}` : `scope:${scope}`;
}

/**
 * The values of the variables the operation declares, which the input limits have checked by now.
 * graphql-js ignores any others a client sends, and they may be anything: one nested thousands
 * deep overflowed JSON.stringify here, and graphql-ws closed the whole socket.
 */
function declaredVariables(args: ExecutionArgs): Record<string, unknown> {
  const values = args.variableValues ?? {};
  const definitions = getOperationAST(args.document, args.operationName)?.variableDefinitions ?? [];
  return Object.fromEntries(definitions.map(({ variable }) => [variable.name.value, values[variable.name.value]]));
}
