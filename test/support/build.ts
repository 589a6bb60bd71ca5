import { execFile } from 'node:child_process';
import { closeSync, existsSync, openSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Builds dist/ once per test run (npm run build: the code and the embedded database template), for the tests that
 * start Berth as a process: the first file to ask builds it while the others wait, so no process starts from a dist/
 * being written (or from an older one).
 */
export async function ensureBuilt(): Promise<void> {
  const run = process.env.BERTH_TEST_RUN_DIR;
  if (!run) throw new Error('BERTH_TEST_RUN_DIR is not set: run the tests through npm test');
  const [lock, done] = [join(run, 'build.lock'), join(run, 'build.done')];
  for (;;) {
    if (existsSync(done)) return;
    let fd: number;
    try {
      fd = openSync(lock, 'wx');
    } catch {
      await sleep(200);
      continue;
    }
    try {
      await promisify(execFile)('npm', ['run', '-s', 'build'], { cwd: ROOT }).catch((err: { stdout?: string; stderr?: string }) => {
        // tsc reports on stdout
        throw new Error(`the build failed:\n${err.stdout ?? ''}${err.stderr || String(err)}`);
      });
      closeSync(openSync(done, 'w'));
    } finally {
      closeSync(fd);
      rmSync(lock, { force: true });
    }
  }
}
