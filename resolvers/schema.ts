import 'reflect-metadata';
import { isAbstractType, lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { buildSchema, type PubSub } from 'type-graphql';
import { checkInputsOfEveryField } from '../src/graphql/input-checks.js';
import { resolvers } from './index.js';

/**
 * type-graphql requires a PubSub for topic-based subscriptions. Berth has none: every subscription
 * brings its own `subscribe` (EventService streams from the event log), so a topic would be a bug.
 */
const noTopics: PubSub = {
  publish: (topic) => {
    throw new Error(`no pubsub topics: subscriptions stream from EventService (published to ${topic})`);
  },
  subscribe: (topic) => {
    throw new Error(`no pubsub topics: subscriptions stream from EventService (subscribed to ${topic})`);
  },
};

/** The whole API as one schema, built from the resolvers and entity classes, with the input limits on every argument. */
export async function buildBerthSchema(): Promise<GraphQLSchema> {
  return resolveTypesByClass(checkInputsOfEveryField(await buildSchema({ resolvers, validate: false, emitSchemaFile: false, pubSub: noTopics })));
}

/**
 * Unions resolve a value to the object type named after its class (every object type is a class of the same name;
 * read rows are instances of their entity's class), synchronously: graphql-jit, the executor over HTTP, takes no
 * promise from resolveType, and type-graphql's own resolveType always returns one.
 */
function resolveTypesByClass(schema: GraphQLSchema): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isAbstractType(type)) continue;
    const possible = new Set(schema.getPossibleTypes(type).map((t) => t.name));
    type.resolveType = (value) => {
      for (let proto = value && typeof value === 'object' ? Object.getPrototypeOf(value) : null; proto; proto = Object.getPrototypeOf(proto)) {
        const name = (proto as { constructor?: { name?: string } }).constructor?.name;
        if (name && possible.has(name)) return name;
      }
      return undefined;
    };
  }
  return schema;
}

/** The SDL checked in as schema/schema.graphql (sorted, so it diffs cleanly). */
export function printBerthSchema(schema: GraphQLSchema): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
