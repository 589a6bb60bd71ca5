import { Field, InputType } from 'type-graphql';
import { compileTagFormat } from '../catalog/tag-format.js';
import { HelmTagFormat } from '../entities/index.js';
import { conflict } from '../errors/domain-error.js';
import { requireSiteAdmin } from '../policy/permissions.js';
import type { ServiceContext } from '../request/context.js';
import { snapshot, type UnitOfWork } from './unit-of-work.js';
import { compact } from '../request/where.js';
import { ReadService } from './read-service.js';

@InputType()
export class HelmTagFormatFilter {
  @Field({ nullable: true, description: 'exact' }) pattern?: string;
}

export class HelmTagFormatService extends ReadService<HelmTagFormat, HelmTagFormatFilter> {
  constructor(private readonly uow: UnitOfWork) {
    // newest first, as Platz lists them
    super({ entity: HelmTagFormat, order: [{ field: 'createdAt', direction: 'DESC' }], where: (f) => compact({ pattern: f.pattern }) });
  }

  /** Site admins; the pattern is stored as written (Rust syntax allowed) and must capture only known groups. */
  create(ctx: ServiceContext, pattern: string): Promise<HelmTagFormat> {
    return this.uow.mutation(ctx, 'createHelmTagFormat', async (tx, audit) => {
      compileTagFormat(pattern, 'pattern');
      await requireSiteAdmin(tx);
      if (await tx.em.findOne(HelmTagFormat, { pattern })) throw conflict('This tag format already exists');
      const format = Object.assign(new HelmTagFormat(), { pattern });
      tx.em.persist(format);
      audit({ targetType: 'HelmTagFormat', targetId: format.id, after: snapshot(format) });
      return format;
    });
  }

  /** Site admins; charts keep the fields parsed with it (their tag_format_id is set null by the database). */
  delete(ctx: ServiceContext, id: string): Promise<string> {
    return this.uow.deleteVisible(ctx, 'deleteHelmTagFormat', HelmTagFormat, id, requireSiteAdmin);
  }
}
