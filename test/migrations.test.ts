import type { MikroORM } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/sql';
import { migrate, openOrm } from '../src/db/orm.js';
import { migrationsList } from '../src/db/migrations/index.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';

let db: TestDatabase;
let orm: MikroORM;

beforeAll(async () => {
  db = await createTestDatabase('empty');
  orm = await openOrm(db.target);
});
afterAll(async () => {
  await orm?.close(true);
  await db?.drop();
});

test('the committed migrations build exactly the schema the entities describe (empty diff)', async () => {
  const applied = await migrate(orm, db.target);
  expect(applied).toEqual(migrationsList.map((m) => m.name));
  expect((await orm.schema.getUpdateSchemaSQL()).trim()).toBe('');
  expect(await migrate(orm, db.target)).toEqual([]); // idempotent
});

test('key column types and constraints are what the issue asks for', async () => {
  const conn = (orm.em as SqlEntityManager).getConnection();
  const columns = await conn.execute<{ table_name: string; column_name: string; udt_name: string }[]>(
    `select table_name, column_name, udt_name from information_schema.columns where table_schema = current_schema()`,
  );
  const type = (table: string, column: string) => columns.find((c) => c.table_name === table && c.column_name === column)?.udt_name;
  // every table has a uuid id and created_at, but the event log, whose key is a growing cursor, the grants history it
  // points into, login throttling's counters (rate-limiter-flexible's table), and the numeric aliases, keyed by the
  // integer they give
  const tables = [...new Set(columns.map((c) => c.table_name))].filter((t) => !['mikro_orm_migrations', 'grant_versions', 'login_throttle', 'numeric_aliases'].includes(t));
  expect(tables.length).toBe(30);
  expect(type('numeric_aliases', 'number')).toBe('int4');
  for (const table of tables) {
    expect([table, type(table, table === 'events' ? 'cursor' : 'id')]).toEqual([table, table === 'events' ? 'int8' : 'uuid']);
    expect([table, type(table, 'created_at')]).toEqual([table, 'timestamptz']);
  }
  expect(type('deployments', 'config')).toBe('jsonb');
  expect(type('deployments', 'status')).toBe('deployment_status');
  expect(type('deployment_tasks', 'operation')).toBe('jsonb');
  expect(type('k8s_resources', 'status_color')).toBe('_text');

  const enumValues = async (name: string) =>
    (await conn.execute<{ v: string }[]>(`select unnest(enum_range(null::${name}))::text as v`)).map((r) => r.v);
  expect(await enumValues('deployment_status')).toEqual(['Unknown', 'Installing', 'Renaming', 'Upgrading', 'Running', 'Error', 'Uninstalling', 'Uninstalled', 'Deleting']);
  expect(await enumValues('deployment_task_status')).toEqual(['Pending', 'Started', 'Failed', 'Canceled', 'Done']);
  expect(await enumValues('deployment_resource_sync_status')).toEqual(['Creating', 'Updating', 'Deleting', 'Ready', 'Error']);
  expect(await enumValues('user_deployment_role')).toEqual(['Owner', 'Maintainer']);
  expect(await enumValues('env_user_role')).toEqual(['Admin', 'User']);
  expect(await enumValues('helm_registry_provider')).toEqual(['Ecr', 'Oci']);
  expect(await enumValues('user_approval_state')).toEqual(['NEW', 'ACCESS_REQUESTED', 'ACCESS_APPROVED', 'ACCESS_REJECTED']);
});

test('uniqueness rules hold in the database itself', async () => {
  const conn = (orm.em as SqlEntityManager).getConnection();
  const fails = (sql: string) => expect(conn.execute(sql)).rejects.toThrow(/duplicate key|unique/i);
  await conn.execute(`insert into users (id, email, username, display_name) values (gen_random_uuid(), 'Ann@Example.com', 'ann', 'Ann')`);
  await fails(`insert into users (id, email, username, display_name) values (gen_random_uuid(), 'ann@example.COM', 'ann2', 'Ann 2')`);
  await conn.execute(`insert into envs (id, name) values (gen_random_uuid(), 'Prod')`);
  await fails(`insert into envs (id, name) values (gen_random_uuid(), 'PROD')`);
  const [kind] = await conn.execute<{ id: string }[]>(`insert into deployment_kinds (id, name) values (gen_random_uuid(), 'Web') returning id`);
  const [registry] = await conn.execute<{ id: string }[]>(
    `insert into helm_registries (id, domain_name, repo_name, kind_id) values (gen_random_uuid(), 'r.example.com', 'web', '${kind.id}') returning id`,
  );
  await fails(`insert into helm_registries (id, domain_name, repo_name, kind_id) values (gen_random_uuid(), 'r.example.com', 'web', '${kind.id}')`);
  const [chart] = await conn.execute<{ id: string }[]>(
    `insert into helm_charts (id, helm_registry_id, image_digest, image_tag) values (gen_random_uuid(), '${registry.id}', 'sha256:1', '1.0') returning id`,
  );
  const [cluster] = await conn.execute<{ id: string }[]>(`insert into k8s_clusters (id, provider_id, name) values (gen_random_uuid(), 'local:a', 'a') returning id`);
  const deployment = (name: string) =>
    `insert into deployments (id, name, kind_id, cluster_id, helm_chart_id) values (gen_random_uuid(), '${name}', '${kind.id}', '${cluster.id}', '${chart.id}')`;
  await conn.execute(deployment('api'));
  await fails(deployment('api'));
});
