import {
  CheckConstraintViolationException, ForeignKeyConstraintViolationException, NotNullConstraintViolationException,
  UniqueConstraintViolationException, wrap, type EntityClass,
} from '@mikro-orm/core';
import { AuditRecord } from '../entities/index.js';
import { conflict, DomainError, ErrorCode } from '../errors/domain-error.js';
import { takeEventLock, transactionCursor } from '../events/event-log.js';
import { findVisible } from '../policy/permissions.js';
import { transactionContext, type ServiceContext } from '../request/context.js';
import type { GrantsCache } from '../request/grants-cache.js';
import { grantsOf } from '../policy/grants.js';

/** What one mutation did to one object, for the audit trail. Snapshots must already be free of secrets. */
export interface AuditEntry {
  targetType: string;
  targetId?: string | null;
  /** the env the object belongs to, so that env's Admins can read the record */
  envId?: string | null;
  before?: unknown;
  after?: unknown;
}

export type Audit = (entry: AuditEntry) => void;

/** Who hears of committed changes: this process's event hub, which tells the other replicas. */
export interface ChangeAnnouncer {
  announce(cursor: number): void;
}

/**
 * Every write goes through here, a request's or Berth's own (informers, the task worker, under a system identity):
 * one database transaction around the work, so on any error nothing is written. The event lock is taken first,
 * constraint violations come back as domain errors (CONFLICT, BAD_USER_INPUT), never as raw database errors, and
 * the change events the triggers wrote are announced to every replica once the transaction has committed.
 */
export class UnitOfWork {
  constructor(
    private readonly events: ChangeAnnouncer,
    /** emptied after every commit: a write may have changed someone's grants (the event log tells other replicas) */
    private readonly grantsCache?: GrantsCache,
  ) {}

  async run<T>(ctx: ServiceContext, work: (tx: ServiceContext) => Promise<T>): Promise<T> {
    let eventCursor: number | null = null;
    let result: T;
    try {
      result = await ctx.em.transactional(async (em) => {
        // before any row lock: taken later (by the event trigger) it could deadlock with a writer holding it
        await takeEventLock(em);
        const outcome = await work(transactionContext(ctx, em));
        await em.flush();
        eventCursor = await transactionCursor(em);
        return outcome;
      });
    } catch (err) {
      throw asDomainError(err);
    }
    this.grantsCache?.clear();
    if (eventCursor !== null) this.events.announce(eventCursor);
    return result;
  }

  /** A write someone answers for: `run`, with the audit records of `work` written in the same transaction. */
  async mutation<T>(ctx: ServiceContext, operation: string, work: (tx: ServiceContext, audit: Audit) => Promise<T>): Promise<T> {
    // read before the transaction, which then holds no lock while they are read (and a bad credential fails first)
    if (ctx.identity.kind !== 'anonymous' || ctx.authError) await grantsOf(ctx);
    return this.run(ctx, async (tx) => {
      const entries: AuditEntry[] = [];
      const outcome = await work(tx, (entry) => entries.push(entry));
      // written in a flush of their own: a failing write above must not be masked by the audit insert
      await tx.em.flush();
      const actor = actorOf(ctx);
      for (const entry of entries) {
        tx.em.persist(
          Object.assign(new AuditRecord(), {
            ...actor,
            operation,
            targetType: entry.targetType,
            targetId: entry.targetId ?? null,
            env: entry.envId ?? null,
            before: entry.before ?? null,
            after: entry.after ?? null,
            requestId: ctx.requestId,
          }),
        );
      }
      return outcome;
    });
  }

  /**
   * The common delete: the row as the caller may see it (NOT_FOUND otherwise), `guard` (authorization
   * and any rule that refuses the delete), an audit record of what the row was, then the row goes.
   */
  deleteVisible<T extends { id: string }>(
    ctx: ServiceContext,
    operation: string,
    entity: EntityClass<T>,
    id: string,
    guard: (tx: ServiceContext, row: T) => Promise<unknown>,
    envIdOf: (row: T) => string | null | undefined = () => null,
  ): Promise<string> {
    return this.mutation(ctx, operation, async (tx, audit) => {
      const row = await findVisible(tx, entity, id);
      await guard(tx, row);
      audit({ targetType: entity.name, targetId: row.id, envId: envIdOf(row), before: snapshot(row) });
      tx.em.remove(row);
      return row.id;
    });
  }
}

function actorOf(ctx: ServiceContext): { actorKind: string; actorId: string | null } {
  const identity = ctx.identity;
  switch (identity.kind) {
    case 'user':
      return { actorKind: 'user', actorId: identity.user.id };
    case 'bot':
      return { actorKind: 'bot', actorId: identity.bot.id };
    case 'deployment':
      return { actorKind: 'deployment', actorId: identity.deployment.id };
    case 'system':
      return { actorKind: 'system', actorId: null };
    case 'anonymous':
      return { actorKind: 'anonymous', actorId: null };
  }
}

/** An entity's columns as JSON for the audit trail; hidden properties (hashes, ciphertexts) are left out by toObject. */
export function snapshot(entity: object, omit: string[] = []): Record<string, unknown> {
  const plain = wrap(entity).toObject() as Record<string, unknown>;
  for (const key of omit) delete plain[key];
  return plain;
}

/** A constraint the database enforced (unique, foreign key, check) becomes a domain error; anything else stays unexpected. */
export function asDomainError(err: unknown): unknown {
  if (err instanceof DomainError) return err;
  if (err instanceof UniqueConstraintViolationException) {
    return conflict(`Already exists: ${describeConstraint(err)}`);
  }
  if (err instanceof ForeignKeyConstraintViolationException) {
    return conflict(`Still referenced, or refers to something missing: ${describeConstraint(err)}`);
  }
  if (err instanceof NotNullConstraintViolationException || err instanceof CheckConstraintViolationException) {
    return new DomainError(ErrorCode.BAD_USER_INPUT, `Invalid value: ${describeConstraint(err)}`);
  }
  return err;
}

/** The constraint's name (which names its table and columns), never the SQL or the values. */
function describeConstraint(err: { constraint?: string; message: string }): string {
  return err.constraint ?? /constraint "([^"]+)"/.exec(err.message)?.[1] ?? 'a database constraint';
}
