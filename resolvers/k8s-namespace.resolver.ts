import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { K8sCluster, K8sNamespace, K8sServiceAccount } from '../src/entities/index.js';
import type { GraphQLContext } from '../src/graphql/context.js';
import { ReadResolver } from '../src/graphql/read-resolver.js';
import { loadMany, loadOne } from '../src/services/relations.js';
import { K8sNamespaceFilter } from '../src/services/k8s-namespace.service.js';

@Resolver(() => K8sNamespace)
export class K8sNamespaceResolver extends ReadResolver({
  node: K8sNamespace,
  filter: K8sNamespaceFilter,
  single: 'k8sNamespace',
  plural: 'k8sNamespaces',
  service: (s) => s.k8sNamespaces,
}) {
  @FieldResolver(() => K8sCluster, { nullable: true })
  cluster(@Root() ns: K8sNamespace, @Ctx() ctx: GraphQLContext): Promise<K8sCluster | null> {
    return loadOne(ctx, K8sCluster, ns.cluster);
  }

  @FieldResolver(() => [K8sServiceAccount])
  serviceAccounts(@Root() ns: K8sNamespace, @Ctx() ctx: GraphQLContext): Promise<K8sServiceAccount[]> {
    return loadMany(ctx, K8sServiceAccount, 'namespace', ns.id);
  }
}
