import { Field, InputType } from 'type-graphql';
import { Env, EnvUserPermission } from '../entities/index.js';
import { EnvUserRole } from '../entities/enums.js';
import { conflict } from '../errors/domain-error.js';
import { findVisible, requireEnvAdmin } from '../policy/permissions.js';
import type { ServiceContext } from '../request/context.js';
import { EnvGrantFilter, EnvGrantInput, envGrantWhere, heldBy, holderId, holderName, isOwnGrant, loadHolder } from './env-grant.js';
import { snapshot, type UnitOfWork } from './unit-of-work.js';
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
    return this.uow.deleteVisible(
      ctx,
      'deleteEnvUserPermission',
      EnvUserPermission,
      id,
      async (tx, permission) => {
        await requireEnvAdmin(tx, permission.env.id);
        if (isOwnGrant(tx, permission)) throw conflict("You can't delete your own permissions");
      },
      (permission) => permission.env.id,
    );
  }
}
