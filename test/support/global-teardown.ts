import { rmSync } from 'node:fs';
import pg from 'pg';

/** Removes what the run shared (global-setup.ts). */
export default async function globalTeardown(): Promise<void> {
  const { BERTH_TEST_RUN_DIR: dir, BERTH_TEST_TEMPLATE_DATABASE: template, TEST_DATABASE_URL: serverUrl } = process.env;
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (!serverUrl || !template) return;
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(`drop database if exists "${template}" with (force)`);
  } finally {
    await client.end();
  }
}
