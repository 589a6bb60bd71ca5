import { DomainError, ErrorCode } from '../errors/domain-error.js';
import type { SubscriberConnection } from '../events/event-stream.js';
import type { ServiceContext } from '../request/context.js';
import type { Services } from '../services/index.js';

/** Resolvers receive the service context unchanged (they only adapt arguments and results), the services to call with it, and the WebSocket a subscription runs on. */
export type GraphQLContext = ServiceContext & { services: Services; connection?: SubscriberConnection };

export function requireConnection(ctx: GraphQLContext): SubscriberConnection {
  if (!ctx.connection) throw new DomainError(ErrorCode.BAD_USER_INPUT, 'Subscriptions are served over WebSocket (graphql-ws) at /graphql');
  return ctx.connection;
}
