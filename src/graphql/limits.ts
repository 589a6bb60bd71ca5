import { GraphQLError, type ValidationContext, type ValidationRule } from 'graphql';
import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import type { Config } from '../config/config.js';

/**
 * Document limits (graphql-armor's validation rules), the same over HTTP and WebSocket. The default depth (10) allows a
 * connection two levels deep (list → edges → node → relation → relation → field); tokens are capped at parse time.
 */
export interface DocumentLimits {
  maxDepth: number;
  maxAliases: number;
  maxDirectives: number;
  maxCost: number;
  maxTokens: number;
}

export function documentLimits(config: Pick<Config, 'GRAPHQL_MAX_DEPTH' | 'GRAPHQL_MAX_ALIASES' | 'GRAPHQL_MAX_DIRECTIVES' | 'GRAPHQL_MAX_COST' | 'GRAPHQL_MAX_TOKENS'>): DocumentLimits {
  return {
    maxDepth: config.GRAPHQL_MAX_DEPTH,
    maxAliases: config.GRAPHQL_MAX_ALIASES,
    maxDirectives: config.GRAPHQL_MAX_DIRECTIVES,
    maxCost: config.GRAPHQL_MAX_COST,
    maxTokens: config.GRAPHQL_MAX_TOKENS,
  };
}

/**
 * graphql-armor throws its rejection out of validate() by default, which Apollo answers as a 500
 * "Unexpected error processing request"; reported as a validation error instead, the client gets a
 * 400 GRAPHQL_VALIDATION_FAILED (and the misleading "Syntax Error: " prefix is dropped).
 */
const rejection = {
  propagateOnRejection: false,
  onReject: [
    (context: ValidationContext | null, error: GraphQLError) => context?.reportError(new GraphQLError(error.message.replace(/^Syntax Error: /, ''))),
  ],
};

/** The validation rules enforcing `limits` (maxTokens is the parser's, not a rule). */
export function limitRules(limits: DocumentLimits): ValidationRule[] {
  return [
    maxDepthRule({ n: limits.maxDepth, ignoreIntrospection: true, exposeLimits: true, ...rejection }),
    maxAliasesRule({ n: limits.maxAliases, exposeLimits: true, ...rejection }),
    maxDirectivesRule({ n: limits.maxDirectives, exposeLimits: true, ...rejection }),
    costLimitRule({ maxCost: limits.maxCost, objectCost: 2, scalarCost: 1, depthCostFactor: 1.5, ignoreIntrospection: true, exposeLimits: true, ...rejection }),
  ];
}
