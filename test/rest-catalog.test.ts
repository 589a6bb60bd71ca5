import {
  Deployment, DeploymentKind, DeploymentResourceType, Env, HelmChart, HelmRegistry, HelmTagFormat, K8sCluster,
} from '../src/entities/index.js';
import { EnvUserRole, HelmRegistryProvider } from '../src/entities/enums.js';
import { expectUnchanged } from './support/assertions.js';
import { build, inCreationOrder, persist, unique } from './support/fixtures.js';
import { createBot, createUser, deploymentCaller, grantEnvRole, type Caller } from './support/identities.js';
import { ids, MISSING, restClient, RFC_3339_UTC, type Rest } from './support/rest.js';
import { startTestServer, type TestServer } from './support/server.js';

let server: TestServer;
let rest: Rest;
let admin: Record<string, string>;
/** a user without any role, a bot, and a deployment's own token: every one of them reads the catalog */
let nobody: Caller;
let bot: Caller;
let deployment: Caller;

/** One kind with two registries, and a kind of its own for each test that needs one. */
const make = inCreationOrder();
let seq = 0;
async function newKind(name = `Kind${++seq}${unique()}`): Promise<DeploymentKind> {
  return (await persist(server, make(DeploymentKind, { name })))[0];
}
async function newRegistry(kind: DeploymentKind, fields: Partial<HelmRegistry> = {}): Promise<HelmRegistry> {
  return (await persist(server, make(HelmRegistry, { domainName: 'registry.example.com', repoName: `repo-${unique()}`, kind, provider: HelmRegistryProvider.Oci, ...fields })))[0];
}
const chart = (helmRegistry: HelmRegistry, tag: string, fields: Partial<HelmChart> = {}) =>
  make(HelmChart, { helmRegistry, imageTag: tag, imageDigest: `sha256:${tag}`, ...fields });

beforeAll(async () => {
  server = await startTestServer();
  rest = restClient(server);
  admin = await server.adminAuth();
  nobody = await createUser(server);
  bot = await createBot(server);
  const env = build(Env, { name: `catalog-${unique()}` });
  const cluster = build(K8sCluster, { env, providerId: `local:${unique()}`, name: 'catalog', ignore: false });
  const kind = make(DeploymentKind, { name: `Own${unique()}` });
  const registry = make(HelmRegistry, { domainName: 'registry.example.com', repoName: `own-${unique()}`, kind });
  const own = chart(registry, '1.0.0');
  const app = build(Deployment, { name: 'catalog-app', cluster, kind, helmChart: own });
  await persist(server, env, cluster, kind, registry, own, app);
  deployment = await deploymentCaller(server, app.id);
});
afterAll(() => server?.stop());

const everyReader = () => [admin, nobody.headers, bot.headers, deployment.headers];
/** Every caller but a site admin, each refused a site admin's write. */
const nonAdmins = () => [nobody, bot, deployment];

/** A route answers 401 without a credential, with a JSON message. */
async function expectUnauthenticated(method: string, path: string, body?: unknown) {
  const res = await rest(method, path, { body });
  expect([res.status, res.body]).toEqual([401, { message: expect.any(String) }]);
}

describe('deployment kinds', () => {
  test("GET: Platz's JSON, exact name filter, oldest first, pages; every caller reads them", async () => {
    const [a, b] = [await newKind(`Pair${unique()}`), await newKind()];
    for (const headers of everyReader()) {
      const res = await rest('GET', '/api/v2/deployment-kinds', { headers, query: { name: a.name } });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ page: 1, per_page: 50, num_total: 1, items: [{ id: a.id, created_at: a.createdAt.toISOString(), name: a.name }] });
    }
    expect((await rest('GET', '/api/v2/deployment-kinds', { headers: admin, query: { name: a.name.toLowerCase() } })).body.num_total).toBe(0);
    const all = await rest('GET', '/api/v2/deployment-kinds', { headers: admin, query: { per_page: 500 } });
    expect(ids(all.body).slice(-2)).toEqual([a.id, b.id]);
    const last = await rest('GET', '/api/v2/deployment-kinds', { headers: admin, query: { per_page: 1, page: all.body.num_total } });
    expect(last.body).toMatchObject({ page: all.body.num_total, per_page: 1, num_total: all.body.num_total, items: [{ id: b.id }] });
    await expectUnauthenticated('GET', '/api/v2/deployment-kinds');
  });

  test('GET by id: the kind; 404 missing; 400 for a malformed id', async () => {
    const kind = await newKind();
    const res = await rest('GET', `/api/v2/deployment-kinds/${kind.id}`, { headers: nobody.headers });
    expect(res.body).toEqual({ id: kind.id, created_at: expect.stringMatching(RFC_3339_UTC), name: kind.name });
    expect((await rest('GET', `/api/v2/deployment-kinds/${MISSING}`, { headers: admin })).status).toBe(404);
    const bad = await rest('GET', '/api/v2/deployment-kinds/nope', { headers: admin });
    expect([bad.status, bad.body.message]).toEqual([400, expect.stringMatching(/^id \(path parameter\)/)]);
  });

  test('PUT: a site admin renames it (trimmed), audited; others 403; a taken name 409; bad names 400; nothing written when refused', async () => {
    const [kind, other] = [await newKind(), await newKind()];
    const res = await rest('PUT', `/api/v2/deployment-kinds/${kind.id}`, { headers: admin, body: { name: `  Renamed${seq}  ` } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: kind.id, created_at: kind.createdAt.toISOString(), name: `Renamed${seq}` });
    expect(await server.sql('select operation from audit_records where target_id = ?', [kind.id])).toEqual([{ operation: 'renameDeploymentKind' }]);
    const tables = ['deployment_kinds', 'audit_records'];
    await expectUnchanged(server, tables, async () => {
      for (const caller of nonAdmins()) {
        const refused = await rest('PUT', `/api/v2/deployment-kinds/${kind.id}`, { headers: caller.headers, body: { name: 'Mine' } });
        expect([refused.status, refused.body]).toEqual([403, { message: expect.any(String) }]);
      }
      expect((await rest('PUT', `/api/v2/deployment-kinds/${kind.id}`, { headers: admin, body: { name: other.name } })).status).toBe(409);
      expect((await rest('PUT', `/api/v2/deployment-kinds/${MISSING}`, { headers: admin, body: { name: 'X' } })).status).toBe(404);
      const empty = await rest('PUT', `/api/v2/deployment-kinds/${kind.id}`, { headers: admin, body: { name: '  ' } });
      expect([empty.status, empty.body.message]).toEqual([400, expect.stringMatching(/name/)]);
      const none = await rest('PUT', `/api/v2/deployment-kinds/${kind.id}`, { headers: admin, body: {} });
      expect([none.status, none.body.message]).toEqual([400, expect.stringMatching(/^name \(body\)/)]);
      await expectUnauthenticated('PUT', `/api/v2/deployment-kinds/${kind.id}`, { name: 'X' });
    });
  });
});

describe('deployment resource types', () => {
  let kind: DeploymentKind;
  let env: Env;
  let otherEnv: Env;
  let global: DeploymentResourceType;
  let inEnv: DeploymentResourceType;
  let inOther: DeploymentResourceType;
  let envUser: Caller;
  const spec = { name_singular: 'Bucket', name_plural: 'Buckets', values_ui: { inputs: [{ id: 'size', type: 'number', label: 'Size' }] } };
  beforeAll(async () => {
    kind = await newKind();
    env = build(Env, { name: `types-${unique()}` });
    otherEnv = build(Env, { name: `types-${unique()}` });
    global = make(DeploymentResourceType, { deploymentKind: kind, key: 'bucket', spec });
    inEnv = make(DeploymentResourceType, { env, deploymentKind: kind, key: 'bucket', spec: {} });
    inOther = make(DeploymentResourceType, { env: otherEnv, deploymentKind: kind, key: 'queue', spec: {} });
    await persist(server, env, otherEnv, global, inEnv, inOther);
    envUser = await createUser(server);
    await grantEnvRole(server, env.id, { userId: envUser.id }, EnvUserRole.User);
  });

  test("GET: Platz's JSON (env_id null for a global type), oldest first", async () => {
    const res = await rest('GET', '/api/v2/deployment-resource-types', { headers: admin, query: { deployment_kind_id: kind.id } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ page: 1, per_page: 50, num_total: 3 });
    expect(res.body.items).toEqual([
      { id: global.id, created_at: global.createdAt.toISOString(), env_id: null, deployment_kind_id: kind.id, key: 'bucket', spec },
      { id: inEnv.id, created_at: inEnv.createdAt.toISOString(), env_id: env.id, deployment_kind_id: kind.id, key: 'bucket', spec: {} },
      { id: inOther.id, created_at: inOther.createdAt.toISOString(), env_id: otherEnv.id, deployment_kind_id: kind.id, key: 'queue', spec: {} },
    ]);
  });

  test('filters: env_id (exact: not the global types), deployment_kind_id, key', async () => {
    const list = async (query: Record<string, string>) => ids((await rest('GET', '/api/v2/deployment-resource-types', { headers: admin, query: { deployment_kind_id: kind.id, ...query } })).body);
    expect(await list({ env_id: env.id })).toEqual([inEnv.id]);
    expect(await list({ key: 'bucket' })).toEqual([global.id, inEnv.id]);
    expect(await list({ key: 'Bucket' })).toEqual([]);
    expect(await list({ key: 'queue', env_id: otherEnv.id })).toEqual([inOther.id]);
    const other = await newKind();
    expect(await list({ deployment_kind_id: other.id })).toEqual([]);
    const bad = await rest('GET', '/api/v2/deployment-resource-types', { headers: admin, query: { env_id: 'x' } });
    expect([bad.status, bad.body.message]).toEqual([400, expect.stringMatching(/^env_id \(query parameter\)/)]);
  });

  test("scoped: global types and those of the caller's envs; another env's type is 404 by id", async () => {
    const seen = await rest('GET', '/api/v2/deployment-resource-types', { headers: envUser.headers, query: { deployment_kind_id: kind.id } });
    expect(seen.body).toMatchObject({ num_total: 2 });
    expect(ids(seen.body)).toEqual([global.id, inEnv.id]);
    expect(ids((await rest('GET', '/api/v2/deployment-resource-types', { headers: nobody.headers, query: { deployment_kind_id: kind.id } })).body)).toEqual([global.id]);
    expect((await rest('GET', `/api/v2/deployment-resource-types/${inEnv.id}`, { headers: envUser.headers })).body).toMatchObject({ id: inEnv.id, env_id: env.id });
    expect((await rest('GET', `/api/v2/deployment-resource-types/${global.id}`, { headers: bot.headers })).body).toMatchObject({ id: global.id, spec });
    const hidden = await rest('GET', `/api/v2/deployment-resource-types/${inOther.id}`, { headers: envUser.headers });
    const missing = await rest('GET', `/api/v2/deployment-resource-types/${MISSING}`, { headers: envUser.headers });
    expect([hidden.status, hidden.body]).toEqual([404, missing.body]);
    await expectUnauthenticated('GET', '/api/v2/deployment-resource-types');
  });
});

describe('helm charts', () => {
  test("GET: every column Platz shows, newest first; by id; 404", async () => {
    const kind = await newKind();
    const registry = await newRegistry(kind);
    const [format] = await persist(server, make(HelmTagFormat, { pattern: `^v(?<version>[0-9.]+)-(?<revision>\\d+)-(?<branch>[a-z]+)-(?<commit>[0-9a-f]+)-${unique()}$` }));
    const documents = {
      valuesUi: { inputs: [{ id: 'replicas', type: 'number', label: 'Replicas' }] },
      actionsSchema: { schema_version: 1, actions: [] },
      features: { cardinality: 'Many' },
      resourceTypes: { types: [] },
    };
    const [old, parsed] = await persist(
      server,
      chart(registry, '0.1.0', { available: false, error: 'no Chart.yaml' }),
      chart(registry, 'v1.2.3-4-main-abc', { ...documents, tagFormat: format, parsedVersion: '1.2.3', parsedRevision: '4', parsedBranch: 'main', parsedCommit: 'abc' }),
    );
    const res = await rest('GET', '/api/v2/helm-charts', { headers: nobody.headers, query: { helm_registry_id: registry.id } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      page: 1,
      per_page: 50,
      num_total: 2,
      items: [
        {
          id: parsed.id,
          created_at: parsed.createdAt.toISOString(),
          helm_registry_id: registry.id,
          image_digest: 'sha256:v1.2.3-4-main-abc',
          image_tag: 'v1.2.3-4-main-abc',
          available: true,
          values_ui: documents.valuesUi,
          actions_schema: documents.actionsSchema,
          features: documents.features,
          resource_types: documents.resourceTypes,
          error: null,
          tag_format_id: format.id,
          parsed_version: '1.2.3',
          parsed_revision: '4',
          parsed_branch: 'main',
          parsed_commit: 'abc',
        },
        {
          id: old.id,
          created_at: old.createdAt.toISOString(),
          helm_registry_id: registry.id,
          image_digest: 'sha256:0.1.0',
          image_tag: '0.1.0',
          available: false,
          values_ui: null,
          actions_schema: null,
          features: null,
          resource_types: null,
          error: 'no Chart.yaml',
          tag_format_id: null,
          parsed_version: null,
          parsed_revision: null,
          parsed_branch: null,
          parsed_commit: null,
        },
      ],
    });
    for (const headers of everyReader()) expect((await rest('GET', `/api/v2/helm-charts/${parsed.id}`, { headers })).body).toEqual(res.body.items[0]);
    expect((await rest('GET', `/api/v2/helm-charts/${MISSING}`, { headers: admin })).status).toBe(404);
    const page2 = await rest('GET', '/api/v2/helm-charts', { headers: admin, query: { helm_registry_id: registry.id, per_page: 1, page: 2 } });
    expect(page2.body).toMatchObject({ page: 2, per_page: 1, num_total: 2, items: [{ id: old.id }] });
    await expectUnauthenticated('GET', '/api/v2/helm-charts');
  });

  describe('filters', () => {
    let kind: DeploymentKind;
    let web: HelmRegistry;
    let jobs: HelmRegistry;
    let c: Record<'main1' | 'main2' | 'feat1' | 'main3' | 'feat2' | 'job1' | 'job2' | 'lone1' | 'lone2' | 'bare', HelmChart>;
    beforeAll(async () => {
      kind = await newKind();
      const otherKind = await newKind();
      [web, jobs] = [await newRegistry(kind), await newRegistry(kind)];
      const lone = await newRegistry(otherKind);
      const env = build(Env, { name: `charts-${unique()}` });
      const cluster = build(K8sCluster, { env, providerId: `local:${unique()}`, name: 'charts', ignore: false });
      // in creation order: the newest comes last
      const rows = {
        main1: chart(web, `main-1-${unique()}`, { parsedBranch: 'main' }),
        feat1: chart(web, `feature-1-${unique()}`, { parsedBranch: 'feature' }),
        job1: chart(jobs, `1.0.0-${unique()}`),
        main2: chart(web, `main-2-${unique()}`, { parsedBranch: 'main' }),
        lone1: chart(lone, `main-1-${unique()}`, { parsedBranch: 'main' }),
        feat2: chart(web, `feature-2-${unique()}`, { parsedBranch: 'feature' }),
        job2: chart(jobs, `1.0.1-${unique()}`),
        main3: chart(web, `main-3-${unique()}`, { parsedBranch: 'main' }),
        lone2: chart(lone, `main-2-${unique()}`, { parsedBranch: 'main' }),
        bare: chart(web, `other-${unique()}`, { parsedBranch: 'other' }),
      };
      c = rows;
      const deploy = (name: string, helmChart: HelmChart, k = kind) => build(Deployment, { name, cluster, kind: k, helmChart });
      await persist(server, env, cluster, ...Object.values(rows), deploy('a', rows.main1), deploy('b', rows.feat2), deploy('c', rows.job1), deploy('d', rows.lone1, otherKind));
    });
    const list = async (query: Record<string, string | boolean>) => ids((await rest('GET', '/api/v2/helm-charts', { headers: nobody.headers, query: { per_page: 500, ...query } })).body);

    test('helm_registry_id, parsed_branch (exact), kind_id (the registry’s kind); newest first', async () => {
      expect(await list({ helm_registry_id: jobs.id })).toEqual([c.job2.id, c.job1.id]);
      expect(await list({ kind_id: kind.id })).toEqual([c.bare.id, c.main3.id, c.job2.id, c.feat2.id, c.main2.id, c.job1.id, c.feat1.id, c.main1.id]);
      expect(await list({ kind_id: kind.id, parsed_branch: 'main' })).toEqual([c.main3.id, c.main2.id, c.main1.id]);
      expect(await list({ kind_id: kind.id, parsed_branch: 'MAIN' })).toEqual([]);
      expect(await list({ helm_registry_id: web.id, parsed_branch: 'feat' })).toEqual([]);
    });

    test('in_use=true: charts some deployment uses, plus the newest of each (registry, branch) with one in use', async () => {
      // in use: main1, feat2, job1 (no branch); the newest of their branches: main3, feat2, job2. Not: main2, feat1,
      // nor `other`, a branch nothing uses
      expect(await list({ kind_id: kind.id, in_use: true })).toEqual([c.main3.id, c.job2.id, c.feat2.id, c.job1.id, c.main1.id]);
      expect(await list({ helm_registry_id: web.id, parsed_branch: 'main', in_use: true })).toEqual([c.main3.id, c.main1.id]);
      // the same rule over every registry: lone1 in use, lone2 the newest of its branch
      const everywhere = await list({ in_use: true });
      expect(everywhere).toEqual(expect.arrayContaining([c.main3.id, c.job2.id, c.feat2.id, c.job1.id, c.main1.id, c.lone1.id, c.lone2.id]));
      expect(everywhere.filter((id) => [c.feat1.id, c.bare.id, c.main2.id].includes(id))).toEqual([]);
    });

    test("in_use=false does not filter, as in Platz; a value that is not a boolean is 400", async () => {
      expect(await list({ kind_id: kind.id, in_use: false })).toEqual(await list({ kind_id: kind.id }));
      const bad = await rest('GET', '/api/v2/helm-charts', { headers: admin, query: { in_use: 'yes' } });
      expect([bad.status, bad.body.message]).toEqual([400, expect.stringMatching(/^in_use \(query parameter\)/)]);
    });
  });
});

describe('helm registries', () => {
  test("GET: Platz's JSON; filters repo_name (exact) and kind_id; oldest first; by id", async () => {
    const [kind, other] = [await newKind(), await newKind()];
    const a = await newRegistry(kind, { domainName: '123.dkr.ecr.eu-west-1.amazonaws.com', provider: HelmRegistryProvider.Ecr, faIcon: 'box' });
    const b = await newRegistry(kind);
    const c = await newRegistry(other);
    const res = await rest('GET', '/api/v2/helm-registries', { headers: bot.headers, query: { kind_id: kind.id } });
    expect(res.status).toBe(200);
    expect(res.body.num_total).toBe(2);
    expect(res.body.items[0]).toEqual({
      id: a.id,
      created_at: a.createdAt.toISOString(),
      domain_name: '123.dkr.ecr.eu-west-1.amazonaws.com',
      repo_name: a.repoName,
      kind_id: kind.id,
      available: true,
      fa_icon: 'box',
      provider: 'Ecr',
    });
    expect(ids(res.body)).toEqual([a.id, b.id]);
    expect(ids((await rest('GET', '/api/v2/helm-registries', { headers: admin, query: { repo_name: c.repoName } })).body)).toEqual([c.id]);
    expect(ids((await rest('GET', '/api/v2/helm-registries', { headers: admin, query: { repo_name: c.repoName.toUpperCase() } })).body)).toEqual([]);
    expect((await rest('GET', `/api/v2/helm-registries/${b.id}`, { headers: deployment.headers })).body).toMatchObject({ id: b.id, fa_icon: 'question', provider: 'Oci' });
    expect((await rest('GET', `/api/v2/helm-registries/${MISSING}`, { headers: admin })).status).toBe(404);
    await expectUnauthenticated('GET', '/api/v2/helm-registries');
  });

  test('PUT: a site admin sets fa_icon; without it nothing changes; others 403; a bad icon 400; nothing written when refused', async () => {
    const registry = await newRegistry(await newKind());
    const res = await rest('PUT', `/api/v2/helm-registries/${registry.id}`, { headers: admin, body: { fa_icon: 'database' } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: registry.id, repo_name: registry.repoName, fa_icon: 'database' });
    const tables = ['helm_registries', 'audit_records'];
    await expectUnchanged(server, tables, async () => {
      for (const body of [{}, { fa_icon: null }]) expect((await rest('PUT', `/api/v2/helm-registries/${registry.id}`, { headers: admin, body })).body).toMatchObject({ fa_icon: 'database' });
      for (const caller of nonAdmins()) expect((await rest('PUT', `/api/v2/helm-registries/${registry.id}`, { headers: caller.headers, body: { fa_icon: 'bug' } })).status).toBe(403);
      // without fa_icon too: a no-op is still a site admin's
      expect((await rest('PUT', `/api/v2/helm-registries/${registry.id}`, { headers: nobody.headers, body: {} })).status).toBe(403);
      const bad = await rest('PUT', `/api/v2/helm-registries/${registry.id}`, { headers: admin, body: { fa_icon: 'Not An Icon' } });
      expect([bad.status, bad.body.message]).toEqual([400, expect.stringMatching(/icon/)]);
      expect((await rest('PUT', `/api/v2/helm-registries/${registry.id}`, { headers: admin, body: { fa_icon: 7 } })).body.message).toMatch(/^fa_icon \(body\)/);
      expect((await rest('PUT', `/api/v2/helm-registries/${MISSING}`, { headers: admin, body: { fa_icon: 'bug' } })).status).toBe(404);
      await expectUnauthenticated('PUT', `/api/v2/helm-registries/${registry.id}`, { fa_icon: 'bug' });
    });
  });
});

describe('helm tag formats', () => {
  const pattern = () => `^v(?P<version>[0-9.]+)-${unique()}$`;

  test("GET: Platz's JSON, newest first, exact pattern filter; by id", async () => {
    const [older, newer] = await persist(server, make(HelmTagFormat, { pattern: pattern() }), make(HelmTagFormat, { pattern: pattern() }));
    const res = await rest('GET', '/api/v2/helm-tag-formats', { headers: nobody.headers, query: { per_page: 500 } });
    expect(res.status).toBe(200);
    const listed = ids(res.body);
    expect(listed.indexOf(newer.id)).toBeLessThan(listed.indexOf(older.id));
    expect(res.body.items[listed.indexOf(newer.id)]).toEqual({ id: newer.id, created_at: newer.createdAt.toISOString(), pattern: newer.pattern });
    expect((await rest('GET', '/api/v2/helm-tag-formats', { headers: bot.headers, query: { pattern: older.pattern } })).body).toMatchObject({ num_total: 1, items: [{ id: older.id }] });
    expect((await rest('GET', '/api/v2/helm-tag-formats', { headers: admin, query: { pattern: older.pattern.slice(0, -1) } })).body.num_total).toBe(0);
    expect((await rest('GET', `/api/v2/helm-tag-formats/${older.id}`, { headers: deployment.headers })).body).toMatchObject({ id: older.id, pattern: older.pattern });
    expect((await rest('GET', `/api/v2/helm-tag-formats/${MISSING}`, { headers: admin })).status).toBe(404);
    await expectUnauthenticated('GET', '/api/v2/helm-tag-formats');
  });

  test('POST: a site admin adds one (201, stored as written, Rust group syntax accepted), audited', async () => {
    const written = pattern();
    const res = await rest('POST', '/api/v2/helm-tag-formats', { headers: admin, body: { pattern: written } });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ id: expect.any(String), created_at: expect.stringMatching(RFC_3339_UTC), pattern: written });
    expect(await server.sql('select pattern from helm_tag_formats where id = ?', [res.body.id])).toEqual([{ pattern: written }]);
    expect(await server.sql('select operation from audit_records where target_id = ?', [res.body.id])).toEqual([{ operation: 'createHelmTagFormat' }]);
  });

  test.each([
    ['an invalid regular expression', { pattern: '^v(?<version>[0-9.+$' }, /not a valid regular expression/],
    ['a pattern without a named group', { pattern: '^v[0-9.]+$' }, /named group/],
    ['a group Platz does not parse', { pattern: '^(?<flavour>.+)$' }, /flavour/],
    ['no pattern', {}, /^pattern \(body\)/],
  ])('POST: %s is 400 saying what is wrong, nothing written', async (_, body, message) => {
    const res = await expectUnchanged(server, ['helm_tag_formats', 'audit_records'], () => rest('POST', '/api/v2/helm-tag-formats', { headers: admin, body }));
    expect([res.status, res.body]).toEqual([400, { message: expect.stringMatching(message) }]);
  });

  test('POST: a duplicate is 409; other callers 403; nothing written', async () => {
    const [existing] = await persist(server, make(HelmTagFormat, { pattern: pattern() }));
    await expectUnchanged(server, ['helm_tag_formats', 'audit_records'], async () => {
      expect((await rest('POST', '/api/v2/helm-tag-formats', { headers: admin, body: { pattern: existing.pattern } })).status).toBe(409);
      for (const caller of nonAdmins()) expect((await rest('POST', '/api/v2/helm-tag-formats', { headers: caller.headers, body: { pattern: pattern() } })).status).toBe(403);
      await expectUnauthenticated('POST', '/api/v2/helm-tag-formats', { pattern: pattern() });
    });
  });

  test('DELETE: a site admin deletes it (204); the charts it parsed keep their fields; others 403; missing 404 to anyone', async () => {
    const [format] = await persist(server, make(HelmTagFormat, { pattern: pattern() }));
    const [parsed] = await persist(server, chart(await newRegistry(await newKind()), `v1-${unique()}`, { tagFormat: format, parsedVersion: '1' }));
    await expectUnchanged(server, ['helm_tag_formats', 'helm_charts', 'audit_records'], async () => {
      for (const caller of nonAdmins()) expect((await rest('DELETE', `/api/v2/helm-tag-formats/${format.id}`, { headers: caller.headers })).status).toBe(403);
      // as in Platz: the row is looked up first
      expect((await rest('DELETE', `/api/v2/helm-tag-formats/${MISSING}`, { headers: nobody.headers })).status).toBe(404);
      await expectUnauthenticated('DELETE', `/api/v2/helm-tag-formats/${format.id}`);
    });
    const res = await rest('DELETE', `/api/v2/helm-tag-formats/${format.id}`, { headers: admin });
    expect([res.status, res.text]).toEqual([204, '']);
    expect(await server.sql('select 1 from helm_tag_formats where id = ?', [format.id])).toEqual([]);
    expect((await rest('GET', `/api/v2/helm-charts/${parsed.id}`, { headers: admin })).body).toMatchObject({ tag_format_id: null, parsed_version: '1' });
    expect((await rest('DELETE', `/api/v2/helm-tag-formats/${format.id}`, { headers: admin })).status).toBe(404);
  });
});
