import { Keyring } from '../src/auth/encryption.js';
import { Env, K8sCluster } from '../src/entities/index.js';
import { EnvUserRole } from '../src/entities/enums.js';
import { countRows, expectError, expectUnchanged } from './support/assertions.js';
import { build, persist, seedFleet, unique } from './support/fixtures.js';
import { createUser, grantEnvRole, type Caller } from './support/identities.js';
import { startTestServer, type TestServer } from './support/server.js';

const KEYS = Keyring.generateSpec('test');
let server: TestServer;
let admin: Record<string, string>;
beforeAll(async () => {
  server = await startTestServer({ BERTH_ENCRYPTION_KEYS: KEYS });
  admin = await server.adminAuth();
});
afterAll(() => server?.stop());

const TOKEN = 'sekret-bearer-token-0123456789';
const CA_DATA = 'Q0EtREFUQS1GT1ItVEVTVFM=';
const CLIENT_KEY = 'Q0xJRU5ULUtFWS1EQVRB';

/** Three contexts; "broken" names a user that the file does not define. */
const kubeconfig = (suffix: string) => `
apiVersion: v1
kind: Config
current-context: prod-${suffix}
clusters:
- name: prod-cluster
  cluster:
    server: https://prod-${suffix}.example.com:6443
    certificate-authority-data: ${CA_DATA}
- name: dev-cluster
  cluster:
    server: https://dev-${suffix}.example.com
    insecure-skip-tls-verify: true
users:
- name: prod-admin
  user:
    token: ${TOKEN}
- name: dev-user
  user:
    client-certificate-data: Q0VSVA==
    client-key-data: ${CLIENT_KEY}
contexts:
- name: prod-${suffix}
  context: { cluster: prod-cluster, user: prod-admin }
- name: dev-${suffix}
  context: { cluster: dev-cluster, user: dev-user, namespace: apps }
- name: broken-${suffix}
  context: { cluster: dev-cluster, user: nobody }
`;

const CONTEXTS = `query ($k: String!) { kubeconfigContexts(kubeconfig: $k) { name server context user } }`;
const IMPORT = `mutation ($input: CreateClustersFromKubeconfigInput!) {
  createClustersFromKubeconfig(input: $input) { id name providerId apiServerUrl kubeconfigContext regionName ignore env { id } } }`;
const UPDATE = `mutation ($id: ID!, $input: UpdateClusterInput!) {
  updateCluster(id: $id, input: $input) { id alias ignore ingressDomain ingressClass ingressTlsSecretName grafanaUrl grafanaDatasourceName env { id } } }`;
const DELETE = `mutation ($id: ID!) { deleteCluster(id: $id) }`;

const call = (document: string, variables: object, headers: Record<string, string>) => server.gql<any, object>(document, variables, headers);

/** What these mutations may write; a refused call must leave it exactly as it was. */
const TABLES = ['k8s_clusters', 'audit_records'];

const newEnv = async () => (await persist(server, build(Env, { name: `env-${unique()}` })))[0];
const newCluster = async (fields: Partial<K8sCluster> = {}) =>
  (await persist(server, build(K8sCluster, { providerId: `test:${unique()}`, name: `c-${unique()}`, ...fields })))[0];

/** An env with an Admin who is not a site admin. */
async function envAdminOf(env: Env): Promise<Caller> {
  const caller = await createUser(server);
  await grantEnvRole(server, env.id, { userId: caller.id }, EnvUserRole.Admin);
  return caller;
}

describe('kubeconfigContexts', () => {
  test('one entry per context whose cluster and user exist, without any credential', async () => {
    const res = await server.gql<any, object>(CONTEXTS, { k: kubeconfig('a') }, admin);
    expect(res.errors).toBeUndefined();
    expect(res.data.kubeconfigContexts).toEqual([
      { name: 'prod-cluster', server: 'https://prod-a.example.com:6443', context: 'prod-a', user: 'prod-admin' },
      { name: 'dev-cluster', server: 'https://dev-a.example.com', context: 'dev-a', user: 'dev-user' },
    ]);
    expect(JSON.stringify(res)).not.toMatch(new RegExp(`${TOKEN}|${CA_DATA}|${CLIENT_KEY}`));
  });

  test.each([
    ['unparseable YAML', `users:\n- name: x\n  user: { token: ${TOKEN}\n`],
    ['a scalar document', 'just text'],
    ['a document without contexts', `apiVersion: v1\nkind: Config\nusers: []`],
    ['another kind of document', `apiVersion: v1\nkind: Pod\ncontexts: []`],
    ['a context entry that is not a map', `contexts:\n- just-a-name\n`],
    ['a cluster without a server', `clusters:\n- name: c\n  cluster: {}\nusers:\n- name: u\ncontexts:\n- name: x\n  context: { cluster: c, user: u }\n`],
  ])('%s is BAD_USER_INPUT on kubeconfig, and the message quotes no content', async (_, text) => {
    const res = await server.gql<any, object>(CONTEXTS, { k: text }, admin);
    expectError(res, 'BAD_USER_INPUT', 'kubeconfig');
    expect(res.errors![0].message).not.toContain(TOKEN);
  });

  test('env Admins are FORBIDDEN, anonymous callers UNAUTHENTICATED', async () => {
    const envAdmin = await envAdminOf(await newEnv());
    expectError(await server.gql<any, object>(CONTEXTS, { k: kubeconfig('b') }, envAdmin.headers), 'FORBIDDEN');
    expectError(await server.gql<any, object>(CONTEXTS, { k: kubeconfig('b') }, {}), 'UNAUTHENTICATED');
  });
});

describe('createClustersFromKubeconfig', () => {
  test('one cluster per chosen context, in the env given, credentials encrypted and bound to the row; audited', async () => {
    const env = await newEnv();
    const res = await call(IMPORT, { input: { kubeconfig: kubeconfig('c'), contexts: ['prod-c', 'dev-c'], envId: env.id } }, admin);
    expect(res.errors).toBeUndefined();
    const [prod, dev] = res.data.createClustersFromKubeconfig;
    expect(prod).toMatchObject({
      name: 'prod-c',
      providerId: 'kubeconfig:prod-c@https://prod-c.example.com:6443',
      apiServerUrl: 'https://prod-c.example.com:6443',
      kubeconfigContext: 'prod-c',
      regionName: 'local',
      // watched only once an admin clears it
      ignore: true,
      env: { id: env.id },
    });
    expect(dev).toMatchObject({ name: 'dev-c', providerId: 'kubeconfig:dev-c@https://dev-c.example.com', ignore: true });

    const rows = await server.sql<{ id: string; credentials_encrypted: string }>(`select id, credentials_encrypted from k8s_clusters where id in (?, ?) order by name desc`, [prod.id, dev.id]);
    const raw = rows.map((r) => r.credentials_encrypted).join('\n');
    for (const secret of [TOKEN, CA_DATA, CLIENT_KEY, 'token', Buffer.from(TOKEN).toString('base64')]) expect(raw).not.toContain(secret);
    const keyring = Keyring.parse(KEYS);
    const decrypted = rows.map((r) => JSON.parse(keyring.decrypt(r.credentials_encrypted, `k8s_clusters:${r.id}`)));
    expect(decrypted[0]).toEqual({ cluster: { server: 'https://prod-c.example.com:6443', 'certificate-authority-data': CA_DATA }, user: { token: TOKEN } });
    expect(decrypted[1]).toEqual({
      cluster: { server: 'https://dev-c.example.com', 'insecure-skip-tls-verify': true },
      user: { 'client-certificate-data': 'Q0VSVA==', 'client-key-data': CLIENT_KEY },
    });
    // bound to its own row: another row's id does not decrypt it
    expect(() => keyring.decrypt(rows[0].credentials_encrypted, `k8s_clusters:${rows[1].id}`)).toThrow();

    const audits = await server.sql<{ after: Record<string, unknown> }>(`select after from audit_records where operation = 'createClustersFromKubeconfig' and env_id = ?`, [env.id]);
    expect(audits).toHaveLength(2);
    expect(JSON.stringify(audits)).not.toMatch(/credentials|sekret/i);
  });

  test('without an env too, the clusters are created ignored', async () => {
    const res = await call(IMPORT, { input: { kubeconfig: kubeconfig('d'), contexts: ['dev-d'] } }, admin);
    expect(res.data.createClustersFromKubeconfig).toEqual([expect.objectContaining({ ignore: true, env: null })]);
  });

  test('a context imported before is a CONFLICT, and the whole call writes nothing', async () => {
    await call(IMPORT, { input: { kubeconfig: kubeconfig('e'), contexts: ['prod-e'] } }, admin);
    await expectUnchanged(server, TABLES, async () => {
      const res = await call(IMPORT, { input: { kubeconfig: kubeconfig('e'), contexts: ['dev-e', 'prod-e'] } }, admin);
      expectError(res, 'CONFLICT');
      expect(res.errors![0].message).toContain('kubeconfig:prod-e@');
    });
  });

  test.each([
    ['an unknown context', { contexts: ['nope'] }, 'input.contexts'],
    ['a context whose user is missing', { contexts: ['prod-f', 'broken-f'] }, 'input.contexts'],
    ['no context', { contexts: [] }, 'input.contexts'],
    ['a kubeconfig that is not YAML', { kubeconfig: '{{{', contexts: ['prod-f'] }, 'input.kubeconfig'],
    ['an env id that is not a UUID', { contexts: ['prod-f'], envId: 'env' }, 'input.envId'],
  ])('%s is BAD_USER_INPUT and writes nothing', async (_, input, field) => {
    await expectUnchanged(server, TABLES, async () => expectError(await call(IMPORT, { input: { kubeconfig: kubeconfig('f'), ...input } }, admin), 'BAD_USER_INPUT', field));
  });

  test('env Admins are FORBIDDEN (NOT_FOUND for an env they cannot see); a missing env is NOT_FOUND', async () => {
    const env = await newEnv();
    const envAdmin = await envAdminOf(env);
    const input = { kubeconfig: kubeconfig('g'), contexts: ['prod-g'] };
    await expectUnchanged(server, TABLES, async () => {
      expectError(await call(IMPORT, { input: { ...input, envId: env.id } }, envAdmin.headers), 'FORBIDDEN');
      expectError(await call(IMPORT, { input: { ...input, envId: (await newEnv()).id } }, envAdmin.headers), 'NOT_FOUND');
      expectError(await call(IMPORT, { input: { ...input, envId: '00000000-0000-4000-8000-000000000000' } }, admin), 'NOT_FOUND');
    });
  });
});

describe('updateCluster', () => {
  test('absent fields stay, null clears, values are trimmed; audited with before and after', async () => {
    const env = await newEnv();
    const cluster = await newCluster({ env, alias: 'old', ingressClass: 'nginx' });
    const res = await call(
      UPDATE,
      { id: cluster.id, input: { alias: null, ignore: false, ingressDomain: ' Apps.Example.com ', grafanaUrl: 'https://grafana.example.com/d/x', grafanaDatasourceName: 'prom' } },
      admin,
    );
    expect(res.errors).toBeUndefined();
    expect(res.data.updateCluster).toEqual({
      id: cluster.id,
      alias: null,
      ignore: false,
      ingressDomain: 'apps.example.com',
      ingressClass: 'nginx',
      ingressTlsSecretName: null,
      grafanaUrl: 'https://grafana.example.com/d/x',
      grafanaDatasourceName: 'prom',
      env: { id: env.id },
    });
    const [row] = await server.sql(`select alias, ingress_domain, ingress_class, ignore from k8s_clusters where id = ?`, [cluster.id]);
    expect(row).toEqual({ alias: null, ingress_domain: 'apps.example.com', ingress_class: 'nginx', ignore: false });
    const [audit] = await server.sql<any>(`select before, after, env_id from audit_records where operation = 'updateCluster' and target_id = ?`, [cluster.id]);
    expect([audit.before.alias, audit.after.alias, audit.env_id]).toEqual(['old', null, env.id]);
  });

  test('a cluster with deployments moves to another env, or out of any env', async () => {
    const { clusters } = await seedFleet(server.em, { deployments: 1, clusters: 1, kinds: 1, tasksPerDeployment: 0, prefix: `move-${unique()}` });
    const target = await newEnv();
    const moved = await call(UPDATE, { id: clusters[0].id, input: { envId: target.id } }, admin);
    expect(moved.data.updateCluster.env).toEqual({ id: target.id });
    const detached = await call(UPDATE, { id: clusters[0].id, input: { envId: null } }, admin);
    expect(detached.data.updateCluster.env).toBeNull();
    expect(await server.sql(`select env_id from k8s_clusters where id = ?`, [clusters[0].id])).toEqual([{ env_id: null }]);
  });

  test('an ingress domain another cluster uses is a CONFLICT', async () => {
    const domain = `${unique()}.example.com`;
    await newCluster({ name: 'holder', ingressDomain: domain });
    const cluster = await newCluster();
    await expectUnchanged(server, TABLES, async () => {
      const res = await call(UPDATE, { id: cluster.id, input: { ingressDomain: domain.toUpperCase(), alias: 'x' } }, admin);
      expectError(res, 'CONFLICT');
      expect(res.errors![0].message).toContain('holder');
    });
  });

  test.each([
    ['a grafana URL that is not http(s)', { grafanaUrl: 'ftp://grafana.example.com' }, 'input.grafanaUrl'],
    ['a grafana URL that is not a URL', { grafanaUrl: 'grafana' }, 'input.grafanaUrl'],
    ['an ingress domain that is not a domain', { ingressDomain: 'not a domain' }, 'input.ingressDomain'],
    ['a null ignore', { ignore: null }, 'input.ignore'],
    ['an env id that is not a UUID', { envId: 'x' }, 'input.envId'],
  ])('%s is BAD_USER_INPUT and changes nothing', async (_, input, field) => {
    const cluster = await newCluster();
    await expectUnchanged(server, TABLES, async () => expectError(await call(UPDATE, { id: cluster.id, input: { alias: 'changed', ...input } }, admin), 'BAD_USER_INPUT', field));
  });

  test("env Admins are FORBIDDEN on their env's clusters and get NOT_FOUND on others'", async () => {
    const env = await newEnv();
    const envAdmin = await envAdminOf(env);
    const own = await newCluster({ env });
    const other = await newCluster({ env: await newEnv() });
    await expectUnchanged(server, TABLES, async () => {
      expectError(await call(UPDATE, { id: own.id, input: { alias: 'x' } }, envAdmin.headers), 'FORBIDDEN');
      expectError(await call(UPDATE, { id: other.id, input: { alias: 'x' } }, envAdmin.headers), 'NOT_FOUND');
    });
  });
});

describe('deleteCluster', () => {
  test('a site admin deletes a cluster without deployments; audited', async () => {
    const env = await newEnv();
    const cluster = await newCluster({ env });
    const res = await call(DELETE, { id: cluster.id }, admin);
    expect(res).toMatchObject({ data: { deleteCluster: cluster.id } });
    expect(await countRows(server, 'k8s_clusters', 'id = ?', [cluster.id])).toBe(0);
    expect(await countRows(server, 'audit_records', `operation = 'deleteCluster' and target_id = ? and env_id = ?`, [cluster.id, env.id])).toBe(1);
  });

  test('while deployments exist it is a CONFLICT naming them', async () => {
    const { clusters, deployments } = await seedFleet(server.em, { deployments: 2, clusters: 1, kinds: 1, tasksPerDeployment: 1, prefix: `busy-${unique()}` });
    await expectUnchanged(server, TABLES, async () => {
      const res = await call(DELETE, { id: clusters[0].id }, admin);
      expectError(res, 'CONFLICT');
      for (const d of deployments) expect(res.errors![0].message).toContain(`"${d.name}"`);
    });
    expect(await countRows(server, 'deployments', 'cluster_id = ?', [clusters[0].id])).toBe(2);
  });

  test('env Admins are FORBIDDEN on their clusters and get NOT_FOUND on others', async () => {
    const env = await newEnv();
    const envAdmin = await envAdminOf(env);
    const own = await newCluster({ env });
    const outside = await newCluster();
    await expectUnchanged(server, TABLES, async () => {
      expectError(await call(DELETE, { id: own.id }, envAdmin.headers), 'FORBIDDEN');
      expectError(await call(DELETE, { id: outside.id }, envAdmin.headers), 'NOT_FOUND');
    });
  });
});
