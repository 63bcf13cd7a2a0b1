/**
 * The ceiling for parallel efficiency on this machine: how much slower each of two independent, concurrent
 * one-thread processes is than one alone. Two workers cannot beat that, so `T1 / (2·T2)` of a thread pool is
 * to be read against it, not against 1.
 *
 *     npx tsx bench/parallel-ceiling.ts --file D/adl-20M-snappy.parquet [--query 1] [--reps 5] [--kinds loop,stream,run]
 *
 * Kinds (each a fresh `node` process doing a fixed amount of work, once alone and once as a pair started
 * together; alone and pair alternate within each repetition so that load changes hit both):
 * - `loop`: a dependent floating-point loop over a 256 KiB Float64Array (stays in the core's L2);
 * - `stream`: sums over a 256 MiB Float64Array (memory bandwidth, shared by the cores);
 * - `run`: `run-analysis --executor iterative` over the whole file (the real one-thread command: its own
 *   `wallSeconds`, the time adl-e2e.ts reports).
 * Per kind: median wall (and CPU of the whole process: `process.cpuUsage` of the timed part for the loops,
 * `/usr/bin/time` of the command for `run`) alone and in the pair, and `alone ÷ pair`, the efficiency two
 * perfectly independent halves would reach (1.0 = no slow-down from sharing the machine).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchArgs, flag, int, percentile, text, words } from './lib.ts';

const here = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const a = benchArgs('Slow-down of two concurrent one-thread processes against one alone.', {
  file: text('input file for the `run` kind', undefined, '<file>'),
  query: int('ADL query for the `run` kind', 1, 1),
  reps: int('repetitions (alone and pair alternate)', 5, 1),
  kinds: words('what to run', ['loop', 'stream', 'run'], ['loop', 'stream', 'run']),
  repo: text('checkout whose bin/run-analysis.mjs runs', here, '<dir>'),
  nice: flag('raise this process group above the rest of the machine (autogroup nice −20; run it under `setsid`)'),
});
if (a.nice) writeFileSync('/proc/self/autogroup', '-20');

/** Child programs: print one JSON line {wall, cpu} of the timed part. */
const PROGRAMS = {
  loop: `const a = new Float64Array(32768); for (let i = 0; i < a.length; i++) a[i] = i * 1e-3;
const t = performance.now(), c = process.cpuUsage(); let s = 0;
for (let r = 0; r < 2500; r++) for (let i = 0; i < a.length; i++) s = s * 0.999999 + a[i];
const u = process.cpuUsage(c);
console.log(JSON.stringify({ wall: (performance.now() - t) / 1000, cpu: (u.user + u.system) / 1e6, s }));`,
  stream: `const a = new Float64Array(32 * 1024 * 1024); for (let i = 0; i < a.length; i++) a[i] = i & 1023;
const t = performance.now(), c = process.cpuUsage(); let s = 0;
for (let r = 0; r < 3; r++) for (let i = 0; i < a.length; i += 1) s += a[i];
const u = process.cpuUsage(c);
console.log(JSON.stringify({ wall: (performance.now() - t) / 1000, cpu: (u.user + u.system) / 1e6, s }));`,
} as const;

type Kind = 'loop' | 'stream' | 'run';
interface Sample {
  wall: number;
  cpu: number;
}

const work = mkdtempSync(join(tmpdir(), 'ceiling-'));
let dataset: string | undefined;
if (a.kinds.includes('run')) {
  if (!a.file) throw new Error('--file is needed for the `run` kind');
  dataset = join(work, 'dataset.json');
  writeFileSync(dataset, JSON.stringify({ adl: { files: { [resolve(a.file)]: 'Events' } } }));
}

/** One child process of `kind`; `slot` keeps the output folders of a pair apart. */
function child(kind: Kind, slot: number): Promise<Sample> {
  const out = join(work, `out-${slot}`);
  const args =
    kind === 'run'
      ? [
          join(a.repo, 'bin', 'run-analysis.mjs'),
          '-q',
          '--no-cache',
          '-o',
          out,
          '--executor',
          'iterative',
          dataset as string,
          join(a.repo, 'processors', 'adl', `query-${a.query}.ts`),
        ]
      : ['-e', PROGRAMS[kind]];
  const timeFile = join(work, `time-${slot}`);
  if (kind === 'run') rmSync(out, { recursive: true, force: true });
  return new Promise((res, rej) => {
    const p =
      kind === 'run'
        ? spawn('/usr/bin/time', ['-f', '%U %S', '-o', timeFile, process.execPath, ...args], {
            stdio: ['ignore', 'pipe', 'inherit'],
          })
        : spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d));
    p.on('exit', (code) => {
      if (code !== 0) return rej(new Error(`${kind} exited with ${code}`));
      if (kind !== 'run') return res(JSON.parse(stdout.trim().split('\n').pop() as string) as Sample);
      const m = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as { wallSeconds: number };
      const [user, sys] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
      res({ wall: m.wallSeconds, cpu: user + sys });
    });
  });
}

const results = new Map<Kind, { alone: Sample[]; pair: Sample[]; loads: number[] }>();
for (const k of a.kinds as Kind[]) results.set(k, { alone: [], pair: [], loads: [] });
for (let r = 0; r < a.reps; r++) {
  for (const k of a.kinds as Kind[]) {
    const res = results.get(k) as { alone: Sample[]; pair: Sample[]; loads: number[] };
    res.loads.push(loadavg()[0]);
    const order = r % 2 === 0 ? ['alone', 'pair'] : ['pair', 'alone'];
    for (const o of order) {
      if (o === 'alone') res.alone.push(await child(k, 0));
      else res.pair.push(...(await Promise.all([child(k, 0 + 1), child(k, 2)])));
    }
    const last = res.pair.slice(-2);
    console.error(
      `rep ${r + 1} ${k}: alone ${res.alone.at(-1)?.wall.toFixed(3)} s, pair ${last.map((s) => s.wall.toFixed(3)).join(' ')} s, load ${res.loads.at(-1)?.toFixed(1)}`,
    );
  }
}
rmSync(work, { recursive: true, force: true });

const med = (xs: number[]) => percentile(xs, 50);
console.log(`| kind | alone wall (CPU) [s] | each of a pair, wall (CPU) [s] | alone ÷ pair, wall (CPU) | load |`);
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const [k, r] of results) {
  const aw = med(r.alone.map((s) => s.wall));
  const ac = med(r.alone.map((s) => s.cpu));
  const pw = med(r.pair.map((s) => s.wall));
  const pc = med(r.pair.map((s) => s.cpu));
  console.log(
    `| ${k} | ${aw.toFixed(3)} (${ac.toFixed(3)}) | ${pw.toFixed(3)} (${pc.toFixed(3)}) | ${(aw / pw).toFixed(2)} (${(ac / pc).toFixed(2)}) | ${Math.min(...r.loads).toFixed(1)}–${Math.max(...r.loads).toFixed(1)} |`,
  );
}
