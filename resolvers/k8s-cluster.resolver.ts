import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { Deployment, Env, K8sCluster, K8sNamespace, K8sResource } from '../src/entities/index.js';
import type { GraphQLContext } from '../src/graphql/context.js';
import { ReadResolver } from '../src/graphql/read-resolver.js';
import { loadMany, loadOne } from '../src/graphql/relations.js';
import { K8sClusterFilter } from '../src/services/k8s-cluster.service.js';

@Resolver(() => K8sCluster)
export class K8sClusterResolver extends ReadResolver({
  node: K8sCluster,
  filter: K8sClusterFilter,
  single: 'k8sCluster',
  plural: 'k8sClusters',
  service: (s) => s.k8sClusters,
}) {
  @FieldResolver(() => Env, { nullable: true })
  env(@Root() cluster: K8sCluster, @Ctx() ctx: GraphQLContext): Promise<Env | null> {
    return loadOne(ctx, Env, cluster.env);
  }

  @FieldResolver(() => [Deployment])
  deployments(@Root() cluster: K8sCluster, @Ctx() ctx: GraphQLContext): Promise<Deployment[]> {
    return loadMany(ctx, Deployment, 'cluster', cluster.id);
  }

  @FieldResolver(() => [K8sNamespace])
  namespaces(@Root() cluster: K8sCluster, @Ctx() ctx: GraphQLContext): Promise<K8sNamespace[]> {
    return loadMany(ctx, K8sNamespace, 'cluster', cluster.id);
  }

  @FieldResolver(() => [K8sResource])
  k8sResources(@Root() cluster: K8sCluster, @Ctx() ctx: GraphQLContext): Promise<K8sResource[]> {
    return loadMany(ctx, K8sResource, 'cluster', cluster.id);
  }
}
