import { Field, ID, InputType } from 'type-graphql';
import { AuditRecord } from '../entities/index.js';
import { compact, optionalUuid } from '../request/where.js';
import { ReadService } from './read-service.js';

@InputType()
export class AuditRecordFilter {
  @Field(() => ID, { nullable: true }) envId?: string;
  @Field(() => ID, { nullable: true }) targetId?: string;
  @Field({ nullable: true, description: 'exact, e.g. Deployment' }) targetType?: string;
  @Field(() => ID, { nullable: true }) actorId?: string;
  @Field({ nullable: true, description: 'exact, e.g. createDeployment' }) operation?: string;
}

/** The audit trail; records are written by the unit of work (UnitOfWork.mutation), in the transaction of the change they describe. */
export class AuditRecordService extends ReadService<AuditRecord, AuditRecordFilter> {
  constructor() {
    super({
      entity: AuditRecord,
      // newest first
      order: [{ field: 'createdAt', direction: 'DESC' }],
      where: (f) =>
        compact({
          env: optionalUuid(f.envId, 'envId'),
          targetId: optionalUuid(f.targetId, 'targetId'),
          targetType: f.targetType,
          actorId: optionalUuid(f.actorId, 'actorId'),
          operation: f.operation,
        }),
    });
  }
}
