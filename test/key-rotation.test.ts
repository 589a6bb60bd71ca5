import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keyring } from '../src/auth/encryption.js';
import type { DatabaseTarget } from '../src/db/orm.js';
import { startBerth, type Berth } from '../src/server/app.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { ADMIN_PASSWORD, postGraphQL, testConfig } from './support/server.js';

/*
 * README, BERTH_ENCRYPTION_KEYS: "the first encrypts, all decrypt (rotate by putting a new key first)".
 * Three lives of the server on one database: keys k1; then k2,k1; then k2 alone.
 *
 * No API path decrypts what is stored: secret contents are write-only, cluster credentials are never
 * returned, and nothing in the server reads either back (deployments name a secret by id). So what
 * "all decrypt" means is checked with the Keyring of each life's BERTH_ENCRYPTION_KEYS against the rows the
 * server wrote, and the API is checked for what it does with a key gone: it starts, and serves and
 * rewrites the secrets whose ciphertexts it can no longer read.
 */

const K1 = Keyring.generateSpec('k1');
const K2 = Keyring.generateSpec('k2');

const TOKEN = 'rotation-bearer-token-0123456789';
const KUBECONFIG = `
apiVersion: v1
kind: Config
current-context: rot
clusters:
- name: c
  cluster: { server: "https://rot.example.com:6443" }
users:
- name: u
  user: { token: ${TOKEN} }
contexts:
- name: rot
  context: { cluster: c, user: u }
`;

let db: TestDatabase | undefined;
let dataDir: string | undefined;
let target: DatabaseTarget;
let berth: Berth | undefined;

beforeAll(async () => {
  db = await createTestDatabase();
  target = db.target;
  if (target.kind === 'pglite') {
    // a folder on disk, so a second server opens the same data (in memory it would be gone); migrated by the first
    dataDir = mkdtempSync(join(tmpdir(), 'berth-key-rotation-'));
    target = { ...target, dataDir };
  }
});
afterAll(async () => {
  await berth?.stop();
  await db?.drop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** A server on the shared database with these keys; the one before it was stopped. */
async function start(keys: string): Promise<Berth> {
  berth = await startBerth(testConfig({ BERTH_ENCRYPTION_KEYS: keys }), { database: target, print: () => {}, ormOverrides: { logger: () => {} } });
  return berth;
}
async function stop(): Promise<void> {
  await berth!.stop();
  berth = undefined;
}

async function adminHeaders(): Promise<Record<string, string>> {
  const res = await postGraphQL<any>(berth!.url, `mutation($p: String!) { login(usernameOrEmail: "admin", password: $p) { accessToken } }`, { p: ADMIN_PASSWORD });
  expect(res.errors).toBeUndefined();
  return { authorization: `Bearer ${res.data.login.accessToken}` };
}

async function gql<T = any>(query: string, variables: object, headers: Record<string, string>): Promise<T> {
  const res = await postGraphQL<T>(berth!.url, query, variables, headers);
  expect(res.errors).toBeUndefined();
  return res.data!;
}

async function sql<T = Record<string, unknown>>(query: string, params: unknown[] = []): Promise<T[]> {
  return berth!.orm.em.getConnection().execute(query, params) as Promise<T[]>;
}

const CREATE_SECRET = `mutation($input: CreateSecretInput!) { createSecret(input: $input) { id } }`;
const UPDATE_SECRET = `mutation($id: ID!, $input: UpdateSecretInput!) { updateSecret(id: $id, input: $input) { id name } }`;

async function createSecret(headers: Record<string, string>, envId: string, name: string, contents: string): Promise<string> {
  return (await gql(CREATE_SECRET, { input: { envId, collection: 'db', name, contents } }, headers)).createSecret.id;
}

const storedSecret = async (id: string) => (await sql<{ c: string }>('select contents_encrypted as c from secrets where id = ?', [id]))[0].c;
const storedCredentials = async (id: string) => (await sql<{ c: string }>('select credentials_encrypted as c from k8s_clusters where id = ?', [id]))[0].c;
/** the key id that a stored value names: "v1.<keyId>.<iv>.<tag>.<ciphertext>" */
const keyIdOf = (stored: string) => stored.split('.')[1];

test('rotating BERTH_ENCRYPTION_KEYS: k1, then k2,k1 (old values still decrypt, new ones under k2), then k2 alone (k1 values fail, the API goes on)', async () => {
  // ---- first life: k1
  await start(K1);
  let admin = await adminHeaders();
  const envId = (await gql(`mutation { createEnv(input: { name: "rotation" }) { id } }`, {}, admin)).createEnv.id as string;
  const oldKept = await createSecret(admin, envId, 'kept', 'old-kept-contents');
  const oldRewritten = await createSecret(admin, envId, 'rewritten', 'old-rewritten-contents');
  const [cluster] = (await gql(
    `mutation($input: CreateClustersFromKubeconfigInput!) { createClustersFromKubeconfig(input: $input) { id } }`,
    { input: { kubeconfig: KUBECONFIG, contexts: ['rot'], envId } },
    admin,
  )).createClustersFromKubeconfig as { id: string }[];
  const k1Rows = {
    kept: await storedSecret(oldKept),
    rewritten: await storedSecret(oldRewritten),
    credentials: await storedCredentials(cluster.id),
  };
  for (const stored of Object.values(k1Rows)) expect(keyIdOf(stored)).toBe('k1');
  await stop();

  // ---- second life: k2 first, k1 still listed
  await start(`${K2},${K1}`);
  admin = await adminHeaders();
  // starting with a new key rewrites nothing
  expect(await storedSecret(oldKept)).toBe(k1Rows.kept);
  expect(await storedCredentials(cluster.id)).toBe(k1Rows.credentials);
  // what k1 wrote still decrypts with this life's keys
  const both = Keyring.parse(`${K2},${K1}`);
  expect(both.decrypt(k1Rows.kept, `secrets:${oldKept}`)).toBe('old-kept-contents');
  expect(JSON.parse(both.decrypt(k1Rows.credentials, `k8s_clusters:${cluster.id}`))).toMatchObject({ user: { token: TOKEN } });
  // a new secret is encrypted with the first key, k2
  const created = await createSecret(admin, envId, 'new', 'new-contents');
  const createdRow = await storedSecret(created);
  expect(keyIdOf(createdRow)).toBe('k2');
  expect(Keyring.parse(K2).decrypt(createdRow, `secrets:${created}`)).toBe('new-contents');
  expect(() => Keyring.parse(K1).decrypt(createdRow, `secrets:${created}`)).toThrow();
  // re-entering a secret's contents moves it to k2; renaming one leaves its ciphertext alone
  expect((await gql(UPDATE_SECRET, { id: oldRewritten, input: { contents: 'rewritten-under-k2' } }, admin)).updateSecret.id).toBe(oldRewritten);
  const rewrittenRow = await storedSecret(oldRewritten);
  expect(keyIdOf(rewrittenRow)).toBe('k2');
  expect(Keyring.parse(K2).decrypt(rewrittenRow, `secrets:${oldRewritten}`)).toBe('rewritten-under-k2');
  expect((await gql(UPDATE_SECRET, { id: oldKept, input: { name: 'kept-renamed' } }, admin)).updateSecret.name).toBe('kept-renamed');
  expect(await storedSecret(oldKept)).toBe(k1Rows.kept);
  await stop();

  // ---- third life: k2 alone
  await start(K2);
  admin = await adminHeaders();
  const k2Only = Keyring.parse(K2);
  // what is still under k1 no longer decrypts, and says so; everything under k2 does
  expect(await storedSecret(oldKept)).toBe(k1Rows.kept);
  expect(() => k2Only.decrypt(k1Rows.kept, `secrets:${oldKept}`)).toThrow('undecryptable value');
  expect(() => k2Only.decrypt(k1Rows.credentials, `k8s_clusters:${cluster.id}`)).toThrow('undecryptable value');
  expect(k2Only.decrypt(await storedSecret(oldRewritten), `secrets:${oldRewritten}`)).toBe('rewritten-under-k2');
  expect(k2Only.decrypt(await storedSecret(created), `secrets:${created}`)).toBe('new-contents');
  // the server does not check stored values at start or on reads: it started, and lists every secret and the cluster
  const listed = await gql(`query($env: ID!) { secrets(filter: { envId: $env }) { edges { node { id name } } } k8sClusters { edges { node { id } } } }`, { env: envId }, admin);
  expect(listed.secrets.edges.map((e: any) => e.node.name).sort()).toEqual(['kept-renamed', 'new', 'rewritten']);
  expect(listed.k8sClusters.edges.map((e: any) => e.node.id)).toEqual([cluster.id]);
  // a secret left under the dropped key is recovered by entering its contents again: written under k2
  await gql(UPDATE_SECRET, { id: oldKept, input: { contents: 'kept-re-entered' } }, admin);
  expect(k2Only.decrypt(await storedSecret(oldKept), `secrets:${oldKept}`)).toBe('kept-re-entered');
  await stop();
});
