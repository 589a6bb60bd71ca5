import { expect } from '@jest/globals';
import type { GraphQLResponse, TestServer } from './server.js';

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

/** Runs a call that must fail: asserts its error code (and field) and that the tables are exactly as before. */
export async function expectRefused<R extends GraphQLResponse<unknown>>(
  server: TestServer,
  tables: { names: readonly string[]; volatile?: readonly string[] },
  call: () => Promise<R>,
  expected: { code: string; field?: string },
): Promise<R> {
  const before = await tableDigests(server, tables.names, tables.volatile);
  const res = await call();
  expect(res.data ?? null).toBeNull();
  expect(res.errors?.[0]?.extensions).toEqual(expected.field ? expected : { code: expected.code });
  expect(await tableDigests(server, tables.names, tables.volatile)).toEqual(before);
  return res;
}

/** The single error of a failed call: its code and field. */
export function failure(res: GraphQLResponse<unknown>): { code?: string; field?: unknown; message: string } {
  expect(res.errors).toHaveLength(1);
  const [error] = res.errors!;
  return { code: error.extensions?.code, field: error.extensions?.field, message: error.message };
}
