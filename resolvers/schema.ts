import 'reflect-metadata';
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
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
  return checkInputsOfEveryField(await buildSchema({ resolvers, validate: false, emitSchemaFile: false, pubSub: noTopics }));
}

/** The SDL checked in as schema/schema.graphql (sorted, so it diffs cleanly). */
export function printBerthSchema(schema: GraphQLSchema): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
