import { Arg, Ctx, FieldResolver, ID, Mutation, Resolver, Root } from 'type-graphql';
import { Deployment, DeploymentKind, HelmRegistry } from '../src/entities/index.js';
import type { GraphQLContext } from '../src/graphql/context.js';
import { ReadResolver } from '../src/graphql/read-resolver.js';
import { loadMany } from '../src/services/relations.js';
import { DeploymentKindFilter } from '../src/services/deployment-kind.service.js';

@Resolver(() => DeploymentKind)
export class DeploymentKindResolver extends ReadResolver({
  node: DeploymentKind,
  filter: DeploymentKindFilter,
  single: 'deploymentKind',
  plural: 'deploymentKinds',
  service: (s) => s.deploymentKinds,
}) {
  @Mutation(() => DeploymentKind, { description: 'Site admins; names are unique' })
  renameDeploymentKind(@Arg('id', () => ID) id: string, @Arg('name') name: string, @Ctx() ctx: GraphQLContext): Promise<DeploymentKind> {
    return ctx.services.deploymentKinds.rename(ctx, id, name);
  }

  @FieldResolver(() => [HelmRegistry])
  helmRegistries(@Root() kind: DeploymentKind, @Ctx() ctx: GraphQLContext): Promise<HelmRegistry[]> {
    return loadMany(ctx, HelmRegistry, 'kind', kind.id);
  }

  @FieldResolver(() => [Deployment])
  deployments(@Root() kind: DeploymentKind, @Ctx() ctx: GraphQLContext): Promise<Deployment[]> {
    return loadMany(ctx, Deployment, 'kind', kind.id);
  }
}
