/**
 * Child processes of the `ristretto faas` CLI for the benchmark scripts: start one (kept in a list so
 * the script can kill them all on exit) and wait for the stdout line that says it is ready; and plain
 * HTTP requests to the service they start.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { type Agent, request } from 'node:http';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

/** This checkout: whose CLI runs unless a bench names another one (`--repo`, for an A/B). */
export const thisRepo = resolve(import.meta.dirname, '..');

/**
 * Start `ristretto faas ARGS…` of checkout `repo`; stdout is piped for {@link waitLine}, stderr
 * ignored unless `stderr: 'inherit'`.
 */
export function startFaas(
  procs: ChildProcess[],
  args: string[],
  env: NodeJS.ProcessEnv = {},
  stderr: 'ignore' | 'inherit' = 'ignore',
  repo: string = thisRepo,
): ChildProcess {
  const p = spawn(process.execPath, [join(repo, 'bin', 'ristretto.mjs'), 'faas', ...args], {
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
  const { url, tokens, service } = await startServiceWithUsers(procs, db, ['bench'], { extra, stderr });
  return { url, token: tokens.bench ?? '', service };
}

/**
 * Users `names` in a new service database `db`, then the service of checkout `repo` on a free loopback
 * port (`extra`: more `serve` options); resolves once it listens, with each user's token by name.
 * The children get no RISTRETTO_TOKEN of the caller's.
 */
export async function startServiceWithUsers(
  procs: ChildProcess[],
  db: string,
  names: string[],
  o: { extra?: string[]; stderr?: 'ignore' | 'inherit'; repo?: string } = {},
): Promise<{ url: string; tokens: Record<string, string>; service: ChildProcess }> {
  const faas = (args: string[]) => startFaas(procs, args, { RISTRETTO_TOKEN: '' }, o.stderr, o.repo);
  const tokens: Record<string, string> = {};
  for (const name of names)
    [, tokens[name] = ''] = await waitLine(faas(['user', 'add', name, '--db', db]), /^(rst_\S+)$/);
  const service = faas(['serve', '--port', '0', '--db', db, ...(o.extra ?? []), '--quiet']);
  const [, url = ''] = await waitLine(service, /^listening on (\S+)$/);
  return { url, tokens, service };
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

/** An HTTP answer; status -1 when the request failed on the network (the service gone, a reset). */
export interface HttpAnswer {
  status: number;
  text: string;
}

/**
 * `METHOD path` of the service at `base` as the user of `token`, on the connections of `agent` (a
 * keep-alive agent per simulated client); never rejects, so a hostile loop goes on through refusals.
 */
export function httpCall(
  base: string,
  method: string,
  path: string,
  token: string,
  agent: Agent,
  body?: string | Buffer,
): Promise<HttpAnswer> {
  return new Promise((res) => {
    const req = request(
      new URL(path, base),
      { method, agent, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } },
      (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (d: Buffer) => chunks.push(d));
        r.on('end', () => res({ status: r.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
        r.on('error', () => res({ status: -1, text: '' }));
      },
    );
    req.on('error', () => res({ status: -1, text: '' }));
    req.end(body);
  });
}

/**
 * For a user of a bench that runs nothing: the identity function and an endpoint `NAME-ep` that never
 * connects (its tasks stay waiting). Returns the function id; throws on a refusal.
 */
export async function identityAndEndpoint(base: string, name: string, token: string, agent: Agent): Promise<string> {
  const f = await httpCall(
    base,
    'POST',
    '/v1/functions',
    token,
    agent,
    JSON.stringify({ code: 'export default (x) => x;' }),
  );
  if (f.status !== 200) throw new Error(`function registration: ${f.status} ${f.text}`);
  const e = await httpCall(base, 'POST', '/v1/endpoints', token, agent, JSON.stringify({ name: `${name}-ep` }));
  if (e.status !== 200) throw new Error(`endpoint registration: ${e.status} ${e.text}`);
  return JSON.parse(f.text).function_id;
}
