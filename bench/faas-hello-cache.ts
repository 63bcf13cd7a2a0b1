// npx tsx bench/faas-hello-cache.ts [--repo DIR] [--files 2000] [--kib 256] [--reconnects 3]
//
// What an endpoint agent's function cache costs its hello: a real service on loopback and a real
// `faas endpoint start` (both of --repo: default this checkout; another one, e.g. the commit before,
// for an A/B) whose --cache-dir holds --files function modules of --kib KiB each (made once per
// folder, named by their sha256 as the agent stores them). Printed: the agent's CPU time (utime +
// stime) and wall time from its start to its first attach, then for each of --reconnects service
// restarts (SIGKILL, started again on the same port) the agent's CPU time until it attached again.
// The hello lists at most 10,000 cached functions: more --files than that also measure the choice.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { ChildProcess } from 'node:child_process';
import { startFaas, startServiceWithUsers, thisRepo } from './faas-procs.ts';
import { benchArgs, int, processCpuSeconds, text } from './lib.ts';

const o = benchArgs("What an endpoint's function cache costs its hello to the service.", {
  repo: text('checkout whose CLI runs the service and the endpoint', thisRepo, '<dir>'),
  files: int('function modules in the cache', 2000, 0),
  kib: int('KiB of each module', 256, 1),
  reconnects: int('service restarts to measure the hello again', 3, 0),
  cache: text('cache folder to fill (kept for the next run)', '', '<dir>'),
});

const dir = join(tmpdir(), `ristretto-hello-cache-${process.pid}`);
const cache = o.cache || join(tmpdir(), `ristretto-hello-cache-${o.files}x${o.kib}k`);
const procs: ChildProcess[] = [];

/** `files` modules of `kib` KiB each, unless the folder holds as many already. */
function fill(): void {
  mkdirSync(cache, { recursive: true });
  if (readdirSync(cache).filter((f) => f.endsWith('.mjs')).length === o.files) return;
  const pad = 'x'.repeat(o.kib * 1024 - 40);
  for (let i = 0; i < o.files; i++) {
    const code = `export default () => ${i} + "${pad}".length;\n`;
    const file = join(cache, `${createHash('sha256').update(code).digest('hex')}.mjs`);
    if (!existsSync(file)) writeFileSync(file, code);
  }
}

/** Lines of `p`'s stdout matching `re`, counted: `nth(k)` resolves once the k-th has come. */
function counter(p: ChildProcess, re: RegExp): (k: number) => Promise<void> {
  let seen = 0;
  const waiters: { k: number; resolve: () => void }[] = [];
  createInterface({ input: p.stdout! }).on('line', (l) => {
    if (!re.test(l)) return;
    seen++;
    for (const w of waiters.splice(0))
      if (w.k <= seen) w.resolve();
      else waiters.push(w);
  });
  return (k) => (k <= seen ? Promise.resolve() : new Promise((resolve) => waiters.push({ k, resolve })));
}

try {
  fill();
  mkdirSync(dir, { recursive: true });
  const db = join(dir, 'faas.db');
  let svc = await startServiceWithUsers(procs, db, ['owner'], { repo: o.repo });
  const port = new URL(svc.url).port;
  const t0 = performance.now();
  const agent = startFaas(
    procs,
    ['endpoint', 'start', '--service', svc.url, '--name', 'hello-ep', '--cache-dir', cache, '--workers', '1'],
    { RISTRETTO_TOKEN: svc.tokens.owner ?? '' },
    'ignore',
    o.repo,
  );
  const attached = counter(agent, /attached id=/);
  await attached(1);
  const pid = agent.pid ?? 0;
  console.log(
    `${o.files} cached modules of ${o.kib} KiB: start to first attach ${(performance.now() - t0).toFixed(0)} ms, agent CPU ${processCpuSeconds(pid).toFixed(2)} s`,
  );
  const per: number[] = [];
  for (let r = 1; r <= o.reconnects; r++) {
    svc.service.kill('SIGKILL');
    await new Promise((res) => svc.service.once('exit', res));
    const c0 = processCpuSeconds(pid);
    svc = { ...svc, service: startFaas(procs, ['serve', '--port', port, '--db', db, '--quiet'], {}, 'ignore', o.repo) };
    await attached(r + 1);
    per.push(processCpuSeconds(pid) - c0);
  }
  if (per.length) console.log(`reconnect: agent CPU until attached again ${per.map((c) => c.toFixed(2)).join(', ')} s`);
} finally {
  for (const p of procs) p.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}
