import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Names what this run shares between its test files, in the environment that jest's workers inherit: a folder, and
 * the template database that the first file to need one migrates (test/support/database.ts). Jest loads this file
 * as CommonJS, without the module name mapping of the tests: it imports packages only.
 */
export default function globalSetup(): void {
  process.env.BERTH_TEST_RUN_DIR = mkdtempSync(join(tmpdir(), 'berth-test-run-'));
  process.env.BERTH_TEST_TEMPLATE_DATABASE = `berth_template_${randomBytes(6).toString('hex')}`;
}
