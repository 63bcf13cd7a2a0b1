// npx tsx bench/faas-worker-start.ts [--reps 5]
//
// CPU seconds to start one FaaS endpoint worker, A/B in one run (taking turns): worker.ts through tsx
// (`--import tsx`, how the pool started workers before) vs the cached plain-JS build of it (now), from
// fork to the worker's `ready` message; and the worker side of the Ristretto chunk function,
// executors/faas/remote/run-task.ts, imported through tsx vs through its cached build (what a built
// worker does on its first chunk). Builds are made once before timing (the cache serves every start).
// CPU from /proc (Linux): user + system of the child, read before it is killed.
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cachedBuild } from '../src/processor/build-cache.mjs';
import { benchArgs, int, processCpuSeconds } from './lib.ts';

const { reps: REPS } = benchArgs('CPU seconds to start one FaaS endpoint worker: through tsx vs its cached build.', {
  reps: int('starts per variant', 5, 1),
});

const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const workerSource = fileURLToPath(new URL('../src/faas/endpoint/worker.ts', import.meta.url));
const runTaskSource = fileURLToPath(new URL('../executors/faas/remote/run-task.ts', import.meta.url));
const buildCache = new URL('../src/processor/build-cache.mjs', import.meta.url).href;
const builtWorker = (await cachedBuild(workerSource, 'runtime')).file;
await cachedBuild(runTaskSource, 'runtime');

/** Fork a worker entry and wait for its `ready`; CPU s it used by then. */
function workerStart(entry: string, execArgv: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const p: ChildProcess = fork(entry, [], { execArgv, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    p.on('message', (m: { type?: string }) => {
      if (m?.type !== 'ready') return;
      const cpu = processCpuSeconds(p.pid!);
      p.kill('SIGKILL');
      resolve(cpu);
    });
    p.once('exit', (code) => reject(new Error(`worker exited with ${code} before ready`)));
  });
}

/** A Node process that imports run-task.ts one way or the other, then prints its CPU s. */
function importRunTask(how: 'tsx' | 'built'): Promise<number> {
  const script =
    how === 'tsx'
      ? `await import(${JSON.stringify(pathToFileURL(runTaskSource).href)});`
      : `const { cachedBuild } = await import(${JSON.stringify(buildCache)}); await import((await import('node:url')).pathToFileURL((await cachedBuild(${JSON.stringify(runTaskSource)}, 'runtime')).file).href);`;
  const cpu = `const u = process.cpuUsage(); console.log((u.user + u.system) / 1e6);`;
  const args = [...(how === 'tsx' ? ['--import', tsx] : []), '--input-type=module', '-e', script + cpu];
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.once('exit', (code) => (code === 0 ? resolve(Number(out.trim())) : reject(new Error(`exit ${code}`))));
  });
}

const rows: Record<string, number[]> = {
  'worker start, tsx': [],
  'worker start, built': [],
  'run-task import, tsx': [],
  'run-task import, built': [],
};
for (let r = 0; r < REPS; r++) {
  rows['worker start, tsx'].push(await workerStart(workerSource, ['--import', tsx]));
  rows['worker start, built'].push(await workerStart(builtWorker, []));
  rows['run-task import, tsx'].push(await importRunTask('tsx'));
  rows['run-task import, built'].push(await importRunTask('built'));
}
const load = readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
console.log(`CPU s per start, ${REPS} reps taking turns (load ${load}):`);
for (const [k, v] of Object.entries(rows)) {
  const sorted = [...v].sort((a, b) => a - b);
  console.log(
    `  ${k.padEnd(24)} median ${sorted[sorted.length >> 1].toFixed(2)}  (${v.map((x) => x.toFixed(2)).join(' ')})`,
  );
}
