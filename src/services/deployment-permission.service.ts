import { Field, ID, InputType } from 'type-graphql';
import { DeploymentKind, DeploymentPermission, Env } from '../entities/index.js';
import { UserDeploymentRole } from '../entities/enums.js';
import { conflict } from '../errors/domain-error.js';
import { findVisible, requireEnvAdmin } from '../policy/permissions.js';
import type { ServiceContext } from '../request/context.js';
import { EnvGrantFilter, EnvGrantInput, envGrantWhere, heldBy, holderId, holderName, loadHolder } from './env-grant.js';
import { snapshot, type UnitOfWork } from './unit-of-work.js';
import { compact, optionalUuid } from '../request/where.js';
import { ReadService } from './read-service.js';

@InputType()
export class DeploymentPermissionFilter extends EnvGrantFilter {
  @Field(() => ID, { nullable: true }) kindId?: string;
  @Field(() => UserDeploymentRole, { nullable: true }) role?: UserDeploymentRole;
}

@InputType()
export class CreateDeploymentPermissionInput extends EnvGrantInput {
  @Field(() => ID) kindId!: string;
  @Field(() => UserDeploymentRole) role!: UserDeploymentRole;
}

export class DeploymentPermissionService extends ReadService<DeploymentPermission, DeploymentPermissionFilter> {
  constructor(private readonly uow: UnitOfWork) {
    super({
      entity: DeploymentPermission,
      order: [{ field: 'createdAt', direction: 'ASC' }],
      where: (f) => compact({ ...envGrantWhere(f), kind: optionalUuid(f.kindId, 'kindId'), role: f.role }),
    });
  }

  /** Env Admins of the env: one role per holder and kind. */
  create(ctx: ServiceContext, input: CreateDeploymentPermissionInput): Promise<DeploymentPermission> {
    return this.uow.mutation(ctx, 'createDeploymentPermission', async (tx, audit) => {
      const id = holderId(input);
      const env = await findVisible(tx, Env, input.envId, 'input.envId');
      const kind = await findVisible(tx, DeploymentKind, input.kindId, 'input.kindId');
      await requireEnvAdmin(tx, env.id);
      const holder = await loadHolder(tx, id);
      if (await tx.em.findOne(DeploymentPermission, { env: env.id, kind: kind.id, ...heldBy(holder) })) {
        throw conflict(`${holderName(holder)} already has a role for ${kind.name} in env ${env.name}`);
      }
      const permission = Object.assign(new DeploymentPermission(), { env, kind, role: input.role, ...holder });
      tx.em.persist(permission);
      audit({ targetType: 'DeploymentPermission', targetId: permission.id, envId: env.id, after: snapshot(permission) });
      return permission;
    });
  }

  /** Env Admins of the permission's env. */
  delete(ctx: ServiceContext, id: string): Promise<string> {
    return this.uow.deleteVisible(ctx, 'deleteDeploymentPermission', DeploymentPermission, id, (tx, p) => requireEnvAdmin(tx, p.env.id), (p) => p.env.id);
  }
}
