import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { DeploymentKind, DeploymentResource, DeploymentResourceType, Env } from '../src/entities/index.js';
import type { GraphQLContext } from '../src/graphql/context.js';
import { ReadResolver } from '../src/graphql/read-resolver.js';
import { loadMany, loadOne, loadRequired } from '../src/services/relations.js';
import { DeploymentResourceTypeFilter } from '../src/services/deployment-resource-type.service.js';

@Resolver(() => DeploymentResourceType)
export class DeploymentResourceTypeResolver extends ReadResolver({
  node: DeploymentResourceType,
  filter: DeploymentResourceTypeFilter,
  single: 'deploymentResourceType',
  plural: 'deploymentResourceTypes',
  service: (s) => s.deploymentResourceTypes,
}) {
  @FieldResolver(() => Env, { nullable: true, description: 'null for a global type' })
  env(@Root() t: DeploymentResourceType, @Ctx() ctx: GraphQLContext): Promise<Env | null> {
    return loadOne(ctx, Env, t.env);
  }

  @FieldResolver(() => DeploymentKind)
  deploymentKind(@Root() t: DeploymentResourceType, @Ctx() ctx: GraphQLContext): Promise<DeploymentKind> {
    return loadRequired(ctx, DeploymentKind, t.deploymentKind);
  }

  @FieldResolver(() => [DeploymentResource])
  resources(@Root() t: DeploymentResourceType, @Ctx() ctx: GraphQLContext): Promise<DeploymentResource[]> {
    return loadMany(ctx, DeploymentResource, 'type', t.id);
  }
}
