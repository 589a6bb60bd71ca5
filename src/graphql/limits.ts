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

export const limitRules = [
  maxDepthRule({ n: documentLimits.maxDepth, ignoreIntrospection: true, exposeLimits: true }),
  maxAliasesRule({ n: documentLimits.maxAliases, exposeLimits: true }),
  maxDirectivesRule({ n: documentLimits.maxDirectives, exposeLimits: true }),
  costLimitRule({ maxCost: documentLimits.maxCost, objectCost: 2, scalarCost: 1, depthCostFactor: 1.5, ignoreIntrospection: true, exposeLimits: true }),
];
