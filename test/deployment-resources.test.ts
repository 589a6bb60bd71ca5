import { deploymentCaller } from './support/identities.js';
import { insertDeployment, insertResource, rejected, startWorld, tasksOf, type World } from './support/deployment-world.js';
import type { TestServer } from './support/server.js';
import type { Deployment } from '../src/entities/index.js';

let server: TestServer;
let w: World;
/** the Shop deployment that owns the resources */
let owner: Deployment;

beforeAll(async () => {
  ({ server, w } = await startWorld());
  owner = await insertDeployment(server, { kind: w.shop, cluster: w.cluster, helmChart: w.shopChart });
});
afterAll(() => server?.stop());

const FIELDS = 'id name exists syncStatus props type { id } deployment { id }';
const CREATE = `mutation($input: CreateDeploymentResourceInput!) { createDeploymentResource(input: $input) { ${FIELDS} } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateDeploymentResourceInput!) { updateDeploymentResource(id: $id, input: $input) { ${FIELDS} } }`;
const DELETE = `mutation($id: ID!) { deleteDeploymentResource(id: $id) { ${FIELDS} } }`;

type Row = { id: string; name: string; exists: boolean; syncStatus: string; props: Record<string, unknown> };
const SENSITIVE = 'sk_live_very_secret';

let seq = 0;
async function create(fields: Record<string, unknown> = {}, headers = w.callers.maintainer.headers): Promise<Row> {
  const input = { typeId: w.shopType.id, deploymentId: owner.id, name: `shop-${++seq}`, props: { url: 'https://a', apiKey: SENSITIVE }, ...fields };
  const res = await server.gql<{ createDeploymentResource: Row }, unknown>(CREATE, { input }, headers);
  expect(res.errors).toBeUndefined();
  return res.data!.createDeploymentResource;
}

test('a Maintainer creates a resource (Creating); sensitive props are stored but never returned nor audited', async () => {
  const r = await create();
  expect(r).toMatchObject({ syncStatus: 'Creating', exists: true, props: { url: 'https://a' } });
  expect(JSON.stringify(r)).not.toContain(SENSITIVE);
  const [row] = await server.sql<{ props: Record<string, unknown> }>('select props from deployment_resources where id = ?', [r.id]);
  expect(row.props).toEqual({ url: 'https://a', apiKey: SENSITIVE });
  const audit = await server.sql<Record<string, unknown>>('select * from audit_records where target_id = ?', [r.id]);
  expect(audit).toHaveLength(1);
  expect(JSON.stringify(audit)).not.toContain(SENSITIVE);
});

test('the owning deployment may create its own resources with its token', async () => {
  const self = await deploymentCaller(server, owner.id);
  expect((await create({}, self.headers)).syncStatus).toBe('Creating');
});

test.each([
  ['an empty name', { name: '' }, 'input.name'],
  ['a type of another env', { typeId: 'other' }, 'input.typeId'],
  ['a malformed deployment id', { deploymentId: 'x' }, 'input.deploymentId'],
])('%s is BAD_USER_INPUT and writes nothing', async (_, fields, field) => {
  const input = { typeId: w.shopType.id, deploymentId: owner.id, name: 'ok', props: {}, ...fields, ...('typeId' in fields ? { typeId: w.otherEnvType.id } : {}) };
  expect(await rejected(server, CREATE, { input }, await server.adminAuth())).toMatchObject({ code: 'BAD_USER_INPUT', field });
});

test('a duplicate (type, name) is a CONFLICT; env Users are FORBIDDEN and other envs NOT_FOUND', async () => {
  const r = await create();
  const input = { typeId: w.shopType.id, deploymentId: owner.id, name: r.name, props: {} };
  expect((await rejected(server, CREATE, { input }, w.callers.maintainer.headers)).code).toBe('CONFLICT');
  const fresh = { ...input, name: 'fresh' };
  expect((await rejected(server, CREATE, { input: fresh }, w.callers.envUser.headers)).code).toBe('FORBIDDEN');
  expect((await rejected(server, CREATE, { input: fresh }, w.callers.outsider.headers)).code).toBe('NOT_FOUND');
  expect((await rejected(server, UPDATE, { id: r.id, input: { name: 'x' } }, w.callers.envUser.headers)).code).toBe('FORBIDDEN');
  expect((await rejected(server, DELETE, { id: r.id }, w.callers.outsider.headers)).code).toBe('NOT_FOUND');
});

test('updates deep-merge props, set Updating and reinstall the enabled deployments using the resource', async () => {
  const r = await create({ props: { url: 'https://a', apiKey: SENSITIVE, limits: { cpu: 1, memory: 2 } } });
  const user = await insertDeployment(server, { name: `u-${seq}`, kind: w.app, cluster: w.cluster, helmChart: w.appChart, config: { replicas: 1, shops: [r.id] } });
  const disabled = await insertDeployment(server, { name: `d-${seq}`, kind: w.app, cluster: w.cluster, helmChart: w.appChart, enabled: false, config: { replicas: 1, shops: [r.id] } });
  const res = await server.gql<{ updateDeploymentResource: Row }, unknown>(UPDATE, { id: r.id, input: { props: { limits: { cpu: 4 } } } }, w.callers.maintainer.headers);
  expect(res.errors).toBeUndefined();
  expect(res.data!.updateDeploymentResource).toMatchObject({ syncStatus: 'Updating', props: { url: 'https://a', limits: { cpu: 4, memory: 2 } } });
  expect(JSON.stringify(res)).not.toContain(SENSITIVE);
  const [row] = await server.sql<{ props: Record<string, unknown> }>('select props from deployment_resources where id = ?', [r.id]);
  expect(row.props).toEqual({ url: 'https://a', apiKey: SENSITIVE, limits: { cpu: 4, memory: 2 } });
  expect(await tasksOf(server, user.id)).toMatchObject([{ tag: 'Reinstall', reason: `shop ${r.name} updated` }]);
  expect(await tasksOf(server, disabled.id)).toEqual([]);
  const audit = await server.sql<Record<string, unknown>>("select * from audit_records where target_id = ? and operation = 'updateDeploymentResource'", [r.id]);
  expect(audit).toHaveLength(1);
  expect(JSON.stringify(audit)).not.toContain(SENSITIVE);

  // unchanged name and props: Updating again, but nothing to reinstall
  await server.gql(UPDATE, { id: r.id, input: { props: { url: 'https://a' } } }, w.callers.maintainer.headers);
  expect(await tasksOf(server, user.id)).toHaveLength(1);
});

test('update validation: an empty name, a taken name', async () => {
  const [a, b] = [await create(), await create()];
  expect(await rejected(server, UPDATE, { id: a.id, input: { name: '' } }, w.callers.maintainer.headers)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.name' });
  expect((await rejected(server, UPDATE, { id: a.id, input: { name: b.name } }, w.callers.maintainer.headers)).code).toBe('CONFLICT');
});

test('delete marks it Deleting; a resource already deleted (exists = false) is a CONFLICT', async () => {
  const r = await create();
  const res = await server.gql<{ deleteDeploymentResource: Row }, unknown>(DELETE, { id: r.id }, w.callers.maintainer.headers);
  expect(res.data?.deleteDeploymentResource).toMatchObject({ syncStatus: 'Deleting', exists: true });
  expect(JSON.stringify(res)).not.toContain(SENSITIVE);
  expect(await server.sql("select 1 from audit_records where target_id = ? and operation = 'deleteDeploymentResource'", [r.id])).toHaveLength(1);
  const gone = await insertResource(server, { type: w.shopType, deployment: owner, name: `gone-${seq}`, exists: false });
  expect((await rejected(server, DELETE, { id: gone.id }, w.callers.maintainer.headers)).code).toBe('CONFLICT');
});

test("a resource whose deployment is in another env than its type's (the deployment moved) shows its props all the same", async () => {
  const moved = await insertResource(server, { type: w.otherEnvType, deployment: owner, name: `moved-${++seq}`, props: { region: 'eu' } });
  // the maintainer holds no role in the type's env: its props are still its deployment's to show
  const res = await server.gql<any, unknown>(`query($id: ID!) { deploymentResource(id: $id) { id props } }`, { id: moved.id }, w.callers.maintainer.headers);
  expect(res.errors).toBeUndefined();
  expect(res.data.deploymentResource).toEqual({ id: moved.id, props: { region: 'eu' } });
});
