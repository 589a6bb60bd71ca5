import { Field, InputType } from 'type-graphql';
import { DeploymentKind } from '../entities/index.js';
import { badInput, conflict } from '../errors/domain-error.js';
import { findVisible, requireSiteAdmin } from '../policy/permissions.js';
import type { ServiceContext } from '../request/context.js';
import { snapshot, type UnitOfWork } from './unit-of-work.js';
import { compact } from '../request/where.js';
import { ReadService } from './read-service.js';

@InputType()
export class DeploymentKindFilter {
  @Field({ nullable: true, description: 'exact' }) name?: string;
}

const MAX_KIND_NAME_LENGTH = 100;

export class DeploymentKindService extends ReadService<DeploymentKind, DeploymentKindFilter> {
  constructor(private readonly uow: UnitOfWork) {
    super({ entity: DeploymentKind, order: [{ field: 'createdAt', direction: 'ASC' }], where: (f) => compact({ name: f.name }) });
  }

  /** Site admins; kind names are unique. */
  rename(ctx: ServiceContext, id: string, name: string): Promise<DeploymentKind> {
    return this.uow.mutation(ctx, 'renameDeploymentKind', async (tx, audit) => {
      const trimmed = name.trim();
      if (!trimmed || trimmed.length > MAX_KIND_NAME_LENGTH) throw badInput('name', `The kind name must be 1 to ${MAX_KIND_NAME_LENGTH} characters`);
      const kind = await findVisible(tx, DeploymentKind, id);
      await requireSiteAdmin(tx);
      if (await tx.em.findOne(DeploymentKind, { name: trimmed, id: { $ne: kind.id } })) {
        throw conflict(`A deployment kind named ${trimmed} already exists`);
      }
      const before = snapshot(kind);
      kind.name = trimmed;
      audit({ targetType: 'DeploymentKind', targetId: kind.id, before, after: snapshot(kind) });
      return kind;
    });
  }
}
