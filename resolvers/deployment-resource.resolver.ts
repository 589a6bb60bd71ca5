import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { Deployment, DeploymentResource, DeploymentResourceType } from '../src/entities/index.js';
import type { GraphQLContext } from '../src/graphql/context.js';
import { ReadResolver } from '../src/graphql/read-resolver.js';
import { loadOne, loadRequired } from '../src/graphql/relations.js';
import { DeploymentResourceFilter, visibleProps } from '../src/services/deployment-resource.service.js';

@Resolver(() => DeploymentResource)
export class DeploymentResourceResolver extends ReadResolver({
  node: DeploymentResource,
  filter: DeploymentResourceFilter,
  single: 'deploymentResource',
  plural: 'deploymentResources',
  service: (s) => s.deploymentResources,
}) {
  @FieldResolver(() => DeploymentResourceType)
  type(@Root() r: DeploymentResource, @Ctx() ctx: GraphQLContext): Promise<DeploymentResourceType> {
    return loadRequired(ctx, DeploymentResourceType, r.type);
  }

  @FieldResolver(() => Deployment, { nullable: true })
  deployment(@Root() r: DeploymentResource, @Ctx() ctx: GraphQLContext): Promise<Deployment | null> {
    return loadOne(ctx, Deployment, r.deployment);
  }

  @FieldResolver(() => GraphQLJSONObject, { description: 'without the inputs its type marks sensitive' })
  async props(@Root() r: DeploymentResource, @Ctx() ctx: GraphQLContext): Promise<Record<string, unknown>> {
    const type = await loadRequired(ctx, DeploymentResourceType, r.type);
    return visibleProps(r.props, type.spec);
  }
}
