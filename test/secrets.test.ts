import { Keyring } from '../src/auth/encryption.js';
import { insertDeployment, rejected, startWorld, tasksOf, type World } from './support/deployment-world.js';
import type { TestServer } from './support/server.js';

// set explicitly, so the test can decrypt what the server stored
const KEYS = Keyring.generateSpec('test');
let server: TestServer;
let w: World;

beforeAll(async () => {
  ({ server, w } = await startWorld({ BERTH_ENCRYPTION_KEYS: KEYS }));
});
afterAll(() => server?.stop());

const FIELDS = 'id collection name updatedAt env { id }';
const CREATE = `mutation($input: CreateSecretInput!) { createSecret(input: $input) { ${FIELDS} } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateSecretInput!) { updateSecret(id: $id, input: $input) { ${FIELDS} } }`;
const DELETE = `mutation($id: ID!) { deleteSecret(id: $id) }`;

type Row = { id: string; collection: string; name: string; updatedAt: string };
const PLAINTEXT = 'correct horse battery staple';

let seq = 0;
async function create(fields: Record<string, unknown> = {}): Promise<Row> {
  const input = { envId: w.env.id, collection: 'db', name: `pw-${++seq}`, contents: PLAINTEXT, ...fields };
  const res = await server.gql<{ createSecret: Row }, unknown>(CREATE, { input }, w.callers.envAdmin.headers);
  expect(res.errors).toBeUndefined();
  return res.data!.createSecret;
}

/** An enabled App deployment whose `password` input picks the secret. */
const usingSecret = (secretId: string, enabled = true) =>
  insertDeployment(server, { name: `user-${++seq}`, kind: w.app, cluster: w.cluster, helmChart: w.appChart, enabled, config: { replicas: 1, password: secretId } });

test('an env Admin creates a secret: only ciphertext is stored, and an audit record without it', async () => {
  const secret = await create();
  expect(secret).toMatchObject({ collection: 'db', name: `pw-${seq}` });
  const [row] = await server.sql<{ contents_encrypted: string }>('select contents_encrypted from secrets where id = ?', [secret.id]);
  expect(row.contents_encrypted).toMatch(/^v1\./);
  expect(row.contents_encrypted).not.toContain(PLAINTEXT);
  const [audit] = await server.sql<Record<string, unknown>>("select * from audit_records where target_id = ? and operation = 'createSecret'", [secret.id]);
  expect(audit.env_id).toBe(w.env.id);
  expect(JSON.stringify(audit)).not.toContain(row.contents_encrypted);
  expect(JSON.stringify(audit)).not.toContain(PLAINTEXT);
});

test('the stored contents reveal nothing, and decrypt with the configured keys only as their own row', async () => {
  const [secret, other] = [await create(), await create()];
  const rows = await server.sql<{ id: string; contents_encrypted: string }>('select id, contents_encrypted from secrets where id in (?, ?)', [secret.id, other.id]);
  const stored = rows.find((r) => r.id === secret.id)!.contents_encrypted;
  // no encoding of the plaintext shows through (an encoding "encryption" under the v1. prefix would)
  for (const encoding of ['utf8', 'base64', 'base64url', 'hex'] as const) expect(stored).not.toContain(Buffer.from(PLAINTEXT).toString(encoding));
  // same plaintext, different rows: different stored values
  expect(rows.find((r) => r.id === other.id)!.contents_encrypted).not.toBe(stored);
  const keyring = Keyring.parse(KEYS);
  expect(keyring.decrypt(stored, `secrets:${secret.id}`)).toBe(PLAINTEXT);
  // bound to its row: as another secret's value it does not decrypt
  expect(() => keyring.decrypt(stored, `secrets:${other.id}`)).toThrow();
});

test('no query returns the contents or the ciphertext', async () => {
  const secret = await create();
  const [row] = await server.sql<{ contents_encrypted: string }>('select contents_encrypted from secrets where id = ?', [secret.id]);
  const res = await server.gql(`{ secret(id: "${secret.id}") { ${FIELDS} } secrets { edges { node { ${FIELDS} } } } auditRecords { edges { node { before after } } } }`, undefined, w.callers.envAdmin.headers);
  expect(res.errors).toBeUndefined();
  const text = JSON.stringify(res);
  expect(text).toContain(secret.id);
  expect(text).not.toContain(PLAINTEXT);
  expect(text).not.toContain(row.contents_encrypted);
  const contents = await server.gql(`{ secret(id: "${secret.id}") { contents } }`, undefined, w.callers.envAdmin.headers);
  expect(contents.errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
});

test.each([
  ['an empty collection', { collection: ' ' }, 'input.collection'],
  ['an empty name', { name: '' }, 'input.name'],
  ['a name over 253 characters', { name: 'x'.repeat(254) }, 'input.name'],
  ['a malformed env id', { envId: 'x' }, 'input.envId'],
])('%s is BAD_USER_INPUT and writes nothing', async (_, fields, field) => {
  const input = { envId: w.env.id, collection: 'db', name: 'ok', contents: 'c', ...fields };
  expect(await rejected(server, CREATE, { input }, w.callers.envAdmin.headers)).toMatchObject({ code: 'BAD_USER_INPUT', field });
});

test('a duplicate (env, collection, name) is a CONFLICT', async () => {
  const secret = await create();
  const input = { envId: w.env.id, collection: 'db', name: secret.name, contents: 'x' };
  expect((await rejected(server, CREATE, { input }, w.callers.envAdmin.headers)).code).toBe('CONFLICT');
});

test('only env Admins manage secrets: Owners and env Users are FORBIDDEN, other envs NOT_FOUND', async () => {
  const input = { envId: w.env.id, collection: 'db', name: 'nope', contents: 'x' };
  expect((await rejected(server, CREATE, { input }, w.callers.owner.headers)).code).toBe('FORBIDDEN');
  expect((await rejected(server, CREATE, { input }, w.callers.envUser.headers)).code).toBe('FORBIDDEN');
  expect((await rejected(server, CREATE, { input }, w.callers.outsider.headers)).code).toBe('NOT_FOUND');
  const secret = await create();
  expect((await rejected(server, UPDATE, { id: secret.id, input: { contents: 'y' } }, w.callers.owner.headers)).code).toBe('FORBIDDEN');
  expect((await rejected(server, DELETE, { id: secret.id }, w.callers.outsider.headers)).code).toBe('NOT_FOUND');
});

test('updateSecret re-encrypts, sets updatedAt and reinstalls the enabled deployments using it', async () => {
  const secret = await create();
  const user = await usingSecret(secret.id);
  const disabledUser = await usingSecret(secret.id, false);
  const bystander = await insertDeployment(server, { name: `by-${seq}`, kind: w.app, cluster: w.cluster, helmChart: w.appChart, config: { replicas: 1 } });
  const [before] = await server.sql<{ contents_encrypted: string }>('select contents_encrypted from secrets where id = ?', [secret.id]);
  const res = await server.gql<{ updateSecret: Row }, unknown>(UPDATE, { id: secret.id, input: { name: `${secret.name}-renamed`, contents: 'new contents' } }, w.callers.envAdmin.headers);
  expect(res.errors).toBeUndefined();
  expect(res.data!.updateSecret.name).toBe(`${secret.name}-renamed`);
  expect(new Date(res.data!.updateSecret.updatedAt).getTime()).toBeGreaterThan(new Date(secret.updatedAt).getTime());
  const [after] = await server.sql<{ contents_encrypted: string }>('select contents_encrypted from secrets where id = ?', [secret.id]);
  expect(after.contents_encrypted).not.toBe(before.contents_encrypted);
  expect(after.contents_encrypted).not.toContain('new contents');
  expect(await tasksOf(server, user.id)).toEqual([{ tag: 'Reinstall', operation: { reason: 'db secret has been updated' }, status: 'Pending', reason: 'db secret has been updated' }]);
  expect(await tasksOf(server, disabledUser.id)).toEqual([]);
  expect(await tasksOf(server, bystander.id)).toEqual([]);
  expect(await server.sql("select 1 from audit_records where target_id = ? and operation = 'updateSecret'", [secret.id])).toHaveLength(1);
});

test('updateSecret validates the name and its uniqueness', async () => {
  const [a, b] = [await create(), await create()];
  expect(await rejected(server, UPDATE, { id: a.id, input: { name: '' } }, w.callers.envAdmin.headers)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.name' });
  expect((await rejected(server, UPDATE, { id: a.id, input: { name: b.name } }, w.callers.envAdmin.headers)).code).toBe('CONFLICT');
});

test('deleteSecret is a CONFLICT naming the deployments that use it, then deletes it once unused', async () => {
  const secret = await create();
  const user = await usingSecret(secret.id, false);
  const res = await rejected(server, DELETE, { id: secret.id }, w.callers.envAdmin.headers);
  expect(res.code).toBe('CONFLICT');
  expect(res.message).toContain(`${user.name} (App)`);
  await server.sql('delete from deployments where id = ?', [user.id]);
  const ok = await server.gql<{ deleteSecret: string }, unknown>(DELETE, { id: secret.id }, w.callers.envAdmin.headers);
  expect(ok.data?.deleteSecret).toBe(secret.id);
  expect(await server.sql('select 1 from secrets where id = ?', [secret.id])).toHaveLength(0);
  expect(await server.sql("select 1 from audit_records where target_id = ? and operation = 'deleteSecret'", [secret.id])).toHaveLength(1);
});
