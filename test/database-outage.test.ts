import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { startBerth, type Berth } from '../src/server/app.js';
import { createTestDatabase, engineName, type TestDatabase } from './support/database.js';
import { ADMIN_PASSWORD, postGraphQL, testConfig } from './support/server.js';
import { TcpProxy } from './support/tcp-proxy.js';

/*
 * The database going away under a running Berth (a network partition, a failover), through a relay the test cuts:
 * requests are answered 503 SERVICE_UNAVAILABLE with Retry-After, as /readyz says, and all is well once it is back.
 * The embedded engine lives in the process and cannot go away.
 */
(engineName() === 'postgres' ? describe : describe.skip)('the database goes away', () => {
  let db: TestDatabase;
  let proxy: TcpProxy;
  let berth: Berth;
  let auth: Record<string, string>;

  beforeAll(async () => {
    db = await createTestDatabase();
    const url = new URL(db.target.kind === 'postgres' ? db.target.url : '');
    proxy = await TcpProxy.reserve({ host: url.hostname, port: Number(url.port || 5432) });
    await proxy.open();
    url.host = `127.0.0.1:${proxy.port}`;
    // no credential cache: every request asks the database who is calling
    berth = await startBerth(testConfig({ AUTH_CACHE_SECONDS: '0' }), { database: { kind: 'postgres', url: url.toString() }, print: () => {} });
    const login = await postGraphQL<{ login: { accessToken: string } }>(berth.url, `mutation($p: String!) { login(usernameOrEmail: "admin", password: $p) { accessToken } }`, { p: ADMIN_PASSWORD });
    auth = { authorization: `Bearer ${login.data!.login.accessToken}` };
  });

  afterAll(async () => {
    await proxy.open();
    await berth?.stop();
    await proxy.cut();
    await db?.drop();
  });

  const USERS = `{ users(first: 5) { totalCount } }`;

  test('503 SERVICE_UNAVAILABLE with Retry-After while it is away, for callers and for anonymous logins; 200 once it is back', async () => {
    expect((await postGraphQL(berth.url, USERS, {}, auth)).status).toBe(200);
    await proxy.cut();

    for (const [document, headers] of [
      [USERS, auth],
      [`mutation { login(usernameOrEmail: "admin", password: "wrong-password") { accessToken } }`, {}],
    ] as const) {
      const res = await fetch(berth.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query: document }) });
      const text = await res.text();
      expect({ status: res.status, retryAfter: res.headers.get('retry-after') }).toEqual({ status: 503, retryAfter: '5' });
      const body = JSON.parse(text) as { errors: { message: string; extensions: { code: string } }[] };
      expect(body.errors.map((e) => e.extensions.code)).toEqual(['SERVICE_UNAVAILABLE']);
      expect(body.errors[0].message).toBe('The database is unavailable; try again shortly');
      expect(text).not.toMatch(/ECONNREFUSED|Connection terminated|127\.0\.0\.1|stack/i);
    }
    // the REST API alike, in its own error shape
    const rest = await fetch(new URL('/api/v2/users', berth.url), { headers: auth });
    expect({ status: rest.status, retryAfter: rest.headers.get('retry-after') }).toEqual({ status: 503, retryAfter: '5' });
    expect(await rest.json()).toEqual({ message: 'The database is unavailable; try again shortly' });
    const ready = await fetch(new URL('/readyz', berth.url));
    expect(ready.status).toBe(503);

    await proxy.open();
    expect((await postGraphQL(berth.url, USERS, {}, auth)).status).toBe(200);
    expect((await fetch(new URL('/readyz', berth.url))).status).toBe(200);
    expect((await fetch(new URL('/api/v2/users', berth.url), { headers: auth })).status).toBe(200);
  }, 60_000);
});
