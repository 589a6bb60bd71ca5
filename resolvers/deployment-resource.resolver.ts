import { Arg, Ctx, FieldResolver, ID, Mutation, Resolver, Root } from 'type-graphql';
import { GraphQLJSONObject } from '../src/util/json-scalars.js';
import { Deployment, DeploymentResource, DeploymentResourceType } from '../src/entities/index.js';
import type { GraphQLContext } from '../src/graphql/context.js';
import { ReadResolver } from '../src/graphql/read-resolver.js';
import { loadOne, loadRequired } from '../src/services/relations.js';
import {
  CreateDeploymentResourceInput, DeploymentResourceFilter, UpdateDeploymentResourceInput,
} from '../src/services/deployment-resource.service.js';

@Resolver(() => DeploymentResource)
export class DeploymentResourceResolver extends ReadResolver({
  node: DeploymentResource,
  filter: DeploymentResourceFilter,
  single: 'deploymentResource',
  plural: 'deploymentResources',
  service: (s) => s.deploymentResources,
}) {
  @Mutation(() => DeploymentResource, { description: 'Maintainer of the deployment' })
  createDeploymentResource(
    @Arg('input', () => CreateDeploymentResourceInput) input: CreateDeploymentResourceInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<DeploymentResource> {
    return ctx.services.deploymentResources.create(ctx, input);
  }

  @Mutation(() => DeploymentResource, { description: 'Maintainer of the deployment; props are deep-merged' })
  updateDeploymentResource(
    @Arg('id', () => ID) id: string,
    @Arg('input', () => UpdateDeploymentResourceInput) input: UpdateDeploymentResourceInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<DeploymentResource> {
    return ctx.services.deploymentResources.update(ctx, id, input);
  }

  @Mutation(() => DeploymentResource, { description: 'Maintainer of the deployment; marks it Deleting, the worker finishes the soft delete' })
  deleteDeploymentResource(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<DeploymentResource> {
    return ctx.services.deploymentResources.delete(ctx, id);
  }

  @FieldResolver(() => DeploymentResourceType)
  type(@Root() r: DeploymentResource, @Ctx() ctx: GraphQLContext): Promise<DeploymentResourceType> {
    return loadRequired(ctx, DeploymentResourceType, r.type);
  }

  @FieldResolver(() => Deployment, { nullable: true })
  deployment(@Root() r: DeploymentResource, @Ctx() ctx: GraphQLContext): Promise<Deployment | null> {
    return loadOne(ctx, Deployment, r.deployment);
  }

  @FieldResolver(() => GraphQLJSONObject, { description: 'without the inputs its type marks sensitive' })
  props(@Root() r: DeploymentResource, @Ctx() ctx: GraphQLContext): Promise<Record<string, unknown>> {
    return ctx.services.deploymentResources.shownProps(ctx, r);
  }
}
