import { SignJWT } from 'jose';
import { hashSecret, newOpaqueToken } from '../../src/auth/opaque-token.js';
import { Bot, BotToken, DeploymentPermission, EnvUserPermission, User, UserToken } from '../../src/entities/index.js';
import type { EnvUserRole, UserDeploymentRole } from '../../src/entities/enums.js';
import { build, persist, unique } from './fixtures.js';
import type { TestServer } from './server.js';

/** A caller for tests: its id and the headers that authenticate it. */
export interface Caller {
  id: string;
  headers: Record<string, string>;
}

/** A user with an API token (no password hashing, so it is cheap to make many). */
export async function createUser(server: TestServer, fields: Partial<User> = {}): Promise<Caller> {
  const name = fields.username ?? `user-${unique()}`;
  const user = build(User, { username: name, email: `${name}@example.com`, displayName: name, ...fields });
  const token = newOpaqueToken();
  await persist(server, user, build(UserToken, { id: token.id, user, secretHash: hashSecret(token.secret) }));
  return { id: user.id, headers: { 'x-platz-token': token.token } };
}

/** A bot with an API token. */
export async function createBot(server: TestServer, displayName = `bot-${unique()}`): Promise<Caller> {
  const bot = build(Bot, { displayName });
  const token = newOpaqueToken();
  await persist(server, bot, build(BotToken, { id: token.id, bot, secretHash: hashSecret(token.secret) }));
  return { id: bot.id, headers: { 'x-platz-token': token.token } };
}

type Holder = { userId: string } | { botId: string };
const holderOf = (who: Holder) => ('userId' in who ? { user: who.userId } : { bot: who.botId });

export async function grantEnvRole(server: TestServer, envId: string, who: Holder, role: EnvUserRole): Promise<void> {
  const em = server.em.fork();
  em.persist(em.create(EnvUserPermission, { env: envId, ...holderOf(who), role } as never));
  await em.flush();
}

export async function grantKindRole(server: TestServer, envId: string, kindId: string, who: Holder, role: UserDeploymentRole): Promise<void> {
  const em = server.em.fork();
  em.persist(em.create(DeploymentPermission, { env: envId, kind: kindId, ...holderOf(who), role } as never));
  await em.flush();
}

/** A JWT signed with the server's jwt_secret, as the server mints them: `identity` is Platz's claim, `expiresIn` as jose takes it ('1h', '2s'). */
export async function signJwt(server: TestServer, identity: { User: string } | { Deployment: string }, expiresIn = '1h'): Promise<string> {
  const [setting] = await server.sql<{ value: string }>(`select value from settings where key = 'jwt_secret'`);
  return new SignJWT({ identity })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setNotBefore('0s')
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(setting.value));
}

/** A deployment acting with its own token, as the worker would mint it. */
export async function deploymentCaller(server: TestServer, deploymentId: string): Promise<Caller> {
  return { id: deploymentId, headers: { authorization: `Bearer ${await signJwt(server, { Deployment: deploymentId })}` } };
}
