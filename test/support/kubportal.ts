import { hashPassword } from '../../src/auth/password.js';
import { User } from '../../src/entities/index.js';
import { build, persist, unique } from './fixtures.js';
import { signJwt } from './identities.js';
import type { Rest } from './rest.js';
import type { TestServer } from './server.js';

/** Where Kubportal's API is served. */
export const KUBPORTAL = '/api/v1.4.0';
export const PASSWORD = 'kubportal-password';

/** A Kubportal caller: its Berth id, its Kubportal number, and a Bearer JWT (one without a session: logins make their own). */
export interface PortalUser {
  id: string;
  number: number;
  username: string;
  headers: Record<string, string>;
}

/** The number a Berth object has in Kubportal's API, given now if it has none (as the API gives it on first use). */
export async function numberOf(server: TestServer, kind: 'users' | 'groups' | 'web_apps', id: string): Promise<number> {
  await server.sql('insert into numeric_aliases (kind, target_id) values (?, ?) on conflict do nothing', [kind, id]);
  const [{ number }] = await server.sql<{ number: number }>('select number from numeric_aliases where kind = ? and target_id = ?', [kind, id]);
  return Number(number);
}

/** A user with the password PASSWORD, no number yet. */
export async function passwordUser(server: TestServer, fields: Partial<User> = {}): Promise<User> {
  const username = fields.username ?? `kp-${unique()}`;
  const [user] = await persist(server, build(User, { username, email: `${username}@example.com`, displayName: username, passwordHash: await hashPassword(PASSWORD), ...fields }));
  return user;
}

/** A user with the password PASSWORD, its number, and a JWT for it. */
export async function portalUser(server: TestServer, fields: Partial<User> = {}): Promise<PortalUser> {
  const user = await passwordUser(server, fields);
  const token = await signJwt(server, { User: user.id });
  return { id: user.id, number: await numberOf(server, 'users', user.id), username: user.username, headers: { authorization: `Bearer ${token}` } };
}

/** Logs in through Kubportal's /login/: the answer's token as headers. */
export async function portalLogin(rest: Rest, username: string): Promise<{ id: number; headers: Record<string, string> }> {
  const res = await rest('POST', `${KUBPORTAL}/login/`, { body: { username, password: PASSWORD } });
  expect(res.status).toBe(200);
  return { id: res.body.id, headers: { authorization: `Bearer ${res.body.access_token}` } };
}
