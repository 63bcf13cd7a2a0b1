/**
 * Child processes of the `ristretto faas` CLI for the benchmark scripts: start one (kept in a list so
 * the script can kill them all on exit) and wait for the stdout line that says it is ready.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

const cli = join(resolve(import.meta.dirname, '..'), 'bin', 'ristretto.mjs');

/** Start `ristretto faas ARGS…`; stdout is piped for {@link waitLine}, stderr ignored unless `stderr: 'inherit'`. */
export function startFaas(
  procs: ChildProcess[],
  args: string[],
  env: NodeJS.ProcessEnv = {},
  stderr: 'ignore' | 'inherit' = 'ignore',
): ChildProcess {
  const p = spawn(process.execPath, [cli, 'faas', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', stderr],
  });
  procs.push(p);
  return p;
}

/**
 * A user in a new service database `db` and the service on a free loopback port (`extra`: more `serve`
 * options, e.g. `--heartbeat 1`); resolves once it listens.
 */
export async function startService(
  procs: ChildProcess[],
  db: string,
  extra: string[] = [],
  stderr: 'ignore' | 'inherit' = 'ignore',
): Promise<{ url: string; token: string; service: ChildProcess }> {
  const [, token = ''] = await waitLine(
    startFaas(procs, ['user', 'add', 'bench', '--db', db], {}, stderr),
    /^(rst_\S+)$/,
  );
  const serve = startFaas(procs, ['serve', '--port', '0', '--db', db, ...extra, '--quiet'], {}, stderr);
  const [, url = ''] = await waitLine(serve, /^listening on (\S+)$/);
  return { url, token, service: serve };
}

/** The first stdout line of `p` matching `re`; rejects if the process exits first. */
export function waitLine(p: ChildProcess, re: RegExp): Promise<RegExpMatchArray> {
  return new Promise((res, rej) => {
    const rl = createInterface({ input: p.stdout! });
    rl.on('line', (l) => {
      const m = re.exec(l);
      if (m) {
        rl.close();
        res(m);
      }
    });
    p.once('exit', (code) => rej(new Error(`process exited (${code}) before printing ${re}`)));
  });
}
