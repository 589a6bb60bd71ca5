import { expect, test } from '@jest/globals';
import { createServer } from 'node:net';
import { startBerth } from '../src/server/app.js';
import { createTestDatabase } from './support/database.js';
import { testConfig } from './support/server.js';

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test('an unreachable REDIS_URL stops the start with a clear error instead of waiting forever', async () => {
  const db = await createTestDatabase();
  try {
    const config = testConfig({ REDIS_URL: `redis://127.0.0.1:${await closedPort()}` });
    await expect(startBerth(config, { database: db.target, print: () => {} })).rejects.toThrow(/Redis at REDIS_URL is unreachable: .*ECONNREFUSED/);
  } finally {
    await db.drop();
  }
  // a start that kept retrying would never settle: the test's own timeout fails it (no wall-clock bound, which
  // would measure the migrations on a loaded machine)
}, 60_000);
