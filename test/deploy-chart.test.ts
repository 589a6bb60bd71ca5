import { readdirSync, readFileSync } from 'node:fs';
import { isMap, parseAllDocuments, parseDocument, type YAMLMap } from 'yaml';
import { Keyring } from '../src/auth/encryption.js';
import { loadConfig } from '../src/config/config.js';
import { loadChart, renderChart, renderFiles, valuesPaths, type Release, type Rendered } from './support/helm-template.js';

/**
 * The Helm chart (deploy/helm/berth) without a helm binary: its templates rendered by test/support/helm-template.ts.
 * Every value a template reads is declared, commented and in the README's table; deploy/kubernetes/ is what the chart
 * renders by default; and the environment it gives Berth is a configuration Berth accepts.
 */
const CHART_DIR = 'deploy/helm/berth';
const MANIFESTS_DIR = 'deploy/kubernetes';
const chart = loadChart(CHART_DIR);

/** The values deploy/kubernetes/ is rendered with: the defaults, and placeholders where the chart requires a value. */
const PLACEHOLDERS = {
  database: { url: 'postgres://berth:CHANGE-ME@postgres:5432/berth' },
  secrets: { jwtSecret: 'CHANGE-ME', encryptionKeys: 'CHANGE-ME' },
};
const RELEASE: Release = { name: 'berth', namespace: 'berth', values: PLACEHOLDERS };

/** Values Berth starts with. */
const WORKING = { database: { url: 'postgres://berth:secret@postgres:5432/berth' }, secrets: { jwtSecret: 'j'.repeat(32), encryptionKeys: Keyring.generateSpec() } };

const render = (values: Record<string, unknown>) => renderChart(chart, { name: 'berth', namespace: 'berth', values });
const find = (objects: Rendered[], kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);

type Container = { name: string; args?: string[]; env: { name: string; value?: string; valueFrom?: { secretKeyRef: { name: string; key: string; optional?: boolean } } }[]; [k: string]: unknown };
const containerOf = (deployment: Rendered | undefined): Container => (deployment as unknown as { spec: { template: { spec: { containers: Container[] } } } }).spec.template.spec.containers[0];

/** The environment a container gets, its secretKeyRefs read from the rendered Secrets (an optional one missing: unset). */
function environment(objects: Rendered[], container: Container): Record<string, string> {
  return Object.fromEntries(
    container.env.flatMap((e) => {
      if (e.value !== undefined) return [[e.name, e.value]];
      const ref = e.valueFrom!.secretKeyRef;
      const value = (find(objects, 'Secret', ref.name) as { stringData?: Record<string, string> } | undefined)?.stringData?.[ref.key];
      if (value === undefined && !ref.optional) throw new Error(`${e.name}: the Secret ${ref.name} has no ${ref.key}`);
      return value === undefined ? [] : [[e.name, value]];
    }),
  );
}

describe('values', () => {
  const read = valuesPaths(chart).map((p) => p.join('.'));
  /** values.yaml's keys by path, with the comment above each */
  const declared = new Map<string, string | undefined>();
  const walk = (map: YAMLMap, prefix: string) =>
    map.items.forEach((pair, i) => {
      const path = `${prefix}${String((pair.key as { value: unknown }).value)}`;
      // yaml attaches the comment above a map's first key to the map itself
      declared.set(path, (pair.key as { commentBefore?: string }).commentBefore ?? (i === 0 ? map.commentBefore ?? undefined : undefined));
      if (isMap(pair.value)) walk(pair.value, `${path}.`);
    });
  walk(parseDocument(readFileSync(`${CHART_DIR}/values.yaml`, 'utf8')).contents as YAMLMap, '');
  /** the README's table: the first column of each row */
  const documented = [...readFileSync(`${CHART_DIR}/README.md`, 'utf8').matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]);

  test('the templates read values', () => {
    expect(read).toEqual(expect.arrayContaining(['image.repository', 'database.url', 'secrets.existingSecret', 'rbac.extraRules', 'worker.enabled']));
  });

  test('every value a template reads is declared in values.yaml with a comment above it, and has a row in the README table', () => {
    const undeclared = read.filter((path) => !declared.has(path));
    const uncommented = read.filter((path) => declared.has(path) && !declared.get(path)?.trim());
    const missingRows = read.filter((path) => !documented.includes(path));
    expect({ undeclared, uncommented, missingRows }).toEqual({ undeclared: [], uncommented: [], missingRows: [] });
  });

  test('every value in values.yaml is read by a template, or is a field of one read whole (resources, probes…), and is commented', () => {
    // read whole: toYaml'd as a Kubernetes field, whose own fields need no comment of the chart's
    const whole = read.filter((path) => !read.some((other) => other.startsWith(`${path}.`)));
    const inside = (path: string) => whole.some((w) => path.startsWith(`${w}.`));
    const unread = [...declared.keys()].filter((path) => !inside(path) && !read.some((r) => r === path || r.startsWith(`${path}.`)));
    const uncommented = [...declared.entries()].filter(([path, comment]) => !inside(path) && !comment?.trim()).map(([path]) => path);
    expect({ unread, uncommented }).toEqual({ unread: [], uncommented: [] });
  });

  test('the README table has no row for a value the chart does not read', () => {
    expect(documented.filter((path) => !read.includes(path))).toEqual([]);
  });
});

describe('deploy/kubernetes', () => {
  test('holds what the chart renders with its defaults (and the placeholders), file for file, object for object', () => {
    const rendered = renderFiles(chart, RELEASE);
    const manifests = readdirSync(MANIFESTS_DIR).filter((f) => f.endsWith('.yaml')).sort();
    const renderedFiles = [...rendered].filter(([file, text]) => file.endsWith('.yaml') && text.trim()).map(([file]) => file).sort();
    expect(manifests).toEqual(renderedFiles);
    for (const file of manifests) {
      const objects = (text: string) => parseAllDocuments(text).map((d) => d.toJS() as unknown).filter(Boolean);
      expect({ file, objects: objects(readFileSync(`${MANIFESTS_DIR}/${file}`, 'utf8')) }).toEqual({ file, objects: objects(rendered.get(file)!) });
    }
  });

  test('are the server Deployment, its Service, ServiceAccount, Secret, ClusterRole and binding and PodDisruptionBudget; no worker, no Ingress', () => {
    expect(renderChart(chart, RELEASE).map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'ClusterRole/berth', 'ClusterRoleBinding/berth', 'Deployment/berth', 'PodDisruptionBudget/berth', 'Secret/berth', 'Service/berth', 'ServiceAccount/berth',
    ]);
  });
});

describe('rendering', () => {
  test('without a database or keys the chart refuses to render, naming the value', () => {
    expect(() => render({ secrets: WORKING.secrets })).toThrow(/database\.url: the PostgreSQL URL/);
    expect(() => render({ database: WORKING.database, secrets: { encryptionKeys: 'k1:x' } })).toThrow(/secrets\.jwtSecret: at least 32 characters/);
    expect(() => render({ database: WORKING.database, secrets: { jwtSecret: 'x'.repeat(32) } })).toThrow(/secrets\.encryptionKeys: k1:/);
  });

  test('the environment it gives Berth is a configuration Berth accepts, every variable one Berth reads', () => {
    const objects = render({ ...WORKING, config: { LOG_LEVEL: 'debug', K8S_WATCH_POLL_MS: 5000 } });
    const env = environment(objects, containerOf(find(objects, 'Deployment', 'berth')));
    const config = loadConfig(env);
    expect(Object.keys(config)).toEqual(expect.arrayContaining(Object.keys(env)));
    expect(config).toMatchObject({
      PORT: 4000,
      DATABASE_URL: WORKING.database.url,
      BERTH_JWT_SECRET: WORKING.secrets.jwtSecret,
      BERTH_ENCRYPTION_KEYS: WORKING.secrets.encryptionKeys,
      BERTH_PUBLIC_URL: 'http://berth.berth.svc:80',
      LOG_LEVEL: 'debug',
      K8S_WATCH_POLL_MS: 5000,
      TASK_WORKER: true,
    });
    // no admin password given: the optional reference is left unset, and Berth generates one
    expect(config.BERTH_ADMIN_PASSWORD).toBeUndefined();
  });

  test('a variable the chart sets cannot be set again through config', () => {
    expect(() => render({ ...WORKING, config: { TASK_WORKER: 'true' } })).toThrow(/config\.TASK_WORKER: the chart sets TASK_WORKER itself/);
  });

  test('existing Secrets: the chart makes none, and the environment reads them', () => {
    const objects = render({ database: { existingSecret: 'pg-app', existingSecretKey: 'uri' }, secrets: { existingSecret: 'berth-keys' } });
    expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
    const refs = Object.fromEntries(containerOf(find(objects, 'Deployment', 'berth')).env.filter((e) => e.valueFrom).map((e) => [e.name, e.valueFrom!.secretKeyRef]));
    expect(refs).toEqual({
      DATABASE_URL: { name: 'pg-app', key: 'uri' },
      BERTH_JWT_SECRET: { name: 'berth-keys', key: 'BERTH_JWT_SECRET' },
      BERTH_ENCRYPTION_KEYS: { name: 'berth-keys', key: 'BERTH_ENCRYPTION_KEYS' },
      BERTH_ADMIN_PASSWORD: { name: 'berth-keys', key: 'BERTH_ADMIN_PASSWORD', optional: true },
    });
    // only the database from elsewhere: the chart's Secret holds the keys alone
    const keysOnly = render({ database: { existingSecret: 'pg-app' }, secrets: { ...WORKING.secrets, adminPassword: 'first-admin' } });
    expect(Object.keys((find(keysOnly, 'Secret', 'berth') as unknown as { stringData: object }).stringData).sort()).toEqual(['BERTH_ADMIN_PASSWORD', 'BERTH_ENCRYPTION_KEYS', 'BERTH_JWT_SECRET']);
  });

  test('the worker: `berth worker` as the image runs the server, no probes, the same environment; the server then runs no tasks', () => {
    const objects = render({ ...WORKING, worker: { enabled: true, replicaCount: 3 } });
    const worker = find(objects, 'Deployment', 'berth-worker') as Rendered & { spec: { replicas: number; template: { spec: { securityContext: unknown } } } };
    const server = find(objects, 'Deployment', 'berth') as typeof worker;
    expect(worker.spec.replicas).toBe(3);
    const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(readFileSync('Dockerfile', 'utf8'))![1]) as string[];
    expect(containerOf(worker).args).toEqual([...cmd, 'worker']);
    expect(containerOf(worker)).not.toHaveProperty('readinessProbe');
    expect(containerOf(worker)).not.toHaveProperty('livenessProbe');
    expect(containerOf(worker).securityContext).toEqual(containerOf(server).securityContext);
    expect(worker.spec.template.spec.securityContext).toEqual(server.spec.template.spec.securityContext);
    expect(loadConfig(environment(objects, containerOf(worker))).TASK_WORKER).toBe(true);
    expect(loadConfig(environment(objects, containerOf(server))).TASK_WORKER).toBe(false);
    // the PodDisruptionBudget and the Service select the server's pods, never the worker's
    const podLabels = (d: typeof worker) => (d as unknown as { spec: { template: { metadata: { labels: Record<string, string> } } } }).spec.template.metadata.labels;
    for (const selector of [(find(objects, 'Service', 'berth') as any).spec.selector, (find(objects, 'PodDisruptionBudget', 'berth') as any).spec.selector.matchLabels]) {
      expect(podLabels(server)).toMatchObject(selector);
      expect(podLabels(worker)).not.toMatchObject(selector);
    }
  });

  test('the Ingress routes its hosts to the Service\'s port, and its first host is the public URL', () => {
    const objects = render({ ...WORKING, ingress: { enabled: true, className: 'nginx', tls: [{ secretName: 'berth-tls', hosts: ['berth.example.com'] }] } });
    const ingress = find(objects, 'Ingress', 'berth') as any;
    const service = find(objects, 'Service', 'berth') as any;
    expect(ingress.spec).toMatchObject({ ingressClassName: 'nginx', tls: [{ secretName: 'berth-tls', hosts: ['berth.example.com'] }] });
    expect(ingress.spec.rules).toEqual([
      { host: 'berth.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'berth', port: { name: service.spec.ports[0].name } } } }] } },
    ]);
    expect(environment(objects, containerOf(find(objects, 'Deployment', 'berth'))).BERTH_PUBLIC_URL).toBe('https://berth.example.com');
    const publicUrl = (values: Record<string, unknown>) => {
      const others = render({ ...WORKING, ...values });
      return environment(others, containerOf(find(others, 'Deployment', 'berth'))).BERTH_PUBLIC_URL;
    };
    expect(publicUrl({ ingress: { enabled: true } })).toBe('http://berth.example.com');
    expect(publicUrl({ ingress: { enabled: true }, publicUrl: 'https://berth.example.org' })).toBe('https://berth.example.org');
  });

  test('a release named otherwise, an existing ServiceAccount, extra rules, pod placement', () => {
    const objects = renderChart(chart, {
      name: 'portal',
      namespace: 'tools',
      values: {
        ...WORKING,
        serviceAccount: { create: false, name: 'portal-sa' },
        rbac: { extraRules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }] },
        nodeSelector: { pool: 'system' },
        tolerations: [{ key: 'dedicated', operator: 'Exists' }],
        podAnnotations: { 'example.com/scrape': 'true' },
      },
    });
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'ClusterRole/portal-berth', 'ClusterRoleBinding/portal-berth', 'Deployment/portal-berth', 'PodDisruptionBudget/portal-berth', 'Secret/portal-berth', 'Service/portal-berth',
    ]);
    const binding = find(objects, 'ClusterRoleBinding', 'portal-berth') as any;
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'portal-sa', namespace: 'tools' }]);
    const role = find(objects, 'ClusterRole', 'portal-berth') as any;
    expect(role.rules.at(-1)).toEqual({ apiGroups: ['*'], resources: ['*'], verbs: ['*'] });
    const pod = (find(objects, 'Deployment', 'portal-berth') as any).spec.template;
    expect(pod.spec).toMatchObject({ serviceAccountName: 'portal-sa', nodeSelector: { pool: 'system' }, tolerations: [{ key: 'dedicated', operator: 'Exists' }] });
    expect(pod.metadata.annotations).toEqual({ 'example.com/scrape': 'true' });
    expect(() => render({ ...WORKING, serviceAccount: { create: false } })).toThrow(/serviceAccount\.name/);
  });
});
