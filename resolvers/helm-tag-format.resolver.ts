import { Arg, Ctx, ID, Mutation, Resolver } from 'type-graphql';
import { HelmTagFormat } from '../src/entities/index.js';
import type { GraphQLContext } from '../src/graphql/context.js';
import { ReadResolver } from '../src/graphql/read-resolver.js';
import { HelmTagFormatFilter } from '../src/services/helm-tag-format.service.js';

@Resolver(() => HelmTagFormat)
export class HelmTagFormatResolver extends ReadResolver({
  node: HelmTagFormat,
  filter: HelmTagFormatFilter,
  single: 'helmTagFormat',
  plural: 'helmTagFormats',
  service: (s) => s.helmTagFormats,
}) {
  @Mutation(() => HelmTagFormat, { description: 'Site admins: a regex with named groups version, revision, branch, commit ((?P<name>…) accepted)' })
  createHelmTagFormat(@Arg('pattern') pattern: string, @Ctx() ctx: GraphQLContext): Promise<HelmTagFormat> {
    return ctx.services.helmTagFormats.create(ctx, pattern);
  }

  @Mutation(() => ID, { description: 'Site admins; charts keep the fields parsed with it' })
  deleteHelmTagFormat(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<string> {
    return ctx.services.helmTagFormats.delete(ctx, id);
  }
}
