/**
 * Running commands in tests: a real child process with its output collected, a command run in this
 * process with its stdout/stderr captured, and `--json` output read one object a line.
 *
 * @example
 * ```ts
 * const r = await runNode([join(repoRoot, 'bin', 'ristretto.mjs'), '--version']);
 * expect(r.code, r.stderr).toBe(0);
 * const rows = jsonLines(r.stdout);
 * ```
 */
import { spawn } from 'node:child_process';
import { vi } from 'vitest';

/** How a child process ended and everything it wrote. */
export interface Ran {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunNodeOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Polled while the child runs; it is SIGKILLed once this returns true. */
  killWhen?: () => boolean;
}

/** Run `node ...args` and resolve once it has ended and its output is read to the end. */
export function runNode(args: readonly string[], opts: RunNodeOptions = {}): Promise<Ran> {
  return runCommand(process.execPath, args, opts);
}

/** Run the executable `command` (e.g. a single-file build) like {@link runNode}. */
export function runCommand(command: string, args: readonly string[], opts: RunNodeOptions = {}): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const killWhen = opts.killWhen;
    const timer = killWhen
      ? setInterval(() => {
          if (killWhen()) child.kill('SIGKILL');
        }, 20)
      : undefined;
    child.on('error', reject);
    // 'close', not 'exit': the output is complete only once both pipes have ended.
    child.on('close', (code, signal) => {
      if (timer) clearInterval(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** One JSON value a line (`--json` output); blank lines are skipped. */
export function jsonLines<T = Record<string, unknown>>(text: string): T[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
}

/**
 * Run `fn` (a command run in this process) with stdout and stderr captured instead of printed, and
 * `process.exitCode` saved and restored: returns what it wrote and the exit code it set.
 */
export async function captureOutput(
  fn: () => Promise<unknown>,
): Promise<{ out: string; err: string; code: number | undefined }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
  const before = process.exitCode;
  process.exitCode = undefined;
  let code: number | undefined;
  try {
    await fn();
  } finally {
    o.mockRestore();
    e.mockRestore();
    code = process.exitCode as number | undefined;
    process.exitCode = before;
  }
  return { out, err, code };
}
