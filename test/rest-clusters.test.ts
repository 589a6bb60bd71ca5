import { readFileSync } from 'node:fs';
import { Env, K8sCluster, K8sResource } from '../src/entities/index.js';
import { EnvUserRole, K8sResourceStatusColor } from '../src/entities/enums.js';
import { expectUnchanged } from './support/assertions.js';
import { build, persist, seedFleet, unique } from './support/fixtures.js';
import { createBot, createUser, deploymentCaller, grantEnvRole } from './support/identities.js';
import { ids, MISSING, restClient, type Rest } from './support/rest.js';
import { startTestServer, type TestServer } from './support/server.js';

let server: TestServer;
let rest: Rest;
let admin: Record<string, string>;
beforeAll(async () => {
  server = await startTestServer();
  rest = restClient(server);
  admin = await server.adminAuth();
});
afterAll(() => server?.stop());

/** What changing or deleting a cluster may write; a refused call leaves them exactly as they were. */
const CLUSTER_TABLES = ['k8s_clusters', 'k8s_resources', 'deployments', 'audit_records'];

let seq = 0;
/** An env and clusters in it, created in order a second apart so the list's order is theirs. */
async function newClusters(count: number, fields: Partial<K8sCluster> = {}): Promise<{ env: Env; clusters: K8sCluster[] }> {
  const base = Date.now() - 3_600_000 + ++seq * 60_000;
  const env = build(Env, { name: `clusters-${unique()}` });
  const clusters = Array.from({ length: count }, (_, i) =>
    build(K8sCluster, { env, providerId: `test:${unique()}`, name: `cluster-${seq}-${i}`, createdAt: new Date(base + i * 1000), ...fields }),
  );
  await persist(server, env, ...clusters);
  return { env, clusters };
}

/** A mirrored Kubernetes object in `cluster`, as Berth's cluster watch writes them. */
const newResource = (cluster: K8sCluster, fields: Partial<K8sResource> = {}) =>
  build(K8sResource, { cluster, kind: 'Deployment', apiVersion: 'apps/v1', name: `web-${unique()}`, ...fields });

describe('GET /api/v2/k8s-clusters', () => {
  test("Platz's JSON: every Platz column, nullable ones present as null, never the address or credentials Berth keeps", async () => {
    const seen = new Date('2026-06-10T12:00:00.000Z');
    const { env, clusters } = await newClusters(2, { regionName: 'eu-west-1', alias: 'Berth only', apiServerUrl: 'https://10.0.0.1:6443', kubeconfigContext: 'ctx', credentialsEncrypted: 'sealed' });
    const [full, bare] = clusters;
    await server.sql(
      `update k8s_clusters set last_seen_at = ?, is_ok = true, ignore = false, not_ok_reason = null, ingress_domain = ?, ingress_class = 'nginx', ingress_tls_secret_name = 'tls', grafana_url = 'https://grafana.example.com', grafana_datasource_name = 'prom' where id = ?`,
      [seen, `apps-${unique()}.example.com`, full.id],
    );
    await server.sql(`update k8s_clusters set is_ok = false, not_ok_reason = 'unreachable' where id = ?`, [bare.id]);
    const [{ ingress_domain }] = await server.sql<{ ingress_domain: string }>(`select ingress_domain from k8s_clusters where id = ?`, [full.id]);
    const res = await rest('GET', '/api/v2/k8s-clusters', { headers: admin, query: { env_id: env.id } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      page: 1,
      per_page: 50,
      num_total: 2,
      items: [
        {
          id: full.id,
          env_id: env.id,
          provider_id: full.providerId,
          created_at: full.createdAt.toISOString(),
          last_seen_at: seen.toISOString(),
          name: full.name,
          region_name: 'eu-west-1',
          is_ok: true,
          not_ok_reason: null,
          ignore: false,
          ingress_domain,
          ingress_class: 'nginx',
          ingress_tls_secret_name: 'tls',
          grafana_url: 'https://grafana.example.com',
          grafana_datasource_name: 'prom',
        },
        {
          id: bare.id,
          env_id: env.id,
          provider_id: bare.providerId,
          created_at: bare.createdAt.toISOString(),
          last_seen_at: null,
          name: bare.name,
          region_name: 'eu-west-1',
          is_ok: false,
          not_ok_reason: 'unreachable',
          ignore: true,
          ingress_domain: null,
          ingress_class: null,
          ingress_tls_secret_name: null,
          grafana_url: null,
          grafana_datasource_name: null,
        },
      ],
    });
    expect(res.text).not.toMatch(/10\.0\.0\.1|sealed|Berth only|ctx/);
  });

  test('pages: oldest first; num_total counts the whole list, also past the last page', async () => {
    const { env, clusters } = await newClusters(3);
    const second = await rest('GET', '/api/v2/k8s-clusters', { headers: admin, query: { env_id: env.id, page: 2, per_page: 2 } });
    expect(second.body).toEqual({ page: 2, per_page: 2, num_total: 3, items: [expect.objectContaining({ id: clusters[2].id })] });
    const first = await rest('GET', '/api/v2/k8s-clusters', { headers: admin, query: { env_id: env.id, per_page: 2 } });
    expect(ids(first.body)).toEqual([clusters[0].id, clusters[1].id]);
    const past = await rest('GET', '/api/v2/k8s-clusters', { headers: admin, query: { env_id: env.id, page: 9, per_page: 2 } });
    expect(past.body).toEqual({ page: 9, per_page: 2, num_total: 3, items: [] });
  });

  test('filters: env_id; name case-insensitive and exact, % and _ taken literally; a bad env_id is 400 naming it', async () => {
    const { env, clusters } = await newClusters(2);
    const { env: other, clusters: others } = await newClusters(1);
    const name = `Prod_${unique()}`;
    await server.sql(`update k8s_clusters set name = ? where id = ?`, [name, clusters[0].id]);
    await server.sql(`update k8s_clusters set name = ? where id = ?`, [name.replace('_', 'X'), others[0].id]);
    expect(ids((await rest('GET', '/api/v2/k8s-clusters', { headers: admin, query: { env_id: env.id } })).body)).toEqual(clusters.map((c) => c.id));
    expect(ids((await rest('GET', '/api/v2/k8s-clusters', { headers: admin, query: { env_id: other.id } })).body)).toEqual([others[0].id]);
    const byName = await rest('GET', '/api/v2/k8s-clusters', { headers: admin, query: { name: name.toLowerCase() } });
    expect(byName.body).toMatchObject({ num_total: 1, items: [{ id: clusters[0].id, name }] });
    expect((await rest('GET', '/api/v2/k8s-clusters', { headers: admin, query: { name: name.slice(0, -1) } })).body.num_total).toBe(0);
    expect((await rest('GET', '/api/v2/k8s-clusters', { headers: admin, query: { name: '%' } })).body.num_total).toBe(0);
    const both = await rest('GET', '/api/v2/k8s-clusters', { headers: admin, query: { env_id: other.id, name } });
    expect(both.body.num_total).toBe(0);
    const bad = await rest('GET', '/api/v2/k8s-clusters', { headers: admin, query: { env_id: 'nope' } });
    expect([bad.status, bad.body.message]).toEqual([400, expect.stringMatching(/^env_id \(query parameter\)/)]);
  });

  test("callers see the clusters of the envs they hold a role in (a bot too, a deployment its own env's); out of scope is 404 by id, as missing", async () => {
    const { env: mine, clusters: ours } = await newClusters(1);
    const { env: theirs, clusters: hidden } = await newClusters(1);
    const user = await createUser(server);
    await grantEnvRole(server, mine.id, { userId: user.id }, EnvUserRole.User);
    expect((await rest('GET', '/api/v2/k8s-clusters', { headers: user.headers })).body).toMatchObject({ num_total: 1, items: [{ id: ours[0].id }] });
    expect((await rest('GET', `/api/v2/k8s-clusters/${ours[0].id}`, { headers: user.headers })).body).toMatchObject({ id: ours[0].id, env_id: mine.id });
    const out = await rest('GET', `/api/v2/k8s-clusters/${hidden[0].id}`, { headers: user.headers });
    const missing = await rest('GET', `/api/v2/k8s-clusters/${MISSING}`, { headers: user.headers });
    expect([out.status, out.body]).toEqual([404, { message: expect.any(String) }]);
    expect([missing.status, missing.body]).toEqual([out.status, out.body]);
    expect((await rest('GET', `/api/v2/k8s-clusters/${hidden[0].id}`, { headers: admin })).status).toBe(200);
    const nobody = await createUser(server);
    expect((await rest('GET', '/api/v2/k8s-clusters', { headers: nobody.headers })).body).toEqual({ page: 1, per_page: 50, num_total: 0, items: [] });
    const bot = await createBot(server);
    await grantEnvRole(server, theirs.id, { botId: bot.id }, EnvUserRole.User);
    expect(ids((await rest('GET', '/api/v2/k8s-clusters', { headers: bot.headers })).body)).toEqual([hidden[0].id]);
    const fleet = await seedFleet(server.em, { deployments: 1, clusters: 2, kinds: 1, tasksPerDeployment: 0, prefix: `ws-${unique()}` });
    const deployment = await deploymentCaller(server, fleet.deployments[0].id);
    expect(ids((await rest('GET', '/api/v2/k8s-clusters', { headers: deployment.headers })).body).sort()).toEqual(fleet.clusters.map((c) => c.id).sort());
  });

  test('without a credential: 401 with a JSON message; a malformed id is 400 naming it', async () => {
    expect(await rest('GET', '/api/v2/k8s-clusters')).toMatchObject({ status: 401, body: { message: expect.any(String) } });
    const bad = await rest('GET', '/api/v2/k8s-clusters/not-a-uuid', { headers: admin });
    expect([bad.status, bad.body.message]).toEqual([400, expect.stringMatching(/^id \(path parameter\)/)]);
  });
});

describe('PUT /api/v2/k8s-clusters/{id}', () => {
  test('a site admin sets fields: absent ones stay, null clears one, ignore null leaves it; 200 with the cluster, audited', async () => {
    const { clusters: [cluster] } = await newClusters(1, { ingressClass: 'nginx', grafanaUrl: 'https://old.example.com', ignore: true });
    const { env: target } = await newClusters(0);
    const domain = `Apps-${unique()}.Example.com`;
    const res = await rest('PUT', `/api/v2/k8s-clusters/${cluster.id}`, {
      headers: admin,
      body: { env_id: target.id, ignore: false, ingress_domain: domain, grafana_url: null, grafana_datasource_name: 'prom', ingress_tls_secret_name: 'tls' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      ...(await rest('GET', `/api/v2/k8s-clusters/${cluster.id}`, { headers: admin })).body,
      env_id: target.id,
      ignore: false,
      ingress_domain: domain.toLowerCase(),
      ingress_class: 'nginx',
      ingress_tls_secret_name: 'tls',
      grafana_url: null,
      grafana_datasource_name: 'prom',
    });
    expect(await server.sql(`select operation from audit_records where target_id = ?`, [cluster.id])).toEqual([{ operation: 'updateCluster' }]);
    const kept = await rest('PUT', `/api/v2/k8s-clusters/${cluster.id}`, { headers: admin, body: { ignore: null, env_id: null, extra: 1 } });
    expect(kept.body).toMatchObject({ env_id: null, ignore: false, ingress_domain: domain.toLowerCase(), ingress_class: 'nginx' });
  });

  test('not a site admin: an env Admin or User is 403, one who cannot see the cluster 404, no credential 401; nothing written', async () => {
    const { env, clusters: [cluster] } = await newClusters(1);
    const envAdmin = await createUser(server);
    await grantEnvRole(server, env.id, { userId: envAdmin.id }, EnvUserRole.Admin);
    const bot = await createBot(server);
    await grantEnvRole(server, env.id, { botId: bot.id }, EnvUserRole.Admin);
    const stranger = await createUser(server);
    await expectUnchanged(server, CLUSTER_TABLES, async () => {
      const body = { ignore: false };
      const refused = await rest('PUT', `/api/v2/k8s-clusters/${cluster.id}`, { headers: envAdmin.headers, body });
      expect([refused.status, refused.body]).toEqual([403, { message: expect.any(String) }]);
      expect((await rest('PUT', `/api/v2/k8s-clusters/${cluster.id}`, { headers: bot.headers, body })).status).toBe(403);
      expect((await rest('PUT', `/api/v2/k8s-clusters/${cluster.id}`, { headers: stranger.headers, body })).status).toBe(404);
      expect((await rest('PUT', `/api/v2/k8s-clusters/${cluster.id}`, { body })).status).toBe(401);
      expect((await rest('PUT', `/api/v2/k8s-clusters/${MISSING}`, { headers: admin, body })).status).toBe(404);
    });
  });

  test.each([
    ['env_id that is not a UUID', { env_id: 'prod' }, /^env_id \(body\)/],
    ['ignore that is not a boolean', { ignore: 'yes' }, /^ignore \(body\)/],
    ['ingress_domain that is not a string', { ingress_domain: 7 }, /^ingress_domain \(body\)/],
    ['ingress_domain that is not a domain name', { ingress_domain: 'not a domain' }, /^ingress_domain \(body\): must be a domain name/],
    ['grafana_url that is not an http(s) URL', { grafana_url: 'ftp://grafana' }, /^grafana_url \(body\): must be an http or https URL/],
  ])('%s is 400, nothing written', async (_, body, message) => {
    const { clusters: [cluster] } = await newClusters(1);
    const res = await expectUnchanged(server, CLUSTER_TABLES, () => rest('PUT', `/api/v2/k8s-clusters/${cluster.id}`, { headers: admin, body }));
    expect([res.status, res.body]).toEqual([400, { message: expect.stringMatching(message) }]);
  });

  test('an ingress domain another cluster uses is 409; an env that does not exist is 404; nothing written', async () => {
    const { clusters: [taken, cluster] } = await newClusters(2);
    const domain = `taken-${unique()}.example.com`;
    await server.sql(`update k8s_clusters set ingress_domain = ? where id = ?`, [domain, taken.id]);
    await expectUnchanged(server, CLUSTER_TABLES, async () => {
      const dup = await rest('PUT', `/api/v2/k8s-clusters/${cluster.id}`, { headers: admin, body: { ingress_domain: domain.toUpperCase() } });
      expect([dup.status, dup.body]).toEqual([409, { message: expect.stringContaining(domain) }]);
      expect((await rest('PUT', `/api/v2/k8s-clusters/${cluster.id}`, { headers: admin, body: { env_id: MISSING } })).status).toBe(404);
    });
  });
});

describe('DELETE /api/v2/k8s-clusters/{id}', () => {
  test('a site admin deletes a cluster: 204 with no body, its resources go with it; then it is 404', async () => {
    const { clusters: [cluster] } = await newClusters(1);
    const [resource] = await persist(server, newResource(cluster));
    const res = await rest('DELETE', `/api/v2/k8s-clusters/${cluster.id}`, { headers: admin });
    expect([res.status, res.text]).toEqual([204, '']);
    expect((await rest('GET', `/api/v2/k8s-clusters/${cluster.id}`, { headers: admin })).status).toBe(404);
    expect((await rest('GET', `/api/v2/k8s-resources/${resource.id}`, { headers: admin })).status).toBe(404);
    expect((await rest('DELETE', `/api/v2/k8s-clusters/${cluster.id}`, { headers: admin })).status).toBe(404);
  });

  test('a cluster with deployments is 409 naming them; not a site admin is 403, out of scope 404; nothing written', async () => {
    const fleet = await seedFleet(server.em, { deployments: 1, clusters: 1, kinds: 1, tasksPerDeployment: 0, prefix: `del-${unique()}` });
    const [cluster] = fleet.clusters;
    const envAdmin = await createUser(server);
    await grantEnvRole(server, fleet.env.id, { userId: envAdmin.id }, EnvUserRole.Admin);
    const stranger = await createUser(server);
    await expectUnchanged(server, CLUSTER_TABLES, async () => {
      const busy = await rest('DELETE', `/api/v2/k8s-clusters/${cluster.id}`, { headers: admin });
      expect([busy.status, busy.body]).toEqual([409, { message: expect.stringContaining('app-0') }]);
      expect((await rest('DELETE', `/api/v2/k8s-clusters/${cluster.id}`, { headers: envAdmin.headers })).status).toBe(403);
      expect((await rest('DELETE', `/api/v2/k8s-clusters/${cluster.id}`, { headers: stranger.headers })).status).toBe(404);
      expect((await rest('DELETE', `/api/v2/k8s-clusters/${cluster.id}`)).status).toBe(401);
    });
  });
});

describe('GET /api/v2/k8s-resources', () => {
  test("Platz's JSON for a mirrored object: its uid, cluster, deployment (or null), status colors and metadata", async () => {
    const fleet = await seedFleet(server.em, { deployments: 1, clusters: 1, kinds: 1, tasksPerDeployment: 0, prefix: `res-${unique()}` });
    const [cluster] = fleet.clusters;
    const updated = new Date('2026-06-10T12:00:00.000Z');
    const metadata = { name: 'web', namespace: 'apps', labels: { app: 'web' } };
    const [owned, loose] = await persist(
      server,
      newResource(cluster, { deployment: fleet.deployments[0], name: 'web', statusColor: [K8sResourceStatusColor.Success, K8sResourceStatusColor.Danger], metadata, lastUpdatedAt: updated }),
      newResource(cluster, { kind: 'Job', apiVersion: 'batch/v1', name: 'migrate', lastUpdatedAt: updated, createdAt: new Date(Date.now() + 1000) }),
    );
    const res = await rest('GET', '/api/v2/k8s-resources', { headers: admin, query: { cluster_id: cluster.id } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      page: 1,
      per_page: 50,
      num_total: 2,
      items: [
        { id: owned.id, last_updated_at: updated.toISOString(), cluster_id: cluster.id, deployment_id: fleet.deployments[0].id, kind: 'Deployment', api_version: 'apps/v1', name: 'web', status_color: ['Success', 'Danger'], metadata },
        { id: loose.id, last_updated_at: updated.toISOString(), cluster_id: cluster.id, deployment_id: null, kind: 'Job', api_version: 'batch/v1', name: 'migrate', status_color: [], metadata: {} },
      ],
    });
    expect((await rest('GET', `/api/v2/k8s-resources/${owned.id}`, { headers: admin })).body).toEqual(res.body.items[0]);
  });

  test('filters: cluster_id, deployment_id, kind and name (case-insensitive, exact, wildcards literal); pages oldest first', async () => {
    const fleet = await seedFleet(server.em, { deployments: 1, clusters: 2, kinds: 1, tasksPerDeployment: 0, prefix: `rf-${unique()}` });
    const [a, b] = fleet.clusters;
    const base = Date.now() - 60_000;
    const rows = await persist(
      server,
      newResource(a, { name: 'Web_1', deployment: fleet.deployments[0], createdAt: new Date(base) }),
      newResource(a, { name: 'WebX1', kind: 'StatefulSet', createdAt: new Date(base + 1000) }),
      newResource(b, { name: 'web_1', kind: 'Job', createdAt: new Date(base + 2000) }),
    );
    const list = (query: Record<string, string | number>) => rest('GET', '/api/v2/k8s-resources', { headers: admin, query });
    expect(ids((await list({ cluster_id: a.id })).body)).toEqual([rows[0].id, rows[1].id]);
    expect(ids((await list({ deployment_id: fleet.deployments[0].id })).body)).toEqual([rows[0].id]);
    expect(ids((await list({ cluster_id: a.id, kind: 'statefulset' })).body)).toEqual([rows[1].id]);
    expect(ids((await list({ cluster_id: b.id, kind: 'Deployment' })).body)).toEqual([]);
    const byName = await list({ name: 'WEB_1', per_page: 500 });
    expect(ids(byName.body).filter((id) => rows.some((r) => r.id === id))).toEqual([rows[0].id, rows[2].id]);
    expect(ids((await list({ cluster_id: a.id, name: 'web' })).body)).toEqual([]);
    const second = await list({ cluster_id: a.id, page: 2, per_page: 1 });
    expect(second.body).toMatchObject({ page: 2, per_page: 1, num_total: 2, items: [{ id: rows[1].id }] });
    const bad = await list({ deployment_id: 'nope' });
    expect([bad.status, bad.body.message]).toEqual([400, expect.stringMatching(/^deployment_id \(query parameter\)/)]);
  });

  test("callers see the objects of their envs' clusters; out of scope and missing are 404 (Platz: 200 null); read-only", async () => {
    const { env, clusters: [mine] } = await newClusters(1);
    const { clusters: [theirs] } = await newClusters(1);
    const [ours, hidden] = await persist(server, newResource(mine), newResource(theirs));
    const user = await createUser(server);
    await grantEnvRole(server, env.id, { userId: user.id }, EnvUserRole.User);
    expect((await rest('GET', '/api/v2/k8s-resources', { headers: user.headers })).body).toMatchObject({ num_total: 1, items: [{ id: ours.id }] });
    expect((await rest('GET', `/api/v2/k8s-resources/${ours.id}`, { headers: user.headers })).status).toBe(200);
    const out = await rest('GET', `/api/v2/k8s-resources/${hidden.id}`, { headers: user.headers });
    const missing = await rest('GET', `/api/v2/k8s-resources/${MISSING}`, { headers: admin });
    expect([out.status, out.body]).toEqual([404, { message: expect.any(String) }]);
    expect([missing.status, missing.body]).toEqual([out.status, out.body]);
    expect((await rest('GET', '/api/v2/k8s-resources')).status).toBe(401);
    await expectUnchanged(server, ['k8s_resources'], async () => {
      for (const method of ['PUT', 'DELETE']) expect((await rest(method, `/api/v2/k8s-resources/${ours.id}`, { headers: admin, body: {} })).status).toBe(404);
      expect((await rest('POST', '/api/v2/k8s-resources', { headers: admin, body: {} })).status).toBe(404);
    });
  });
});

describe('GET /api/v2/server', () => {
  test("no credential needed: Berth's version, the one its package says", async () => {
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    const res = await rest('GET', '/api/v2/server');
    expect([res.status, res.body]).toEqual([200, { version }]);
    expect((await rest('GET', '/api/v2/server', { headers: admin })).body).toEqual({ version });
  });
});
