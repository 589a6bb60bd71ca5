import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createDeployment as createDeploymentOf, watchedCluster } from './support/deployments.js';
import { unique } from './support/fixtures.js';
import { startKubeApiDouble, type KubeApiDouble } from './support/kube-api/index.js';
import { startTestServer, testConfig, type TestServer } from './support/server.js';
import { waitFor } from './support/subscriptions.js';

/**
 * BERTH_HELM_BINARY: the task worker runs helm itself instead of applying Flux objects. The helm here is a fake the
 * test writes: it records its arguments, the values file, the modes of the files Berth wrote and what the cluster
 * (the API server double, reached with the kubeconfig's server and token) says of the namespace, then succeeds, or
 * fails as the values ask.
 */
let server: TestServer;
let admin: Record<string, string>;
let double: KubeApiDouble;
let clusterId: string;
let envId: string;
let folder: string;
let helmPath: string;
let logPath: string;

interface HelmCall {
  args: string[];
  values?: Record<string, any>;
  server: string;
  modes: { dir: string; kubeconfig: string; values?: string };
  /** the status of GET namespaces/<ns> while helm ran */
  namespace: number;
}

const FAKE_HELM = (log: string) => `#!${process.execPath}
const fs = require('node:fs');
const path = require('node:path');
const args = process.argv.slice(2);
const after = (flag) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
const mode = (file) => (fs.statSync(file).mode & 0o777).toString(8);
(async () => {
  const kubeconfigPath = after('--kubeconfig');
  const kubeconfig = JSON.parse(fs.readFileSync(kubeconfigPath, 'utf8'));
  const server = kubeconfig.clusters[0].cluster.server;
  const token = kubeconfig.users[0].user.token;
  const valuesPath = after('--values');
  const values = valuesPath && JSON.parse(fs.readFileSync(valuesPath, 'utf8'));
  const ns = after('--namespace');
  const namespace = (await fetch(server + '/api/v1/namespaces/' + ns, { headers: { authorization: 'Bearer ' + token } })).status;
  const modes = { dir: mode(path.dirname(kubeconfigPath)), kubeconfig: mode(kubeconfigPath), values: valuesPath && mode(valuesPath) };
  fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify({ args, values, server, modes, namespace }) + '\\n');
  if (modes.kubeconfig !== '600') {
    process.stderr.write('Error: the kubeconfig is readable by others\\n');
    process.exit(1);
  }
  const fail = values && values.config && values.config.helmFail;
  if (fail) {
    // as a real helm might: a warning that names the file, then the error; neither the path nor the token may reach Berth's records
    process.stderr.write('WARNING: ' + kubeconfigPath + ' authenticates with ' + token + '\\nError: ' + fail + '\\n');
    process.exit(1);
  }
  process.stdout.write(args[0] === 'upgrade' ? 'Release "' + ns + '" has been upgraded. Happy Helming!\\nSTATUS: deployed\\n' : 'release "' + ns + '" uninstalled\\n');
})();
`;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'fake-helm-'));
  helmPath = join(folder, 'helm');
  logPath = join(folder, 'calls.jsonl');
  await writeFile(helmPath, FAKE_HELM(logPath), { mode: 0o755 });
  double = await startKubeApiDouble();
  server = await startTestServer({ K8S_WATCH: 'true', TASK_WORKER: 'true', TASK_POLL_MS: '200', TASK_LEASE_SECONDS: '2', TASK_RELEASE_TIMEOUT_SECONDS: '2', BERTH_HELM_BINARY: helmPath, BERTH_PUBLIC_URL: 'https://berth.example.com' });
  admin = await server.adminAuth();
  ({ envId, clusterId } = await watchedCluster(server, admin, double, 'helm'));
});
afterAll(async () => {
  await server?.stop();
  await double?.close();
  if (folder) await rm(folder, { recursive: true, force: true });
});

const createDeployment = (name: string, config: Record<string, unknown> = {}, valuesUi?: unknown) => createDeploymentOf(server, admin, clusterId, name, { config, valuesUi });

const helmCalls = async (namespace: string): Promise<HelmCall[]> =>
  (existsSync(logPath) ? (await readFile(logPath, 'utf8')).split('\n').filter(Boolean).map((line) => JSON.parse(line) as HelmCall) : []).filter(
    (c) => c.args.includes(namespace),
  );
const flag = (call: HelmCall, name: string) => call.args[call.args.indexOf(name) + 1];
const tasksOf = (deploymentId: string) =>
  server.sql<{ operation: object; status: string; reason: string | null }>('select operation, status, reason from deployment_tasks where deployment_id = ? order by created_at', [deploymentId]);
const deploymentRow = async (id: string) =>
  (await server.sql<{ status: string; reason: string | null }>('select status, reason from deployments where id = ?', [id]))[0];
const namespaceOf = (name: string) => double.get({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });

test('install runs helm upgrade --install with the rendered values, after Berth applied the namespace and Secrets; no Flux object', async () => {
  const secretName = `db-${unique()}`;
  const secret = await server.gql<any, object>(
    `mutation($input: CreateSecretInput!) { createSecret(input: $input) { id } }`,
    { input: { envId, collection: 'db', name: secretName, contents: 'the-password' } },
    admin,
  );
  expect(secret.errors).toBeUndefined();
  const valuesUi = {
    inputs: [{ id: 'db', type: 'CollectionSelect', collection: 'secrets', required: true }],
    outputs: { values: [{ path: ['database', 'secretName'], value: { FieldProperty: { input: 'db', property: 'name' } } }], secrets: { 'app-db': { password: { FieldProperty: { input: 'db', property: 'contents' } } } } },
  };
  const { id, namespace, repository } = await createDeployment('web', { db: secret.data.createSecret.id }, valuesUi);
  await waitFor(async () => (await deploymentRow(id)).status === 'Running', 'the deployment Running');

  const [call, ...more] = await helmCalls(namespace);
  expect(more).toEqual([]);
  expect(call.args).toEqual([
    'upgrade', '--install', namespace, `oci://${repository}`, '--version', '1.2.3', '--namespace', namespace,
    '--values', expect.stringMatching(/values\.json$/), '--wait', '--timeout', '2s', '--kubeconfig', expect.any(String),
  ]);
  const [{ id: taskId }] = await server.sql<{ id: string }>('select id from deployment_tasks where deployment_id = ?', [id]);
  expect(call.values).toMatchObject({
    platz: { deployment_id: id, deployment_name: 'web', cluster_id: clusterId, env_id: envId, revision_id: taskId, own_url: 'https://berth.example.com' },
    database: { secretName },
  });
  // the values name the secret, never its contents, which only the Secret in the namespace holds
  expect(JSON.stringify(call.values)).not.toContain('the-password');
  const written = double.get({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'app-db', namespace } }) as { stringData?: Record<string, string>; data?: Record<string, string> };
  expect(written.stringData?.password ?? Buffer.from(written.data!.password, 'base64').toString()).toBe('the-password');
  // helm reached the cluster with the kubeconfig Berth wrote, only Berth could read it, and the namespace was already there
  expect(call).toMatchObject({ server: double.url, modes: { dir: '700', kubeconfig: '600', values: '600' }, namespace: 200 });
  expect(existsSync(dirname(flag(call, '--kubeconfig')))).toBe(false);

  expect(namespaceOf(namespace)!.metadata.labels).toEqual({ platz: 'yes' });
  expect(namespaceOf(namespace)!.metadata.annotations).toMatchObject({ platz_deployment_id: id });
  expect(double.requests.filter((r) => r.path.includes('toolkit.fluxcd.io'))).toEqual([]);
  expect(await tasksOf(id)).toEqual([expect.objectContaining({ status: 'Done', reason: expect.stringContaining(`Release "${namespace}" has been upgraded`) })]);
  expect(await deploymentRow(id)).toEqual({ status: 'Running', reason: null });
});

test('helm exits non-zero: the task Failed with its stderr, minus the temporary path and the token; the deployment Error', async () => {
  const { id, namespace } = await createDeployment('broken', { helmFail: 'chart "broken" not found in registry' });
  await waitFor(async () => (await deploymentRow(id)).status === 'Error', 'the deployment Error');
  const [task] = await tasksOf(id);
  expect(task).toMatchObject({ status: 'Failed', reason: expect.stringContaining(`helm upgrade --install ${namespace} failed (exit 1)`) });
  expect(task.reason).toContain('Error: chart "broken" not found in registry');
  const [call] = await helmCalls(namespace);
  expect(task.reason).not.toContain(dirname(flag(call, '--kubeconfig')));
  expect(task.reason).not.toContain(double.token);
  expect(task.reason).toContain('[redacted]');
  expect(await deploymentRow(id)).toMatchObject({ status: 'Error', reason: expect.stringContaining('not found in registry') });
  expect(existsSync(dirname(flag(call, '--kubeconfig')))).toBe(false);
});

test('delete runs helm uninstall while the namespace is there, then deletes it, and the row goes', async () => {
  const { id, namespace } = await createDeployment('leaving');
  await waitFor(async () => (await deploymentRow(id)).status === 'Running', 'installed');
  const res = await server.gql<any, object>(`mutation($id: ID!) { deleteDeployment(id: $id) { status } }`, { id }, admin);
  expect(res.errors).toBeUndefined();
  await waitFor(async () => !namespaceOf(namespace), 'the namespace gone');
  await waitFor(async () => (await server.sql('select 1 from deployments where id = ?', [id])).length === 0, 'the deployment row gone');

  const [, uninstall] = await helmCalls(namespace);
  expect(uninstall.args).toEqual(['uninstall', namespace, '--namespace', namespace, '--ignore-not-found', '--wait', '--timeout', '2s', '--kubeconfig', expect.any(String)]);
  expect(uninstall).toMatchObject({ server: double.url, modes: { kubeconfig: '600' }, namespace: 200 });
  expect(existsSync(dirname(flag(uninstall, '--kubeconfig')))).toBe(false);
});

test('a rename uninstalls the old release before its namespace goes, then installs in the new one', async () => {
  const { id, namespace } = await createDeployment('moving');
  await waitFor(async () => (await deploymentRow(id)).status === 'Running', 'installed');
  const res = await server.gql<any, object>(`mutation($id: ID!) { updateDeployment(id: $id, input: { name: "moved" }) { id } }`, { id }, admin);
  expect(res.errors).toBeUndefined();
  const moved = namespace.replace(/-moving$/, '-moved');
  await waitFor(async () => (await tasksOf(id)).length === 3 && (await tasksOf(id)).every((t) => t.status === 'Done'), 'recreated and upgraded');
  await waitFor(async () => !namespaceOf(namespace), 'the old namespace gone');
  expect((await helmCalls(namespace)).map((c) => [c.args[0], c.namespace])).toEqual([['upgrade', 200], ['uninstall', 200]]);
  const [upgrade] = await helmCalls(moved);
  expect(upgrade.args.slice(0, 3)).toEqual(['upgrade', '--install', moved]);
  expect(upgrade.values!.platz.deployment_name).toBe('moved');
});

test('a BERTH_HELM_BINARY that is missing or not executable stops the start, naming the variable', async () => {
  expect(() => testConfig({ BERTH_HELM_BINARY: join(folder, 'no-such-helm') })).toThrow(/BERTH_HELM_BINARY: .*no-such-helm does not exist/);
  const plain = join(folder, 'not-executable');
  await writeFile(plain, '');
  await chmod(plain, 0o644);
  expect(() => testConfig({ BERTH_HELM_BINARY: plain })).toThrow(/BERTH_HELM_BINARY: .*not-executable is not executable/);
  expect(() => testConfig({ BERTH_HELM_BINARY: folder })).toThrow(/BERTH_HELM_BINARY: .* is not a file/);
  expect(testConfig({ BERTH_HELM_BINARY: helmPath }).BERTH_HELM_BINARY).toBe(helmPath);
});
