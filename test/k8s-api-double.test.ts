import * as k8s from '@kubernetes/client-node';
import { createHook, type AsyncHook } from 'node:async_hooks';
import { fileURLToPath } from 'node:url';
import { parseKubeconfig } from '../src/k8s/kubeconfig.js';
import { startEndpoints } from './support/endpoints.js';
import { kubeconfigFor, startKubeApiDouble, type KubeApiDouble, type KubeApiDoubleOptions, type KubeObject } from './support/kube-api/index.js';

// The Kubernetes API server double, proved through the real @kubernetes/client-node: what a test of
// Berth's cluster code will rely on, and how client-node 2.0.1 behaves against it.

const PODS = '/api/v1/namespaces/apps/pods';
const RELEASES = '/apis/helm.toolkit.fluxcd.io/v2/namespaces/apps/helmreleases';

let double: KubeApiDouble;
let kc: k8s.KubeConfig;
const informers: k8s.Informer<k8s.KubernetesObject>[] = [];
const watches: AbortController[] = [];
const hooks: AsyncHook[] = [];

async function startDouble(options: KubeApiDoubleOptions = {}): Promise<void> {
  double = await startKubeApiDouble({ namespaces: ['default', 'apps'], ...options });
  kc = configFor(kubeconfigFor(double));
}

afterEach(async () => {
  await Promise.all(informers.splice(0).map((informer) => informer.stop()));
  watches.splice(0).forEach((controller) => controller.abort());
  hooks.splice(0).forEach((hook) => hook.disable());
  // none in a test that started none
  await double?.close();
});

function configFor(kubeconfig: string): k8s.KubeConfig {
  const config = new k8s.KubeConfig();
  config.loadFromString(kubeconfig);
  return config;
}

const pod = (name: string, labels: Record<string, string> = {}, namespace = 'apps'): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace, labels },
  spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] },
});

/** A core object, or a Deployment, by name. */
const ref = (kind: string, name: string, namespace = 'apps') => ({ apiVersion: kind === 'Deployment' ? 'apps/v1' : 'v1', kind, metadata: { name, namespace } });

/** What arrived, in order, as short strings; a test waits for a condition on it, then compares the exact sequence. */
class Recorder {
  readonly events: string[] = [];
  readonly errors: string[] = [];
  /** how a raw watch ended: null when the server ended it cleanly */
  ended: string | null | undefined;
  private readonly waiters = new Set<() => void>();

  add(event: string): void {
    this.events.push(event);
    this.notify();
  }

  fail(err: unknown): void {
    this.errors.push(describeError(err));
    this.notify();
  }

  end(err: unknown): void {
    this.ended = err ? describeError(err) : null;
    this.notify();
  }

  until(check: (recorder: this) => boolean): Promise<void> {
    if (check(this)) return Promise.resolve();
    return new Promise((resolve) => {
      const waiter = () => {
        if (!check(this)) return;
        this.waiters.delete(waiter);
        resolve();
      };
      this.waiters.add(waiter);
    });
  }

  private notify(): void {
    [...this.waiters].forEach((waiter) => waiter());
  }
}

function describeError(err: unknown): string {
  const e = err as { statusCode?: number; message?: string; cause?: { code?: string } };
  if (err instanceof k8s.ApiException) return `HTTP ${err.code}`;
  if (e.statusCode) return `HTTP ${e.statusCode}`;
  return `${e.message}${e.cause?.code ? ` (${e.cause.code})` : ''}`;
}

/** An informer whose adds, updates, deletes and errors are recorded as `verb:description`. */
function inform<T extends k8s.KubernetesObject>(
  path: string,
  list: () => Promise<k8s.KubernetesListObject<T>>,
  options: { describe?: (object: T) => string; labelSelector?: string } = {},
) {
  const informer = k8s.makeInformer<T>(kc, path, list, options.labelSelector);
  const log = new Recorder();
  const describe = options.describe ?? ((o: T) => o.metadata?.name ?? '');
  for (const verb of ['add', 'update', 'delete'] as const) informer.on(verb, (object) => log.add(`${verb}:${describe(object)}`));
  informer.on('error', (err) => {
    // client-node 2.0.1 reports informer.stop() to the error handlers as an AbortError: not a failure
    if ((err as Error)?.name !== 'AbortError') log.fail(err);
  });
  informers.push(informer as unknown as k8s.Informer<k8s.KubernetesObject>);
  return { informer, log };
}

/** A raw client-node Watch whose events are recorded as `TYPE name resourceVersion` (or `describe`). */
async function watch(path: string, params: Record<string, string | number | boolean>, describe?: (type: string, object: KubeObject) => string): Promise<Recorder> {
  const log = new Recorder();
  const text = describe ?? ((type: string, o: KubeObject) => `${type} ${o.metadata?.name ?? ''} ${o.metadata?.resourceVersion}`.replace('  ', ' '));
  const controller = await new k8s.Watch(kc).watch(
    path,
    params,
    (type, object) => log.add(text(type, object)),
    (err) => log.end(err),
  );
  watches.push(controller);
  return log;
}

/** The code and reason of a call the double refuses. */
async function refusal(call: Promise<unknown>): Promise<{ code: number; reason?: string }> {
  try {
    await call;
  } catch (err) {
    if (!(err instanceof k8s.ApiException)) throw err;
    const body = typeof err.body === 'string' ? JSON.parse(err.body) : err.body;
    return { code: err.code, reason: body?.reason };
  }
  throw new Error('the call succeeded');
}

/** Requests on one path, as `verb resourceVersion status`. */
const requestsOn = (path: string) =>
  double.requests.filter((r) => r.path === path).map((r) => `${r.verb} ${r.query.resourceVersion ?? '-'} ${r.status}`);

describe('objects', () => {
  beforeEach(() => startDouble());

  test('typed clients create, read, replace, patch and delete; the server keeps uid, resourceVersion, generation and creationTimestamp', async () => {
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    const body: k8s.V1Deployment = {
      metadata: { name: 'web', labels: { app: 'web' } },
      spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'web:1' }] } } },
    };
    const created = await apps.createNamespacedDeployment({ namespace: 'apps', body });
    expect(created.metadata).toMatchObject({ name: 'web', namespace: 'apps', generation: 1, resourceVersion: double.resourceVersion });
    expect(created.metadata?.uid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(created.metadata?.creationTimestamp).toBeInstanceOf(Date);
    expect(created.kind).toBe('Deployment');
    const first = Number(created.metadata!.resourceVersion);

    const replaced = await apps.replaceNamespacedDeployment({ name: 'web', namespace: 'apps', body: { ...created, spec: { ...created.spec!, replicas: 2 } } });
    // a label is metadata: no new generation; a spec change is one
    const labelled = await apps.patchNamespacedDeployment(
      { name: 'web', namespace: 'apps', body: { metadata: { labels: { app: 'web', tier: 'front' } } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    // typed patch calls send a JSON patch unless told otherwise
    const scaled = await apps.patchNamespacedDeployment({ name: 'web', namespace: 'apps', body: [{ op: 'replace', path: '/spec/replicas', value: 3 }] });
    const unchanged = await apps.replaceNamespacedDeployment({ name: 'web', namespace: 'apps', body: scaled });
    expect([replaced, labelled, scaled, unchanged].map((d) => [d.spec?.replicas, d.metadata?.generation, Number(d.metadata?.resourceVersion) - first])).toEqual([
      [2, 2, 1],
      [2, 2, 2],
      [3, 3, 3],
      // the same object again is no write
      [3, 3, 3],
    ]);
    expect(labelled.metadata?.labels).toEqual({ app: 'web', tier: 'front' });
    expect(unchanged.metadata?.uid).toBe(created.metadata?.uid);

    expect(await refusal(apps.replaceNamespacedDeployment({ name: 'web', namespace: 'apps', body: created }))).toEqual({ code: 409, reason: 'Conflict' });
    expect(await refusal(apps.createNamespacedDeployment({ namespace: 'apps', body }))).toEqual({ code: 409, reason: 'AlreadyExists' });
    expect(await refusal(apps.createNamespacedDeployment({ namespace: 'nowhere', body }))).toEqual({ code: 404, reason: 'NotFound' });
    const patchFails = apps.patchNamespacedDeployment({ name: 'web', namespace: 'apps', body: [{ op: 'test', path: '/spec/replicas', value: 1 }] });
    expect(await refusal(patchFails)).toEqual({ code: 422, reason: 'Invalid' });

    const deleted = await apps.deleteNamespacedDeployment({ name: 'web', namespace: 'apps' });
    expect(deleted).toMatchObject({ kind: 'Status', status: 'Success', details: { name: 'web', group: 'apps', kind: 'deployments', uid: created.metadata?.uid } });
    expect(await refusal(apps.readNamespacedDeployment({ name: 'web', namespace: 'apps' }))).toEqual({ code: 404, reason: 'NotFound' });
    expect(await refusal(apps.deleteNamespacedDeployment({ name: 'web', namespace: 'apps' }))).toEqual({ code: 404, reason: 'NotFound' });
    expect(Number(double.resourceVersion) - first).toBe(4);
  });

  test("a client's writes keep the status the controller wrote; the status subresource keeps the rest", async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const created = await core.createNamespacedPod({ namespace: 'apps', body: { ...pod('web'), status: { phase: 'Succeeded' } } as k8s.V1Pod });
    expect(created.status).toBeUndefined();
    double.apply({ ...ref('Pod', 'web'), status: { phase: 'Running' } });

    const relabelled = await core.replaceNamespacedPod({ name: 'web', namespace: 'apps', body: { ...pod('web', { app: 'web' }), status: { phase: 'Failed' } } as k8s.V1Pod });
    expect([relabelled.metadata?.labels, relabelled.status?.phase]).toEqual([{ app: 'web' }, 'Running']);

    const status = await core.patchNamespacedPodStatus(
      { name: 'web', namespace: 'apps', body: { metadata: { labels: { app: 'other' } }, status: { phase: 'Succeeded' } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    expect([status.metadata?.labels, status.status?.phase]).toEqual([{ app: 'web' }, 'Succeeded']);
    // pods, unlike deployments, answer DELETE with the object
    const deleted = await core.deleteNamespacedPod({ name: 'web', namespace: 'apps' });
    expect([deleted.kind, deleted.metadata?.name, deleted.status?.phase]).toEqual(['Pod', 'web', 'Succeeded']);
  });

  test('lists: label and field selectors, items without kind and apiVersion, and pages that keep the first one’s resourceVersion', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    double.create(pod('web-1', { app: 'web', tier: 'front' }));
    double.create(pod('web-2', { app: 'web', canary: 'true' }));
    double.create(pod('db', { app: 'db' }));
    double.create(pod('web-3', { app: 'web' }, 'default'));
    const names = async (labelSelector?: string, fieldSelector?: string) =>
      (await core.listPodForAllNamespaces({ labelSelector, fieldSelector })).items.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`);

    expect(await names()).toEqual(['apps/db', 'apps/web-1', 'apps/web-2', 'default/web-3']);
    expect(await names('app=web')).toEqual(['apps/web-1', 'apps/web-2', 'default/web-3']);
    expect(await names('app=web,canary')).toEqual(['apps/web-2']);
    expect(await names('app!=web')).toEqual(['apps/db']);
    expect(await names('app==web,!canary,tier!=front')).toEqual(['default/web-3']);
    expect(await names('app in (db,cache)')).toEqual(['apps/db']);
    expect(await names('tier notin (front),app')).toEqual(['apps/db', 'apps/web-2', 'default/web-3']);
    expect(await names(undefined, 'metadata.namespace=default')).toEqual(['default/web-3']);
    expect(await names('app=web', 'metadata.name=web-2')).toEqual(['apps/web-2']);
    expect(await names(undefined, 'metadata.name!=db,metadata.namespace=apps')).toEqual(['apps/web-1', 'apps/web-2']);
    expect(await refusal(core.listPodForAllNamespaces({ labelSelector: 'app=(web' }))).toEqual({ code: 400, reason: 'BadRequest' });

    const list = await core.listNamespacedPod({ namespace: 'apps' });
    expect([list.kind, list.apiVersion, list.metadata?.resourceVersion]).toEqual(['PodList', 'v1', double.resourceVersion]);
    expect(list.items.map((p) => [p.kind, p.apiVersion])).toEqual([
      [undefined, undefined],
      [undefined, undefined],
      [undefined, undefined],
    ]);

    const listed = double.resourceVersion;
    const first = await core.listNamespacedPod({ namespace: 'apps', limit: 2 });
    double.create(pod('web-4', { app: 'web' }));
    const second = await core.listNamespacedPod({ namespace: 'apps', limit: 2, _continue: first.metadata?._continue });
    expect([first, second].map((page) => [page.items.map((p) => p.metadata?.name), page.metadata?.resourceVersion, page.metadata?.remainingItemCount])).toEqual([
      [['db', 'web-1'], listed, 1],
      // web-4 comes after the first page: the double pages over the objects as they are now
      [['web-2', 'web-4'], listed, undefined],
    ]);
    expect(second.metadata?._continue).toBeUndefined();
    double.compact();
    expect(await refusal(core.listNamespacedPod({ namespace: 'apps', limit: 2, _continue: first.metadata?._continue }))).toEqual({ code: 410, reason: 'Expired' });
  });

  test('KubernetesObjectApi finds each path through discovery: namespaced or not, the context’s namespace by default', async () => {
    kc = configFor(kubeconfigFor(double, { namespace: 'apps' }));
    const objects = k8s.KubernetesObjectApi.makeApiClient(kc);
    const service = await objects.create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { ports: [{ port: 80 }] } } as k8s.V1Service);
    const node = await objects.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1' } });
    const job = await objects.create({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'once' }, spec: { template: { spec: { containers: [] } } } } as k8s.V1Job);
    expect([service, node, job].map((o: k8s.KubernetesObject) => `${o.kind} ${o.metadata?.namespace}/${o.metadata?.name}`)).toEqual(['Service apps/web', 'Node undefined/node-1', 'Job apps/once']);
    expect(double.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      'GET /api/v1 200',
      'POST /api/v1/namespaces/apps/services 201',
      'POST /api/v1/nodes 201',
      'GET /apis/batch/v1 200',
      'POST /apis/batch/v1/namespaces/apps/jobs 201',
    ]);

    expect(await objects.create({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } }).catch((e: Error) => e.message)).toMatch(
      /^Failed to fetch resource metadata for example.com\/v1\/Widget: HTTP-Code: 404/,
    );
    const groups = await kc.makeApiClient(k8s.ApisApi).getAPIVersions();
    expect(groups.groups.map((g) => g.preferredVersion?.groupVersion)).toEqual(['apps/v1', 'batch/v1', 'networking.k8s.io/v1', 'helm.toolkit.fluxcd.io/v2', 'source.toolkit.fluxcd.io/v1']);
    expect((await kc.makeApiClient(k8s.CoreApi).getAPIVersions()).versions).toEqual(['v1']);
    expect((await kc.makeApiClient(k8s.VersionApi).getCode()).gitVersion).toBe('v1.31.0');
  });

  test('server-side apply needs a fieldManager; applying the same configuration again is no write; a field no longer applied goes', async () => {
    const objects = k8s.KubernetesObjectApi.makeApiClient(kc);
    const release = (values: object) => ({
      apiVersion: 'helm.toolkit.fluxcd.io/v2',
      kind: 'HelmRelease',
      metadata: { name: 'web', namespace: 'apps', labels: { 'berth.io/deployment': 'web' } },
      spec: { interval: '5m', chart: { spec: { chart: 'web', sourceRef: { kind: 'HelmRepository', name: 'charts' } } }, values },
    });
    const apply = (values: object, fieldManager?: string) =>
      objects.patch(release(values), undefined, undefined, fieldManager, undefined, k8s.PatchStrategy.ServerSideApply) as Promise<KubeObject & k8s.KubernetesObject>;
    const events = await watch(RELEASES, { resourceVersion: double.resourceVersion }, (type, o) => `${type} generation ${o.metadata?.generation} ${JSON.stringify(o.spec && (o.spec as { values: object }).values)}`);

    expect(await refusal(apply({ replicas: 1 }))).toEqual({ code: 422, reason: 'Invalid' });
    const created = await apply({ replicas: 1, image: { tag: 'v1' } }, 'berth');
    // helm-controller reports on it
    double.apply({ ...release({}), spec: undefined, status: { conditions: [{ type: 'Ready', status: 'True' }] } });
    const reapplied = await apply({ replicas: 1, image: { tag: 'v1' } }, 'berth');
    const changed = await apply({ replicas: 2 }, 'berth');
    await events.until((e) => e.events.length === 3);

    expect(double.requests.filter((r) => r.method === 'PATCH').map((r) => `${r.query.fieldManager} ${r.status}`)).toEqual(['undefined 422', 'berth 201', 'berth 200', 'berth 200']);
    expect(reapplied.metadata?.resourceVersion).toBe(String(Number(created.metadata?.resourceVersion) + 1));
    expect(changed.status).toEqual({ conditions: [{ type: 'Ready', status: 'True' }] });
    expect(events.events).toEqual([
      'ADDED generation 1 {"replicas":1,"image":{"tag":"v1"}}',
      'MODIFIED generation 1 {"replicas":1,"image":{"tag":"v1"}}',
      'MODIFIED generation 2 {"replicas":2}',
    ]);
    // custom resources keep their spec through KubernetesObjectApi, both ways
    const read = (await objects.read({ apiVersion: 'helm.toolkit.fluxcd.io/v2', kind: 'HelmRelease', metadata: { name: 'web', namespace: 'apps' } })) as KubeObject;
    expect(read.spec).toEqual(release({ replicas: 2 }).spec);
    // KubernetesObjectApi.patch sends a strategic merge patch unless told otherwise: merged as a merge patch is
    const suspended = (await objects.patch({ apiVersion: 'helm.toolkit.fluxcd.io/v2', kind: 'HelmRelease', metadata: { name: 'web', namespace: 'apps' }, spec: { suspend: true } })) as KubeObject;
    expect(suspended.spec).toEqual({ ...release({ replicas: 2 }).spec, suspend: true });
    expect(double.countRequests({ path: '/apis/helm.toolkit.fluxcd.io/v2', verb: 'discovery' })).toBe(1);
  });

  test('TokenRequest: a token for an existing service account, which the double then accepts', async () => {
    await double.close();
    await startDouble({ clock: () => new Date('2030-01-02T03:04:05.678Z') });
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const request = { name: 'deployer', namespace: 'apps', body: { spec: { audiences: ['berth'], expirationSeconds: 3600 } } };
    expect(await refusal(core.createNamespacedServiceAccountToken(request))).toEqual({ code: 404, reason: 'NotFound' });

    double.create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'deployer', namespace: 'apps' } });
    const issued = await core.createNamespacedServiceAccountToken(request);
    expect([issued.kind, issued.spec?.audiences, issued.status?.expirationTimestamp]).toEqual(['TokenRequest', ['berth'], new Date('2030-01-02T04:04:05Z')]);
    const short = { ...request, body: { spec: { audiences: [], expirationSeconds: 60 } } };
    expect(await refusal(core.createNamespacedServiceAccountToken(short))).toEqual({ code: 422, reason: 'Invalid' });

    const asDeployer = configFor(kubeconfigFor(double, { token: issued.status!.token })).makeApiClient(k8s.CoreV1Api);
    expect((await asDeployer.listNamespacedServiceAccount({ namespace: 'apps' })).items.map((sa) => sa.metadata?.name)).toEqual(['deployer']);
  });

  test('a wrong token is refused with 401 everywhere; no token reads /version only', async () => {
    const wrong = configFor(kubeconfigFor(double, { token: 'wrong' }));
    expect(await refusal(wrong.makeApiClient(k8s.CoreV1Api).listNamespace())).toEqual({ code: 401, reason: undefined });
    expect(await refusal(wrong.makeApiClient(k8s.VersionApi).getCode())).toMatchObject({ code: 401 });
    const objects = k8s.KubernetesObjectApi.makeApiClient(wrong);
    expect(await objects.list('v1', 'Pod').catch((e: k8s.ApiException<string>) => [e.code, JSON.parse(e.body).reason])).toEqual([401, 'Unauthorized']);
    const watched = new Recorder();
    await new k8s.Watch(wrong).watch(PODS, {}, () => {}, (err) => watched.end(err));
    expect(watched.ended).toBe('HTTP 401');

    const anonymous = configFor(kubeconfigFor(double, { token: '' }));
    expect((await anonymous.makeApiClient(k8s.VersionApi).getCode()).gitVersion).toBe('v1.31.0');
    expect(await refusal(anonymous.makeApiClient(k8s.CoreV1Api).listNamespace())).toEqual({ code: 403, reason: 'Forbidden' });
    expect(double.requests.map((r) => r.status)).toEqual([401, 401, 401, 401, 200, 403]);
  });

  test('kubeconfigFor: one context per cluster, as Berth imports them and client-node connects', async () => {
    const other = await startKubeApiDouble();
    try {
      const text = kubeconfigFor(double, { contexts: ['east', { name: 'west', double: other, namespace: 'apps' }] });
      const entry = (name: string, d: KubeApiDouble) => ({
        name,
        server: d.url,
        context: name,
        user: name,
        clusterConfig: { server: d.url, 'insecure-skip-tls-verify': true },
        userConfig: { token: d.token },
      });
      expect(parseKubeconfig(text)).toEqual([entry('east', double), entry('west', other)]);

      const config = configFor(text);
      expect(config.getCurrentContext()).toBe('east');
      const namespaces = async () => (await config.makeApiClient(k8s.CoreV1Api).listNamespace()).items.map((n) => n.metadata?.name);
      double.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'east-only' } });
      expect(await namespaces()).toEqual(['apps', 'default', 'east-only']);
      config.setCurrentContext('west');
      expect(await namespaces()).toEqual(['default', 'kube-system']);
      expect(config.getContextObject('west')?.namespace).toBe('apps');
    } finally {
      await other.close();
    }
  });
});

describe('watches', () => {
  test('an informer lists, then watches from the list’s resourceVersion: adds, updates and deletes in order', async () => {
    await startDouble();
    const core = kc.makeApiClient(k8s.CoreV1Api);
    double.create(pod('a'));
    const listed = double.resourceVersion;
    const { informer, log } = inform(PODS, () => core.listNamespacedPod({ namespace: 'apps' }), { describe: (p: k8s.V1Pod) => `${p.metadata?.name}:${p.status?.phase ?? '-'}` });
    await informer.start();
    await log.until((l) => l.events.length === 1);

    double.create(pod('b'));
    double.apply({ ...ref('Pod', 'b'), status: { phase: 'Running' } });
    double.delete(ref('Pod', 'a'));
    double.create(pod('marker'));
    await log.until((l) => l.events.includes('add:marker:-'));

    expect(log.events).toEqual(['add:a:-', 'add:b:-', 'update:b:Running', 'delete:a:-', 'add:marker:-']);
    expect(informer.list().map((p) => p.metadata?.name)).toEqual(['b', 'marker']);
    expect(requestsOn(PODS)).toEqual(['list - 200', `watch ${listed} 200`]);
    expect(log.errors).toEqual([]);
  });

  test('a watch with a label selector sees an object enter its selection as added and leave it as deleted', async () => {
    await startDouble();
    const core = kc.makeApiClient(k8s.CoreV1Api);
    double.create(pod('web-1', { app: 'web' }));
    double.create(pod('db', { app: 'db' }));
    const { informer, log } = inform(PODS, () => core.listNamespacedPod({ namespace: 'apps', labelSelector: 'app=web' }), { labelSelector: 'app=web' });
    await informer.start();
    await log.until((l) => l.events.length === 1);
    // the informer takes a MODIFIED for an object it does not have as an add: the raw events tell them apart
    const raw = await watch(PODS, { labelSelector: 'app=web', resourceVersion: double.resourceVersion }, (type, o) => `${type} ${o.metadata?.name}`);

    double.apply({ ...ref('Pod', 'db'), metadata: { ...ref('Pod', 'db').metadata, labels: { app: 'web' } } });
    double.update(pod('web-1', { app: 'api' }));
    double.apply({ ...ref('Pod', 'db'), metadata: { ...ref('Pod', 'db').metadata, labels: { tier: 'back' } } });
    double.create(pod('api', { app: 'api' }));
    double.create(pod('marker', { app: 'web' }));
    await log.until((l) => l.events.includes('add:marker'));
    await raw.until((r) => r.events.includes('ADDED marker'));

    expect(raw.events).toEqual(['ADDED db', 'DELETED web-1', 'MODIFIED db', 'ADDED marker']);
    expect(log.events).toEqual(['add:web-1', 'add:db', 'delete:web-1', 'update:db', 'add:marker']);
    expect(double.requests.filter((r) => r.verb === 'watch').map((r) => r.query.labelSelector)).toEqual(['app=web', 'app=web']);
  });

  test('after dropWatches the informer reports the reset and stops; restarted, it resumes from its last resourceVersion without relisting', async () => {
    await startDouble();
    const core = kc.makeApiClient(k8s.CoreV1Api);
    double.create(pod('a'));
    const listed = double.resourceVersion;
    const { informer, log } = inform(PODS, () => core.listNamespacedPod({ namespace: 'apps' }), { describe: (p: k8s.V1Pod) => `${p.metadata?.name}:${p.status?.phase ?? '-'}` });
    await informer.start();
    double.create(pod('b'));
    await log.until((l) => l.events.length === 2);
    const lastSeen = double.resourceVersion;
    await double.until(() => double.openWatches(PODS) === 1);

    double.dropWatches();
    await log.until((l) => l.errors.length === 1);
    expect(log.errors).toEqual(['terminated (ECONNRESET)']);
    // what happens while nobody watches
    double.apply({ ...ref('Pod', 'b'), status: { phase: 'Running' } });
    double.delete(ref('Pod', 'a'));
    double.create(pod('c'));
    await informer.start();
    await log.until((l) => l.events.length === 5);

    expect(log.events).toEqual(['add:a:-', 'add:b:-', 'update:b:Running', 'delete:a:-', 'add:c:-']);
    expect(requestsOn(PODS)).toEqual(['list - 200', `watch ${listed} 200`, `watch ${lastSeen} 200`]);
    expect(log.errors).toHaveLength(1);
  });

  test.each(['event', 'status'] as const)(
    'a resume from a compacted resourceVersion (refused as an %s) relists at once, reporting what was deleted meanwhile, with no error',
    async (expiredWatch) => {
      await startDouble({ expiredWatch });
      const core = kc.makeApiClient(k8s.CoreV1Api);
      double.create(pod('a'));
      double.create(pod('b'));
      const listed = double.resourceVersion;
      const { informer, log } = inform(PODS, () => core.listNamespacedPod({ namespace: 'apps' }));
      await informer.start();
      await log.until((l) => l.events.length === 2);
      await double.until(() => double.openWatches(PODS) === 1);
      double.dropWatches();
      await log.until((l) => l.errors.length === 1);

      double.delete(ref('Pod', 'a'));
      double.create(pod('c'));
      double.compact();
      const relisted = double.resourceVersion;
      await informer.start();
      await log.until((l) => l.events.length === 4);
      await double.until(() => double.openWatches(PODS) === 1);

      expect(log.events).toEqual(['add:a', 'add:b', 'delete:a', 'add:c']);
      expect(log.errors).toEqual(['terminated (ECONNRESET)']);
      // the real server's way is the event: the watch opens (200), says 410 Expired, and ends
      expect(requestsOn(PODS)).toEqual([
        'list - 200',
        `watch ${listed} 200`,
        `watch ${listed} ${expiredWatch === 'event' ? 200 : 410}`,
        'list - 200',
        `watch ${relisted} 200`,
      ]);
    },
  );

  test('the expired watch itself: an ERROR event carrying a 410 Expired Status, then the end', async () => {
    await startDouble();
    const before = double.resourceVersion;
    double.create(pod('a'));
    double.compact();
    const events = await watch(PODS, { resourceVersion: before }, (type, o) => `${type} ${JSON.stringify(o)}`);
    await events.until((e) => e.ended !== undefined);
    const status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `too old resource version: ${before} (${double.resourceVersion})`, reason: 'Expired', code: 410 };
    expect(events.events).toEqual([`ERROR ${JSON.stringify(status)}`]);
    expect(events.ended).toBeNull();
  });

  test('a watch the server ends cleanly is reopened by the informer itself, from where it was', async () => {
    await startDouble();
    const core = kc.makeApiClient(k8s.CoreV1Api);
    double.create(pod('a'));
    const listed = double.resourceVersion;
    const { informer, log } = inform(PODS, () => core.listNamespacedPod({ namespace: 'apps' }));
    await informer.start();
    await double.until(() => double.openWatches(PODS) === 1);

    double.endWatches();
    await double.until(() => double.countRequests({ verb: 'watch', path: PODS }) === 2 && double.openWatches(PODS) === 1);
    double.create(pod('b'));
    await log.until((l) => l.events.length === 2);

    expect(log.events).toEqual(['add:a', 'add:b']);
    expect(requestsOn(PODS)).toEqual(['list - 200', `watch ${listed} 200`, `watch ${listed} 200`]);
    expect(log.errors).toEqual([]);
  });

  test('injected failures: every request answers 500 until recover(), and the counts show each attempt', async () => {
    await startDouble();
    const core = kc.makeApiClient(k8s.CoreV1Api);
    double.failNext(2, 503);
    expect(await refusal(core.listNamespace())).toEqual({ code: 503, reason: 'ServiceUnavailable' });
    expect(await refusal(core.readNamespace({ name: 'apps' }))).toEqual({ code: 503, reason: 'ServiceUnavailable' });
    expect((await core.readNamespace({ name: 'apps' })).metadata?.name).toBe('apps');

    double.failAll();
    const { informer, log } = inform(PODS, () => core.listNamespacedPod({ namespace: 'apps' }));
    await informer.start();
    await log.until((l) => l.errors.length === 1);
    expect(log.errors).toEqual(['HTTP 500']);
    double.recover();
    await informer.start();
    await double.until(() => double.openWatches(PODS) === 1);

    expect(requestsOn(PODS)).toEqual(['list - 500', 'list - 200', `watch ${double.resourceVersion} 200`]);
    expect(double.countRequests({ verb: 'list', path: PODS })).toBe(2);
    expect(double.countRequests({ status: 503 })).toBe(2);
  });

  test('bookmarks come to a watch that allows them, with the latest resourceVersion, and to no other', async () => {
    await startDouble({ bookmarkIntervalMs: 20 });
    const plain = await watch(PODS, {});
    const bookmarked = await watch(PODS, { allowWatchBookmarks: true });
    await bookmarked.until((b) => b.events.length >= 2);
    const before = double.resourceVersion;
    const added = double.create(pod('a')).metadata.resourceVersion;
    await bookmarked.until((b) => b.events.at(-1) === `BOOKMARK ${added}`);
    await plain.until((p) => p.events.length === 1);

    // how many bookmarks come between two changes is a matter of time: each run of them counts as one
    const runs = bookmarked.events.filter((event, i, all) => event !== all[i - 1]);
    expect(runs).toEqual([`BOOKMARK ${before}`, `ADDED a ${added}`, `BOOKMARK ${added}`]);
    // the plain watch opened first: had it bookmarks at the same interval, one would have come before the change
    expect(plain.events).toEqual([`ADDED a ${added}`]);
  });

  test('timeoutSeconds: the server ends the watch cleanly when its time is up', async () => {
    await startDouble();
    const timed = await watch(PODS, { timeoutSeconds: 1 });
    await timed.until((t) => t.ended !== undefined);
    expect([timed.ended, timed.events, double.openWatches()]).toEqual([null, [], 0]);
  });

  test('a deleted namespace is Terminating until finishTermination(); then it goes, with what was in it', async () => {
    await startDouble({ namespaceTerminationMs: Infinity });
    const core = kc.makeApiClient(k8s.CoreV1Api);
    double.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'doomed' } });
    double.create(pod('p', {}, 'doomed'));
    double.create({ ...ref('Deployment', 'd', 'doomed'), spec: { replicas: 1 } });
    double.create(pod('survivor'));
    const since = double.resourceVersion;
    const namespaces = await watch('/api/v1/namespaces', { resourceVersion: since }, (type, o) => `${type} ${o.metadata?.name} ${(o.status as { phase: string }).phase}`);
    const pods = await watch('/api/v1/pods', { resourceVersion: since }, (type, o) => `${type} ${o.metadata?.namespace}/${o.metadata?.name}`);

    const deleted = await core.deleteNamespace({ name: 'doomed' });
    expect(deleted).toMatchObject({ kind: 'Namespace', status: { phase: 'Terminating' } });
    const terminating = await core.readNamespaceStatus({ name: 'doomed' });
    expect([terminating.status?.phase, terminating.metadata?.deletionTimestamp instanceof Date]).toEqual(['Terminating', true]);
    expect(await refusal(core.createNamespacedPod({ namespace: 'doomed', body: pod('late', {}, 'doomed') as k8s.V1Pod }))).toEqual({ code: 403, reason: 'Forbidden' });
    expect((await core.listNamespacedPod({ namespace: 'doomed' })).items.map((p) => p.metadata?.name)).toEqual(['p']);

    double.finishTermination('doomed');
    await namespaces.until((n) => n.events.length === 2);
    await pods.until((p) => p.events.length === 1);
    expect(namespaces.events).toEqual(['MODIFIED doomed Terminating', 'DELETED doomed Terminating']);
    expect(pods.events).toEqual(['DELETED doomed/p']);
    expect(await refusal(core.readNamespace({ name: 'doomed' }))).toEqual({ code: 404, reason: 'NotFound' });
    expect(double.get(ref('Deployment', 'd', 'doomed'))).toBeUndefined();
    expect((await core.listPodForAllNamespaces()).items.map((p) => p.metadata?.name)).toEqual(['survivor']);
  });

  test('by default a deleted namespace goes by itself once it has been seen Terminating', async () => {
    await startDouble();
    const core = kc.makeApiClient(k8s.CoreV1Api);
    double.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'brief' } });
    const namespaces = await watch('/api/v1/namespaces', { resourceVersion: double.resourceVersion }, (type, o) => `${type} ${o.metadata?.name} ${(o.status as { phase: string }).phase}`);
    await core.deleteNamespace({ name: 'brief' });
    await namespaces.until((n) => n.events.length === 2);
    expect(namespaces.events).toEqual(['MODIFIED brief Terminating', 'DELETED brief Terminating']);
  });
});

describe('Flux', () => {
  const HELM_RELEASES = '/apis/helm.toolkit.fluxcd.io/v2/helmreleases';

  const ociRepository = (namespace: string, tag: string): KubeObject => ({
    apiVersion: 'source.toolkit.fluxcd.io/v1',
    kind: 'OCIRepository',
    metadata: { name: namespace, namespace },
    spec: { interval: '10m', url: 'oci://registry.example.com/charts/web', ref: { tag } },
  });
  /** as Berth makes them: named after their namespace, their chart from the OCIRepository of that name */
  const helmRelease = (namespace: string, values: object = {}): KubeObject => ({
    apiVersion: 'helm.toolkit.fluxcd.io/v2',
    kind: 'HelmRelease',
    metadata: { name: namespace, namespace },
    spec: { interval: '10m', chartRef: { kind: 'OCIRepository', name: namespace }, values },
  });
  const releaseRef = (namespace: string) => ({ apiVersion: 'helm.toolkit.fluxcd.io/v2', kind: 'HelmRelease', metadata: { name: namespace, namespace } });
  const namespace = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });

  /**
   * Server-side apply through one KubernetesObjectApi, as Berth's task worker does it (each instance
   * has a discovery cache of its own).
   */
  const applier = () => {
    const objects = k8s.KubernetesObjectApi.makeApiClient(kc);
    return (object: KubeObject) =>
      objects.patch(object as k8s.KubernetesObject, undefined, undefined, 'berth', true, k8s.PatchStrategy.ServerSideApply) as Promise<KubeObject & k8s.KubernetesObject>;
  };

  type ReleaseStatus = { observedGeneration?: number; lastAttemptedRevision?: string; conditions?: Array<{ type: string; status: string; reason: string; message: string }> };
  const statusOf = (o: KubeObject) => (o.status ?? {}) as ReleaseStatus;
  const ready = (o: KubeObject) => statusOf(o).conditions?.find((c) => c.type === 'Ready');
  /** `generation/observedGeneration Ready-status reason` */
  const readiness = (o: KubeObject) => {
    const condition = ready(o);
    return `${o.metadata?.generation}/${statusOf(o).observedGeneration ?? '-'} ${condition ? `${condition.status} ${condition.reason}` : '-'}`;
  };
  /** Until the controller has settled the release at that generation, one way or the other. */
  const whenReady = (name: string, generation: number) =>
    double.until(() => {
      const release = double.get(releaseRef(name));
      return release !== undefined && statusOf(release).observedGeneration === generation && ready(release)?.status !== 'Unknown';
    });

  test('an applied HelmRelease goes Progressing, then Ready at its generation with its workload; a changed spec is upgraded', async () => {
    await startDouble({ helmController: { delayMs: 20 } });
    const apply = applier();
    const events = await watch(HELM_RELEASES, { resourceVersion: double.resourceVersion }, (type, o) => `${type} ${readiness(o)}`);
    await apply(namespace('web'));
    await apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'web-config', namespace: 'web' }, type: 'Opaque', data: { token: 'c2VjcmV0' } });
    await apply(ociRepository('web', '1.2.0'));
    const created = await apply(helmRelease('web', { replicaCount: 2 }));
    expect([created.metadata?.generation, created.status]).toEqual([1, undefined]);
    await whenReady('web', 1);
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    const workload = await apps.readNamespacedDeployment({ name: 'web', namespace: 'web' });
    expect([workload.metadata?.labels?.['app.kubernetes.io/instance'], workload.spec?.replicas, workload.status?.availableReplicas]).toEqual(['web', 2, 2]);

    // CustomObjectsApi sends a JSON patch unless told otherwise; its body is JSON, which is YAML too
    const upgraded = await kc.makeApiClient(k8s.CustomObjectsApi).patchNamespacedCustomObject(
      { group: 'helm.toolkit.fluxcd.io', version: 'v2', namespace: 'web', plural: 'helmreleases', name: 'web', body: helmRelease('web', { replicaCount: 3 }), fieldManager: 'berth', force: true },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply),
    );
    // what the controller wrote stays: the apply carries no status
    expect(readiness(upgraded)).toBe('2/1 True InstallSucceeded');
    await whenReady('web', 2);
    await events.until((e) => e.events.length === 6);

    expect(events.events).toEqual([
      'ADDED 1/- -',
      'MODIFIED 1/- Unknown Progressing',
      'MODIFIED 1/1 True InstallSucceeded',
      'MODIFIED 2/1 True InstallSucceeded',
      'MODIFIED 2/1 Unknown Progressing',
      'MODIFIED 2/2 True UpgradeSucceeded',
    ]);
    const release = double.get(releaseRef('web'))!;
    expect(release.spec).toMatchObject({ values: { replicaCount: 3 } });
    expect(release.status).toMatchObject({
      observedGeneration: 2,
      lastAttemptedRevision: '1.2.0',
      lastAttemptedReleaseAction: 'upgrade',
      conditions: [{ type: 'Ready', status: 'True', reason: 'UpgradeSucceeded', message: 'Helm upgrade succeeded for release web/web.v2 with chart web@1.2.0', observedGeneration: 2 }],
    });
    expect(double.helmController.history('web', 'web').map((r) => [r.version, r.generation, r.action, r.chartVersion, r.values, r.status])).toEqual([
      [1, 1, 'install', '1.2.0', { replicaCount: 2 }, 'deployed'],
      [2, 2, 'upgrade', '1.2.0', { replicaCount: 3 }, 'deployed'],
    ]);
    expect((await apps.readNamespacedDeployment({ name: 'web', namespace: 'web' })).status?.availableReplicas).toBe(3);
    // KubernetesObjectApi asked discovery once per apiVersion for the plural, and whether the kind is namespaced
    expect(double.requests.filter((r) => r.verb === 'discovery').map((r) => r.path)).toEqual(['/api/v1', '/apis/source.toolkit.fluxcd.io/v1', '/apis/helm.toolkit.fluxcd.io/v2']);
  });

  test('fail() fails the release with its message and no workload; hold() keeps it Progressing; a missing source fails it until the source comes', async () => {
    await startDouble({
      helmController: { delayMs: 5, fail: (release) => (release.metadata.name === 'broken' ? 'Helm install failed: image pull back-off' : null), hold: (release) => release.metadata.name === 'stuck' },
    });
    const apply = applier();
    for (const name of ['broken', 'stuck', 'early']) {
      await apply(namespace(name));
      if (name !== 'early') await apply(ociRepository(name, '1.0.0'));
      await apply(helmRelease(name));
    }
    await whenReady('broken', 1);
    await double.until(() => ready(double.get(releaseRef('early'))!)?.reason === 'ArtifactFailed');
    // the others were reconciled meanwhile: stuck's install is as done as it will get
    expect(['broken', 'stuck', 'early'].map((name) => readiness(double.get(releaseRef(name))!))).toEqual(['1/1 False InstallFailed', '1/- Unknown Progressing', '1/- False ArtifactFailed']);
    expect([ready(double.get(releaseRef('broken'))!)?.message, ready(double.get(releaseRef('early'))!)?.message]).toEqual([
      'Helm install failed: image pull back-off',
      'could not get Source object: OCIRepository.source.toolkit.fluxcd.io "early" not found',
    ]);
    expect(double.get(ref('Deployment', 'broken', 'broken'))).toBeUndefined();
    expect(double.helmController.history('broken', 'broken').map((r) => r.status)).toEqual(['failed']);

    await apply(ociRepository('early', '1.0.0'));
    await whenReady('early', 1);
    expect(readiness(double.get(releaseRef('early'))!)).toBe('1/1 True InstallSucceeded');
    expect(readiness(double.get(releaseRef('stuck'))!)).toBe('1/- Unknown Progressing');
    expect(double.get(ref('Deployment', 'stuck', 'stuck'))).toBeUndefined();
  });

  test('a new tag in the OCIRepository upgrades the release that uses it, at the same generation', async () => {
    await startDouble({ helmController: { delayMs: 5 } });
    const apply = applier();
    await apply(namespace('web'));
    await apply(ociRepository('web', '1.0.0'));
    await apply(helmRelease('web'));
    await whenReady('web', 1);
    await apply(ociRepository('web', '1.1.0'));
    await double.until(() => double.helmController.history('web', 'web').length === 2);
    const release = double.get(releaseRef('web'))!;
    expect([readiness(release), statusOf(release).lastAttemptedRevision]).toEqual(['1/1 True UpgradeSucceeded', '1.1.0']);
    expect(double.get(ref('Deployment', 'web', 'web'))?.metadata.labels?.['helm.sh/chart']).toBe('web-1.1.0');
  });

  test('a deleted release takes its workload along; a deleted namespace takes everything in it', async () => {
    await startDouble({ helmController: { delayMs: 5 } });
    const apply = applier();
    const core = kc.makeApiClient(k8s.CoreV1Api);
    for (const name of ['web', 'api']) {
      await apply(namespace(name));
      await apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'config', namespace: name }, type: 'Opaque', data: {} });
      await apply(ociRepository(name, '1.0.0'));
      await apply(helmRelease(name));
      await whenReady(name, 1);
    }
    const workloads = await watch('/apis/apps/v1/deployments', { resourceVersion: double.resourceVersion }, (type, o) => `${type} ${o.metadata?.namespace}/${o.metadata?.name}`);

    await k8s.KubernetesObjectApi.makeApiClient(kc).delete(releaseRef('api'));
    await workloads.until((w) => w.events.length === 1);
    expect(double.helmController.history('api', 'api')).toEqual([]);

    await core.deleteNamespace({ name: 'web' });
    await double.until(() => !double.get({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'web' } }));
    await workloads.until((w) => w.events.length === 2);
    expect(workloads.events).toEqual(['DELETED api/api', 'DELETED web/web']);
    const secret = (name: string) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'config', namespace: name } });
    const source = (name: string) => ({ apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'OCIRepository', metadata: { name, namespace: name } });
    expect([releaseRef('web'), source('web'), secret('web'), releaseRef('api'), source('api'), secret('api')].map((r) => double.get(r)?.metadata.namespace ?? null)).toEqual([
      null,
      null,
      null,
      null,
      'api',
      'api',
    ]);
  });
});

describe('endpoints', () => {
  test('records each request and answers as told: the latest matching response, redirects and delays; 404 otherwise', async () => {
    const endpoints = await startEndpoints();
    try {
      endpoints.respond('/status', { body: { ready: true } });
      endpoints.respond((r) => r.query.fail === '1', { status: 503 });
      endpoints.respond('POST /actions/restart', (r) => ({ status: 202, body: `restarting ${JSON.parse(r.body).name}` }));
      endpoints.respond(/^GET \/old\//, { redirectTo: '/status' });
      endpoints.respond('/slow', { delayMs: 60_000 });

      const status = await fetch(`${endpoints.url}/status`);
      const restart = await fetch(`${endpoints.url}/actions/restart`, { method: 'POST', headers: { authorization: 'Bearer t' }, body: JSON.stringify({ name: 'web' }) });
      const moved = await fetch(`${endpoints.url}/old/status`);
      const slow = await fetch(`${endpoints.url}/slow`, { signal: AbortSignal.timeout(20) }).catch((err: Error) => err.name);
      expect([await status.json(), restart.status, await restart.text(), moved.redirected, await moved.json(), slow]).toEqual([
        { ready: true },
        202,
        'restarting web',
        true,
        { ready: true },
        'TimeoutError',
      ]);
      expect([(await fetch(`${endpoints.url}/status?fail=1`)).status, (await fetch(`${endpoints.url}/status`, { method: 'DELETE' })).status, (await fetch(`${endpoints.url}/other`)).status]).toEqual([503, 200, 404]);
      expect(endpoints.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
        'GET /status',
        'POST /actions/restart',
        'GET /old/status',
        'GET /status',
        'GET /slow',
        'GET /status',
        'DELETE /status',
        'GET /other',
      ]);
      expect([endpoints.requests[1].headers.authorization, endpoints.requests[1].body, endpoints.requests[5].query]).toEqual(['Bearer t', '{"name":"web"}', { fail: '1' }]);
    } finally {
      await endpoints.close();
    }
  });
});

test('close() ends every connection and timer of the double: nothing is left to keep the process alive', async () => {
  const alive = trackResources();
  await startDouble({ bookmarkIntervalMs: 10, namespaceTerminationMs: 3_600_000, helmController: { delayMs: 3_600_000 } });
  const core = kc.makeApiClient(k8s.CoreV1Api);
  // an install the helm-controller is in the middle of
  double.create({ apiVersion: 'helm.toolkit.fluxcd.io/v2', kind: 'HelmRelease', metadata: { name: 'web', namespace: 'apps' }, spec: {} });
  const { informer, log } = inform(PODS, () => core.listNamespacedPod({ namespace: 'apps' }));
  await informer.start();
  const bookmarked = await watch('/api/v1/namespaces', { allowWatchBookmarks: true, timeoutSeconds: 3600 });
  await core.deleteNamespace({ name: 'apps' });
  await double.until(() => double.openWatches() === 2);
  expect(alive()).toEqual(expect.arrayContaining(['TCPSERVERWRAP', 'TCPWRAP', 'Timeout']));

  await double.close();
  await log.until((l) => l.errors.length === 1);
  await bookmarked.until((b) => b.ended !== undefined);
  expect([log.errors, bookmarked.ended]).toEqual([['terminated (ECONNRESET)'], 'terminated (ECONNRESET)']);
  // the client's sockets close as the resets reach them: a few turns of the event loop
  for (let turn = 0; turn < 100 && alive().length; turn++) await new Promise((resolve) => setImmediate(resolve));
  expect(alive()).toEqual([]);
});

/**
 * Follows the sockets, servers and timers created from now on, except jest's own (its reporter
 * runs in this process too): returns those still open that keep the event loop alive (an unref'd
 * client timer does not), by type.
 */
function trackResources(): () => string[] {
  const tracked = new Map<number, { type: string; resource: { hasRef?: () => boolean } }>();
  const hook = createHook({
    init: (id, type, _trigger, resource) => {
      if (['TCPWRAP', 'TCPSERVERWRAP', 'Timeout'].includes(type) && !/node_modules\/(@jest|jest-)/.test(creatingFrame())) tracked.set(id, { type, resource });
    },
    destroy: (id) => tracked.delete(id),
  }).enable();
  hooks.push(hook);
  return () => [...tracked.values()].filter(({ resource }) => resource.hasRef?.() ?? true).map(({ type }) => type).sort();
}

/**
 * The first frame of the stack outside Node's internals and this file (the hook): the code that
 * creates a resource. This file makes none itself; the double and client-node make them.
 */
const creatingFrame = () =>
  (new Error().stack ?? '')
    .split('\n')
    .slice(1)
    .find((frame) => !frame.includes('node:') && !frame.includes(THIS_FILE)) ?? '';

const THIS_FILE = fileURLToPath(import.meta.url);
