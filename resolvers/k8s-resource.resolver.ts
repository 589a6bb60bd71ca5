import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { Deployment, K8sCluster, K8sResource } from '../src/entities/index.js';
import type { GraphQLContext } from '../src/graphql/context.js';
import { ReadResolver } from '../src/graphql/read-resolver.js';
import { loadOne, loadRequired } from '../src/services/relations.js';
import { K8sResourceFilter } from '../src/services/k8s-resource.service.js';

@Resolver(() => K8sResource)
export class K8sResourceResolver extends ReadResolver({
  node: K8sResource,
  filter: K8sResourceFilter,
  single: 'k8sResource',
  plural: 'k8sResources',
  service: (s) => s.k8sResources,
}) {
  @FieldResolver(() => K8sCluster)
  cluster(@Root() r: K8sResource, @Ctx() ctx: GraphQLContext): Promise<K8sCluster> {
    return loadRequired(ctx, K8sCluster, r.cluster);
  }

  @FieldResolver(() => Deployment, { nullable: true })
  deployment(@Root() r: K8sResource, @Ctx() ctx: GraphQLContext): Promise<Deployment | null> {
    return loadOne(ctx, Deployment, r.deployment);
  }
}
