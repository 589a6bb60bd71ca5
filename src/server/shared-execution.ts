import { createSourceEventStream, execute, getOperationAST, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';
import { identityKey } from '../policy/grants.js';
import type { ChangeEvent } from '../events/event-log.js';
import type { EventMessage } from '../events/event-stream.js';
import type { GraphQLContext } from '../graphql/context.js';

/**
 * Subscriptions for many subscribers at once. graphql-js executes the selection once per message
 * and subscriber; at thousands of subscribers of one event that is most of the server's CPU. Here,
 * subscribers running the same document with the same variables as the same identity (so with
 * the same grants) share one execution of each live event: the result is computed by the first and
 * handed to the others. Anything else (snapshots, replays, errors) executes per subscriber.
 */
export function sharedSubscribe(args: ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  return Promise.resolve(createSourceEventStream(args)).then((source) => {
    if (!(Symbol.asyncIterator in source)) return source;
    const iterator = source[Symbol.asyncIterator]() as AsyncIterator<EventMessage>;
    const scope = shareKey(args);
    const run = (message: EventMessage) => executeShared(args, message, scope);
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
}

/** Live events by the hub's event object: every stream receives the same one. */
const executions = new WeakMap<ChangeEvent, Map<string, Promise<ExecutionResult>>>();

function executeShared(args: ExecutionArgs, message: EventMessage, scope: string | null): Promise<ExecutionResult> {
  const single = () => Promise.resolve(execute({ ...args, rootValue: message }));
  if (!message.event || scope === null) return single();
  let results = executions.get(message.event);
  if (!results) executions.set(message.event, (results = new Map()));
  let result = results.get(scope);
  if (!result) results.set(scope, (result = single()));
  return result;
}

const documentIds = new WeakMap<DocumentNode, number>();
let nextDocumentId = 0;

/** What makes two executions of an event equal: the same document (parsed once per query text), variables, operation and identity. */
function shareKey(args: ExecutionArgs): string | null {
  const ctx = args.contextValue as GraphQLContext;
  if (ctx.identity.kind === 'anonymous') return null;
  let id = documentIds.get(args.document);
  if (id === undefined) documentIds.set(args.document, (id = nextDocumentId++));
  return `${id}|${args.operationName ?? ''}|${JSON.stringify(declaredVariables(args))}|${identityKey(ctx.identity)}`;
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
