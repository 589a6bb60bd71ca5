import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { startWorld, type World } from './support/deployment-world.js';
import { createUser, type Caller } from './support/identities.js';
import { startTestServer, type TestServer } from './support/server.js';
import { connectPlatz, type PlatzClient } from './support/platz-client.js';
import { settleEvents } from './support/subscriptions.js';

let server: TestServer;
let w: World;
let admin: Record<string, string>;
let adminJwt: string;
const clients: PlatzClient[] = [];

beforeAll(async () => {
  ({ server, w } = await startWorld());
  admin = await server.adminAuth();
  adminJwt = admin.authorization.replace(/^Bearer /, '');
  // the seed was flushed outside any mutation: have the hub pass its events now, not on a later poll in mid-test
  await settleEvents(server);
});

afterAll(async () => {
  clients.forEach((client) => client.socket.terminate());
  await server.stop();
});

const platzUrl = () => new URL('/api/v2/ws', server.berth.wsUrl).href;

/** Opens a socket with these headers or subprotocols; rejects with the HTTP status when the upgrade is refused. */
async function connect(headers: Record<string, string>, protocols: string[] = [], url = platzUrl()): Promise<PlatzClient> {
  const client = await connectPlatz(url, headers, protocols);
  clients.push(client);
  return client;
}

const as = (caller: Caller) => connect(caller.headers);

const event = (operation: string, table: string, id: string) => ({ operation, table, data: { id } });

async function mutate<T>(query: string, variables: object): Promise<T> {
  const res = await server.gql<T, object>(query, variables, admin);
  expect(res.errors).toBeUndefined();
  return res.data!;
}

async function createDeployment(clusterId: string): Promise<string> {
  const data = await mutate<{ createDeployment: { id: string } }>(`mutation($input: CreateDeploymentInput!) { createDeployment(input: $input) { id } }`, {
    input: { name: `ws-${randomUUID().slice(0, 8)}`, kindId: w.app.id, clusterId, helmChartId: w.appChart.id, config: { replicas: 1 } },
  });
  return data.createDeployment.id;
}

const updateEnv = (id: string) => mutate(`mutation($id: ID!, $input: UpdateEnvInput!) { updateEnv(id: $id, input: $input) { id } }`, { id, input: { description: randomUUID() } });

const renameKind = (id: string) => mutate(`mutation($id: ID!, $name: String!) { renameDeploymentKind(id: $id, name: $name) { id } }`, { id, name: `Kind-${randomUUID().slice(0, 8)}` });

describe('authentication', () => {
  test('the JWT as second subprotocol (echoed), an x-platz-token header or Authorization: Bearer each open an authenticated socket', async () => {
    const byProtocol = await connect({}, ['platz-auth-bearer', adminJwt]);
    const byToken = await as(w.callers.envUser);
    const byBearer = await connect(admin);
    expect(byProtocol.socket.protocol).toBe('platz-auth-bearer');
    expect(byToken.socket.protocol).toBe('');
    for (const client of [byProtocol, byToken, byBearer]) {
      client.subscribe('envs', w.env.id);
      await client.sync();
    }
    await updateEnv(w.env.id);
    for (const client of [byProtocol, byToken, byBearer]) {
      await client.received(w.env.id);
      expect(client.frames).toEqual([event('UPDATE', 'envs', w.env.id)]);
    }
  });

  test('no other subprotocol is selected: a client asking only for one the server does not speak gets none', async () => {
    await expect(connect(w.callers.envUser.headers, ['graphql-transport-ws'])).rejects.toThrow('Server sent no subprotocol');
  });

  test.each([
    ['no credential', {}, []],
    ['a bad JWT as subprotocol', {}, ['platz-auth-bearer', 'not.a.jwt']],
    ['a bad x-platz-token', { 'x-platz-token': 'nope' }, []],
    ['a bad Authorization header', { authorization: 'Bearer nope' }, []],
  ])('%s: 401 and no upgrade', async (_what, headers: Record<string, string>, protocols: string[]) => {
    await expect(connect(headers, protocols)).rejects.toMatchObject({ status: 401 });
  });

  test('a deactivated user is closed with 4403 at its next event', async () => {
    const user = await createUser(server);
    const client = await as(user);
    client.subscribe('deployment_kinds', null);
    await client.sync();
    await mutate(`mutation($id: ID!) { setUserActive(id: $id, active: false) { id } }`, { id: user.id });
    await renameKind(w.shop.id);
    await client.until((c) => c.closed !== null, 'the close');
    expect(client.closed?.code).toBe(4403);
    expect(client.frames).toEqual([]);
  });
});

describe('subscriptions', () => {
  test('nothing arrives before a subscribe; env_id picks one env, null every env', async () => {
    const prodOnly = await connect(admin);
    const everyEnv = await connect(admin);
    everyEnv.subscribe('deployments', null);
    await everyEnv.sync();
    // everyEnv receiving it means the hub has passed it, while prodOnly had no subscription
    const before = await createDeployment(w.cluster.id);
    await everyEnv.received(before);

    prodOnly.subscribe('deployments', w.env.id);
    await prodOnly.sync();
    const staging = await createDeployment(w.otherCluster.id);
    const prod = await createDeployment(w.cluster.id);
    await prodOnly.received(prod);
    expect(prodOnly.frames).toEqual([event('INSERT', 'deployments', prod)]);
    await everyEnv.received(prod);
    expect(everyEnv.frames).toEqual([before, staging, prod].map((id) => event('INSERT', 'deployments', id)));
  });

  test('a deployment moving to another env is a DELETE in the env it left and an INSERT in the one it entered', async () => {
    const id = await createDeployment(w.cluster.id);
    const prod = await connect(admin);
    const staging = await connect(admin);
    const both = await connect(admin);
    prod.subscribe('deployments', w.env.id);
    staging.subscribe('deployments', w.otherEnv.id);
    both.subscribe('deployments', null);
    await Promise.all([prod, staging, both].map((client) => client.sync()));
    await mutate('mutation($id: ID!, $clusterId: ID) { updateDeployment(id: $id, input: { clusterId: $clusterId }) { id } }', { id, clusterId: w.otherCluster.id });
    await Promise.all([prod, staging, both].map((client) => client.received(id)));
    expect(prod.frames).toEqual([event('DELETE', 'deployments', id)]);
    expect(staging.frames).toEqual([event('INSERT', 'deployments', id)]);
    expect(both.frames).toEqual([event('UPDATE', 'deployments', id)]);
  });

  test('subscribe is idempotent; unsubscribe removes exactly its (table, env_id) pair', async () => {
    const client = await connect(admin);
    client.subscribe('deployments', w.env.id);
    client.subscribe('deployments', w.env.id);
    client.subscribe('deployments', w.otherEnv.id);
    await client.sync();
    const first = await createDeployment(w.cluster.id);
    await client.received(first);

    client.unsubscribe('deployments', w.env.id);
    await client.sync();
    const unwanted = await createDeployment(w.cluster.id);
    const staging = await createDeployment(w.otherCluster.id);
    await client.received(staging);
    expect(client.frames).toEqual([event('INSERT', 'deployments', first), event('INSERT', 'deployments', staging)]);
    expect(JSON.stringify(client.frames)).not.toContain(unwanted);
  });

  test('every env means every env the caller may see: the outsider gets staging, never prod', async () => {
    const client = await as(w.callers.outsider);
    client.subscribe('deployments', null);
    await client.sync();
    const prod = await createDeployment(w.cluster.id);
    const staging = await createDeployment(w.otherCluster.id);
    await client.received(staging);
    expect(client.frames).toEqual([event('INSERT', 'deployments', staging)]);
    expect(JSON.stringify(client.frames)).not.toContain(prod);
  });

  test('a global table reaches a user holding no role at all', async () => {
    const client = await as(await createUser(server));
    client.subscribe('deployment_kinds', null);
    await client.sync();
    await renameKind(w.app.id);
    await client.received(w.app.id);
    expect(client.frames).toEqual([event('UPDATE', 'deployment_kinds', w.app.id)]);
  });
});

describe('malformed frames', () => {
  test('each gets an error frame and the socket stays usable', async () => {
    const client = await as(w.callers.envUser);
    const bad: [unknown, RegExp][] = [
      ['not json', /JSON/],
      [[1, 2], /JSON/],
      [{ type: 'watch', table: 'deployments' }, /type/],
      [{ type: 'subscribe', table: 'events' }, /table/],
      [{ type: 'subscribe', table: 'deployments', env_id: 'prod' }, /env_id/],
    ];
    for (const [frame] of bad) client.send(frame);
    client.socket.send(Buffer.from('{"type":"subscribe","table":"envs"}'), { binary: true });
    await client.until((c) => c.frames.length === bad.length + 1, 'an error frame for each');
    for (const [i, [, message]] of bad.entries()) expect(client.frames[i]).toEqual({ type: 'error', message: expect.stringMatching(message) });
    expect(client.frames.at(-1)).toEqual({ type: 'error', message: expect.stringMatching(/JSON text/) });

    // still open, and ids in upper case match
    client.subscribe('envs', w.env.id.toUpperCase());
    await client.sync();
    await updateEnv(w.env.id);
    await client.received(w.env.id);
    expect(client.frames.slice(bad.length + 1)).toEqual([event('UPDATE', 'envs', w.env.id)]);
  });

  test('past 1000 subscriptions a new pair is refused with an error frame', async () => {
    const client = await as(w.callers.envUser);
    for (let i = 0; i < 1000; i++) client.subscribe('envs', randomUUID());
    client.subscribe('envs', randomUUID());
    await client.until((c) => c.frames.length > 0, 'the error frame');
    expect(client.frames).toEqual([{ type: 'error', message: 'At most 1000 subscriptions per connection' }]);
  });
});

test('stopping the server closes every socket as going away (1001)', async () => {
  // a server of its own: the file's server stays up for the other tests
  const own = await startTestServer();
  let stopped = false;
  try {
    const headers = await own.adminAuth();
    const url = new URL('/api/v2/ws', own.berth.wsUrl).href;
    const open = [await connect(headers, [], url), await connect(headers, [], url)];
    open[0].subscribe('envs', null);
    await open[0].sync();
    stopped = true;
    await own.berth.stop();
    await Promise.all(open.map((client) => client.until((c) => c.closed !== null, 'the close')));
    expect(open.map((client) => client.closed)).toEqual(open.map(() => ({ code: 1001, reason: 'Going away' })));
  } finally {
    if (!stopped) await own.berth.stop();
    await own.db.drop();
  }
});
