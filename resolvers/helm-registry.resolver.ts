import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Resolver, Root } from 'type-graphql';
import { DeploymentKind, HelmChart, HelmRegistry } from '../src/entities/index.js';
import type { GraphQLContext } from '../src/graphql/context.js';
import { ReadResolver } from '../src/graphql/read-resolver.js';
import { loadMany, loadRequired } from '../src/services/relations.js';
import { CreateHelmRegistryInput, HelmRegistryFilter } from '../src/services/helm-registry.service.js';
import { childLimit } from '../src/graphql/child-limit.js';

@Resolver(() => HelmRegistry)
export class HelmRegistryResolver extends ReadResolver({
  node: HelmRegistry,
  filter: HelmRegistryFilter,
  single: 'helmRegistry',
  plural: 'helmRegistries',
  service: (s) => s.helmRegistries,
}) {
  @Mutation(() => HelmRegistry, { description: "Site admins; without kindId the kind is named after the repo, as in Platz" })
  createHelmRegistry(@Arg('input', () => CreateHelmRegistryInput) input: CreateHelmRegistryInput, @Ctx() ctx: GraphQLContext): Promise<HelmRegistry> {
    return ctx.services.helmRegistries.create(ctx, input);
  }

  @Mutation(() => HelmRegistry, { description: 'Site admins' })
  setHelmRegistryIcon(@Arg('id', () => ID) id: string, @Arg('faIcon') faIcon: string, @Ctx() ctx: GraphQLContext): Promise<HelmRegistry> {
    return ctx.services.helmRegistries.setIcon(ctx, id, faIcon);
  }

  @FieldResolver(() => DeploymentKind)
  kind(@Root() registry: HelmRegistry, @Ctx() ctx: GraphQLContext): Promise<DeploymentKind> {
    return loadRequired(ctx, DeploymentKind, registry.kind);
  }

  @FieldResolver(() => [HelmChart], { description: 'newest first' })
  charts(
    @Root() registry: HelmRegistry,
    @Ctx() ctx: GraphQLContext,
    @Arg('first', () => Int, { nullable: true, description: 'at most this many per registry' }) first?: number,
  ): Promise<HelmChart[]> {
    return loadMany(ctx, HelmChart, 'helmRegistry', registry.id, { order: [{ field: 'createdAt', direction: 'DESC' }], limit: childLimit(first) });
  }
}
