import { GraphQLError } from 'graphql';
import type { ApolloServerPlugin } from '@apollo/server';
import type { GraphQLContext } from './context.js';

/** The code of a subscription sent over HTTP: the request is well formed, the transport cannot serve it. */
export const SUBSCRIPTION_OVER_HTTP = 'SUBSCRIPTION_OVER_HTTP';

/**
 * A subscription needs a socket: over HTTP it is refused before it executes (400, or 200 for a client that accepts only
 * application/json, as for any request error), saying where subscriptions are served. Apollo would run its resolver as
 * a query, which has no stream to read.
 */
export function refuseSubscriptionsOverHttp(): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation }) {
          if (operation?.operation !== 'subscription') return;
          throw new GraphQLError('Subscriptions are served over WebSocket (the graphql-transport-ws protocol of graphql-ws) at /graphql, not over HTTP', {
            extensions: { code: SUBSCRIPTION_OVER_HTTP, http: { status: 400 } },
          });
        },
      };
    },
  };
}
