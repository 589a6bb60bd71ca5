import { Arg, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { Deployment, Env, K8sCluster, K8sNamespace, K8sResource } from '../src/entities/index.js';
import type { GraphQLContext } from '../src/graphql/context.js';
import { ReadResolver } from '../src/graphql/read-resolver.js';
import { loadMany, loadOne } from '../src/services/relations.js';
import {
  ClusterStatistics, CreateClustersFromKubeconfigInput, K8sClusterFilter, KubeconfigContext, UpdateClusterInput,
} from '../src/services/k8s-cluster.service.js';

@Resolver(() => K8sCluster)
export class K8sClusterResolver extends ReadResolver({
  node: K8sCluster,
  filter: K8sClusterFilter,
  single: 'k8sCluster',
  plural: 'k8sClusters',
  service: (s) => s.k8sClusters,
}) {
  @Query(() => [KubeconfigContext], { description: 'Site admins: the importable contexts of a kubeconfig (never its credentials)' })
  kubeconfigContexts(@Arg('kubeconfig') kubeconfig: string, @Ctx() ctx: GraphQLContext): Promise<KubeconfigContext[]> {
    return ctx.services.k8sClusters.kubeconfigContexts(ctx, kubeconfig);
  }

  @Mutation(() => [K8sCluster], { description: 'Site admins: one cluster per chosen context, credentials encrypted at rest' })
  createClustersFromKubeconfig(
    @Arg('input', () => CreateClustersFromKubeconfigInput) input: CreateClustersFromKubeconfigInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<K8sCluster[]> {
    return ctx.services.k8sClusters.createFromKubeconfig(ctx, input);
  }

  @Mutation(() => K8sCluster, { description: 'Site admins' })
  updateCluster(
    @Arg('id', () => ID) id: string,
    @Arg('input', () => UpdateClusterInput) input: UpdateClusterInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<K8sCluster> {
    return ctx.services.k8sClusters.update(ctx, id, input);
  }

  @Mutation(() => ID, { description: 'Site admins, once the cluster has no deployments' })
  deleteCluster(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<string> {
    return ctx.services.k8sClusters.delete(ctx, id);
  }

  @FieldResolver(() => ClusterStatistics, {
    nullable: true,
    description: "Kubportal's statistics, asked of the cluster (reused for a few seconds); CLUSTER_UNAVAILABLE when it cannot answer in time",
  })
  statistics(@Root() cluster: K8sCluster, @Ctx() ctx: GraphQLContext): Promise<ClusterStatistics> {
    return ctx.services.k8sClusters.statistics(ctx, cluster.id);
  }

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
