import { Arg, Ctx, FieldResolver, ID, Mutation, Resolver, Root } from 'type-graphql';
import { Env, Secret } from '../src/entities/index.js';
import type { GraphQLContext } from '../src/graphql/context.js';
import { ReadResolver } from '../src/graphql/read-resolver.js';
import { loadRequired } from '../src/services/relations.js';
import { CreateSecretInput, SecretFilter, UpdateSecretInput } from '../src/services/secret.service.js';

@Resolver(() => Secret)
export class SecretResolver extends ReadResolver({ node: Secret, filter: SecretFilter, single: 'secret', plural: 'secrets', service: (s) => s.secrets }) {
  @FieldResolver(() => Env)
  env(@Root() secret: Secret, @Ctx() ctx: GraphQLContext): Promise<Env> {
    return loadRequired(ctx, Env, secret.env);
  }

  @Mutation(() => Secret, { description: 'env Admin; the contents are stored encrypted and never returned' })
  createSecret(@Arg('input', () => CreateSecretInput) input: CreateSecretInput, @Ctx() ctx: GraphQLContext): Promise<Secret> {
    return ctx.services.secrets.create(ctx, input);
  }

  @Mutation(() => Secret, { description: 'env Admin; reinstalls the enabled deployments that use the secret' })
  updateSecret(@Arg('id', () => ID) id: string, @Arg('input', () => UpdateSecretInput) input: UpdateSecretInput, @Ctx() ctx: GraphQLContext): Promise<Secret> {
    return ctx.services.secrets.update(ctx, id, input);
  }

  @Mutation(() => ID, { description: 'env Admin; a CONFLICT while a deployment uses it' })
  deleteSecret(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<string> {
    return ctx.services.secrets.delete(ctx, id);
  }
}
