import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { assertUnreachable, DomainError, ErrorCode } from '../errors/domain-error.js';
import type { ApolloServerPlugin } from '@apollo/server';
import type { Logger } from '../logging/logger.js';
import type { GraphQLContext } from './context.js';
import { isDatabaseUnavailable } from '../db/availability.js';
import { SUBSCRIPTION_OVER_HTTP } from './http-subscriptions.js';

/** The one mapping from domain error codes to GraphQL extensions.code. */
export function graphqlCode(code: ErrorCode): string {
  switch (code) {
    case ErrorCode.UNAUTHENTICATED:
      return 'UNAUTHENTICATED';
    case ErrorCode.FORBIDDEN:
      return 'FORBIDDEN';
    case ErrorCode.NOT_FOUND:
      return 'NOT_FOUND';
    case ErrorCode.BAD_USER_INPUT:
      return 'BAD_USER_INPUT';
    case ErrorCode.CONFLICT:
      return 'CONFLICT';
    case ErrorCode.CURSOR_EXPIRED:
      return 'CURSOR_EXPIRED';
    case ErrorCode.CLUSTER_UNAVAILABLE:
      return 'CLUSTER_UNAVAILABLE';
    case ErrorCode.TOO_MANY_REQUESTS:
      return 'TOO_MANY_REQUESTS';
    case ErrorCode.INTERNAL:
      return 'INTERNAL_SERVER_ERROR';
    default:
      return assertUnreachable(code);
  }
}

/** The code of an answer that may succeed later (the database is down): HTTP answers it 503 with Retry-After. */
export const SERVICE_UNAVAILABLE = 'SERVICE_UNAVAILABLE';

export const databaseUnavailable = () => new GraphQLError('The database is unavailable; try again shortly', { extensions: { code: SERVICE_UNAVAILABLE } });

/** Codes Apollo and graphql-js produce themselves for bad documents and variables; passed through as they are. */
const CLIENT_ERROR_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
  SUBSCRIPTION_OVER_HTTP,
]);

/**
 * What a resolver threw, under graphql-js's wrapper or graphql-jit's (Apollo's unwrapResolverError checks the
 * wrapper's class, which is another copy's where modules are loaded twice, as under jest).
 */
function thrownByResolver(error: unknown): unknown {
  const wrapped = error as { path?: unknown; originalError?: unknown } | null;
  return wrapped && typeof wrapped === 'object' && wrapped.path && wrapped.originalError ? wrapped.originalError : error;
}

/**
 * Apollo's formatError: domain errors become their code; anything unexpected is logged with the
 * request id and masked, so no stack trace or SQL reaches a client.
 */
export function formatError(logger: Logger, options: { hideSuggestions?: boolean } = {}) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    // Apollo's hideSchemaDetailsFromClientErrors strips "Did you mean" from validation errors only;
    // variable coercion errors (BAD_USER_INPUT) would still name input fields and types
    if (options.hideSuggestions) formatted = { ...formatted, message: formatted.message.replace(/ ?Did you mean(.+?)\?$/, '') };
    const original = thrownByResolver(error);
    if (original instanceof DomainError) {
      return {
        message: original.message,
        locations: formatted.locations,
        path: formatted.path,
        extensions: {
          code: graphqlCode(original.code),
          ...(original.field ? { field: original.field } : {}),
          ...(original.retryAfter !== undefined ? { retryAfter: original.retryAfter } : {}),
        },
      };
    }
    const code = formatted.extensions?.code;
    if (typeof code === 'string' && CLIENT_ERROR_CODES.has(code)) {
      return { message: formatted.message, locations: formatted.locations, path: formatted.path, extensions: { code } };
    }
    if (code === SERVICE_UNAVAILABLE || isDatabaseUnavailable(original)) {
      logger.warn({ err: original }, 'the database is unavailable');
      const { message, extensions } = databaseUnavailable();
      return { message, locations: formatted.locations, path: formatted.path, extensions: { code: extensions.code } };
    }
    // graphql-js errors without a code or an original error come from validation rules (limits, unknown fields)
    if (original instanceof GraphQLError && !original.originalError && !formatted.path && code === undefined) {
      return { message: formatted.message, locations: formatted.locations, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } };
    }
    // logged with its request id by the plugin below before this runs
    const requestId = (original as { requestId?: string } | null)?.requestId;
    if (!requestId) logger.error({ err: original, path: formatted.path }, 'unexpected GraphQL error');
    return {
      message: 'Internal server error',
      locations: formatted.locations,
      path: formatted.path,
      extensions: { code: 'INTERNAL_SERVER_ERROR', ...(requestId ? { requestId } : {}) },
    };
  };
}

/** Logs an unexpected error with the request id, and tags it so formatError can echo the id. */
export function logUnexpectedError(logger: Logger, error: GraphQLError, requestId: string): void {
  // a client's mistake (a typo, a wrong variable) pages no one: debug, without a stack
  const code = error.extensions?.code;
  if (typeof code === 'string' && CLIENT_ERROR_CODES.has(code)) return logger.debug({ requestId, code, message: error.message }, 'client error');
  const original = thrownByResolver(error);
  if (!original || original instanceof DomainError || !(original instanceof Error) || isDatabaseUnavailable(original)) return;
  if (original instanceof GraphQLError && !original.originalError) return;
  (original as Error & { requestId?: string }).requestId = requestId;
  logger.error({ requestId, err: original, path: error.path }, 'unexpected GraphQL error');
}

/** Logs each unexpected error once, with the request id, and tags it so formatError can echo the id. */
export function unexpectedErrorLogger(logger: Logger): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors, contextValue }) {
          for (const error of errors) logUnexpectedError(logger, error, contextValue.requestId);
        },
      };
    },
  };
}
