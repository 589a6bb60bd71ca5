import { Resolver } from 'type-graphql';
import { AuditRecord } from '../src/entities/index.js';
import { ReadResolver } from '../src/graphql/read-resolver.js';
import { AuditRecordFilter } from '../src/services/audit-record.service.js';

@Resolver(() => AuditRecord)
export class AuditRecordResolver extends ReadResolver({
  node: AuditRecord,
  filter: AuditRecordFilter,
  single: 'auditRecord',
  plural: 'auditRecords',
  service: (s) => s.auditRecords,
}) {}
