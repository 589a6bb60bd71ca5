import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { Env, Secret } from '../src/entities/index.js';
import type { GraphQLContext } from '../src/graphql/context.js';
import { ReadResolver } from '../src/graphql/read-resolver.js';
import { loadRequired } from '../src/graphql/relations.js';
import { SecretFilter } from '../src/services/secret.service.js';

@Resolver(() => Secret)
export class SecretResolver extends ReadResolver({ node: Secret, filter: SecretFilter, single: 'secret', plural: 'secrets', service: (s) => s.secrets }) {
  @FieldResolver(() => Env)
  env(@Root() secret: Secret, @Ctx() ctx: GraphQLContext): Promise<Env> {
    return loadRequired(ctx, Env, secret.env);
  }
}
