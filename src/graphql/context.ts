import type { ServiceContext } from '../services/context.js';

/** Resolvers receive the service context unchanged: they only adapt arguments and results. */
export type GraphQLContext = ServiceContext;
