import { Field, ID, InputType } from 'type-graphql';
import { Bot, Env, EnvUserPermission, User } from '../entities/index.js';
import type { EnvGrantBase } from '../entities/env-grant.base.js';
import { EnvUserRole } from '../entities/enums.js';
import { badInput, conflict, notFound } from '../errors/domain-error.js';
import { findVisible, requireEnvAdmin } from '../policy/permissions.js';
import type { ServiceContext } from './context.js';
import { EnvGrantFilter, envGrantWhere } from './env-grant.filter.js';
import { runMutation, snapshot } from './mutation.js';
import { assertUuid, compact, ReadService } from './read-service.js';

@InputType()
export class EnvUserPermissionFilter extends EnvGrantFilter {
  @Field(() => EnvUserRole, { nullable: true }) role?: EnvUserRole;
}

/** Who receives a role in an env: exactly one of a user and a bot. */
@InputType()
export abstract class EnvGrantInput {
  @Field(() => ID) envId!: string;
  @Field(() => ID, { nullable: true, description: 'exactly one of userId and botId' }) userId?: string | null;
  @Field(() => ID, { nullable: true, description: 'exactly one of userId and botId' }) botId?: string | null;
}

@InputType()
export class CreateEnvUserPermissionInput extends EnvGrantInput {
  @Field(() => EnvUserRole) role!: EnvUserRole;
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

export class EnvUserPermissionService extends ReadService<EnvUserPermission, EnvUserPermissionFilter> {
  constructor() {
    super({
      entity: EnvUserPermission,
      order: [{ field: 'createdAt', direction: 'ASC' }],
      where: (f) => compact({ ...envGrantWhere(f), role: f.role }),
    });
  }

  /** Env Admins of the env. */
  create(ctx: ServiceContext, input: CreateEnvUserPermissionInput): Promise<EnvUserPermission> {
    return runMutation(ctx, 'createEnvUserPermission', async (tx, audit) => {
      const id = holderId(input);
      const env = await findVisible(tx, Env, input.envId, 'input.envId');
      await requireEnvAdmin(tx, env.id);
      const holder = await loadHolder(tx, id);
      if (await tx.em.findOne(EnvUserPermission, { env: env.id, ...heldBy(holder) })) {
        throw conflict(`${holderName(holder)} already has a role in env ${env.name}`);
      }
      const permission = Object.assign(new EnvUserPermission(), { env, role: input.role, ...holder });
      tx.em.persist(permission);
      audit({ targetType: 'EnvUserPermission', targetId: permission.id, envId: env.id, after: snapshot(permission) });
      return permission;
    });
  }

  /** Env Admins; an Admin cannot demote itself, so an env is never left without the Admin who was managing it. */
  update(ctx: ServiceContext, id: string, role: EnvUserRole): Promise<EnvUserPermission> {
    return runMutation(ctx, 'updateEnvUserPermission', async (tx, audit) => {
      const permission = await findVisible(tx, EnvUserPermission, id);
      await requireEnvAdmin(tx, permission.env.id);
      if (isOwnGrant(tx, permission) && permission.role === EnvUserRole.Admin && role !== EnvUserRole.Admin) {
        throw conflict("You can't demote yourself");
      }
      const before = snapshot(permission);
      permission.role = role;
      audit({ targetType: 'EnvUserPermission', targetId: permission.id, envId: permission.env.id, before, after: snapshot(permission) });
      return permission;
    });
  }

  /** Env Admins, for anyone's permission but their own (site admins included, as in Platz). */
  delete(ctx: ServiceContext, id: string): Promise<string> {
    return runMutation(ctx, 'deleteEnvUserPermission', async (tx, audit) => {
      const permission = await findVisible(tx, EnvUserPermission, id);
      await requireEnvAdmin(tx, permission.env.id);
      if (isOwnGrant(tx, permission)) throw conflict("You can't delete your own permissions");
      audit({ targetType: 'EnvUserPermission', targetId: permission.id, envId: permission.env.id, before: snapshot(permission) });
      tx.em.remove(permission);
      return permission.id;
    });
  }
}
