import { parseOpaqueToken } from '../src/auth/opaque-token.js';
import { LIGHTHOUSE, lighthouseClient, lighthouseUser } from './support/lighthouse.js';
import { restClient, type Rest } from './support/rest.js';
import { startTestServer, type TestServer } from './support/server.js';

let server: TestServer;
let rest: Rest;
beforeAll(async () => {
  server = await startTestServer();
  rest = restClient(server);
});
afterAll(() => server?.stop());

describe('login and logout', () => {
  test('a login sets the auth cookie (HttpOnly, SameSite=Lax, Path=/): 200 with an empty body; the session is open', async () => {
    const { user } = await lighthouseUser(server);
    const client = lighthouseClient(server);
    const res = await client.login(user.email, 'pass-word-1');
    expect([res.status, res.text]).toEqual([200, '']);
    expect(res.headers.get('set-cookie')).toMatch(/^auth=[^;]+; Path=\/; HttpOnly; SameSite=Lax$/);
    const sessions = await server.sql<{ id: string }>('select id from user_sessions where user_id = ? and revoked_at is null', [user.id]);
    expect(sessions.map((s) => s.id)).toContain(parseOpaqueToken(client.session!)?.id);
  });

  test('a wrong password or an unknown email: 401 {Cause: auth, Message: email or password incorrect}, no cookie, no session', async () => {
    const { user } = await lighthouseUser(server);
    for (const [email, password] of [[user.email, 'wrong'], ['nobody@example.com', 'x'], ['', '']]) {
      const res = await lighthouseClient(server).login(email, password);
      expect([res.status, res.body]).toEqual([401, { Cause: 'auth', Message: 'email or password incorrect' }]);
      expect(res.headers.get('set-cookie')).toBeNull();
    }
    expect(await server.sql('select id from user_sessions where user_id = ?', [user.id])).toHaveLength(1);
  });

  test('logout ends the session and clears the cookie; 200 without a session too', async () => {
    const { user, client } = await lighthouseUser(server);
    const res = await client.call('GET', '/logout');
    expect([res.status, res.text]).toEqual([200, '']);
    expect(res.headers.get('set-cookie')).toMatch(/^auth=; Path=\/; Max-Age=0; HttpOnly; SameSite=Lax$/);
    expect(await server.sql('select id from user_sessions where user_id = ? and revoked_at is null', [user.id])).toEqual([]);
    expect((await rest('GET', `${LIGHTHOUSE}/logout`)).status).toBe(200);
    expect((await lighthouseClient(server, 'not-a-session').call('GET', '/logout')).status).toBe(200);
  });
});
