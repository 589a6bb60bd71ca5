import 'reflect-metadata';
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { resolvers } from '../../resolvers/index.js';

/** The whole API as one schema, built from the resolvers and entity classes. */
export function buildBerthSchema(): Promise<GraphQLSchema> {
  return buildSchema({ resolvers, validate: false, emitSchemaFile: false });
}

/** The SDL checked in as schema/schema.graphql (sorted, so it diffs cleanly). */
export function printBerthSchema(schema: GraphQLSchema): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
