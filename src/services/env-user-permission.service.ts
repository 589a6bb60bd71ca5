import { Field, InputType } from 'type-graphql';
import { Env, EnvUserPermission, type User } from '../entities/index.js';
import { EnvUserRole } from '../entities/enums.js';
import { conflict } from '../errors/domain-error.js';
import { findVisible, requireEnvAdmin } from '../policy/permissions.js';
import type { ServiceContext } from '../request/context.js';
import { EnvGrantFilter, EnvGrantInput, envGrantWhere, heldBy, holderId, holderName, isOwnGrant, loadHolder } from './env-grant.js';
import { snapshot, type Audit, type UnitOfWork } from './unit-of-work.js';
import { compact } from '../request/where.js';
import { ReadService } from './read-service.js';

@InputType()
export class EnvUserPermissionFilter extends EnvGrantFilter {
  @Field(() => EnvUserRole, { nullable: true }) role?: EnvUserRole;
}

@InputType()
export class CreateEnvUserPermissionInput extends EnvGrantInput {
  @Field(() => EnvUserRole) role!: EnvUserRole;
}

/**
 * An Admin cannot demote itself, and no one deletes (`role` null) their own role: an env is never left without the
 * Admin who was managing it.
 */
function assertNotOwn(tx: ServiceContext, permission: EnvUserPermission, role: EnvUserRole | null): void {
  if (!isOwnGrant(tx, permission)) return;
  if (role === null) throw conflict("You can't delete your own permissions");
  if (permission.role === EnvUserRole.Admin && role !== EnvUserRole.Admin) throw conflict("You can't demote yourself");
}

/**
 * Inside a caller's transaction, for a caller the env's Admin (checked by the caller): the user's role in the env
 * set, or taken away (null), under the rules update and delete apply; audited. Nothing changes when it holds it already.
 */
export async function setUserEnvRole(tx: ServiceContext, audit: Audit, env: Env, user: User, role: EnvUserRole | null): Promise<void> {
  const permission = await tx.em.findOne(EnvUserPermission, { env: env.id, user: user.id });
  if ((permission?.role ?? null) === role) return;
  if (!permission) {
    const created = Object.assign(new EnvUserPermission(), { env, user, role });
    tx.em.persist(created);
    audit({ targetType: 'EnvUserPermission', targetId: created.id, envId: env.id, after: snapshot(created) });
    return;
  }
  assertNotOwn(tx, permission, role);
  const before = snapshot(permission);
  if (role === null) tx.em.remove(permission);
  else permission.role = role;
  audit({ targetType: 'EnvUserPermission', targetId: permission.id, envId: env.id, before, after: role === null ? undefined : snapshot(permission) });
}

export class EnvUserPermissionService extends ReadService<EnvUserPermission, EnvUserPermissionFilter> {
  constructor(private readonly uow: UnitOfWork) {
    super({
      entity: EnvUserPermission,
      order: [{ field: 'createdAt', direction: 'ASC' }],
      where: (f) => compact({ ...envGrantWhere(f), role: f.role }),
    });
  }

  /** Env Admins of the env. */
  create(ctx: ServiceContext, input: CreateEnvUserPermissionInput): Promise<EnvUserPermission> {
    return this.uow.mutation(ctx, 'createEnvUserPermission', async (tx, audit) => {
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
    return this.uow.mutation(ctx, 'updateEnvUserPermission', async (tx, audit) => {
      const permission = await findVisible(tx, EnvUserPermission, id);
      await requireEnvAdmin(tx, permission.env.id);
      assertNotOwn(tx, permission, role);
      const before = snapshot(permission);
      permission.role = role;
      audit({ targetType: 'EnvUserPermission', targetId: permission.id, envId: permission.env.id, before, after: snapshot(permission) });
      return permission;
    });
  }

  /** Env Admins, for anyone's permission but their own (site admins included, as in Platz). */
  delete(ctx: ServiceContext, id: string): Promise<string> {
    return this.uow.deleteVisible(
      ctx,
      'deleteEnvUserPermission',
      EnvUserPermission,
      id,
      async (tx, permission) => {
        await requireEnvAdmin(tx, permission.env.id);
        assertNotOwn(tx, permission, null);
      },
      (permission) => permission.env.id,
    );
  }
}
