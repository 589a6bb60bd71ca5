import { randomUUID } from 'node:crypto';
import { systemContext } from '../src/request/context.js';
import { startTestServer, type TestServer } from './support/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.stop());

const ctx = () => systemContext(server.em.fork(), 'test');
const aliases = () => server.berth.services.numericAliases;

test('an object gets a number on first use and keeps it; numbers are not shared between objects', async () => {
  const [a, b] = [randomUUID(), randomUUID()];
  const first = await aliases().numbersOf(ctx(), 'users', [a, b]);
  expect(first.get(a)).toEqual(expect.any(Number));
  expect(first.get(a)).not.toBe(first.get(b));
  expect(await aliases().numberOf(ctx(), 'users', a)).toBe(first.get(a));
  expect(await aliases().idOf(ctx(), 'users', first.get(b)!)).toBe(b);
  const rows = await server.sql<{ n: string }>(`select count(*)::text as n from numeric_aliases where target_id in ('${a}', '${b}')`);
  expect(rows[0].n).toBe('2');
});

test('a number names one kind only, and numbers never given are unknown', async () => {
  const id = randomUUID();
  const number = await aliases().numberOf(ctx(), 'groups', id);
  expect(await aliases().idOf(ctx(), 'groups', number)).toBe(id);
  expect(await aliases().idOf(ctx(), 'web_apps', number)).toBeNull();
  expect(await aliases().idOf(ctx(), 'groups', 2 ** 31)).toBeNull();
  expect(await aliases().idOf(ctx(), 'groups', 0)).toBeNull();
  expect(await aliases().idOf(ctx(), 'groups', 1.5)).toBeNull();
});

test('concurrent first uses of one object agree on its number', async () => {
  const id = randomUUID();
  const numbers = await Promise.all(Array.from({ length: 8 }, () => aliases().numberOf(ctx(), 'web_apps', id)));
  expect(new Set(numbers).size).toBe(1);
});
