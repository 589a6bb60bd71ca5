import { Arg, Ctx, FieldResolver, Int, Resolver, Root } from 'type-graphql';
import { DeploymentKind, HelmChart, HelmRegistry } from '../src/entities/index.js';
import type { GraphQLContext } from '../src/graphql/context.js';
import { ReadResolver } from '../src/graphql/read-resolver.js';
import { loadMany, loadRequired } from '../src/graphql/relations.js';
import { HelmRegistryFilter } from '../src/services/helm-registry.service.js';
import { childLimit } from '../src/graphql/child-limit.js';

@Resolver(() => HelmRegistry)
export class HelmRegistryResolver extends ReadResolver({
  node: HelmRegistry,
  filter: HelmRegistryFilter,
  single: 'helmRegistry',
  plural: 'helmRegistries',
  service: (s) => s.helmRegistries,
}) {
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
