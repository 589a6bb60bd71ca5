import type { DeploymentKind } from '../src/entities/index.js';
import { watchedCluster } from './support/deployments.js';
import { unique } from './support/fixtures.js';
import { startKubeApiDouble, type HelmControllerOptions, type KubeApiDouble } from './support/kube-api/index.js';
import { LIGHTHOUSE, lighthouseCharts, lighthouseClient, lighthouseUser, type LighthouseClient } from './support/lighthouse.js';
import { restClient, type Rest } from './support/rest.js';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from './support/server.js';
import { waitFor } from './support/subscriptions.js';

/**
 * Lighthouse's applications over Berth's deployments, through HTTP with a logged-in session: clusters registered
 * against the Kubernetes API double (its helm-controller fails a release whose config asks, or never readies one),
 * the task worker carrying out the tasks each request makes, and the progress streams fed by those tasks' ends.
 */
type Line = { Status: string; Method: string; Endpoint: string; Message: string; Code: number; Instance: string; Item: number; Total: number };

const FINALIZED: Line = { Status: 'Finalized', Method: '', Endpoint: '', Message: '', Code: 0, Instance: '', Item: 0, Total: 0 };

/** A stream's lines, parsed; each must be one JSON object. */
const linesOf = (text: string): Line[] => text.trimEnd().split('\n').map((line) => JSON.parse(line) as Line);

/** What a streamed step says, line by line, instance lines sorted by instance (they come in the order tasks end). */
function stepsOf(lines: Line[]): { action: string; instances: Pick<Line, 'Status' | 'Method' | 'Code' | 'Instance'>[] }[] {
  const steps: { action: string; instances: Pick<Line, 'Status' | 'Method' | 'Code' | 'Instance'>[] }[] = [];
  for (const line of lines) {
    if (line.Status === 'Starting') steps.push({ action: line.Message, instances: [] });
    else if (!['Complete', 'Finalized'].includes(line.Status)) steps.at(-1)!.instances.push({ Status: line.Status, Method: line.Method, Code: line.Code, Instance: line.Instance });
  }
  for (const step of steps) step.instances.sort((a, b) => a.Instance.localeCompare(b.Instance));
  return steps;
}

/** The shape every stream has: per step Starting, its instances, Complete (Item = Total); Finalized last, once. */
function expectWellFormed(lines: Line[]): void {
  expect(lines.at(-1)).toEqual(FINALIZED);
  expect(lines.filter((l) => l.Status === 'Finalized')).toHaveLength(1);
  let open: Line | null = null;
  for (const line of lines.slice(0, -1)) {
    if (line.Status === 'Starting') {
      expect(open).toBeNull();
      open = line;
    } else if (line.Status === 'Complete') {
      expect(line).toMatchObject({ Message: open!.Message, Item: open!.Total, Total: open!.Total });
      open = null;
    } else {
      expect(line.Total).toBe(open!.Total);
      expect(line.Item).toBeLessThan(line.Total);
    }
  }
  expect(open).toBeNull();
}

/** one API server double per cluster: a beacon's address is its API server's */
const doubles: KubeApiDouble[] = [];
let server: TestServer;
let rest: Rest;
let admin: Record<string, string>;
const clusters: Record<'east' | 'west' | 'north', { envId: string; clusterId: string; address: string }> = {} as never;
let kind: DeploymentKind;
/** west's alias: Lighthouse resolves aliases wherever an instance is named */
const westAlias = `west-${unique()}`;
let image: string;
let image2: string;
let owner: { email: string; client: LighthouseClient };
let maintainer: { email: string; client: LighthouseClient };
let viewer: { email: string; client: LighthouseClient };
let stranger: { email: string; client: LighthouseClient };

const deploymentsOf = (name: string) =>
  server.sql<{ id: string; cluster_id: string; enabled: boolean; status: string; config: Record<string, unknown>; helm_chart_id: string }>(
    'select id, cluster_id, enabled, status, config, helm_chart_id from deployments where name = ? order by created_at',
    [name],
  );
const tasksOf = (name: string) =>
  server.sql<{ id: string; status: string; operation: Record<string, unknown> }>(
    'select t.id, t.status, t.operation from deployment_tasks t join deployments d on d.id = t.deployment_id where d.name = ? order by t.created_at',
    [name],
  );
const taskCount = async () => (await server.sql<{ n: number }>('select count(*)::int as n from deployment_tasks'))[0].n;
const deploymentCount = async () => (await server.sql<{ n: number }>('select count(*)::int as n from deployments'))[0].n;

/** A user with these env roles (and kind role) in the three envs, logged in. */
async function person(envRole: 'User' | null, kindRole: 'Owner' | 'Maintainer' | null) {
  const { user, client } = await lighthouseUser(server);
  for (const { envId } of Object.values(clusters)) {
    if (envRole) expect((await rest('POST', '/api/v2/env-user-permissions', { headers: admin, body: { env_id: envId, user_id: user.id, role: envRole } })).status).toBe(201);
    if (kindRole) expect((await rest('POST', '/api/v2/deployment-permissions', { headers: admin, body: { env_id: envId, user_id: user.id, kind_id: kind.id, role: kindRole } })).status).toBe(201);
  }
  return { id: user.id, email: user.email, client };
}

/** A release whose config asks for it fails, or never becomes ready. */
const helmController: HelmControllerOptions = {
  delayMs: 30,
  fail: (release) => ((release.spec as { values?: { config?: { fail?: string } } })?.values?.config?.fail ?? null),
  hold: (release) => (release.spec as { values?: { config?: { hold?: boolean } } })?.values?.config?.hold === true,
};

beforeAll(async () => {
  server = await startTestServer({ K8S_WATCH: 'true', TASK_WORKER: 'true', TASK_POLL_MS: '200', TASK_RELEASE_TIMEOUT_SECONDS: '30', APPLICATION_PROGRESS_TIMEOUT_SECONDS: '60' });
  rest = restClient(server);
  admin = await server.adminAuth();
  for (const where of ['east', 'west', 'north'] as const) {
    const double = await startKubeApiDouble({ helmController });
    doubles.push(double);
    clusters[where] = { ...(await watchedCluster(server, admin, double, `lh-${where}-${unique()}`)), address: double.url.replace(/^https:\/\//, '') };
  }
  const aliased = await server.gql<any, object>(`mutation($id: ID!, $alias: String!) { updateCluster(id: $id, input: { alias: $alias }) { id } }`, { id: clusters.west.clusterId, alias: westAlias }, admin);
  expect(aliased.errors).toBeUndefined();
  ({ kind, images: [image, image2] } = await lighthouseCharts(server, ['1.2.3', '2.0.0']));
  owner = await person('User', 'Owner');
  maintainer = await person('User', 'Maintainer');
  viewer = await person('User', null);
  stranger = await person(null, null);
}, 60_000);
afterAll(async () => {
  await server?.stop();
  await Promise.all(doubles.map((d) => d.close()));
});

/** A new application, started on east and west, its stream read to the end. */
async function createApp(config: Record<string, unknown> = { greeting: 'hello' }, instances = [clusters.east.address, clusters.west.address]): Promise<{ name: string; lines: Line[] }> {
  const name = `app-${unique()}`;
  const res = await owner.client.call('POST', '/applications/create?start=true', { Name: name, Command: { Image: image, ...config }, Instances: instances });
  expect(res.status).toBe(200);
  return { name, lines: linesOf(res.text) };
}

describe('create', () => {
  test('start=true: a deployment per instance (named by address or alias) of the chart the image names, the Command its config; the stream reports each Install task as the worker ends it', async () => {
    const { name, lines } = await createApp({ greeting: 'hello' }, [clusters.east.address, westAlias]);
    const tasks = await tasksOf(name);
    // the stream ended only once the tasks had
    expect(tasks.map((t) => t.status)).toEqual(['Done', 'Done']);
    expectWellFormed(lines);
    expect(lines[0]).toEqual({ ...FINALIZED, Status: 'Starting', Message: 'Installing', Total: 2 });
    expect(stepsOf(lines)).toEqual([
      {
        action: 'Installing',
        instances: [clusters.east.address, clusters.west.address].sort().map((Instance) => ({ Status: 'OK', Method: 'Install', Code: 200, Instance })),
      },
    ]);
    expect(lines.slice(1, 3).map((l) => l.Endpoint).sort()).toEqual(tasks.map((t) => `/api/v2/deployment-tasks/${t.id}`).sort());
    expect(lines.slice(1, 3).every((l) => l.Message.length <= 81)).toBe(true);
    const deployments = await deploymentsOf(name);
    expect(deployments.map((d) => d.cluster_id).sort()).toEqual([clusters.east.clusterId, clusters.west.clusterId].sort());
    expect(deployments.every((d) => d.enabled && d.status === 'Running' && d.config.greeting === 'hello')).toBe(true);
    // as GraphQL's createDeployment: each audited, its tasks acting for the caller
    const audit = await server.sql<{ operation: string; target_id: string }>("select operation, target_id from audit_records where target_type = 'Deployment' and operation = 'createApplication'");
    expect(audit.map((a) => a.target_id)).toEqual(expect.arrayContaining(deployments.map((d) => d.id)));
  });

  test('the stream is application/json, chunked', async () => {
    const res = await owner.client.call('POST', '/applications/create?start=1&forcePull=true', { Name: `app-${unique()}`, Command: { Image: image }, Instances: [clusters.east.address] });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('transfer-encoding')).toBe('chunked');
    expect(stepsOf(linesOf(res.text))).toEqual([{ action: 'Installing', instances: [{ Status: 'OK', Method: 'Install', Code: 200, Instance: clusters.east.address }] }]);
  });

  test('without start: the deployments are created stopped (disabled), no task; every instance OK at once', async () => {
    const name = `app-${unique()}`;
    const res = await owner.client.call('POST', '/applications/create', { Name: name, Command: { Image: image }, Instances: [clusters.east.address, clusters.west.address] });
    const lines = linesOf(res.text);
    expectWellFormed(lines);
    expect(lines.slice(1, 3).map((l) => [l.Status, l.Code, l.Message])).toEqual([['OK', 200, 'Created, not started'], ['OK', 200, 'Created, not started']]);
    expect((await deploymentsOf(name)).map((d) => d.enabled)).toEqual([false, false]);
    expect(await tasksOf(name)).toEqual([]);
  });

  test('a release that fails is an Error line with its reason, inside a 200 stream that still ends with Finalized', async () => {
    const { name, lines } = await createApp({ fail: 'container image not found' }, [clusters.east.address]);
    expectWellFormed(lines);
    expect(lines[1]).toMatchObject({ Status: 'Error', Code: 500, Method: 'Install', Instance: clusters.east.address, Message: expect.stringContaining('container image not found') });
    expect((await tasksOf(name)).map((t) => t.status)).toEqual(['Failed']);
  });

  test('refused before streaming, nothing written: 400 bad body, bad query, unknown image, unknown instance, a taken or invalid name; 403 without Owner; 401 without a session', async () => {
    const { name: taken } = await createApp({}, [clusters.east.address]);
    const [deployments, tasks] = [await deploymentCount(), await taskCount()];
    const good = { Name: `app-${unique()}`, Command: { Image: image }, Instances: [clusters.east.address] };
    const cases: [LighthouseClient, string, unknown, number, RegExp][] = [
      [owner.client, '/applications/create', { ...good, Command: undefined }, 400, /Command/],
      [owner.client, '/applications/create', { ...good, Instances: [] }, 400, /Instances/],
      [owner.client, '/applications/create', { ...good, Command: { Cmd: ['x'] } }, 400, /Image/],
      [owner.client, '/applications/create?start=maybe', good, 400, /start/],
      [owner.client, '/applications/create', { ...good, Command: { Image: 'nginx' } }, 400, /must be <registry>\/<repository>:<tag>/],
      [owner.client, '/applications/create', { ...good, Command: { Image: `${image}9` } }, 400, /No Helm chart is published as/],
      [owner.client, '/applications/create', { ...good, Instances: ['nowhere'] }, 400, /Unknown instance nowhere/],
      [owner.client, '/applications/create', { ...good, Name: taken }, 400, new RegExp(`An application named ${taken} already exists`)],
      [owner.client, '/applications/create', { ...good, Name: 'Not A Label' }, 400, /DNS-1123/],
      [maintainer.client, '/applications/create', good, 403, /Owners of this deployment kind/],
      [viewer.client, '/applications/create', good, 403, /Owners of this deployment kind/],
      // a cluster the caller cannot see is no instance it can name
      [stranger.client, '/applications/create', good, 400, /Unknown instance/],
      [lighthouseClient(server), '/applications/create', good, 401, /not logged in/],
    ];
    for (const [client, path, body, status, message] of cases) {
      const res = await client.call('POST', path, body);
      expect({ path, body, status: res.status, cause: res.body?.Cause }).toEqual({ path, body, status, cause: status === 401 ? 'auth' : 'applications' });
      expect(res.body.Message).toMatch(message);
    }
    expect([await deploymentCount(), await taskCount()]).toEqual([deployments, tasks]);
  });
});

describe('list and history', () => {
  test('list: the applications with an instance the caller sees, their Id, current version and instances; none for a stranger', async () => {
    const { name } = await createApp();
    const [version] = (await owner.client.call('GET', `/applications/list/${name}`)).body;
    for (const who of [owner, maintainer, viewer]) {
      const res = await who.client.call('GET', '/applications/list');
      expect(res.status).toBe(200);
      expect(res.body.find((a: { Name: string }) => a.Name === name)).toEqual({ Id: expect.any(Number), CurrentDeployment: version.Id, Name: name, Instances: [clusters.east.address, clusters.west.address] });
    }
    expect((await stranger.client.call('GET', '/applications/list')).body).toEqual([]);
    expect((await lighthouseClient(server).call('GET', '/applications/list')).status).toBe(401);
  });

  test('history by name or Id: versions newest first, count caps it; [] for a stranger and for an unknown application', async () => {
    const { name } = await createApp();
    const update = await owner.client.call('PUT', `/applications/update/${name}`, { Command: { Image: image2, greeting: 'v2' } });
    expect(update.status).toBe(200);
    const app = (await owner.client.call('GET', '/applications/list')).body.find((a: { Name: string }) => a.Name === name);
    const byName = await owner.client.call('GET', `/applications/list/${name}`);
    expect(byName.status).toBe(200);
    expect(byName.body).toEqual([
      { Id: expect.any(Number), Creator: owner.email, Date: expect.any(String), Image: image2, Command: { Image: image2, greeting: 'v2' }, Version: 2 },
      { Id: expect.any(Number), Creator: owner.email, Date: expect.any(String), Image: image, Command: { Image: image, greeting: 'hello' }, Version: 1 },
    ]);
    expect(app.CurrentDeployment).toBe(byName.body[0].Id);
    expect((await owner.client.call('GET', `/applications/list/${app.Id}`)).body).toEqual(byName.body);
    expect((await owner.client.call('GET', `/applications/list/${name}?count=1`)).body).toEqual(byName.body.slice(0, 1));
    expect((await stranger.client.call('GET', `/applications/list/${name}`)).body).toEqual([]);
    expect((await stranger.client.call('GET', `/applications/list/${app.Id}`)).body).toEqual([]);
    expect((await owner.client.call('GET', '/applications/list/no-such-app')).body).toEqual([]);
    expect((await owner.client.call('GET', `/applications/list/${name}?count=-1`)).status).toBe(400);
    expect((await lighthouseClient(server).call('GET', `/applications/list/${name}`)).status).toBe(401);
  });
});

describe('start and stop', () => {
  test('stop disables every instance (Uninstall tasks); stopping again is a Warning per instance; start installs them again', async () => {
    const { name } = await createApp();
    const app = (await owner.client.call('GET', '/applications/list')).body.find((a: { Name: string }) => a.Name === name);
    const stop = linesOf((await maintainer.client.call('POST', `/applications/stop/${app.Id}`)).text);
    expectWellFormed(stop);
    const both = [clusters.east.address, clusters.west.address].sort();
    expect(stepsOf(stop)).toEqual([{ action: 'Stopping', instances: both.map((Instance) => ({ Status: 'OK', Method: 'Uninstall', Code: 200, Instance })) }]);
    expect((await deploymentsOf(name)).map((d) => d.enabled)).toEqual([false, false]);

    const again = linesOf((await maintainer.client.call('POST', `/applications/stop/${name}`)).text);
    expect(stepsOf(again)).toEqual([{ action: 'Stopping', instances: both.map((Instance) => ({ Status: 'Warning', Method: '', Code: 304, Instance })) }]);
    expect(again.slice(1, 3).map((l) => l.Message)).toEqual(['Already stopped', 'Already stopped']);

    const start = linesOf((await maintainer.client.call('POST', `/applications/start/${name}`)).text);
    expect(stepsOf(start)).toEqual([{ action: 'Starting', instances: both.map((Instance) => ({ Status: 'OK', Method: 'Install', Code: 200, Instance })) }]);
    expect((await deploymentsOf(name)).map((d) => [d.enabled, d.status])).toEqual([[true, 'Running'], [true, 'Running']]);
    expect((await tasksOf(name)).map((t) => Object.keys(t.operation)[0])).toEqual(['Install', 'Install', 'Uninstall', 'Uninstall', 'Install', 'Install']);
  });

  test('404 for an unknown application or one the caller cannot see; 403 for a caller who only sees it; 401 without a session; nothing written', async () => {
    const { name } = await createApp();
    const tasks = await taskCount();
    for (const action of ['start', 'stop']) {
      for (const [client, ref, status, cause] of [
        [owner.client, 'no-such-app', 404, 'applications'],
        [owner.client, '999999', 404, 'applications'],
        [stranger.client, name, 404, 'applications'],
        [viewer.client, name, 403, 'applications'],
        [lighthouseClient(server), name, 401, 'auth'],
      ] as const) {
        const res = await client.call('POST', `/applications/${action}/${ref}`);
        expect({ action, ref, status: res.status, cause: res.body?.Cause }).toEqual({ action, ref, status, cause });
      }
    }
    expect(await taskCount()).toBe(tasks);
    expect((await deploymentsOf(name)).map((d) => d.enabled)).toEqual([true, true]);
  });
});

describe('revert', () => {
  test('back one version by default (PUT, as Lighthouse), or to a version Id (POST, as the wiki): running instances upgraded to it', async () => {
    const { name } = await createApp();
    await owner.client.call('PUT', `/applications/update/${name}`, { Command: { Image: image2, greeting: 'v2' } });
    const [v2, v1] = (await owner.client.call('GET', `/applications/list/${name}`)).body;
    const current = async () => (await owner.client.call('GET', '/applications/list')).body.find((a: { Name: string }) => a.Name === name).CurrentDeployment;

    const back = linesOf((await maintainer.client.call('PUT', `/applications/revert/${name}`)).text);
    expectWellFormed(back);
    expect(stepsOf(back)).toEqual([{ action: 'Reverting to version 1', instances: [clusters.east.address, clusters.west.address].sort().map((Instance) => ({ Status: 'OK', Method: 'Upgrade', Code: 200, Instance })) }]);
    expect(await current()).toBe(v1.Id);
    expect((await deploymentsOf(name)).map((d) => d.config)).toEqual([{ greeting: 'hello' }, { greeting: 'hello' }]);

    const forward = linesOf((await maintainer.client.call('POST', `/applications/revert/${name}?target=${v2.Id}&forcePull=true`)).text);
    expect(stepsOf(forward)[0].action).toBe('Reverting to version 2');
    expect(await current()).toBe(v2.Id);
    // a revert deploys a known version: no new one
    expect((await owner.client.call('GET', `/applications/list/${name}`)).body.map((v: { Id: number }) => v.Id)).toEqual([v2.Id, v1.Id]);
  });

  test('a stopped application keeps the version for its next start: no task, OK per instance', async () => {
    const { name } = await createApp();
    await owner.client.call('PUT', `/applications/update/${name}`, { Command: { Image: image2 } });
    await owner.client.call('POST', `/applications/stop/${name}`);
    const tasks = (await tasksOf(name)).length;
    const lines = linesOf((await owner.client.call('PUT', `/applications/revert/${name}?target=-1`)).text);
    expect(lines.slice(1, 3).map((l) => [l.Status, l.Message])).toEqual([['OK', 'Configured, not started'], ['OK', 'Configured, not started']]);
    expect((await tasksOf(name)).length).toBe(tasks);
    expect((await deploymentsOf(name)).map((d) => d.config)).toEqual([{ greeting: 'hello' }, { greeting: 'hello' }]);
  });

  test('400 for too few versions, a version of another application, a target that is no number; 404 for an unknown version or application; 403 for a viewer; nothing written', async () => {
    const { name } = await createApp();
    const { name: other } = await createApp({}, [clusters.east.address]);
    const [otherVersion] = (await owner.client.call('GET', `/applications/list/${other}`)).body;
    const tasks = await taskCount();
    for (const [client, path, status, message] of [
      [owner.client, `/applications/revert/${name}`, 400, /fewer than 1 deployments/],
      [owner.client, `/applications/revert/${name}?target=-3`, 400, /fewer than 3 deployments/],
      [owner.client, `/applications/revert/${name}?target=${otherVersion.Id}`, 400, /not a deployment of this application/],
      [owner.client, `/applications/revert/${name}?target=abc`, 400, /target/],
      [owner.client, `/applications/revert/${name}?target=99999999`, 404, /Deployment not found/],
      [owner.client, '/applications/revert/no-such-app', 404, /Application not found/],
      [viewer.client, `/applications/revert/${other}?target=${otherVersion.Id}`, 403, /Only maintainers of this deployment/],
    ] as const) {
      const res = await client.call('PUT', path);
      expect({ path, status: res.status }).toEqual({ path, status });
      expect(res.body.Message).toMatch(message);
    }
    expect(await taskCount()).toBe(tasks);
  });
});

describe('update', () => {
  test('a Command upgrades every instance; restart=true also starts stopped ones', async () => {
    const { name } = await createApp();
    await owner.client.call('POST', `/applications/stop/${name}`);
    const lines = linesOf((await maintainer.client.call('PUT', `/applications/update/${name}?restart=true`, { Command: { Image: image2, greeting: 'v2' } })).text);
    expectWellFormed(lines);
    expect(stepsOf(lines)).toEqual([{ action: 'Upgrading', instances: [clusters.east.address, clusters.west.address].sort().map((Instance) => ({ Status: 'OK', Method: 'Install', Code: 200, Instance })) }]);
    const deployments = await deploymentsOf(name);
    expect(deployments.map((d) => [d.enabled, d.status, d.config])).toEqual([[true, 'Running', { greeting: 'v2' }], [true, 'Running', { greeting: 'v2' }]]);
  });

  test('restart alone starts the instances; Add deploys the current version to a new cluster, running; Remove uninstalls and deletes an instance', async () => {
    const { name } = await createApp({ greeting: 'hello' }, [clusters.east.address]);
    await owner.client.call('POST', `/applications/stop/${name}`);
    const restart = linesOf((await owner.client.call('PUT', `/applications/update/${name}?restart=true`, {})).text);
    expect(stepsOf(restart)).toEqual([{ action: 'Starting', instances: [{ Status: 'OK', Method: 'Install', Code: 200, Instance: clusters.east.address }] }]);

    const add = linesOf((await owner.client.call('PUT', `/applications/update/${name}`, { Add: [clusters.north.address, clusters.east.address] })).text);
    expectWellFormed(add);
    expect(stepsOf(add)).toEqual([{ action: 'Adding instances', instances: [{ Status: 'OK', Method: 'Install', Code: 200, Instance: clusters.north.address }] }]);
    expect((await deploymentsOf(name)).map((d) => [d.cluster_id, d.enabled, d.config])).toEqual([
      [clusters.east.clusterId, true, { greeting: 'hello' }],
      [clusters.north.clusterId, true, { greeting: 'hello' }],
    ]);

    const remove = linesOf((await owner.client.call('PUT', `/applications/update/${name}`, { Remove: [clusters.north.address] })).text);
    expectWellFormed(remove);
    expect(stepsOf(remove)).toEqual([{ action: 'Removing instances', instances: [{ Status: 'OK', Method: 'Uninstall', Code: 200, Instance: clusters.north.address }] }]);
    // the cluster watch deletes the deployment once its namespace is gone
    await waitFor(async () => (await deploymentsOf(name)).length === 1, 'the removed instance deleted', 10_000);
    expect((await owner.client.call('GET', '/applications/list')).body.find((a: { Name: string }) => a.Name === name).Instances).toEqual([clusters.east.address]);
  });

  test('a failing upgrade is reported in the stream as an Error line per instance, the stream still 200 and Finalized', async () => {
    const { name } = await createApp();
    const res = await owner.client.call('PUT', `/applications/update/${name}`, { Command: { Image: image, fail: 'image pull back-off' } });
    expect(res.status).toBe(200);
    const lines = linesOf(res.text);
    expectWellFormed(lines);
    expect(stepsOf(lines)).toEqual([{ action: 'Upgrading', instances: [clusters.east.address, clusters.west.address].sort().map((Instance) => ({ Status: 'Error', Method: 'Upgrade', Code: 500, Instance })) }]);
    expect(lines[1].Message).toContain('image pull back-off');
    expect((await deploymentsOf(name)).map((d) => d.status)).toEqual(['Error', 'Error']);
  });

  test('400 with nothing to update or an instance to remove that is not one; 403 for a Maintainer adding an instance, for a viewer; 404 unknown; nothing written', async () => {
    const { name } = await createApp({}, [clusters.east.address]);
    const [deployments, tasks] = [await deploymentCount(), await taskCount()];
    for (const [client, path, body, status, message] of [
      [owner.client, `/applications/update/${name}`, {}, 400, /Nothing to update/],
      [owner.client, `/applications/update/${name}?restart=false`, { Add: [] }, 400, /Nothing to update/],
      [owner.client, `/applications/update/${name}`, { Remove: [clusters.west.address] }, 400, /is not an instance of this application/],
      [owner.client, `/applications/update/${name}`, { Add: ['nowhere'] }, 400, /Unknown instance nowhere/],
      [owner.client, `/applications/update/${name}`, { Command: { Image: 'x' } }, 400, /must be <registry>/],
      [owner.client, `/applications/update/${name}`, { Add: 'east' }, 400, /Add/],
      [maintainer.client, `/applications/update/${name}`, { Add: [clusters.north.address] }, 403, /Owners of this deployment kind/],
      [maintainer.client, `/applications/update/${name}`, { Remove: [clusters.east.address] }, 403, /Owners of this deployment kind/],
      [viewer.client, `/applications/update/${name}`, { Command: { Image: image2 } }, 403, /Only maintainers of this deployment/],
      [owner.client, '/applications/update/no-such-app', { Command: { Image: image2 } }, 404, /Application not found/],
      [lighthouseClient(server), `/applications/update/${name}`, { Command: { Image: image2 } }, 401, /not logged in/],
    ] as const) {
      const res = await client.call('PUT', path, body);
      expect({ path, body, status: res.status }).toEqual({ path, body, status });
      expect(res.body.Message).toMatch(message);
    }
    expect([await deploymentCount(), await taskCount()]).toEqual([deployments, tasks]);
  });
});

describe('streams that do not end', () => {
  /**
   * A create whose Install task is held (its release never becomes ready), its stream open: read as far as its first
   * line (Starting, written before any task ends), the rest read on demand.
   */
  async function heldStream(session: string, signal?: AbortSignal): Promise<{ first: Line; rest(): Promise<Line[]> }> {
    const res = await fetch(new URL(`${LIGHTHOUSE}/applications/create?start=true`, server.berth.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: `auth=${session}` },
      body: JSON.stringify({ Name: `app-${unique()}`, Command: { Image: image, hold: true }, Instances: [clusters.north.address] }),
      signal,
    });
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = decoder.decode((await reader.read()).value);
    const first = JSON.parse(text.split('\n')[0]) as Line;
    return {
      first,
      rest: async () => {
        for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += decoder.decode(chunk.value);
        return linesOf(text);
      },
    };
  }

  test('a client that goes away stops the following: its event subscription ends', async () => {
    const before = server.berth.events.subscriberCount;
    const abort = new AbortController();
    const { first } = await heldStream(owner.client.session!, abort.signal);
    expect(first).toMatchObject({ Status: 'Starting', Message: 'Installing' });
    expect(server.berth.events.subscriberCount).toBe(before + 1);
    abort.abort();
    await waitFor(() => server.berth.events.subscriberCount === before, 'the stream stopped following');
  });

  test('a caller deactivated while its stream waits: an Error line (401) for each task not ended, then Finalized', async () => {
    const caller = await person('User', 'Owner');
    const stream = await heldStream(caller.client.session!);
    expect(stream.first).toMatchObject({ Status: 'Starting', Message: 'Installing' });
    const deactivated = await server.gql<any, object>(`mutation($id: ID!) { setUserActive(id: $id, active: false) { id } }`, { id: caller.id }, admin);
    expect(deactivated.errors).toBeUndefined();
    const lines = await stream.rest();
    expectWellFormed(lines);
    expect(lines.slice(1).map((l) => [l.Status, l.Code, l.Instance])).toEqual([['Error', 401, clusters.north.address], ['Complete', 0, ''], ['Finalized', 0, '']]);
  });
});

describe('bounded streams', () => {
  let slow: TestServer;
  let client: LighthouseClient;
  let cluster: string;
  let slowImage: string;

  beforeAll(async () => {
    // tasks are held past the stream's bound (a release that never becomes ready fails after 30 s)
    slow = await startTestServer({ K8S_WATCH: 'true', TASK_WORKER: 'true', TASK_POLL_MS: '200', TASK_RELEASE_TIMEOUT_SECONDS: '30', APPLICATION_PROGRESS_TIMEOUT_SECONDS: '1' });
    const slowAdmin = await slow.adminAuth();
    cluster = clusters.east.address;
    await watchedCluster(slow, slowAdmin, doubles[0], `lh-slow-${unique()}`);
    [slowImage] = (await lighthouseCharts(slow, ['1.0.0'])).images;
    // the site admin, as a Lighthouse session
    client = lighthouseClient(slow);
    expect((await client.login('admin', ADMIN_PASSWORD)).status).toBe(200);
  }, 60_000);
  afterAll(() => slow?.stop());

  test('a task not finished within the bound is an Error line (504), then Finalized; the task goes on', async () => {
    const name = `app-${unique()}`;
    const res = await client.call('POST', '/applications/create?start=true', { Name: name, Command: { Image: slowImage, hold: true }, Instances: [cluster] });
    expect(res.status).toBe(200);
    const lines = linesOf(res.text);
    expectWellFormed(lines);
    expect(lines[1]).toMatchObject({ Status: 'Error', Code: 504, Method: 'Install', Instance: cluster, Message: 'Not finished within 1 s; the task goes on' });
    expect((await slow.sql<{ status: string }>('select t.status from deployment_tasks t join deployments d on d.id = t.deployment_id where d.name = ?', [name]))[0].status).toMatch(/Pending|Started/);
  });

});
