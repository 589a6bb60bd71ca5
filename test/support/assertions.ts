import { expect } from '@jest/globals';
import type { GraphQLResponse, TestServer } from './server.js';

/** Tables to compare before and after a call; `volatile` columns (last_used_at and the like) change on reads and are left out. */
export type Tables = readonly string[] | { names: readonly string[]; volatile?: readonly string[] };

/**
 * One digest per table over every row, so "nothing was written" is checked row by row, not by
 * count. Columns that change on reads (last_used_at and the like) are left out.
 */
export async function tableDigests(server: TestServer, tables: readonly string[], volatileColumns: readonly string[] = []): Promise<string[]> {
  const row = volatileColumns.reduce((expr, column) => `${expr} - '${column}'`, 'to_jsonb(x)');
  const digests = await Promise.all(
    tables.map((t) => server.sql<{ d: string }>(`select md5(coalesce(string_agg((${row})::text, ',' order by x.id), '')) as d from ${t} x`)),
  );
  return digests.map(([r]) => r.d);
}

/** Columns a read may change: when a credential was last used. */
const READ_STAMPS = ['last_used_at', 'last_login_at'];

/**
 * Every table of the database, each as one digest over its rows (read stamps left out), in one
 * statement: whatever a call wrote anywhere shows as the names of the tables whose digest changed.
 */
export async function databaseDigest(server: Pick<TestServer, 'sql'>): Promise<Record<string, string>> {
  const tables = await server.sql<{ name: string }>(
    `select table_name as name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE' and table_name <> 'mikro_orm_migrations' order by 1`,
  );
  const row = READ_STAMPS.reduce((expr, column) => `${expr} - '${column}'`, 'to_jsonb(x)');
  const parts = tables.map(({ name }) => `select '${name}' as t, md5(coalesce(string_agg((${row})::text, ',' order by (${row})::text), '')) as d from "${name}" x`);
  const digests = await server.sql<{ t: string; d: string }>(parts.join(' union all '));
  return Object.fromEntries(digests.map(({ t, d }) => [t, d]));
}

/** Runs a call and says whether it added to the audit trail (an allowed write must). */
export async function withAudit<T>(server: TestServer, call: () => Promise<T>): Promise<{ result: T; audited: boolean }> {
  const before = await countRows(server, 'audit_records');
  const result = await call();
  return { result, audited: (await countRows(server, 'audit_records')) > before };
}

/** Runs a call and names every table it wrote to, row by row (a refused call must name none). */
export async function withWrites<T>(server: TestServer, call: () => Promise<T>): Promise<{ result: T; written: string[] }> {
  const before = await databaseDigest(server);
  const result = await call();
  return { result, written: changedTables(before, await databaseDigest(server)) };
}

/** The tables whose digest differs between two databaseDigest() readings. */
export const changedTables = (before: Record<string, string>, after: Record<string, string>): string[] =>
  Object.keys({ ...before, ...after }).filter((t) => before[t] !== after[t]);

/** Runs `run` and asserts that the tables are, row by row, exactly as before it; returns what `run` returned. */
export async function expectUnchanged<T>(server: TestServer, tables: Tables, run: () => Promise<T>): Promise<T> {
  const { names, volatile } = 'names' in tables ? tables : { names: tables, volatile: [] };
  const before = await tableDigests(server, names, volatile);
  const result = await run();
  expect(await tableDigests(server, names, volatile)).toEqual(before);
  return result;
}

/** The first error of a failed call has this code, and this field (or none). */
export function expectError(res: GraphQLResponse<unknown>, code: string, field?: string): void {
  expect(res.errors?.[0]?.extensions).toEqual({ code, ...(field ? { field } : {}) });
}

/** Runs a call that must fail: asserts its error code (and field) and that the tables are exactly as before. */
export async function expectRefused<R extends GraphQLResponse<unknown>>(
  server: TestServer,
  tables: Tables,
  call: () => Promise<R>,
  expected: { code: string; field?: string },
): Promise<R> {
  return expectUnchanged(server, tables, async () => {
    const res = await call();
    expect(res.data ?? null).toBeNull();
    expectError(res, expected.code, expected.field);
    return res;
  });
}

/** The single error of a failed call: its code and field. */
export function failure(res: GraphQLResponse<unknown>): { code?: string; field?: unknown; message: string } {
  expect(res.errors).toHaveLength(1);
  const [error] = res.errors!;
  return { code: error.extensions?.code, field: error.extensions?.field, message: error.message };
}

/** Rows of a table, all of them or those matching `where` (SQL, with `?` placeholders for `params`). */
export async function countRows(server: TestServer, table: string, where = 'true', params: unknown[] = []): Promise<number> {
  const [row] = await server.sql<{ n: number }>(`select count(*)::int as n from ${table} where ${where}`, params);
  return row.n;
}
