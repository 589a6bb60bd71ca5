import type { ApolloServerOptionsWithGateway } from '@apollo/server';
import { execute, GraphQLError, type DocumentNode, type ExecutionResult, type GraphQLSchema, type SourceLocation } from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import type { GraphQLContext } from './context.js';

type Gateway = ApolloServerOptionsWithGateway<GraphQLContext>['gateway'];

export interface JitOptions {
  /** compiled documents kept, least recently used dropped first */
  cacheSize: number;
  /** a document is compiled once it has run this many times: one seen once is executed by graphql-js */
  compileAfter: number;
}

/**
 * graphql-jit as Apollo Server's executor, plugged in through Apollo's gateway interface (the one way Apollo Server 5
 * takes an executor). Apollo still parses, validates (with Berth's limit rules), runs the plugins and formats errors;
 * only execution changes: a document seen `compileAfter` times is compiled into a function, cached by its hash and
 * operation, and runs several times faster than graphql-js's interpreter. A document seen fewer times is executed
 * by graphql-js, so that a stream of one-off documents costs no compilation.
 */
export function jitGateway(schema: GraphQLSchema, options: JitOptions): Gateway {
  const compiled = new Map<string, CompiledQuery>();
  const seen = new Map<string, number>();
  const remember = <V>(map: Map<string, V>, key: string, value: V) => {
    map.delete(key);
    map.set(key, value);
    // a Map iterates in insertion order: the first key is the least recently used
    if (map.size > options.cacheSize) map.delete(map.keys().next().value!);
  };
  const compile = (document: DocumentNode, operationName: string | null, key: string): CompiledQuery | null => {
    const hit = compiled.get(key);
    if (hit) {
      remember(compiled, key, hit);
      return hit;
    }
    const count = (seen.get(key) ?? 0) + 1;
    if (count < options.compileAfter) {
      remember(seen, key, count);
      return null;
    }
    seen.delete(key);
    const query = compileQuery(schema, document, operationName ?? undefined);
    // a document Apollo validated compiles; anything else is graphql-js's to report
    if (!isCompiledQuery(query)) return null;
    remember(compiled, key, query);
    return query;
  };
  return {
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: schema, coreSupergraphSdl: '' });
      return () => {};
    },
    async load() {
      return {
        executor: async (request) => {
          const { document, operationName, queryHash } = request;
          const variables = request.request.variables ?? {};
          const query = compile(document, operationName, `${queryHash}:${operationName ?? ''}`);
          const interpret = () => execute({ schema, document, contextValue: request.context, variableValues: variables, operationName });
          if (!query) return interpret();
          const result = (await query.query(undefined, request.context, variables)) as ExecutionResult;
          // no data: the variables failed coercion and nothing ran. graphql-js reports that with the variable's
          // definition as the error's node, which is how Apollo tells a client's bad variable (BAD_USER_INPUT, 400)
          if (result.data === undefined) return interpret();
          return result.errors ? { ...result, errors: result.errors.map(asGraphQLError) } : result;
        },
      };
    },
    async stop() {},
  };
}

/**
 * graphql-jit's errors as graphql-js makes them: jit's own error class leaves `extensions` undefined where Apollo
 * reads `extensions.code` (and fails the whole response), and carries locations without the nodes they came from.
 */
function asGraphQLError(error: GraphQLError): GraphQLError {
  const converted = new GraphQLError(error.message, { path: error.path, originalError: error.originalError ?? undefined, extensions: error.extensions ?? {} });
  (converted as { locations?: readonly SourceLocation[] }).locations = error.locations;
  return converted;
}
