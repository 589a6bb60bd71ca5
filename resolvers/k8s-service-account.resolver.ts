import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { K8sNamespace, K8sServiceAccount, User } from '../src/entities/index.js';
import type { GraphQLContext } from '../src/graphql/context.js';
import { ReadResolver } from '../src/graphql/read-resolver.js';
import { loadMany, loadRequired } from '../src/services/relations.js';
import { K8sServiceAccountFilter } from '../src/services/k8s-service-account.service.js';

@Resolver(() => K8sServiceAccount)
export class K8sServiceAccountResolver extends ReadResolver({
  node: K8sServiceAccount,
  filter: K8sServiceAccountFilter,
  single: 'k8sServiceAccount',
  plural: 'k8sServiceAccounts',
  service: (s) => s.k8sServiceAccounts,
}) {
  @FieldResolver(() => K8sNamespace)
  namespace(@Root() sa: K8sServiceAccount, @Ctx() ctx: GraphQLContext): Promise<K8sNamespace> {
    return loadRequired(ctx, K8sNamespace, sa.namespace);
  }

  @FieldResolver(() => [User], { description: 'users linked to this service account' })
  users(@Root() sa: K8sServiceAccount, @Ctx() ctx: GraphQLContext): Promise<User[]> {
    return loadMany(ctx, User, 'serviceAccount', sa.id);
  }
}
