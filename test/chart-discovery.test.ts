import { gzipSync } from 'node:zlib';
import { stringify } from 'yaml';
import { ChartDiscovery } from '../src/workers/chart-discovery.js';
import { countRows } from './support/assertions.js';
import { chartArchive, tarGz } from './support/charts.js';
import { unique } from './support/fixtures.js';
import { recordingLogger } from './support/logger.js';
import { startOciRegistry, type OciRegistryDouble } from './support/oci-registry.js';
import { startTestServer, type TestServer } from './support/server.js';
import { waitFor } from './support/subscriptions.js';

/**
 * Chart discovery through a real server against OCI registry doubles (test/support/oci-registry.ts) serving chart
 * archives built here. Rounds run when a test asks (`poll()`); each test polls registries of its own.
 */
let open: OciRegistryDouble;
let secured: OciRegistryDouble;
let stalled: OciRegistryDouble;
let server: TestServer;
let admin: Record<string, string>;
let formatId: string;
const logger = recordingLogger();
// a registry call, its body included: long enough for the 51 MiB gzip bomb to be unpacked on a busy machine
const TIMEOUT_MS = 3000;
const TOKEN = 'anonymous-pull-token';

beforeAll(async () => {
  [open, secured, stalled] = await Promise.all([startOciRegistry({ tagsPerPage: 2 }), startOciRegistry({ token: TOKEN }), startOciRegistry()]);
  stalled.stall();
  server = await startTestServer(
    {
      CHART_DISCOVERY: 'true',
      // no round but the first on its own: the tests ask for them
      CHART_DISCOVERY_POLL_MS: '3600000',
      CHART_DISCOVERY_TIMEOUT_MS: String(TIMEOUT_MS),
      CHART_DISCOVERY_PLAIN_HTTP: [open.host, secured.host, stalled.host].join(', '),
    },
    { logger },
  );
  admin = await server.adminAuth();
  const format = await call(`mutation ($p: String!) { createHelmTagFormat(pattern: $p) { id } }`, { p: '^(?P<version>[0-9]+\\.[0-9]+\\.[0-9]+)-(?P<branch>[a-z]+)$' });
  formatId = format.data.createHelmTagFormat.id;
});
afterAll(async () => {
  await server?.stop();
  await Promise.all([open, secured, stalled].map((registry) => registry?.close()));
});

const call = async (document: string, variables: object) => {
  const res = await server.gql<any, object>(document, variables, admin);
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res;
};
const poll = () => server.berth.chartDiscovery!.poll();

/** A registry of its own on `double`, created as a site admin would. */
async function registryOn(double: OciRegistryDouble): Promise<{ id: string; repo: string; name: string }> {
  const repo = `charts-${unique()}`;
  const res = await call(`mutation ($input: CreateHelmRegistryInput!) { createHelmRegistry(input: $input) { id } }`, {
    input: { domainName: double.host, repoName: repo, provider: 'Oci' },
  });
  return { id: res.data.createHelmRegistry.id, repo, name: `${double.host}/${repo}` };
}

/** The registry's charts over GraphQL, by tag. */
async function chartsOf(registryId: string): Promise<Record<string, any>> {
  const res = await call(
    `query ($filter: HelmChartFilter) { helmCharts(filter: $filter) { edges { node {
      id imageTag imageDigest available error valuesUi actionsSchema features resourceTypes parsedVersion parsedBranch tagFormat { id } } } } }`,
    { filter: { helmRegistryId: registryId } },
  );
  return Object.fromEntries(res.data.helmCharts.edges.map(({ node }: any) => [node.imageTag, node]));
}

const warnings = (registry: string) => logger.lines.filter((l) => l.level === 'warn' && (l.fields as { registry?: string }).registry === registry);

// chart-ext documents as chart authors write them (platzio/chart-ext)
const valuesUi = {
  apiVersion: 'platz.io/v1beta1',
  kind: 'ValuesUi',
  inputs: [{ id: 'replicas', type: 'number', label: 'Replicas', initialValue: 1 }],
  outputs: { values: [{ path: ['replicaCount'], value: { FieldValue: { input: 'replicas' } } }] },
};
const actions = [{ apiVersion: 'platz.io/v1beta1', kind: 'Action', spec: { id: 'flush-cache', title: 'Flush the cache', endpoint: 'standard_ingress', path: '/flush', method: 'POST', allowed_role: 'Maintainer' } }];
const features = { apiVersion: 'platz.io/v1beta1', kind: 'Features', spec: { cardinality: 'OnePerCluster', reinstall_dependencies: false } };
const resourceTypes = [{ apiVersion: 'platz.io/v1beta1', kind: 'ResourceType', key: 'database', spec: { name_singular: 'Database', name_plural: 'Databases', fontawesome_icon: 'database', global: false, values_ui: { inputs: [] } } }];
const legacy = {
  valuesUi: { inputs: [{ id: 'size', type: 'text', label: 'Size' }] },
  actionsSchema: { schema_version: 0, actions: [{ id: 'ping', title: 'Ping', endpoint: 'standard_ingress', path: '/ping', method: 'GET' }] },
  features: { cardinality: 'Many', standard_ingress: true },
};
const platzFiles = {
  'platz/values-ui.yaml': stringify(valuesUi),
  'platz/actions.yaml': stringify(actions),
  'platz/features.yaml': stringify(features),
  'platz/resources.yaml': stringify(resourceTypes),
};
const NO_DOCUMENTS = { valuesUi: null, actionsSchema: null, features: null, resourceTypes: null };

test('new tags become charts: the manifest digest, the tag parsed by the tag formats, chart-ext documents from platz/ or the older top-level files; other artifacts are skipped', async () => {
  const registry = await registryOn(open);
  const current = open.pushChart(registry.repo, '1.2.0-main', chartArchive('web', platzFiles));
  const older = open.pushChart(registry.repo, '0.9.0-legacy', chartArchive('web', {
    'values.ui.json': JSON.stringify(legacy.valuesUi),
    'actions.schema.json': JSON.stringify(legacy.actionsSchema),
    'features.json': JSON.stringify(legacy.features),
  }));
  // a long chart name: its paths are over 100 characters, written behind PAX records
  const plain = open.pushChart(registry.repo, 'latest', chartArchive(`web-${'x'.repeat(100)}`, { 'platz/features.yaml': stringify(features) }));
  open.pushImage(registry.repo, 'sidecar');

  await poll();

  const charts = await chartsOf(registry.id);
  expect(Object.keys(charts).sort()).toEqual(['0.9.0-legacy', '1.2.0-main', 'latest']);
  expect(charts['1.2.0-main']).toMatchObject({
    imageDigest: current.digest, available: true, error: null, parsedVersion: '1.2.0', parsedBranch: 'main', tagFormat: { id: formatId },
    valuesUi, actionsSchema: actions, features, resourceTypes,
  });
  expect(charts['0.9.0-legacy']).toMatchObject({
    imageDigest: older.digest, available: true, error: null, parsedVersion: '0.9.0', parsedBranch: 'legacy', ...legacy, resourceTypes: null,
  });
  expect(charts.latest).toMatchObject({ imageDigest: plain.digest, available: true, parsedVersion: null, tagFormat: null, ...NO_DOCUMENTS, features });
  // written through the service as the system, audited as such
  const audited = `operation = 'registerHelmChart' and actor_kind = 'system' and request_id like 'chart-discovery:%'
    and target_id in (select id from helm_charts where helm_registry_id = ?)`;
  expect(await countRows(server, 'audit_records', audited, [registry.id])).toBe(3);
  expect(warnings(registry.name)).toEqual([]);
});

test('a tag already registered is not fetched again: a second round fetches only the new tag', async () => {
  const registry = await registryOn(open);
  open.pushChart(registry.repo, '1.0.0-main', chartArchive('api', {}));
  open.pushImage(registry.repo, 'sidecar');
  await poll();
  const first = await chartsOf(registry.id);

  const mine = () => open.requests.filter((r) => r.path.startsWith(`/v2/${registry.repo}/`)).map((r) => r.path);
  const before = mine().length;
  const added = open.pushChart(registry.repo, '1.1.0-main', chartArchive('api', {}, '1.1.0'));
  await poll();

  const charts = await chartsOf(registry.id);
  expect(Object.keys(charts).sort()).toEqual(['1.0.0-main', '1.1.0-main']);
  expect(charts['1.0.0-main']).toEqual(first['1.0.0-main']);
  expect(charts['1.1.0-main']).toMatchObject({ imageDigest: added.digest, parsedVersion: '1.1.0', available: true });
  // two pages of tags (two a page), then the new tag's manifest and chart layer; not the image's manifest again
  expect(mine().slice(before)).toEqual([
    `/v2/${registry.repo}/tags/list`,
    `/v2/${registry.repo}/tags/list?n=2&last=1.1.0-main`,
    `/v2/${registry.repo}/manifests/1.1.0-main`,
    `/v2/${registry.repo}/blobs/${added.layer}`,
  ]);
});

test('a chart that cannot be read is stored with its error, unavailable, and not fetched again', async () => {
  const registry = await registryOn(open);
  open.pushChart(registry.repo, 'not-gzip', Buffer.from('this is not a chart archive'));
  open.pushChart(registry.repo, 'not-tar', gzipSync('x'.repeat(600)));
  open.pushChart(registry.repo, 'no-chart-yaml', tarGz({ 'web/values.yaml': 'a: 1\n' }));
  open.pushChart(registry.repo, 'bad-yaml', chartArchive('web', { 'platz/values-ui.yaml': 'inputs: [unclosed\n' }));
  open.pushChart(registry.repo, 'no-inputs', chartArchive('web', { 'platz/values-ui.yaml': stringify({ fields: [] }) }));
  open.pushChart(registry.repo, 'bad-cardinality', chartArchive('web', { 'features.json': JSON.stringify({ cardinality: 'Few' }) }));
  // refused from its descriptor, before it is fetched
  open.pushChart(registry.repo, 'too-big', Buffer.alloc(10 * 1024 * 1024 + 1));
  // small, but unpacking past 50 MiB
  open.pushChart(registry.repo, 'bomb', gzipSync(Buffer.alloc(51 * 1024 * 1024)));
  await poll();

  const charts = await chartsOf(registry.id);
  const errors = Object.fromEntries(Object.values(charts).map((c) => [c.imageTag, c.error]));
  expect(errors).toEqual({
    'not-gzip': expect.stringMatching(/^the chart archive cannot be read: not gzip/),
    'not-tar': expect.stringMatching(/^the chart archive cannot be read: not a tar archive/),
    'no-chart-yaml': 'expected one <chart>/Chart.yaml at the top of the archive, found 0',
    'bad-yaml': expect.stringMatching(/^platz\/values-ui\.yaml: /),
    'no-inputs': 'valuesUi must be an object with an inputs list',
    'bad-cardinality': expect.stringMatching(/^features\.cardinality must be one of/),
    'too-big': 'the chart archive is 10485761 bytes, more than the 10485760 read',
    bomb: 'the chart archive cannot be read: it unpacks to more than 52428800 bytes',
  });
  for (const chart of Object.values(charts)) expect(chart).toMatchObject({ available: false, ...NO_DOCUMENTS });
  expect(warnings(registry.name).map((l) => l.msg)).toEqual(Array(8).fill('registered a chart that cannot be read, as unavailable'));

  const before = open.requests.length;
  await poll();
  expect(open.requests.slice(before).filter((r) => r.path.startsWith(`/v2/${registry.repo}/`) && !r.path.includes('/tags/list'))).toEqual([]);
});

test('a registry asking for a Bearer token gets an anonymous one from its realm, sent to the registry only', async () => {
  const registry = await registryOn(secured);
  const pushed = secured.pushChart(registry.repo, '3.0.0-main', chartArchive('db', platzFiles));
  await poll();

  expect(await chartsOf(registry.id)).toEqual({ '3.0.0-main': expect.objectContaining({ imageDigest: pushed.digest, available: true, valuesUi }) });
  const calls = secured.requests.filter((r) => r.path.includes(registry.repo));
  expect(calls.map((r) => [r.path, r.authorization])).toEqual([
    [`/v2/${registry.repo}/tags/list`, undefined],
    [`/token?service=oci-double&scope=${encodeURIComponent(`repository:${registry.repo}:pull`)}`, undefined],
    // the call made again with the token, which is kept for the next ones
    [`/v2/${registry.repo}/tags/list`, `Bearer ${TOKEN}`],
    [`/v2/${registry.repo}/manifests/3.0.0-main`, `Bearer ${TOKEN}`],
    [`/v2/${registry.repo}/blobs/${pushed.layer}`, `Bearer ${TOKEN}`],
  ]);
});

test('a redirect to another host is not followed: the tag is logged, not registered, and tried again next round', async () => {
  const registry = await registryOn(open);
  const pushed = open.pushChart(registry.repo, '1.0.0-main', chartArchive('cdn', {}));
  // the same double under another name: were the redirect followed, it would answer
  const elsewhere = open.origin.replace('127.0.0.1', 'localhost');
  open.redirectBlobs(registry.repo, elsewhere);
  await poll();

  expect(await chartsOf(registry.id)).toEqual({});
  expect(warnings(registry.name)).toEqual([
    expect.objectContaining({
      msg: 'fetching a chart failed; trying again next round',
      fields: { registry: registry.name, tag: '1.0.0-main', reason: `${open.origin}/v2/${registry.repo}/blobs/${pushed.layer} redirected to another host (${new URL(elsewhere).host}); not followed` },
    }),
  ]);
  expect(open.requests.filter((r) => r.host !== open.host)).toEqual([]);

  open.redirectBlobs(registry.repo, undefined);
  await poll();
  expect(await chartsOf(registry.id)).toEqual({ '1.0.0-main': expect.objectContaining({ imageDigest: pushed.digest, available: true }) });
});

test('replicas finding the same tag at once register it once; the one that comes second takes the conflict as done', async () => {
  const registry = await registryOn(open);
  open.pushChart(registry.repo, '1.0.0-main', chartArchive('race', {}));
  // both have fetched the chart before either registers it
  open.holdBlobs(registry.repo, 2);
  const loggers = [recordingLogger(), recordingLogger()];
  const replicas = loggers.map((l) => new ChartDiscovery(server.em, server.berth.services, { pollMs: 3_600_000, timeoutMs: 10_000, plainHttp: new Set([open.host, secured.host]) }, l));
  try {
    await Promise.all(replicas.map((r) => r.poll()));
  } finally {
    await Promise.all(replicas.map((r) => r.stop()));
  }

  expect(open.requests.filter((r) => r.path.startsWith(`/v2/${registry.repo}/blobs/`))).toHaveLength(2);
  expect(await countRows(server, 'helm_charts', 'helm_registry_id = ?', [registry.id])).toBe(1);
  // the writes queue on the event lock, so the second saw the first's row; the database holds the rule all the same
  await expect(server.sql(`insert into helm_charts (id, helm_registry_id, image_digest, image_tag) values (gen_random_uuid(), ?, 'sha256:0', '1.0.0-main')`, [registry.id]))
    .rejects.toThrow(/helm_charts_helm_registry_id_image_tag_unique/);
  const registered = loggers.flatMap((l) => l.lines).filter((l) => (l.fields as { registry?: string }).registry === registry.name);
  expect(registered.map((l) => [l.level, l.msg])).toEqual([['info', 'registered a chart']]);
});

test('a registry that does not answer holds up no other, and stop() does not wait for it', async () => {
  const silent = await registryOn(stalled);
  const registry = await registryOn(open);
  const pushed = open.pushChart(registry.repo, '1.0.0-main', chartArchive('steady', {}));
  try {
    await poll();
    expect(await chartsOf(registry.id)).toEqual({ '1.0.0-main': expect.objectContaining({ imageDigest: pushed.digest }) });
    expect(warnings(silent.name)).toEqual([
      expect.objectContaining({
        msg: 'listing the tags of a chart registry failed; trying again next round',
        fields: { registry: silent.name, reason: `${stalled.origin}/v2/${silent.repo}/tags/list did not answer within ${TIMEOUT_MS} ms` },
      }),
    ]);

    // a replica whose calls would wait ten minutes: stopping it ends them
    const patient = new ChartDiscovery(server.em, server.berth.services, { pollMs: 3_600_000, timeoutMs: 600_000, plainHttp: new Set([stalled.host]) }, recordingLogger());
    const asked = stalled.requests.length;
    const round = patient.poll();
    await waitFor(() => stalled.requests.length > asked, 'the stalled registry to be asked');
    await patient.stop();
    await round;
  } finally {
    // later rounds in this file need not wait for it
    await server.sql(`update helm_registries set available = false where id = ?`, [silent.id]);
  }
}, 15_000);
