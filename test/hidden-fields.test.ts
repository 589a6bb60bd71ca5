import { getNamedType, isLeafType, isObjectType, type GraphQLObjectType } from 'graphql';
import { Keyring } from '../src/auth/encryption.js';
import { hashSecret, newOpaqueToken } from '../src/auth/opaque-token.js';
import { hashPassword } from '../src/auth/password.js';
import { Bot, BotToken, Env, K8sCluster, Secret, User, UserToken } from '../src/entities/index.js';
import { buildBerthSchema } from '../resolvers/schema.js';
import { build } from './support/fixtures.js';
import { startTestServer, type TestServer } from './support/server.js';

let server: TestServer;
/** every stored secret-bearing value, and the plaintexts behind them */
const sensitive: string[] = [];

beforeAll(async () => {
  server = await startTestServer();
  const keyring = Keyring.parse(Keyring.generateSpec());
  const em = server.em.fork();
  const userToken = newOpaqueToken();
  const botToken = newOpaqueToken();
  const user = build(User, { email: 'dev@example.com', username: 'dev', displayName: 'Dev', passwordHash: await hashPassword('dev-password-123') });
  const env = build(Env, { name: 'prod' });
  const secret = build(Secret, { env, collection: 'db', name: 'password' });
  secret.contentsEncrypted = keyring.encrypt('secret-plaintext-xyz', `secrets:${secret.id}`);
  const cluster = build(K8sCluster, { env, providerId: 'local:prod', name: 'prod' });
  cluster.credentialsEncrypted = keyring.encrypt('cluster-token-abc', `k8s_clusters:${cluster.id}`);
  user.rawKubeconfigEncrypted = keyring.encrypt('kubeconfig-plaintext-def', `users:${user.id}`);
  const bot = build(Bot, { displayName: 'ci' });
  em.persist([
    user, env, secret, cluster, bot,
    build(UserToken, { id: userToken.id, user, secretHash: hashSecret(userToken.secret) }),
    build(BotToken, { id: botToken.id, bot, secretHash: hashSecret(botToken.secret) }),
  ]);
  await em.flush();
  sensitive.push(
    'dev-password-123', user.passwordHash!, 'secret-plaintext-xyz', secret.contentsEncrypted, 'cluster-token-abc', cluster.credentialsEncrypted,
    'kubeconfig-plaintext-def', user.rawKubeconfigEncrypted, userToken.secret, hashSecret(userToken.secret), botToken.secret, hashSecret(botToken.secret),
  );
  const sessions = await server.sql<{ refresh_secret_hash: string }>('select refresh_secret_hash from user_sessions');
  sensitive.push(...sessions.map((s) => s.refresh_secret_hash));
});
afterAll(() => server?.stop());

/** All leaf fields of a type, so nothing the type exposes is left out of the query. */
const leaves = (type: GraphQLObjectType) =>
  Object.values(type.getFields())
    .filter((f) => isLeafType(getNamedType(f.type)) && f.args.every((a) => !String(a.type).endsWith('!')))
    .map((f) => f.name)
    .join(' ');

test('no list or by-id query returns a password, hash, token secret, ciphertext or decrypted secret', async () => {
  const schema = await buildBerthSchema();
  const auth = await server.adminAuth();
  const lists = Object.values(schema.getQueryType()!.getFields()).filter((f) => getNamedType(f.type).name.endsWith('Connection'));
  expect(lists.length).toBe(23);
  let rowsSeen = 0;
  for (const list of lists) {
    const connection = getNamedType(list.type) as GraphQLObjectType;
    const node = getNamedType((getNamedType(connection.getFields().edges.type) as GraphQLObjectType).getFields().node.type);
    if (!isObjectType(node)) throw new Error(node.name);
    const res = await server.gql<any, unknown>(`{ ${list.name} { edges { node { ${leaves(node)} } } } }`, undefined, auth);
    expect([list.name, res.errors]).toEqual([list.name, undefined]);
    const text = JSON.stringify(res);
    for (const value of sensitive) expect([list.name, text.includes(value)]).toEqual([list.name, false]);
    rowsSeen += res.data[list.name].edges.length;
    for (const { node: row } of res.data[list.name].edges) {
      const single = list.name === 'helmRegistries' ? 'helmRegistry' : list.name.replace(/s$/, '');
      const one = await server.gql<any, unknown>(`{ ${single}(id: "${row.id}") { ${leaves(node)} } }`, undefined, auth);
      for (const value of sensitive) expect([single, JSON.stringify(one).includes(value)]).toEqual([single, false]);
    }
  }
  expect(rowsSeen).toBeGreaterThanOrEqual(8); // the rows above really were read back
});

test('the stored columns hold ciphertext, never the plaintext', async () => {
  const [secret] = await server.sql<{ contents_encrypted: string }>(`select contents_encrypted from secrets`);
  expect(secret.contents_encrypted).toMatch(/^v1\./);
  expect(secret.contents_encrypted).not.toContain('secret-plaintext-xyz');
  const [token] = await server.sql<Record<string, unknown>>(`select * from user_tokens`);
  expect(JSON.stringify(token)).not.toContain(sensitive[8]);
});
