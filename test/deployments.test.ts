import { deploymentCaller } from './support/identities.js';
import { insertDeployment, insertResource, insertSecret, rejected, rowCounts, startWorld, tasksOf, type World } from './support/deployment-world.js';
import type { TestServer } from './support/server.js';

let server: TestServer;
let w: World;

beforeAll(async () => {
  ({ server, w } = await startWorld());
});
afterAll(() => server?.stop());

const FIELDS = 'id name enabled status config valuesOverride descriptionMd cluster { id } helmChart { id }';
const CREATE = `mutation($input: CreateDeploymentInput!) { createDeployment(input: $input) { ${FIELDS} } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateDeploymentInput!) { updateDeployment(id: $id, input: $input) { ${FIELDS} } }`;
const DELETE = `mutation($id: ID!) { deleteDeployment(id: $id) { ${FIELDS} } }`;

type Row = { id: string; name: string; enabled: boolean; status: string; config: Record<string, unknown>; valuesOverride: unknown; descriptionMd: string | null; cluster: { id: string } };

let seq = 0;
/** A valid App input in the main cluster, with a fresh name. */
const appInput = (fields: Record<string, unknown> = {}) => ({
  name: `app-${++seq}`, kindId: w.app.id, clusterId: w.cluster.id, helmChartId: w.appChart.id, config: { replicas: 2 }, ...fields,
});

async function create(fields: Record<string, unknown> = {}, headers = w.callers.owner.headers): Promise<Row> {
  const res = await server.gql<{ createDeployment: Row }, unknown>(CREATE, { input: appInput(fields) }, headers);
  expect(res.errors).toBeUndefined();
  return res.data!.createDeployment;
}

describe('createDeployment', () => {
  test('an Owner creates it with an Install task carrying chart, config and values override, and an audit record', async () => {
    const before = await rowCounts(server);
    const d = await create({ valuesOverride: { image: { tag: 'x' } }, descriptionMd: 'hello' });
    expect(d).toMatchObject({ status: 'Unknown', enabled: true, config: { replicas: 2 }, valuesOverride: { image: { tag: 'x' } }, descriptionMd: 'hello' });
    const [row] = await server.sql<{ status: string; kind_id: string }>('select status, kind_id from deployments where id = ?', [d.id]);
    expect(row).toEqual({ status: 'Unknown', kind_id: w.app.id });
    const tasks = await tasksOf(server, d.id);
    expect(tasks).toEqual([
      { tag: 'Install', operation: { helm_chart_id: w.appChart.id, config_inputs: { replicas: 2 }, values_override: { image: { tag: 'x' } } }, status: 'Pending', reason: null },
    ]);
    const [task] = await server.sql<{ acting_user_id: string }>('select acting_user_id from deployment_tasks where deployment_id = ?', [d.id]);
    expect(task.acting_user_id).toBe(w.callers.owner.id);
    const audit = await server.sql<{ operation: string; env_id: string; actor_id: string }>(
      'select operation, env_id, actor_id from audit_records where target_id = ?', [d.id],
    );
    expect(audit).toEqual([{ operation: 'createDeployment', env_id: w.env.id, actor_id: w.callers.owner.id }]);
    expect(await rowCounts(server)).toMatchObject({ deployments: before.deployments + 1, deployment_tasks: before.deployment_tasks + 1 });
  });

  test('a bot holding the Owner role creates it, and its task records the bot', async () => {
    const d = await create({}, w.callers.ownerBot.headers);
    const [task] = await server.sql<{ acting_bot_id: string; acting_user_id: null }>('select acting_bot_id, acting_user_id from deployment_tasks where deployment_id = ?', [d.id]);
    expect(task).toEqual({ acting_bot_id: w.callers.ownerBot.id, acting_user_id: null });
  });

  test('a disabled deployment gets no task; defaults are {} for config and values override', async () => {
    const d = await create({ enabled: false, helmChartId: w.plainAppChart.id, config: undefined });
    expect(d).toMatchObject({ enabled: false, config: {}, valuesOverride: {} });
    expect(await tasksOf(server, d.id)).toEqual([]);
  });

  test.each([
    ['a name that is not a DNS label', { name: 'Bad_Name' }, 'input.name'],
    ['a namespace over 63 characters', { name: 'a'.repeat(60) }, 'input.name'],
    ['an empty name for a Many chart', { name: '' }, 'input.name'],
    ['a chart of another kind', { helmChartId: 'shop' }, 'input.helmChartId'],
    ['a missing required input', { config: {} }, 'input.config.replicas'],
    ['an empty required input', { config: { replicas: '' } }, 'input.config.replicas'],
    ['a required input shown by showIf', { config: { replicas: 1, mode: 'advanced' } }, 'input.config.advancedKey'],
    ['a required input shown by showIfAll', { config: { replicas: 1, mode: 'regional' } }, 'input.config.region'],
    ['a deployment id that does not exist', { config: { replicas: 1, db: '00000000-0000-4000-8000-000000000000' } }, 'input.config.db'],
    ['a collection value that is not an id', { config: { replicas: 1, password: 'hunter2' } }, 'input.config.password'],
    ['a malformed cluster id', { clusterId: 'nope' }, 'input.clusterId'],
  ])('%s is BAD_USER_INPUT and writes nothing', async (_, fields, field) => {
    const input = appInput('helmChartId' in fields ? { ...fields, helmChartId: w.shopChart.id } : fields);
    expect(await rejected(server, CREATE, { input }, w.callers.owner.headers)).toMatchObject({ code: 'BAD_USER_INPUT', field });
  });

  test('hidden required inputs are not required, and collection values must exist in the same env', async () => {
    expect(await create({ config: { replicas: 1, mode: 'simple' } })).toBeTruthy();
    const foreignSecret = await insertSecret(server, { env: w.otherEnv, collection: 'db', name: 'foreign' });
    const foreignDeployment = await insertDeployment(server, { name: 'far', kind: w.app, cluster: w.otherCluster, helmChart: w.plainAppChart });
    for (const [key, value] of [['password', foreignSecret.id], ['db', foreignDeployment.id], ['shops', [foreignDeployment.id]]] as const) {
      const res = await rejected(server, CREATE, { input: appInput({ config: { replicas: 1, [key]: value } }) }, w.callers.owner.headers);
      expect(res).toMatchObject({ code: 'BAD_USER_INPUT', field: `input.config.${key}` });
    }
    const secret = await insertSecret(server, { env: w.env, collection: 'db', name: `pw-${seq}` });
    const shopDeployment = await insertDeployment(server, { kind: w.shop, cluster: w.cluster2, helmChart: w.shopChart });
    const resource = await insertResource(server, { type: w.shopType, deployment: shopDeployment, name: `shop-${seq}` });
    const db = await create();
    const d = await create({ config: { replicas: 1, db: db.id, password: secret.id, shops: [resource.id] } });
    expect(d.config).toEqual({ replicas: 1, db: db.id, password: secret.id, shops: [resource.id] });
  });

  test('OnePerCluster charts take no name and one deployment per cluster', async () => {
    const input = { name: '', kindId: w.shop.id, clusterId: w.cluster.id, helmChartId: w.shopChart.id };
    const named = await rejected(server, CREATE, { input: { ...input, name: 'x' } }, w.callers.owner.headers);
    expect(named).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.name' });
    const first = await server.gql<{ createDeployment: Row }, unknown>(CREATE, { input }, w.callers.owner.headers);
    expect(first.errors).toBeUndefined();
    expect(first.data!.createDeployment.name).toBe('');
    expect(await rejected(server, CREATE, { input }, w.callers.owner.headers)).toMatchObject({ code: 'CONFLICT' });
  });

  test('a duplicate (cluster, kind, name) is a CONFLICT', async () => {
    const d = await create();
    const res = await rejected(server, CREATE, { input: appInput({ name: d.name }) }, w.callers.owner.headers);
    expect(res.code).toBe('CONFLICT');
    expect(res.message).toContain(d.name);
  });

  test('Maintainers and env Users are FORBIDDEN, other envs NOT_FOUND, anonymous callers UNAUTHENTICATED', async () => {
    const { maintainer, envUser, outsider } = w.callers;
    expect((await rejected(server, CREATE, { input: appInput() }, maintainer.headers)).code).toBe('FORBIDDEN');
    expect((await rejected(server, CREATE, { input: appInput() }, envUser.headers)).code).toBe('FORBIDDEN');
    expect((await rejected(server, CREATE, { input: appInput() }, outsider.headers)).code).toBe('NOT_FOUND');
    expect((await rejected(server, CREATE, { input: appInput() }, {})).code).toBe('UNAUTHENTICATED');
  });

  test('on a cluster outside any env only a site admin may create', async () => {
    const auth = await server.adminAuth();
    const d = await create({ clusterId: w.envless.id }, auth);
    expect(d.cluster.id).toBe(w.envless.id);
    expect((await rejected(server, CREATE, { input: appInput({ clusterId: w.envless.id }) }, w.callers.owner.headers)).code).toBe('NOT_FOUND');
  });
});

describe('updateDeployment', () => {
  /** A deployment and another one depending on it through the `db` input. */
  async function withDependent() {
    const db = await create();
    const dependent = await create({ config: { replicas: 1, db: db.id } });
    const disabledDependent = await create({ config: { replicas: 1, db: db.id }, enabled: false });
    return { db, dependent, disabledDependent };
  }

  async function update(id: string, input: Record<string, unknown>, headers = w.callers.maintainer.headers): Promise<Row> {
    const res = await server.gql<{ updateDeployment: Row }, unknown>(UPDATE, { id, input }, headers);
    expect(res.errors).toBeUndefined();
    return res.data!.updateDeployment;
  }

  test('changing only the description creates no task', async () => {
    const d = await create();
    expect((await update(d.id, { descriptionMd: 'docs' })).descriptionMd).toBe('docs');
    expect((await tasksOf(server, d.id)).map((t) => t.tag)).toEqual(['Install']);
    const audit = await server.sql<{ operation: string }>("select operation from audit_records where target_id = ? and operation = 'updateDeployment'", [d.id]);
    expect(audit).toHaveLength(1);
  });

  test('a config change is an Upgrade with its delta, and enabled dependents are reinstalled', async () => {
    const { db, dependent, disabledDependent } = await withDependent();
    await update(db.id, { config: { replicas: 3, mode: 'simple' }, valuesOverride: { a: 1 } });
    const tasks = await tasksOf(server, db.id);
    expect(tasks.map((t) => t.tag)).toEqual(['Install', 'Upgrade']);
    expect(tasks[1].operation).toEqual({
      helm_chart_id: w.appChart.id,
      prev_helm_chart_id: w.appChart.id,
      config_inputs: { replicas: 3, mode: 'simple' },
      config_delta: { replicas: [2, 3], mode: [null, 'simple'] },
      values_override: { a: 1 },
    });
    expect((await tasksOf(server, dependent.id)).at(-1)).toMatchObject({ tag: 'Reinstall', reason: `The ${db.name} deployment has been updated` });
    expect(await tasksOf(server, disabledDependent.id)).toEqual([]);
  });

  test("a chart without reinstall_dependencies upgrades without reinstalling dependents", async () => {
    const { db, dependent } = await withDependent();
    await update(db.id, { helmChartId: w.appChart2.id });
    expect((await tasksOf(server, db.id)).at(-1)?.operation).toMatchObject({ helm_chart_id: w.appChart2.id, prev_helm_chart_id: w.appChart.id, config_delta: {} });
    expect((await tasksOf(server, dependent.id)).map((t) => t.tag)).toEqual(['Install']);
  });

  test('a rename is a Recreate between namespaces, then an Upgrade, and reinstalls dependents', async () => {
    const { db, dependent } = await withDependent();
    await update(db.id, { name: `${db.name}-x` });
    const tasks = await tasksOf(server, db.id);
    expect(tasks.map((t) => t.tag)).toEqual(['Install', 'Recreate', 'Upgrade']);
    expect(tasks[1].operation).toEqual({ old_cluster_id: w.cluster.id, old_namespace: `app-${db.name}`, new_cluster_id: w.cluster.id, new_namespace: `app-${db.name}-x` });
    expect((await tasksOf(server, dependent.id)).at(-1)?.tag).toBe('Reinstall');
  });

  test('a move to another cluster is a Recreate between clusters', async () => {
    const d = await create();
    expect((await update(d.id, { clusterId: w.cluster2.id })).cluster.id).toBe(w.cluster2.id);
    const tasks = await tasksOf(server, d.id);
    expect(tasks[1].operation).toMatchObject({ old_cluster_id: w.cluster.id, new_cluster_id: w.cluster2.id });
    const clusters = await server.sql<{ cluster_id: string }>('select cluster_id from deployment_tasks where deployment_id = ? order by execute_at', [d.id]);
    expect(clusters.map((c) => c.cluster_id)).toEqual([w.cluster.id, w.cluster2.id, w.cluster2.id]);
  });

  test('disabling is an Uninstall; it is a CONFLICT while enabled dependents exist; enabling again Installs', async () => {
    const { db, dependent } = await withDependent();
    const res = await rejected(server, UPDATE, { id: db.id, input: { enabled: false } }, w.callers.maintainer.headers);
    expect(res.code).toBe('CONFLICT');
    expect(res.message).toContain(`${dependent.name} (App)`);
    await update(dependent.id, { enabled: false });
    expect((await tasksOf(server, dependent.id)).at(-1)?.tag).toBe('Uninstall');
    await update(db.id, { enabled: false });
    await update(dependent.id, { enabled: true });
    await update(db.id, { enabled: true });
    expect((await tasksOf(server, db.id)).map((t) => t.tag)).toEqual(['Install', 'Uninstall', 'Install']);
    expect((await tasksOf(server, dependent.id)).map((t) => t.tag)).toEqual(['Install', 'Uninstall', 'Install', 'Reinstall']);
  });

  test('validation: null values override, bad names, config and uniqueness; nothing is written', async () => {
    const d = await create();
    const other = await create();
    const cases: [Record<string, unknown>, string, string?][] = [
      [{ valuesOverride: null }, 'BAD_USER_INPUT', 'input.valuesOverride'],
      [{ name: 'UPPER' }, 'BAD_USER_INPUT', 'input.name'],
      [{ name: '' }, 'BAD_USER_INPUT', 'input.name'],
      [{ config: { mode: 'x' } }, 'BAD_USER_INPUT', 'input.config.replicas'],
      [{ helmChartId: w.shopChart.id }, 'BAD_USER_INPUT', 'input.helmChartId'],
      [{ name: other.name }, 'CONFLICT'],
    ];
    for (const [input, code, field] of cases) {
      expect(await rejected(server, UPDATE, { id: d.id, input }, w.callers.maintainer.headers)).toMatchObject({ code, ...(field ? { field } : {}) });
    }
  });

  test('env Users are FORBIDDEN, other envs NOT_FOUND; a deployment may update itself only', async () => {
    const d = await create();
    const other = await create();
    expect((await rejected(server, UPDATE, { id: d.id, input: { descriptionMd: 'x' } }, w.callers.envUser.headers)).code).toBe('FORBIDDEN');
    expect((await rejected(server, UPDATE, { id: d.id, input: { descriptionMd: 'x' } }, w.callers.outsider.headers)).code).toBe('NOT_FOUND');
    expect((await rejected(server, UPDATE, { id: d.id, input: { clusterId: w.otherCluster.id } }, w.callers.maintainer.headers)).code).toBe('NOT_FOUND');
    const self = await deploymentCaller(server, d.id);
    expect((await update(d.id, { config: { replicas: 5 } }, self.headers)).config).toEqual({ replicas: 5 });
    const [task] = await server.sql<{ acting_deployment_id: string }>(
      "select acting_deployment_id from deployment_tasks where deployment_id = ? and jsonb_exists(operation::jsonb, 'Upgrade')", [d.id],
    );
    expect(task.acting_deployment_id).toBe(d.id);
    expect((await rejected(server, UPDATE, { id: other.id, input: { descriptionMd: 'x' } }, self.headers)).code).toBe('FORBIDDEN');
  });
});

describe('deleteDeployment', () => {
  test('an Owner marks it Deleting with an Uninstall task; a second delete is a CONFLICT', async () => {
    const d = await create();
    const res = await server.gql<{ deleteDeployment: Row }, unknown>(DELETE, { id: d.id }, w.callers.owner.headers);
    expect(res.data?.deleteDeployment.status).toBe('Deleting');
    const [row] = await server.sql<{ status: string }>('select status from deployments where id = ?', [d.id]);
    expect(row.status).toBe('Deleting');
    expect((await tasksOf(server, d.id)).map((t) => t.tag)).toEqual(['Install', 'Uninstall']);
    expect(await server.sql("select 1 from audit_records where target_id = ? and operation = 'deleteDeployment'", [d.id])).toHaveLength(1);
    expect((await rejected(server, DELETE, { id: d.id }, w.callers.owner.headers)).code).toBe('CONFLICT');
  });

  test('a deployment others depend on (even disabled ones) cannot be deleted', async () => {
    const db = await create();
    const dependent = await create({ config: { replicas: 1, db: db.id }, enabled: false });
    const res = await rejected(server, DELETE, { id: db.id }, w.callers.owner.headers);
    expect(res.code).toBe('CONFLICT');
    expect(res.message).toContain(dependent.name);
  });

  test('Maintainers are FORBIDDEN and other envs NOT_FOUND', async () => {
    const d = await create();
    expect((await rejected(server, DELETE, { id: d.id }, w.callers.maintainer.headers)).code).toBe('FORBIDDEN');
    expect((await rejected(server, DELETE, { id: d.id }, w.callers.outsider.headers)).code).toBe('NOT_FOUND');
  });
});
