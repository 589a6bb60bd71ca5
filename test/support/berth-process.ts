import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ROOT } from './build.js';

/** Lines of a child's stream, as they come; waits on a line with a condition. */
export class Output {
  readonly lines: string[] = [];
  private readonly waiting = new Set<() => void>();

  constructor(stream: NodeJS.ReadableStream) {
    createInterface({ input: stream }).on('line', (line) => {
      this.lines.push(line);
      this.waiting.forEach((check) => check());
    });
  }

  /** the first line that `match` accepts; rejects when `ended` settles first (the process exited) */
  line(match: (line: string) => boolean, ended: Promise<unknown>): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.lines.find(match);
        if (found === undefined) return;
        this.waiting.delete(check);
        resolve(found);
      };
      this.waiting.add(check);
      check();
      void ended.then(() => {
        this.waiting.delete(check);
        reject(new Error(`the process exited; its output:\n${this.lines.join('\n')}`));
      });
    });
  }
}

/** Its JSON log lines (the other lines are plain console output). */
export function jsonLines(lines: string[]): { level: string; msg: string; [k: string]: unknown }[] {
  return lines.flatMap((line) => {
    try {
      const parsed = JSON.parse(line) as unknown;
      return parsed && typeof parsed === 'object' ? [parsed as { level: string; msg: string }] : [];
    } catch {
      return [];
    }
  });
}

export interface BerthProcess {
  child: ChildProcess;
  stdout: Output;
  stderr: Output;
  /** settles once the process has exited and its output has been read to the end */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL, unless it has exited already */
  kill(): Promise<void>;
}

/** dist/src/main.js (run ensureBuilt first) as npm start runs it, with `env` over this process's environment. */
export function spawnBerth(env: Record<string, string | undefined>, args: string[] = []): BerthProcess {
  const child = spawn(process.execPath, ['--experimental-async-context-frame', join(ROOT, 'dist/src/main.js'), ...args], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // 'close', not 'exit': by then its stdout and stderr have been read to the end
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  return {
    child,
    stdout: new Output(child.stdout!),
    stderr: new Output(child.stderr!),
    exited,
    kill: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}
