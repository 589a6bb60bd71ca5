import { Validator } from '@seriousme/openapi-schema-validator';
import { parseOpaqueToken } from '../src/auth/opaque-token.js';
import { Keyring } from '../src/auth/encryption.js';
import { DeploymentKind } from '../src/entities/index.js';
import { UserDeploymentRole } from '../src/entities/enums.js';
import { withAudit, withWrites } from './support/assertions.js';
import { build, persist, unique } from './support/fixtures.js';
import { grantKindRole } from './support/identities.js';
import { startKubeApiDouble, type KubeApiDouble } from './support/kube-api/index.js';
import { LIGHTHOUSE, lighthouseCharts, lighthouseClient, lighthouseUser, type LighthouseClient } from './support/lighthouse.js';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from './support/server.js';

/**
 * Lighthouse's API v0.2 (src/rest/lighthouse/) through HTTP: the seed's three users (admin, manager, employee of
 * auth levels 2, 1, 0) logged in with the `auth` cookie, and a beacon the manager connected: a Kubernetes API
 * double (test/support/kube-api/) whose nodes are the beacon's instances.
 */
let server: TestServer;
let double: KubeApiDouble;
type Person = Awaited<ReturnType<typeof lighthouseUser>>;
let admin: Person;
let manager: Person;
let employee: Person;
/** the manager's beacon: the double's address, the employee given access to it */
let beacon: { address: string; alias: string };

const NOT_LOGGED_IN = { Cause: 'auth', Message: 'not logged in' };
const PASSWORD = 'pass-word-1';

const node = (name: string, ip: string, ready: boolean) => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name },
  status: {
    addresses: [{ type: 'Hostname', address: name }, { type: 'InternalIP', address: ip }],
    daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    nodeInfo: { kubeletVersion: 'v1.31.0' },
    conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
  },
});

/** A beacon's address in a path: an http address holds slashes. */
const inPath = (address: string) => encodeURIComponent(address);

beforeAll(async () => {
  server = await startTestServer({ BERTH_ENCRYPTION_KEYS: Keyring.generateSpec('lighthouse'), K8S_REQUEST_TIMEOUT_MS: '2000' });
  double = await startKubeApiDouble();
  double.create(node('boot2docker', '10.0.0.5', true));
  double.create(node('worker', '10.0.0.6', false));
  [admin, manager, employee] = [await lighthouseUser(server, 2), await lighthouseUser(server, 1), await lighthouseUser(server, 0)];
  beacon = { address: double.url, alias: `MyBeacon-${unique()}` };
  const created = await manager.client.call('POST', '/beacons/create', { Address: beacon.address, Token: double.token, Alias: beacon.alias });
  expect(created.status).toBe(200);
  expect((await manager.client.call('PUT', `/users/${employee.user.email}`, { Beacons: { [beacon.address]: 0 } })).status).toBe(200);
});
afterAll(async () => {
  await server?.stop();
  await double?.close();
});

/** An env role row of a user on the beacon at `address`, or undefined. */
async function roleOn(userId: string, address: string): Promise<string | undefined> {
  const [row] = await server.sql<{ role: string }>(
    `select p.role from env_user_permissions p join k8s_clusters c on c.env_id = p.env_id where p.user_id = ? and c.api_server_url = ?`,
    [userId, /^https?:\/\//.test(address) ? address : `https://${address}`],
  );
  return row?.role;
}

/** A beacon of the manager's at an address no one answers at (nothing contacts it until its instances are asked for). */
async function newBeacon(owner: LighthouseClient = manager.client): Promise<string> {
  const address = `beacon-${unique()}.example.com:5002`;
  expect((await owner.call('POST', '/beacons/create', { Address: address, Token: 'MY_TOKEN', Alias: `b-${unique()}` })).status).toBe(200);
  return address;
}

describe('login and logout', () => {
  test('a login sets the auth cookie (HttpOnly, SameSite=Lax, Path=/): 200 with an empty body; the session is open', async () => {
    const { user } = await lighthouseUser(server);
    const client = lighthouseClient(server);
    const res = await client.login(user.email, PASSWORD);
    expect([res.status, res.text]).toEqual([200, '']);
    expect(res.headers.get('set-cookie')).toMatch(/^auth=[^;]+; Path=\/; HttpOnly; SameSite=Lax$/);
    const sessions = await server.sql<{ id: string }>('select id from user_sessions where user_id = ? and revoked_at is null', [user.id]);
    expect(sessions.map((s) => s.id)).toContain(parseOpaqueToken(client.session!)?.id);
    expect((await client.call('GET', '/users/list')).status).toBe(200);
  });

  test('a wrong password, an unknown email, nothing: 401 {Cause: auth, Message: email or password incorrect}, no cookie, no session', async () => {
    const { user } = await lighthouseUser(server);
    for (const [email, password] of [[user.email, 'wrong'], ['nobody@example.com', 'x'], ['', '']]) {
      const res = await lighthouseClient(server).login(email, password);
      expect([res.status, res.body]).toEqual([401, { Cause: 'auth', Message: 'email or password incorrect' }]);
      expect(res.headers.get('set-cookie')).toBeNull();
    }
    expect(await server.sql('select id from user_sessions where user_id = ?', [user.id])).toHaveLength(1);
    const missing = await lighthouseClient(server).call('POST', '/login', { Email: user.email });
    expect([missing.status, missing.body.Cause]).toEqual([400, 'auth']);
  });

  test('logout ends the session and clears the cookie; the old cookie is refused after; 200 without a session too', async () => {
    const { user, client } = await lighthouseUser(server);
    const old = client.session;
    const res = await client.call('GET', '/logout');
    expect([res.status, res.text]).toEqual([200, '']);
    expect(res.headers.get('set-cookie')).toMatch(/^auth=; Path=\/; Max-Age=0; HttpOnly; SameSite=Lax$/);
    expect(await server.sql('select id from user_sessions where user_id = ? and revoked_at is null', [user.id])).toEqual([]);
    const after = await lighthouseClient(server, old).call('GET', '/users/list');
    expect([after.status, after.body]).toEqual([401, NOT_LOGGED_IN]);
    expect((await lighthouseClient(server).call('GET', '/logout')).status).toBe(200);
    expect((await lighthouseClient(server, 'not-a-session').call('GET', '/logout')).status).toBe(200);
  });

  test('no session, a forged one or a Platz credential: 401 {Cause: auth, Message: not logged in} on every route but login and logout', async () => {
    const platz = await server.adminAuth();
    for (const client of [lighthouseClient(server), lighthouseClient(server, 'forged'), lighthouseClient(server, `${manager.client.session}x`)]) {
      const res = await client.call('GET', '/beacons/list');
      expect([res.status, res.body, res.headers.get('content-type')]).toEqual([401, NOT_LOGGED_IN, 'application/json; charset=utf-8']);
    }
    const res = await fetch(`${new URL(server.berth.url).origin}${LIGHTHOUSE}/users/list`, { headers: platz });
    expect([res.status, await res.json()]).toEqual([401, NOT_LOGGED_IN]);
  });
});

describe('users', () => {
  test('GET /users/list: the emails of oneself and users of a lower auth level (of every user for an env Admin)', async () => {
    const res = await manager.client.call<string[]>('GET', '/users/list');
    expect(res.status).toBe(200);
    expect(res.body).toEqual(expect.arrayContaining([manager.user.email, employee.user.email, admin.user.email]));
    // the manager is an env Admin (its beacon's), and env Admins see every user, to grant roles; others do not
    const level1 = await lighthouseUser(server, 1);
    const list = await level1.client.call<string[]>('GET', '/users/list');
    expect(list.body).toEqual(expect.arrayContaining([level1.user.email, employee.user.email]));
    expect(list.body).not.toContain(admin.user.email);
    expect(list.body).not.toContain(manager.user.email);
    const own = await employee.client.call<string[]>('GET', '/users/list');
    expect(own.body).toEqual([employee.user.email]);
  });

  test('GET /users/{Email}: auth level and beacon levels; by email or username; 404 for a user one may not see, as for a missing one', async () => {
    const res = await manager.client.call('GET', `/users/${employee.user.email.toUpperCase()}`);
    expect([res.status, res.body]).toEqual([200, { Email: employee.user.email, AuthLevel: 0, Permissions: { Beacons: { [beacon.address]: 0 } } }]);
    const self = await manager.client.call('GET', `/users/${manager.user.username}`);
    expect(self.body).toEqual({ Email: manager.user.email, AuthLevel: 1, Permissions: { Beacons: { [beacon.address]: 2 } } });
    const hidden = await employee.client.call('GET', `/users/${manager.user.email}`);
    const missing = await employee.client.call('GET', '/users/nobody@example.com');
    expect([hidden.status, hidden.body]).toEqual([404, { Cause: 'users', Message: 'User not found' }]);
    expect([missing.status, missing.body]).toEqual([404, { Cause: 'users', Message: 'User not found' }]);
  });

  test("GET /users/{Email}: a role on a deployment kind of a beacon's env is access (0), as it lets the user see the beacon", async () => {
    const target = await lighthouseUser(server, 0);
    const [kind] = await persist(server, build(DeploymentKind, { name: `kind-${unique()}` }));
    const [{ env_id: envId }] = await server.sql<{ env_id: string }>('select env_id from k8s_clusters where api_server_url = ?', [beacon.address]);
    await grantKindRole(server, envId, kind.id, { userId: target.user.id }, UserDeploymentRole.Maintainer);
    expect((await target.client.call('GET', '/beacons/list')).body).toEqual([{ Alias: beacon.alias, Address: beacon.address }]);
    expect((await manager.client.call('GET', `/users/${target.user.email}`)).body.Permissions).toEqual({ Beacons: { [beacon.address]: 0 } });
  });

  test('PUT /users/{Email}: auth level, password and beacon levels in one write (2 owner, -1 removed), audited; 200, empty', async () => {
    const target = await lighthouseUser(server, 0);
    const [kept, removed] = [await newBeacon(), await newBeacon()];
    await manager.client.call('PUT', `/users/${target.user.email}`, { Beacons: { [removed]: 0 } });
    expect(await roleOn(target.user.id, removed)).toBe('User');
    const { result: res, audited } = await withAudit(server, () =>
      manager.client.call('PUT', `/users/${target.user.email}`, { AuthLevel: 1, Password: 'updated password', Beacons: { [kept]: 2, [removed]: -1 } }),
    );
    expect([res.status, res.text, audited]).toEqual([200, '', true]);
    const [row] = await server.sql<{ auth_level: number }>('select auth_level from users where id = ?', [target.user.id]);
    expect(row.auth_level).toBe(1);
    expect([await roleOn(target.user.id, kept), await roleOn(target.user.id, removed)]).toEqual(['Admin', undefined]);
    const operations = await server.sql<{ operation: string }>(`select distinct operation from audit_records where target_id = ?`, [target.user.id]);
    expect(operations.map((o) => o.operation)).toContain('updateUserAccess');
    // the new password logs in; the user's sessions ended with the old one
    expect((await target.client.call('GET', '/users/list')).status).toBe(401);
    expect((await lighthouseClient(server).login(target.user.email, 'updated password')).status).toBe(200);
    // now of the manager's level: the manager may no longer change it
    const peer = await manager.client.call('PUT', `/users/${target.user.email}`, { Beacons: { [removed]: 0 } });
    expect([peer.status, await roleOn(target.user.id, removed)]).toEqual([403, undefined]);
  });

  test("PUT /users/{Email}: a beacon level of 1 (modify) is Berth's env Admin, read back as 2 (owner)", async () => {
    const target = await lighthouseUser(server, 0);
    expect((await manager.client.call('PUT', `/users/${target.user.email}`, { Beacons: { [beacon.alias]: 1 } })).status).toBe(200);
    expect(await roleOn(target.user.id, beacon.address)).toBe('Admin');
    expect((await manager.client.call('GET', `/users/${target.user.email}`)).body.Permissions.Beacons).toEqual({ [beacon.address]: 2 });
  });

  test("PUT /users/{Email} on oneself: the password (this session stays), not one's own auth level (403)", async () => {
    const me = await lighthouseUser(server, 1);
    const other = lighthouseClient(server);
    await other.login(me.user.email, PASSWORD);
    expect((await me.client.call('PUT', `/users/${me.user.email}`, { Password: 'another password' })).status).toBe(200);
    expect((await me.client.call('GET', '/users/list')).status).toBe(200);
    expect((await other.call('GET', '/users/list')).status).toBe(401);
    const own = await me.client.call('PUT', `/users/${me.user.email}`, { AuthLevel: 0 });
    expect([own.status, own.body]).toEqual([403, { Cause: 'users', Message: "You can't change your own auth level" }]);
    expect((await me.client.call('PUT', `/users/${me.user.email}`, { AuthLevel: 1 })).status).toBe(200);
  });

  test('PUT /users/{Email} refused, nothing written: 400 (negative level, short password, level above 2, bad JSON), 403 (level above one\'s own, a beacon without modify), 404 (not visible)', async () => {
    const target = await lighthouseUser(server, 0);
    const own = await newBeacon();
    const cases: [LighthouseClient, string, unknown, number, string][] = [
      [manager.client, target.user.email, { AuthLevel: -1 }, 400, 'AuthLevel (body): must not be negative'],
      [manager.client, target.user.email, { Password: 'short' }, 400, 'Password (body): must be at least 8 characters long'],
      [manager.client, target.user.email, { Beacons: { [own]: 3 } }, 400, 'Beacons.'],
      [manager.client, target.user.email, { AuthLevel: 'high' }, 400, 'AuthLevel (body)'],
      [manager.client, target.user.email, { AuthLevel: 2 }, 403, 'You may give an auth level up to your own (1)'],
      [manager.client, target.user.email, { Password: 'a new password', Beacons: { [own]: 0, 'unknown.example.com': 0 } }, 404, 'Beacon not found'],
      [employee.client, employee.user.email, { Password: 'a new password', Beacons: { [beacon.address]: 2 } }, 403, "user not permitted to modify the beacon's users"],
      [manager.client, manager.user.email, { Beacons: { [beacon.address]: -1 } }, 400, "You can't delete your own permissions"],
      [employee.client, target.user.email, { Password: 'a new password' }, 404, 'User not found'],
      [employee.client, manager.user.email, { Password: 'a new password' }, 404, 'User not found'],
    ];
    for (const [client, email, body, status, message] of cases) {
      const { result: res, written } = await withWrites(server, () => client.call('PUT', `/users/${email}`, body));
      expect([res.status, res.body.Cause, written]).toEqual([status, 'users', []]);
      expect(res.body.Message).toContain(message);
    }
  });

  test("PUT /users/{Email}: 403 for a user one sees but does not outrank (an env Admin sees every user, Berth's rule)", async () => {
    const peer = await lighthouseUser(server, 1);
    expect((await manager.client.call('GET', `/users/${peer.user.email}`)).status).toBe(200);
    const { result: res, written } = await withWrites(server, () => manager.client.call('PUT', `/users/${peer.user.email}`, { Password: 'a new password' }));
    expect([res.status, res.body, written]).toEqual([403, { Cause: 'users', Message: 'You may update yourself and users of a lower auth level than yours only' }, []]);
  });

  test('POST /users/create: level 1 or more; a user of level 0, its username made from the email; 400 for a duplicate or bad input; 403 below level 1', async () => {
    const email = `New.User+${unique()}@example.com`;
    const res = await manager.client.call('POST', '/users/create', { Email: email, Password: 'N3w P@$$w0rd!!!' });
    expect([res.status, res.text]).toEqual([200, '']);
    const [row] = await server.sql<{ username: string; auth_level: number; password_hash: string }>('select username, auth_level, password_hash from users where email = ?', [email]);
    expect(row).toMatchObject({ username: email.split('@')[0].toLowerCase().replace(/[^a-z0-9._-]+/g, '-'), auth_level: 0 });
    expect(row.password_hash).not.toContain('N3w');
    expect((await lighthouseClient(server).login(email, 'N3w P@$$w0rd!!!')).status).toBe(200);
    const refusals: [LighthouseClient, unknown, number, string][] = [
      [manager.client, { Email: email.toUpperCase(), Password: 'another password' }, 400, 'already exists'],
      [manager.client, { Email: 'intern', Password: 'lol what is real life' }, 400, 'must be an email address'],
      [manager.client, { Email: `x-${unique()}@example.com`, Password: 'short' }, 400, 'at least 8 characters'],
      [manager.client, { Email: `x-${unique()}@example.com` }, 400, 'Password (body)'],
      [employee.client, { Email: `x-${unique()}@example.com`, Password: 'a long password' }, 403, 'auth level of at least 1'],
    ];
    for (const [client, body, status, message] of refusals) {
      const { result: refused, written } = await withWrites(server, () => client.call('POST', '/users/create', body));
      expect([refused.status, refused.body.Cause, written]).toEqual([status, 'users', []]);
      expect(refused.body.Message).toContain(message);
    }
  });
});

describe('beacons', () => {
  test('POST /beacons/create: a cluster in an env of its own, the token sealed, the creator owner (env Admin); audited', async () => {
    const address = `example-${unique()}.com/mybeacon`;
    const { result: res, audited } = await withAudit(server, () => manager.client.call('POST', '/beacons/create', { Address: address, Token: 'MY_TOKEN', Alias: 'MyBeacon' + unique() }));
    expect([res.status, res.text, audited]).toEqual([200, '', true]);
    const [cluster] = await server.sql<{ api_server_url: string; ignore: boolean; credentials_encrypted: string; env: string; owner_id: string }>(
      `select c.api_server_url, c.ignore, c.credentials_encrypted, e.name as env, e.owner_id from k8s_clusters c join envs e on e.id = c.env_id where c.api_server_url = ?`,
      [`https://${address}`],
    );
    expect(cluster).toMatchObject({ api_server_url: `https://${address}`, ignore: true, env: `Beacon ${address}`, owner_id: manager.user.id });
    expect(cluster.credentials_encrypted).not.toContain('MY_TOKEN');
    expect(await roleOn(manager.user.id, `https://${address}`)).toBe('Admin');
    // the seed's first form names no alias
    expect((await admin.client.call('POST', '/beacons/create', { Address: `unaliased-${unique()}.example.com:5002`, Token: 't' })).status).toBe(200);
  });

  test('POST /beacons/create refused, nothing written: 400 (no address, not an address, one connected already, an alias taken), 403 below level 1', async () => {
    const taken = await newBeacon();
    const refusals: [LighthouseClient, unknown, number, string][] = [
      [manager.client, { Token: 't' }, 400, 'Address (body)'],
      [manager.client, { Address: 'http://[bad', Token: 't' }, 400, 'Address (body): must be an address'],
      [manager.client, { Address: taken, Token: 't' }, 400, `A beacon at ${taken} already exists`],
      [manager.client, { Address: `https://${taken}`, Token: 't' }, 400, 'already exists'],
      [manager.client, { Address: `new-${unique()}.example.com`, Alias: beacon.alias }, 400, `The alias ${beacon.alias} is taken`],
      [employee.client, { Address: `new-${unique()}.example.com`, Token: 't' }, 403, 'auth level 1 or more'],
    ];
    for (const [client, body, status, message] of refusals) {
      const { result: res, written } = await withWrites(server, () => client.call('POST', '/beacons/create', body));
      expect([res.status, res.body.Cause, written]).toEqual([status, 'beacons', []]);
      expect(res.body.Message).toContain(message);
    }
  });

  test('GET /beacons/list: the beacons one may access, as {Alias, Address}', async () => {
    const res = await employee.client.call('GET', '/beacons/list');
    expect([res.status, res.body]).toEqual([200, [{ Alias: beacon.alias, Address: beacon.address }]]);
    const stranger = await lighthouseUser(server, 0);
    expect((await stranger.client.call('GET', '/beacons/list')).body).toEqual([]);
    expect((await manager.client.call('GET', '/beacons/list')).body).toContainEqual({ Alias: beacon.alias, Address: beacon.address });
  });

  test("GET /beacons/list/{Address}: the cluster's nodes as instances, by address or alias, refresh accepted; [] without access or for an unknown beacon", async () => {
    const instances = [
      { Alias: `${beacon.alias}.boot2docker`, InstanceAddress: '10.0.0.5:10250/v1.31.0', Name: 'boot2docker', CanAccessDocker: true, BeaconAddress: beacon.address },
      { Alias: `${beacon.alias}.worker`, InstanceAddress: '10.0.0.6:10250/v1.31.0', Name: 'worker', CanAccessDocker: false, BeaconAddress: beacon.address },
    ];
    const res = await employee.client.call('GET', `/beacons/list/${inPath(beacon.address)}`);
    expect([res.status, res.body]).toEqual([200, instances]);
    expect((await employee.client.call('GET', `/beacons/list/${beacon.alias}?refresh=true`)).body).toEqual(instances);
    const stranger = await lighthouseUser(server, 0);
    const calls = double.requests.length;
    expect((await stranger.client.call('GET', `/beacons/list/${inPath(beacon.address)}`)).body).toEqual([]);
    expect((await stranger.client.call('GET', '/beacons/list/unknown.example.com:1')).body).toEqual([]);
    expect(double.requests.length).toBe(calls);
    const bad = await employee.client.call('GET', `/beacons/list/${beacon.alias}?refresh=maybe`);
    expect([bad.status, bad.body.Cause]).toEqual([400, 'beacons']);
  });

  test('PUT /beacons/token/{Beacon}: the token the cluster is called with, by address or alias; modify needed (403), 404 unknown, 400 empty; nothing written when refused', async () => {
    const { result: res, audited } = await withAudit(server, () => manager.client.call('PUT', `/beacons/token/${beacon.alias}`, 'wrong-token'));
    expect([res.status, res.text, audited]).toEqual([200, '', true]);
    const refused = await employee.client.call('GET', `/beacons/list/${inPath(beacon.address)}`);
    expect([refused.status, refused.body.Cause]).toEqual([502, 'beacons']);
    expect(refused.body.Message).toContain('credentials were refused');
    expect((await manager.client.call('PUT', `/beacons/token/${inPath(beacon.address)}`, double.token)).status).toBe(200);
    expect((await employee.client.call('GET', `/beacons/list/${inPath(beacon.address)}`)).body).toHaveLength(2);
    const refusals: [LighthouseClient, string, unknown, number, string][] = [
      [employee.client, beacon.alias, 'x', 403, "user not permitted to modify the beacon's token"],
      [manager.client, 'unknown.example.com', 'x', 404, 'Beacon not found'],
      [manager.client, beacon.alias, '', 400, 'the new token must not be empty'],
      [manager.client, beacon.alias, { Token: 'x' }, 400, 'body'],
    ];
    for (const [client, name, body, status, message] of refusals) {
      const { result: refusal, written } = await withWrites(server, () => client.call('PUT', `/beacons/token/${inPath(name)}`, body));
      expect([refusal.status, refusal.body.Cause, written]).toEqual([status, 'beacons', []]);
      expect(refusal.body.Message).toContain(message);
    }
  });
});

describe('aliases', () => {
  test("PUT /aliases/{Alias} with the address in the body (the seed), and PUT /aliases/{Address} with the alias in the body (Lighthouse's server)", async () => {
    const address = await newBeacon();
    const alias = `boot2docker-${unique()}`;
    const { result: res, audited } = await withAudit(server, () => manager.client.call('PUT', `/aliases/${alias}`, address));
    expect([res.status, res.text, audited]).toEqual([200, '', true]);
    expect(await server.sql('select alias from k8s_clusters where api_server_url = ?', [`https://${address}`])).toEqual([{ alias }]);
    const other = `renamed-${unique()}`;
    expect((await manager.client.call('PUT', `/aliases/${inPath(address)}`, other)).status).toBe(200);
    expect(await server.sql('select alias from k8s_clusters where api_server_url = ?', [`https://${address}`])).toEqual([{ alias: other }]);
    expect((await manager.client.call('GET', '/beacons/list')).body).toContainEqual({ Alias: other, Address: address });
  });

  test('PUT /aliases refused, nothing written: 400 (empty, no body, taken), 403 without modify, 404 when neither names a beacon one sees', async () => {
    const address = await newBeacon();
    const stranger = await lighthouseUser(server, 0);
    const refusals: [LighthouseClient, string, unknown, number, string][] = [
      [manager.client, 'boot2docker', '', 400, 'must not be empty'],
      [manager.client, 'boot2docker', undefined, 400, 'body'],
      [manager.client, beacon.alias, address, 400, `The alias ${beacon.alias} is taken`],
      [employee.client, `a-${unique()}`, beacon.address, 403, "user not permitted to modify the beacon's alias"],
      [stranger.client, `a-${unique()}`, beacon.address, 404, 'Beacon not found'],
      [manager.client, `a-${unique()}`, '127.0.0.1:5001/v1.12', 404, 'Beacon not found'],
    ];
    for (const [client, name, body, status, message] of refusals) {
      const { result: res, written } = await withWrites(server, () => client.call('PUT', `/aliases/${inPath(name)}`, body));
      expect([res.status, res.body.Cause, written]).toEqual([status, 'aliases', []]);
      expect(res.body.Message).toContain(message);
    }
  });
});

describe('errors', () => {
  test('an unknown path under the prefix: 404 {Cause, Message}; a body that is not JSON: 400', async () => {
    const res = await manager.client.call('GET', '/nowhere');
    expect([res.status, res.body]).toEqual([404, { Cause: 'api', Message: `No route GET ${LIGHTHOUSE}/nowhere` }]);
    const origin = new URL(server.berth.url).origin;
    const bad = await fetch(`${origin}${LIGHTHOUSE}/users/create`, { method: 'POST', headers: { 'content-type': 'application/json', cookie: `auth=${manager.client.session}` }, body: '{' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ Cause: 'users' });
  });
});

describe('OpenAPI', () => {
  const documentPath = (url: string) => url.replace(/:(\w+)/g, '{$1}');
  const servedRoutes = () =>
    server.berth.httpRoutes
      .filter((r) => r.url.startsWith(`${LIGHTHOUSE}/`) && r.method !== 'HEAD' && !/^\/api\/v0\.2\/(openapi\.json$|docs)/.test(r.url))
      .map((r) => `${r.method} ${documentPath(r.url)}`)
      .sort();

  test(`${LIGHTHOUSE}/openapi.json is a valid OpenAPI 3.1 document naming the auth cookie and the {Cause, Message} error`, async () => {
    const { status, body } = await lighthouseClient(server).call('GET', '/openapi.json');
    expect(status).toBe(200);
    const result = await new Validator().validate(body);
    expect(result.errors ?? []).toEqual([]);
    expect(body.components.securitySchemes).toEqual({ session: expect.objectContaining({ type: 'apiKey', in: 'cookie', name: 'auth' }) });
    expect(body.components.schemas.Error.required).toEqual(['Cause', 'Message']);
  });

  test('every route served under the prefix is in the document, and the document names no other', async () => {
    const { body } = await lighthouseClient(server).call<{ paths: Record<string, Record<string, unknown>> }>('GET', '/openapi.json');
    const documented = Object.entries(body.paths)
      .flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`))
      .sort();
    expect(servedRoutes().length).toBeGreaterThanOrEqual(10);
    expect(documented).toEqual(servedRoutes());
  });

  /**
   * The authorization matrix: for every route, the status each kind of caller gets. Each call has targets of its own
   * and a session of its own (logout ends it); a refused call writes nothing.
   */
  type Who = 'none' | 'forged' | 'ended' | 'stranger' | 'employee' | 'manager' | 'siteAdmin';
  const WHO: Who[] = ['none', 'forged', 'ended', 'stranger', 'employee', 'manager', 'siteAdmin'];
  type Row = { route: string; prepare: () => Promise<{ path: string; body?: unknown }> } & Record<Who, number>;
  const OUT = { none: 401, forged: 401, ended: 401 };
  const all = (status: number) => ({ ...OUT, stranger: status, employee: status, manager: status, siteAdmin: status });

  const rows = (): Row[] => [
    { route: 'POST /api/v0.2/login', ...all(200), none: 200, forged: 200, ended: 200, prepare: async () => ({ path: '/login', body: { Email: employee.user.email, Password: PASSWORD } }) },
    { route: 'GET /api/v0.2/logout', ...all(200), none: 200, forged: 200, ended: 200, prepare: async () => ({ path: '/logout' }) },
    { route: 'GET /api/v0.2/users/list', ...all(200), prepare: async () => ({ path: '/users/list' }) },
    { route: 'GET /api/v0.2/users/{Email}', ...all(200), stranger: 404, prepare: async () => ({ path: `/users/${employee.user.email}` }) },
    {
      route: 'PUT /api/v0.2/users/{Email}',
      ...all(200),
      stranger: 404,
      employee: 404,
      prepare: async () => ({ path: `/users/${(await lighthouseUser(server, 0)).user.email}`, body: { Password: 'a new password' } }),
    },
    { route: 'POST /api/v0.2/users/create', ...all(200), stranger: 403, employee: 403, prepare: async () => ({ path: '/users/create', body: { Email: `m-${unique()}@example.com`, Password: PASSWORD } }) },
    { route: 'POST /api/v0.2/beacons/create', ...all(200), stranger: 403, employee: 403, prepare: async () => ({ path: '/beacons/create', body: { Address: `m-${unique()}.example.com`, Token: 't' } }) },
    { route: 'PUT /api/v0.2/beacons/token/{Beacon}', ...all(200), stranger: 404, employee: 403, prepare: async () => ({ path: `/beacons/token/${beacon.alias}`, body: double.token }) },
    { route: 'GET /api/v0.2/beacons/list', ...all(200), prepare: async () => ({ path: '/beacons/list' }) },
    { route: 'GET /api/v0.2/beacons/list/{Address}', ...all(200), prepare: async () => ({ path: `/beacons/list/${inPath(beacon.address)}` }) },
    { route: 'PUT /api/v0.2/aliases/{Name}', ...all(200), stranger: 404, employee: 403, prepare: async () => ({ path: `/aliases/${inPath(beacon.address)}`, body: beacon.alias }) },
    // applications on the beacon (its env's Admin is the manager, the employee its User); streams whose writes make no task, so they end at once
    {
      route: 'POST /api/v0.2/applications/create',
      ...all(200),
      stranger: 400,
      employee: 403,
      prepare: async () => ({ path: '/applications/create', body: { Name: `app-${unique()}`, Command: { Image: (await apps()).image }, Instances: [beacon.alias] } }),
    },
    { route: 'POST /api/v0.2/applications/start/{Id}', ...all(200), stranger: 404, employee: 403, prepare: async () => ({ path: `/applications/start/${await application(true)}` }) },
    { route: 'POST /api/v0.2/applications/stop/{Id}', ...all(200), stranger: 404, employee: 403, prepare: async () => ({ path: `/applications/stop/${await application(false)}` }) },
    ...['PUT', 'POST'].map((method) => ({ route: `${method} /api/v0.2/applications/revert/{Id}`, ...all(200), stranger: 404, employee: 403, prepare: revertToCurrent })),
    {
      route: 'PUT /api/v0.2/applications/update/{Id}',
      ...all(200),
      stranger: 404,
      employee: 403,
      prepare: async () => ({ path: `/applications/update/${await application(true)}`, body: { Command: { Image: (await apps()).image } } }),
    },
    { route: 'GET /api/v0.2/applications/list', ...all(200), prepare: async () => ({ path: '/applications/list' }) },
    { route: 'GET /api/v0.2/applications/list/{Id}', ...all(200), prepare: async () => ({ path: `/applications/list/${await application(true)}` }) },
  ];

  /** The beacon's cluster and a chart to deploy there, made once. */
  let catalog: Promise<{ clusterId: string; kindId: string; chartId: string; image: string }> | undefined;
  const apps = () =>
    (catalog ??= (async () => {
      const { kind, images } = await lighthouseCharts(server, ['1.0.0']);
      const [cluster] = await server.sql<{ id: string }>('select id from k8s_clusters where alias = ?', [beacon.alias]);
      const [chart] = await server.sql<{ id: string }>('select id from helm_charts where helm_registry_id in (select id from helm_registries where kind_id = ?)', [kind.id]);
      return { clusterId: cluster.id, kindId: kind.id, chartId: chart.id, image: images[0] };
    })());
  /** An application on the beacon, created over GraphQL by the site admin: started (its Install task never runs here), or stopped. */
  async function application(enabled: boolean): Promise<string> {
    const { clusterId, kindId, chartId } = await apps();
    const name = `app-${unique()}`;
    const input = { clusterId, kindId, helmChartId: chartId, name, config: {}, enabled };
    const res = await server.gql<any, object>(`mutation($input: CreateDeploymentInput!) { createDeployment(input: $input) { id } }`, { input }, await server.adminAuth());
    expect(res.errors).toBeUndefined();
    return name;
  }
  /** A revert to the version a started application runs: nothing to do, but only for one who may. */
  async function revertToCurrent(): Promise<{ path: string }> {
    const name = await application(true);
    const [version] = (await (await clientOf('siteAdmin', admin)).call('GET', `/applications/list/${name}`)).body;
    return { path: `/applications/revert/${name}?target=${version.Id}` };
  }

  test('the matrix has a row for every route served under the prefix, and no other', () => {
    expect(rows().map((r) => r.route).sort()).toEqual(servedRoutes());
  });

  /** A client for one call as `who`: a session of its own, or the credential that kind of caller sends. */
  async function clientOf(who: Who, stranger: Person): Promise<LighthouseClient> {
    const login = async (email: string, password: string) => {
      const client = lighthouseClient(server);
      expect((await client.login(email, password)).status).toBe(200);
      return client;
    };
    switch (who) {
      case 'none':
        return lighthouseClient(server);
      case 'forged':
        return lighthouseClient(server, `${manager.client.session!.slice(0, -2)}xx`);
      case 'ended': {
        const client = await login(manager.user.email, PASSWORD);
        const session = client.session;
        await client.call('GET', '/logout');
        return lighthouseClient(server, session);
      }
      case 'stranger':
        return login(stranger.user.email, PASSWORD);
      case 'siteAdmin':
        return login('admin@example.com', ADMIN_PASSWORD);
      default:
        return login({ employee, manager }[who].user.email, PASSWORD);
    }
  }

  test.each(WHO.map((who) => [who]))('every route answers %s as the matrix says; a refused call writes nothing', async (who) => {
    const stranger = await lighthouseUser(server, 0);
    const outcomes: string[] = [];
    const expected: string[] = [];
    for (const row of rows()) {
      const client = await clientOf(who, stranger);
      const { path, body } = await row.prepare();
      const [method] = row.route.split(' ');
      const { result: res, written } = await withWrites(server, () => client.call(method, path, body));
      outcomes.push(`${row.route}: ${res.status}${res.status >= 400 && written.length ? ` wrote ${written.join(',')}` : ''}`);
      expected.push(`${row.route}: ${row[who]}`);
    }
    expect(outcomes).toEqual(expected);
  });
});
