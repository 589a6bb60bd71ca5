import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ClusterCall } from './cluster-api.js';
import { ReleaseFailed, type ReleaseChart } from './helm-release.js';

const execFileAsync = promisify(execFile);

/** How helm is run for one task. */
export interface HelmRun {
  /** the helm executable (BERTH_HELM_BINARY) */
  binary: string;
  /** helm's own --timeout; the process is killed a little after, should helm not stop by itself */
  timeoutMs: number;
  /** the task's: an abandoned task stops helm */
  signal: AbortSignal;
}

/** A release as helm installs it: the namespace is also its name, as with Flux. */
export interface HelmReleaseSpec {
  namespace: string;
  chart: Pick<ReleaseChart, 'repository' | 'tag'>;
  values: Record<string, unknown>;
}

/** How long helm has past its --timeout to report it before it is killed. */
const KILL_GRACE_MS = 10_000;
/** How much of helm's output a task's reason keeps. */
const OUTPUT_LIMIT = 4000;

/** `helm upgrade --install`, waiting for the release's resources to be ready; returns helm's output. */
export function helmUpgrade(call: ClusterCall, release: HelmReleaseSpec, run: HelmRun): Promise<string> {
  const { namespace, chart } = release;
  // JSON is YAML, so helm reads the values as Berth rendered them, with no YAML writer in between
  return helm(call, run, `upgrade --install ${namespace}`, { 'values.json': JSON.stringify(release.values) }, (paths) => [
    'upgrade', '--install', namespace, `oci://${chart.repository}`, '--version', chart.tag, '--namespace', namespace,
    '--values', paths['values.json'], '--wait', '--timeout', `${Math.ceil(run.timeoutMs / 1000)}s`,
  ]);
}

/** `helm uninstall`; a release that is not there (never installed, or uninstalled by a run taken over) is fine. */
export function helmUninstall(call: ClusterCall, namespace: string, run: HelmRun): Promise<string> {
  return helm(call, run, `uninstall ${namespace}`, {}, () => [
    'uninstall', namespace, '--namespace', namespace, '--ignore-not-found', '--wait', '--timeout', `${Math.ceil(run.timeoutMs / 1000)}s`,
  ]);
}

/**
 * Runs helm (no shell) against the cluster: its kubeconfig and the given files are written, readable by Berth alone,
 * into a fresh folder that is removed whatever happens. A failure is a ReleaseFailed with the end of helm's stderr;
 * what helm prints goes through `scrub`, so neither the folder nor the cluster's credentials reach a task's reason.
 */
async function helm(
  call: ClusterCall,
  run: HelmRun,
  what: string,
  files: Record<string, string>,
  args: (paths: Record<string, string>) => string[],
): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-helm-'));
  const scrub = scrubber(call, dir);
  try {
    const paths: Record<string, string> = {};
    for (const [name, contents] of Object.entries({ ...files, kubeconfig: call.kc.exportConfig() })) {
      paths[name] = join(dir, name);
      await writeFile(paths[name], contents, { mode: 0o600, flag: 'wx' });
    }
    const { stdout } = await execFileAsync(run.binary, [...args(paths), '--kubeconfig', paths.kubeconfig], {
      signal: run.signal,
      timeout: run.timeoutMs + KILL_GRACE_MS,
      maxBuffer: 16 * 1024 * 1024,
    });
    return scrub(stdout).trim().slice(0, OUTPUT_LIMIT);
  } catch (err) {
    run.signal.throwIfAborted();
    const e = err as { code?: number | string | null; killed?: boolean; signal?: string | null; stderr?: string };
    // ENOENT, EACCES: the binary went away or lost its mode after the start's check (or the files could not be written)
    if (typeof e.code === 'string') throw new ReleaseFailed(`helm could not be run (${e.code})`);
    const why = e.killed
      ? `did not finish within ${Math.round((run.timeoutMs + KILL_GRACE_MS) / 1000)} s`
      : `failed (${typeof e.code === 'number' ? `exit ${e.code}` : `killed by ${e.signal}`})`;
    // helm ends with its error: the end is what to keep
    const stderr = scrub(e.stderr ?? '').trim().slice(-OUTPUT_LIMIT);
    throw new ReleaseFailed(`helm ${what} ${why}${stderr ? `: ${stderr}` : ''}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Takes the folder's path and the cluster user's secrets out of what helm prints (helm may echo a path or a header). */
function scrubber(call: ClusterCall, dir: string): (text: string) => string {
  const user = call.kc.getCurrentUser();
  const secrets = [user?.token, user?.password, user?.keyData].filter((s): s is string => !!s);
  return (text) => secrets.reduce((t, secret) => t.replaceAll(secret, '[redacted]'), text.replaceAll(`${dir}/`, ''));
}
