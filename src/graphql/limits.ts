import { GraphQLError, type ValidationContext } from 'graphql';
import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';

/**
 * Document limits (graphql-armor's validation rules). Depth allows a connection two levels deep
 * (list → edges → node → relation → relation → field); tokens are capped at parse time.
 */
export const documentLimits = {
  maxDepth: 10,
  maxAliases: 15,
  maxDirectives: 50,
  maxCost: 5000,
  maxTokens: 2000,
} as const;

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

export const limitRules = [
  maxDepthRule({ n: documentLimits.maxDepth, ignoreIntrospection: true, exposeLimits: true, ...rejection }),
  maxAliasesRule({ n: documentLimits.maxAliases, exposeLimits: true, ...rejection }),
  maxDirectivesRule({ n: documentLimits.maxDirectives, exposeLimits: true, ...rejection }),
  costLimitRule({ maxCost: documentLimits.maxCost, objectCost: 2, scalarCost: 1, depthCostFactor: 1.5, ignoreIntrospection: true, exposeLimits: true, ...rejection }),
];
