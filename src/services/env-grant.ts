import { Field, ID, InputType } from 'type-graphql';
import { Bot, User } from '../entities/index.js';
import type { EnvGrantBase } from '../entities/env-grant.base.js';
import { badInput, notFound } from '../errors/domain-error.js';
import type { ServiceContext } from '../request/context.js';
import { assertUuid, optionalUuid, type Where } from '../request/where.js';

// What the two kinds of env grant (env user permissions and deployment permissions) share.

@InputType()
export class EnvGrantFilter {
  @Field(() => ID, { nullable: true }) envId?: string;
  @Field(() => ID, { nullable: true }) userId?: string;
  @Field(() => ID, { nullable: true }) botId?: string;
  /** only the grants users hold: Platz's API (src/rest/platz/) knows no bot grants */
  usersOnly?: boolean;
}

export function envGrantWhere(f: EnvGrantFilter): Where {
  return {
    env: optionalUuid(f.envId, 'envId'),
    user: optionalUuid(f.userId, 'userId') ?? (f.usersOnly ? { $ne: null } : undefined),
    bot: optionalUuid(f.botId, 'botId'),
  };
}

/** Who receives a role in an env: exactly one of a user and a bot. */
@InputType()
export abstract class EnvGrantInput {
  @Field(() => ID) envId!: string;
  @Field(() => ID, { nullable: true, description: 'exactly one of userId and botId' }) userId?: string | null;
  @Field(() => ID, { nullable: true, description: 'exactly one of userId and botId' }) botId?: string | null;
}

export type Holder = { user: User; bot?: undefined } | { bot: Bot; user?: undefined };
type HolderId = { userId: string } | { botId: string };

/** The holder's id from a grant input; BAD_USER_INPUT unless exactly one of userId and botId is given. */
export function holderId(input: EnvGrantInput): HolderId {
  if (!input.userId === !input.botId) throw badInput('input.userId', 'Give exactly one of userId and botId');
  return input.userId ? { userId: assertUuid(input.userId, 'input.userId') } : { botId: assertUuid(input.botId!, 'input.botId') };
}

/** The holder by id, whatever the caller may read of users and bots: an env Admin grants roles to anyone. */
export async function loadHolder(tx: ServiceContext, id: HolderId): Promise<Holder> {
  if ('userId' in id) {
    const user = await tx.em.findOne(User, id.userId);
    if (!user) throw notFound('User');
    return { user };
  }
  const bot = await tx.em.findOne(Bot, id.botId);
  if (!bot) throw notFound('Bot');
  return { bot };
}

/** A query for grants held by this holder. */
export const heldBy = (holder: Holder) => (holder.user ? { user: holder.user.id } : { bot: holder.bot.id });
export const holderName = (holder: Holder) => (holder.user ? `User ${holder.user.username}` : `Bot ${holder.bot.displayName}`);

/** Whether the grant is the caller's own (a user's or a bot's). */
export function isOwnGrant(tx: ServiceContext, grant: EnvGrantBase): boolean {
  const identity = tx.identity;
  if (identity.kind === 'user') return grant.user?.id === identity.user.id;
  if (identity.kind === 'bot') return grant.bot?.id === identity.bot.id;
  return false;
}
