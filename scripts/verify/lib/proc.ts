/** Child processes with captured output, a log file per command, and a small pool. */
import { ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout + stderr, in the order they arrived. */
  readonly output: string;
  readonly seconds: number;
}

export interface RunOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Appends the command line and its output to this file. */
  readonly log?: string;
  readonly timeoutSeconds?: number;
}

const live = new Set<ChildProcess>();

/** Terminates every command still running (on SIGINT/SIGTERM of the pipeline). */
export function killRunning(): void {
  // SIGKILL: terraform's graceful stop waits minutes for retries against a stopped emulator;
  // its state here is a throwaway copy.
  for (const child of live) child.kill('SIGKILL');
}

export function run(
  cmd: string,
  args: readonly string[],
  opts: RunOptions = {},
): Promise<RunResult> {
  const started = Date.now();
  return new Promise((resolvePromise) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    live.add(child);
    let stdout = '';
    let stderr = '';
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      output += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      output += d.toString();
    });
    const timer = opts.timeoutSeconds
      ? setTimeout(() => {
          output += `\n[verify] timed out after ${opts.timeoutSeconds}s, killing ${cmd}\n`;
          child.kill('SIGTERM');
        }, opts.timeoutSeconds * 1000)
      : undefined;
    const finish = (code: number) => {
      live.delete(child);
      if (timer) clearTimeout(timer);
      const seconds = (Date.now() - started) / 1000;
      if (opts.log) {
        mkdirSync(dirname(opts.log), { recursive: true });
        appendFileSync(
          opts.log,
          `\n$ (cd ${opts.cwd ?? process.cwd()} && ${cmd} ${args.join(' ')})  # exit ${code}, ${seconds.toFixed(1)}s\n${output}`,
        );
      }
      resolvePromise({ code, stdout, stderr, output, seconds });
    };
    child.on('error', (e) => {
      output += `[verify] cannot start ${cmd}: ${e.message}\n`;
      finish(127);
    });
    child.on('close', (code, signal) => finish(code ?? (signal ? 128 : 1)));
  });
}

/** Runs `fn` over `items` with at most `size` in flight; results in input order. */
export async function pool<T, R>(
  items: readonly T[],
  size: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(size, items.length) }, worker));
  return results;
}

/** The last `lines` lines of a text, for failure messages. */
export function tail(text: string, lines = 25): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}
