/**
 * Where the wall time of one whole `run-analysis` command goes, from spawn to exit, per thread:
 *
 *     npx tsx bench/command-breakdown.ts --file F [--query 1] [--workers 1,2] [--reps 3] [--repo DIR] [--out res.json]
 *
 * Each repetition runs the command twice in a fresh process: once plain under `/usr/bin/time` (wall and
 * CPU of the whole process: the numbers to compare), once with `node --cpu-prof` (every thread writes a
 * profile; the profiler costs a little itself) for the split. The profiles' clock is the monotonic clock
 * this process reads with `process.hrtime`, so every sample is placed on the command's own timeline
 * (0 = spawn). Each sample goes to the first phase below whose marker is on its stack:
 *
 * - `gc`, `idle`: V8's own leaf nodes (idle = the thread waits: I/O, a message, a lock);
 * - `output` (writeOutputs), `merge` (the runner's decode + accumulate), `chunks` (runChunk,
 *   processBatch, the in-process executor), `footers` (planWork, file opens and footers), `bundle`
 *   (bundling or loading the processor), `workers` (spawning the pool), `cli-lookup` (the launcher's
 *   check of the CLI build);
 * - `modules`: Node's module loaders and the top-level code of modules being evaluated;
 * - `bootstrap`: Node's own start-up (before the first module is resolved);
 * - `other`: the rest (argument parsing, runAnalysis's own code, promise plumbing).
 *
 * The table gives, per thread and phase, CPU ms (samples × interval) and when the phase was first and last
 * seen (ms after spawn); the milestones line gives the critical path: profile start, CLI's main(), first
 * chunk started (any thread), last chunk ended, outputs written, last sample, exit. Medians over reps.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchArgs, int, ints, text, usageFail } from './lib.ts';

const here = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const a = benchArgs('Split one run-analysis command into its phases, per thread, from CPU profiles.', {
  file: text('input file (ADL layout: Parquet or ROOT)', undefined, '<file>'),
  query: int('ADL query', 1, 1),
  workers: ints('1 = --executor iterative, n > 1 = --executor threads --workers n', [1, 2], 1),
  reps: int('repetitions', 3, 1),
  interval: int('profiler sampling interval [µs]', 250, 50),
  repo: text('checkout whose bin/run-analysis.mjs runs', here, '<dir>'),
  out: text('write the per-run results as JSON here', undefined, '<file>'),
  args: text('more run-analysis options, space-separated (e.g. "--maxchunks 2")', '', '<text>'),
});
if (!a.file) usageFail('give --file F (an ADL-layout Parquet or ROOT file)');
const file = resolve(a.file);
const repo = resolve(a.repo);
const work = mkdtempSync(join(tmpdir(), 'ristretto-breakdown-'));
const dataset = join(work, 'ds.json');
writeFileSync(dataset, JSON.stringify({ adl: { files: { [file]: 'Events' } } }));

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string }; children?: number[] }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const PHASES = [
  'gc',
  'idle',
  'output',
  'merge',
  'chunks',
  'footers',
  'bundle',
  'workers',
  'cli-lookup',
  'modules',
  'bootstrap',
  'other',
] as const;
type Phase = (typeof PHASES)[number];

/** Ristretto's own code: the CLI build, a bundle (worker runtime, processor), or a source file. */
const ours = (url: string) => /\/(bundles|\.cache\/ristretto)\/|\/src\/|\/executors\/|\/bin\//.test(url);

const MARKERS: [Phase, (fn: string, url: string) => boolean][] = [
  ['output', (fn, url) => fn === 'writeOutputs' && ours(url)],
  ['chunks', (fn, url) => /^(runChunk|processBatch|processChunk|runOnEvents)$/.test(fn) && ours(url)],
  ['merge', (fn, url) => /^(accumulate\d*|mergeInto|mergeGroups|decode)$/.test(fn) && ours(url)],
  [
    'footers',
    (fn, url) =>
      /^(planWork|preprocess\w*|openParquet|openRoot\w*|readFooter|loadFileset|open\w*File)$/.test(fn) && ours(url),
  ],
  ['bundle', (fn, url) => /^(bundleProcessor|loadBundle|buildBundle|cachedBuild|buildFresh)$/.test(fn) && ours(url)],
  ['workers', (fn, url) => (/^(prestart\w*|spawnWorker\w*|startWorker\w*)$/.test(fn) && ours(url)) || fn === 'Worker'],
  ['cli-lookup', (fn, url) => /^(lookupBuild|launch)$/.test(fn) && ours(url)],
];

interface ThreadSplit {
  /** CPU ms per phase (idle excluded from the sum). */
  ms: Record<Phase, number>;
  first: Partial<Record<Phase, number>>;
  last: Partial<Record<Phase, number>>;
  start: number;
  end: number;
  /** ms after spawn of the first sample in the CLI's main(), if any. */
  main?: number;
}

function split(p: CpuProfile, t0: bigint, main: boolean): ThreadSplit {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const phaseOf = new Map<number, Phase>();
  let moduleSeen = false;
  const classify = (leaf: number): Phase => {
    const known = phaseOf.get(leaf);
    if (known) return known;
    const frames: { fn: string; url: string }[] = [];
    for (let id: number | undefined = leaf; id !== undefined; id = parent.get(id)) {
      const cf = byId.get(id)!.callFrame;
      frames.push({ fn: cf.functionName, url: cf.url });
    }
    let phase: Phase = 'other';
    const leafFn = frames[0].fn;
    if (leafFn === '(garbage collector)') phase = 'gc';
    else if (leafFn === '(idle)') phase = 'idle';
    else {
      const hit = MARKERS.find(([, m]) => frames.some((f) => m(f.fn, f.url)));
      if (hit) phase = hit[0];
      else if (frames.some((f) => /node:internal\/modules\/(esm|cjs)\//.test(f.url))) phase = 'modules';
      else if (frames.some((f) => /node:internal\/(bootstrap|main)\//.test(f.url)) || leafFn === '(program)')
        phase = 'bootstrap';
    }
    phaseOf.set(leaf, phase);
    return phase;
  };
  const ms = Object.fromEntries(PHASES.map((k) => [k, 0])) as Record<Phase, number>;
  const first: Partial<Record<Phase, number>> = {};
  const last: Partial<Record<Phase, number>> = {};
  const base = Number(t0 / 1000n); // µs
  let t = p.startTime;
  let mainAt: number | undefined;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i];
    const dt = (p.timeDeltas[i + 1] ?? 0) / 1000;
    let phase = classify(p.samples[i]);
    // After the first module was evaluated, Node's own frames are no longer bootstrap.
    if (phase === 'modules') moduleSeen = true;
    else if (phase === 'bootstrap' && moduleSeen) phase = 'other';
    const at = (t - base) / 1000;
    ms[phase] += Math.max(0, dt);
    first[phase] ??= at;
    last[phase] = at;
    if (main && mainAt === undefined) {
      for (let id: number | undefined = p.samples[i]; id !== undefined; id = parent.get(id)) {
        const cf = byId.get(id)!.callFrame;
        if (cf.functionName === 'main' && ours(cf.url)) {
          mainAt = at;
          break;
        }
      }
    }
  }
  return { ms, first, last, start: (p.startTime - base) / 1000, end: (p.endTime - base) / 1000, main: mainAt };
}

/** Run under /usr/bin/time: wall, CPU (user + sys) of the whole process. */
function timed(args: string[], env: NodeJS.ProcessEnv = process.env): { wall: number; cpu: number; t0: bigint } {
  const timeFile = join(work, 'time.txt');
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S', '-o', timeFile, process.execPath, ...args], {
    cwd: repo,
    encoding: 'utf8',
    env,
  });
  const t1 = process.hrtime.bigint();
  if (r.status !== 0) throw new Error(`run-analysis failed (exit ${r.status}):\n${r.stderr}`);
  const [, user, sys] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  return { wall: Number(t1 - t0) / 1e9, cpu: user + sys, t0 };
}

function command(workers: number, extra: string[] = []): string[] {
  const out = join(work, 'out');
  rmSync(out, { recursive: true, force: true });
  const args = [...extra, join(repo, 'bin', 'run-analysis.mjs'), '-q', '--no-cache', '-o', out];
  if (workers > 1) args.push('--executor', 'threads', '--workers', String(workers));
  args.push(...a.args.split(' ').filter(Boolean));
  args.push(dataset, join(repo, 'processors', 'adl', `query-${a.query}.ts`));
  return args;
}

interface Rep {
  workers: number;
  rep: number;
  load: number;
  wall: number;
  cpu: number;
  profiled: { wall: number; cpu: number };
  inside: number;
  threads: ThreadSplit[];
}

const reps: Rep[] = [];
const median = (xs: number[]) => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// One untimed run per mode warms the page cache and the build caches.
for (const w of a.workers) timed(command(w));
for (let rep = 1; rep <= a.reps; rep++)
  for (const w of a.workers) {
    const load = loadavg()[0];
    const plain = timed(command(w));
    const profDir = join(work, `prof-${w}-${rep}`);
    const prof = timed(command(w, ['--cpu-prof', `--cpu-prof-dir=${profDir}`, `--cpu-prof-interval=${a.interval}`]));
    const inside = (JSON.parse(readFileSync(join(work, 'out', 'metrics.json'), 'utf8')) as { wallSeconds: number })
      .wallSeconds;
    // Profile files are named …<pid>.<thread id>.<seq>.cpuprofile: thread 0 is the main thread.
    const files = readdirSync(profDir)
      .filter((f) => f.endsWith('.cpuprofile'))
      .sort((x, y) => Number(x.split('.').at(-3)) - Number(y.split('.').at(-3)));
    const threads = files.map((f, i) =>
      split(JSON.parse(readFileSync(join(profDir, f), 'utf8')) as CpuProfile, prof.t0, i === 0),
    );
    rmSync(profDir, { recursive: true, force: true });
    reps.push({ workers: w, rep, load, wall: plain.wall, cpu: plain.cpu, profiled: prof, inside, threads });
    process.stderr.write(
      `rep ${rep} workers ${w}: wall ${plain.wall.toFixed(2)} s, CPU ${plain.cpu.toFixed(2)} s (profiled ${prof.wall.toFixed(2)} / ${prof.cpu.toFixed(2)}), load ${load.toFixed(1)}\n`,
    );
  }

const f0 = (x: number | undefined) => (x === undefined ? '—' : x.toFixed(0));
console.log(`# ${file}, ADL Q${a.query}, ${a.reps} reps, medians; node ${process.version}; checkout ${repo}`);
for (const w of a.workers) {
  const rs = reps.filter((r) => r.workers === w);
  const label = w === 1 ? 'iterative' : `threads ×${w}`;
  console.log(
    `\n## ${label}: wall ${median(rs.map((r) => r.wall)).toFixed(3)} s, CPU ${median(rs.map((r) => r.cpu)).toFixed(3)} s, wallSeconds ${median(rs.map((r) => r.inside)).toFixed(3)} s (profiled: wall ${median(rs.map((r) => r.profiled.wall)).toFixed(3)}, CPU ${median(rs.map((r) => r.profiled.cpu)).toFixed(3)}), load ${median(rs.map((r) => r.load)).toFixed(1)}`,
  );
  const nThreads = Math.min(...rs.map((r) => r.threads.length));
  const chunkFirst = median(rs.map((r) => Math.min(...r.threads.map((t) => t.first.chunks ?? Infinity))));
  const chunkLast = median(rs.map((r) => Math.max(...r.threads.map((t) => t.last.chunks ?? 0))));
  const m = (get: (r: Rep) => number | undefined) => {
    const xs = rs.map(get).filter((x): x is number => x !== undefined);
    return xs.length ? median(xs) : undefined;
  };
  console.log(
    `milestones [ms after spawn]: profile start ${f0(m((r) => r.threads[0].start))}, main() ${f0(m((r) => r.threads[0].main))}, footers ${f0(m((r) => r.threads[0].first.footers))}–${f0(m((r) => r.threads[0].last.footers))}, bundle ${f0(m((r) => r.threads[0].first.bundle))}–${f0(m((r) => r.threads[0].last.bundle))}, first chunk ${f0(chunkFirst)}, last chunk ${f0(chunkLast)}, output ${f0(m((r) => r.threads[0].first.output))}–${f0(m((r) => r.threads[0].last.output))}, last sample ${f0(m((r) => r.threads[0].end))}, exit ${f0(m((r) => r.profiled.wall * 1000))}`,
  );
  console.log(`\n| thread | ${PHASES.join(' | ')} | busy |\n| --- |${' ---: |'.repeat(PHASES.length + 1)}`);
  for (let t = 0; t < nThreads; t++) {
    const cells = PHASES.map((p) => {
      const ms = m((r) => r.threads[t].ms[p]) ?? 0;
      const from = m((r) => r.threads[t].first[p]);
      const to = m((r) => r.threads[t].last[p]);
      return ms < 0.5 ? '' : `${ms.toFixed(0)} (${f0(from)}–${f0(to)})`;
    });
    const busy = m((r) => PHASES.filter((p) => p !== 'idle').reduce((s, p) => s + r.threads[t].ms[p], 0));
    console.log(`| ${t === 0 ? 'main' : `worker ${t}`} | ${cells.join(' | ')} | ${f0(busy)} |`);
  }
}
if (a.out) writeFileSync(resolve(a.out), JSON.stringify({ file, query: a.query, repo, reps }, null, 1));
rmSync(work, { recursive: true, force: true });
