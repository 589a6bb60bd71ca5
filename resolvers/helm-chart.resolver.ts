import { Arg, Ctx, FieldResolver, Mutation, Resolver, Root } from 'type-graphql';
import { DeploymentKind, HelmChart, HelmRegistry, HelmTagFormat } from '../src/entities/index.js';
import type { GraphQLContext } from '../src/graphql/context.js';
import { ReadResolver } from '../src/graphql/read-resolver.js';
import { loadOne, loadRequired } from '../src/services/relations.js';
import { HelmChartFilter, RegisterHelmChartInput } from '../src/services/helm-chart.service.js';

@Resolver(() => HelmChart)
export class HelmChartResolver extends ReadResolver({
  node: HelmChart,
  filter: HelmChartFilter,
  single: 'helmChart',
  plural: 'helmCharts',
  service: (s) => s.helmCharts,
}) {
  @Mutation(() => HelmChart, { description: 'Site admins: records a pushed chart, its tag parsed by the tag formats' })
  registerHelmChart(@Arg('input', () => RegisterHelmChartInput) input: RegisterHelmChartInput, @Ctx() ctx: GraphQLContext): Promise<HelmChart> {
    return ctx.services.helmCharts.register(ctx, input);
  }

  @FieldResolver(() => HelmRegistry)
  helmRegistry(@Root() chart: HelmChart, @Ctx() ctx: GraphQLContext): Promise<HelmRegistry> {
    return loadRequired(ctx, HelmRegistry, chart.helmRegistry);
  }

  @FieldResolver(() => DeploymentKind, { description: "the registry's deployment kind" })
  async kind(@Root() chart: HelmChart, @Ctx() ctx: GraphQLContext): Promise<DeploymentKind> {
    const registry = await loadRequired(ctx, HelmRegistry, chart.helmRegistry);
    return loadRequired(ctx, DeploymentKind, registry.kind);
  }

  @FieldResolver(() => HelmTagFormat, { nullable: true })
  tagFormat(@Root() chart: HelmChart, @Ctx() ctx: GraphQLContext): Promise<HelmTagFormat | null> {
    return loadOne(ctx, HelmTagFormat, chart.tagFormat);
  }
}
