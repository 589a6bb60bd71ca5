import { Field, ID, InputType } from 'type-graphql';
import { K8sNamespace, K8sServiceAccount } from '../entities/index.js';
import type { ServiceContext } from '../request/context.js';
import { compact, iEquals, optionalUuid } from '../request/where.js';
import { ReadService } from './read-service.js';

@InputType()
export class K8sServiceAccountFilter {
  @Field(() => ID, { nullable: true }) namespaceId?: string;
  @Field({ nullable: true, description: 'case-insensitive, exact' }) name?: string;
}

export class K8sServiceAccountService extends ReadService<K8sServiceAccount, K8sServiceAccountFilter> {
  constructor() {
    super({
      entity: K8sServiceAccount,
      order: [{ field: 'createdAt', direction: 'ASC' }],
      where: (f) => compact({ namespace: optionalUuid(f.namespaceId, 'namespaceId'), name: f.name ? iEquals(f.name) : undefined }),
    });
  }
}

/** A service account and its namespace, loaded in the request (both null without an id). */
export async function accountAndNamespace(ctx: ServiceContext, id: string | null | undefined): Promise<{ account: K8sServiceAccount | null; namespace: K8sNamespace | null }> {
  const account = id ? await ctx.loaders.byId(K8sServiceAccount).load(id) : null;
  const namespace = account ? await ctx.loaders.byId(K8sNamespace).load(account.namespace.id) : null;
  return { account, namespace };
}
