import type { EntityClass } from '@mikro-orm/core';
import { Field, ID, InputType } from 'type-graphql';
import type { Authenticator } from '../auth/authenticator.js';
import { hashSecret, newOpaqueToken } from '../auth/opaque-token.js';
import { BotToken, User, UserToken } from '../entities/index.js';
import { badInput, forbidden } from '../errors/domain-error.js';
import { findVisible } from '../policy/permissions.js';
import type { ServiceContext } from '../request/context.js';
import { snapshot, type UnitOfWork } from './unit-of-work.js';
import { optionalText } from './input-rules.js';
import { compact, optionalUuid } from '../request/where.js';
import { ReadService } from './read-service.js';
import { grantsOf } from '../policy/grants.js';

@InputType()
export class UserTokenFilter {
  @Field(() => ID, { nullable: true }) userId?: string;
}

@InputType()
export class CreateUserTokenInput {
  @Field(() => ID, { nullable: true, description: 'null: the caller; another user needs a site admin' }) userId?: string | null;
  @Field(() => String, { nullable: true }) name?: string | null;
  @Field(() => Date, { nullable: true, description: 'null: never expires' }) expiresAt?: Date | null;
}

/** What user and bot tokens share on creation: a label and an expiry that lies ahead. */
export function checkTokenInput(input: { name?: string | null; expiresAt?: Date | null }): { name: string | null; expiresAt: Date | null } {
  if (input.expiresAt && input.expiresAt.getTime() <= Date.now()) throw badInput('input.expiresAt', 'input.expiresAt must be in the future');
  return { name: optionalText(input.name), expiresAt: input.expiresAt ?? null };
}

/** A new API token: the row keeps only the hash of its secret, so `token` can be shown once and never again. */
export function newApiToken(): { row: { id: string; secretHash: string }; token: string } {
  const { id, secret, token } = newOpaqueToken();
  return { row: { id, secretHash: hashSecret(secret) }, token };
}

/**
 * Deletes an API token; it stops working at once on this replica. The token is visible only to
 * those who may revoke it (its owner or a site admin), so anyone else finds nothing.
 */
export async function revokeApiToken(
  uow: UnitOfWork,
  ctx: ServiceContext,
  authenticator: Authenticator, entity: EntityClass<UserToken | BotToken>, operation: string, id: string): Promise<string> {
  // who may see a token may revoke it: its owner, or a site admin (src/policy/visibility.ts)
  const tokenId = await uow.deleteVisible(ctx, operation, entity, id, async () => {});
  authenticator.forgetToken(tokenId);
  return tokenId;
}

export class UserTokenService extends ReadService<UserToken, UserTokenFilter> {
  constructor(private readonly uow: UnitOfWork, private readonly authenticator: Authenticator) {
    super({ entity: UserToken, order: [{ field: 'createdAt', direction: 'ASC' }], where: (f) => compact({ user: optionalUuid(f.userId, 'userId') }) });
  }

  create(ctx: ServiceContext, input: CreateUserTokenInput): Promise<{ token: string; userToken: UserToken }> {
    return this.uow.mutation(ctx, 'createUserToken', async (tx, audit) => {
      const fields = checkTokenInput(input);
      const g = await grantsOf(tx);
      if (g.identity.kind !== 'user') throw forbidden('Only users may create user tokens');
      const user = await findVisible(tx, User, input.userId ?? g.identity.user.id, 'input.userId');
      if (user.id !== g.identity.user.id && !g.siteAdmin) throw forbidden('Only site admins may create tokens for other users');
      const { row, token } = newApiToken();
      const userToken = Object.assign(new UserToken(), { ...row, ...fields, user });
      tx.em.persist(userToken);
      audit({ targetType: 'UserToken', targetId: userToken.id, after: snapshot(userToken) });
      return { token, userToken };
    });
  }

  revoke(ctx: ServiceContext, id: string): Promise<string> {
    return revokeApiToken(this.uow, ctx, this.authenticator, UserToken, 'revokeUserToken', id);
  }
}
