import { rowCounts, startWorld, type World } from './support/deployment-world.js';
import { failure } from './support/assertions.js';
import type { TestServer } from './support/server.js';

let server: TestServer;
let w: World;

beforeAll(async () => {
  ({ server, w } = await startWorld());
});
afterAll(() => server?.stop());

const CREATE = 'mutation($input: CreateDeploymentInput!) { createDeployment(input: $input) { id } }';
const input = (name: string) => ({ name, kindId: w.app.id, clusterId: w.cluster.id, helmChartId: w.appChart.id, config: { replicas: 1 } });

test('two simultaneous creations of the same (cluster, kind, name) give one deployment, one Install task and one CONFLICT', async () => {
  const before = await rowCounts(server);
  const results = await Promise.all([0, 1].map(() => server.gql<{ createDeployment: { id: string } }, unknown>(CREATE, { input: input('twin') }, w.callers.owner.headers)));
  const created = results.filter((r) => r.data?.createDeployment);
  const conflicts = results.filter((r) => r.errors?.[0]?.extensions?.code === 'CONFLICT');
  expect([created.length, conflicts.length]).toEqual([1, 1]);
  const rows = await server.sql<{ id: string }>("select id from deployments where name = 'twin'");
  expect(rows).toEqual([{ id: created[0].data!.createDeployment.id }]);
  expect(await rowCounts(server)).toMatchObject({
    deployments: before.deployments + 1,
    deployment_tasks: before.deployment_tasks + 1,
    audit_records: before.audit_records + 1,
  });
});

test('a mutation failing half-way (the task insert, after the deployment insert) writes nothing and leaks no SQL', async () => {
  await server.sql(`create function berth_test_refuse_task() returns trigger language plpgsql as $$
    begin raise exception 'berth test: task insert refused'; end $$`);
  await server.sql('create trigger berth_test_refuse_task before insert on deployment_tasks for each row execute function berth_test_refuse_task()');
  try {
    const before = await rowCounts(server);
    const res = await server.gql(CREATE, { input: input('half-way') }, w.callers.owner.headers);
    expect(failure(res)).toEqual({ code: 'INTERNAL_SERVER_ERROR', field: undefined, message: 'Internal server error' });
    expect(JSON.stringify(res)).not.toMatch(/insert|deployment_tasks|refused/i);
    expect(await rowCounts(server)).toEqual(before);
  } finally {
    await server.sql('drop trigger berth_test_refuse_task on deployment_tasks');
    await server.sql('drop function berth_test_refuse_task()');
  }
  // and the same call succeeds once the trigger is gone
  const ok = await server.gql(CREATE, { input: input('half-way') }, w.callers.owner.headers);
  expect(ok.errors).toBeUndefined();
});

test('a later write failing (the audit insert, after the work was flushed) undoes the earlier one and writes no event', async () => {
  // the work (deployment, Install task) is flushed before the audit records: only the transaction around both undoes it
  await server.sql(`create function berth_test_refuse_audit() returns trigger language plpgsql as $$
    begin raise exception 'berth test: audit insert refused'; end $$`);
  await server.sql(`create trigger berth_test_refuse_audit before insert on audit_records for each row
    when (new.operation = 'createDeployment') execute function berth_test_refuse_audit()`);
  try {
    const before = await rowCounts(server);
    const [{ n: eventsBefore }] = await server.sql<{ n: number }>('select count(*)::int as n from events');
    const res = await server.gql(CREATE, { input: input('audit-refused') }, w.callers.owner.headers);
    expect(failure(res)).toEqual({ code: 'INTERNAL_SERVER_ERROR', field: undefined, message: 'Internal server error' });
    expect(await server.sql("select id from deployments where name = 'audit-refused'")).toEqual([]);
    expect(await rowCounts(server)).toEqual(before);
    // the deployment and task inserts wrote events through their triggers: rolled back with them
    expect(await server.sql<{ n: number }>('select count(*)::int as n from events')).toEqual([{ n: eventsBefore }]);
  } finally {
    await server.sql('drop trigger berth_test_refuse_audit on audit_records');
    await server.sql('drop function berth_test_refuse_audit()');
  }
  const ok = await server.gql(CREATE, { input: input('audit-refused') }, w.callers.owner.headers);
  expect(ok.errors).toBeUndefined();
});
