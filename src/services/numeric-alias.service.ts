import type { ServiceContext } from '../request/context.js';

/** In the caller's transaction when it is in one (a mutation's): another connection would wait on its locks. */
const execute = <T>(ctx: ServiceContext, sql: string, params: unknown[]) => ctx.em.getConnection().execute<T[]>(sql, params, 'all', ctx.em.getTransactionContext());

/**
 * The tables whose rows an API knows by number (src/entities/numeric-alias.entity.ts); `applications` have no table,
 * their names' own uuids stand for them (src/services/application.service.ts).
 */
export type AliasedKind = 'users' | 'groups' | 'web_apps' | 'applications' | 'deployment_tasks';

/**
 * Kubportal's and Porter's integer ids: each Berth object gets its number the first time one of those APIs shows it,
 * and keeps it. Numbers come from one sequence (gaps are possible, reuse is not), so any replica gives the same answer.
 */
export class NumericAliasService {
  /** The numbers of `ids` (rows of `kind`), given now to those that have none. */
  async numbersOf(ctx: ServiceContext, kind: AliasedKind, ids: readonly string[]): Promise<Map<string, number>> {
    if (!ids.length) return new Map();
    const list = ids.map(() => '?').join(', ');
    await execute(
      ctx,
      `insert into numeric_aliases (kind, target_id) select ?, t from unnest(array[${list}]::uuid[]) t ` +
        'where not exists (select 1 from numeric_aliases a where a.kind = ? and a.target_id = t) on conflict do nothing',
      [kind, ...ids, kind],
    );
    const rows = await execute<{ target_id: string; number: number }>(ctx, `select target_id, number from numeric_aliases where kind = ? and target_id in (${list})`, [kind, ...ids]);
    return new Map(rows.map((r) => [r.target_id, Number(r.number)]));
  }

  async numberOf(ctx: ServiceContext, kind: AliasedKind, id: string): Promise<number> {
    return (await this.numbersOf(ctx, kind, [id])).get(id)!;
  }

  /** The id a number stands for, or null when no object of `kind` was ever given it. */
  async idOf(ctx: ServiceContext, kind: AliasedKind, number: number): Promise<string | null> {
    if (!Number.isSafeInteger(number) || number < 1 || number > 2 ** 31 - 1) return null;
    const [row] = await execute<{ target_id: string }>(ctx, 'select target_id from numeric_aliases where kind = ? and number = ?', [kind, number]);
    return row?.target_id ?? null;
  }
}
