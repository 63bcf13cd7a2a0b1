// npx tsx bench/scaling/run.ts bench/scaling/quick.json
//
// Scaling study of the executors, in the manner of figure 2 of the funcX/coffea paper: makespan of a
// fixed analysis vs the number of workers (strong scaling), and makespan vs the number of concurrent
// analyses at fixed workers per analysis (weak scaling), for the threads executor and the FaaS executor
// (a service and endpoint agents started here on loopback, as real processes).
//
// What it measures on a small machine: with `chunks.kind = "sleep"` (sleep-padded chunks, a processor
// that reads one column and sleeps) worker slots are not limited by cores, so the curves show how the
// executors scale and what they cost per chunk. With `chunks.kind = "cpu"` (a real ADL processor)
// more workers than cores only compete for the CPU: those runs measure the FaaS overhead next to
// threads at the same worker count, not scaling.
//
// Every run is checked: its merged accumulator must be byte-identical to the first run's.
// Output (default bench/scaling/out/<name>-<time>/, gitignored): runs.json (every run), summary.json,
// strong.svg/png, weak.svg/png, and tables on stdout.
// Goals from the issue: FaaS makespan within 5% of threads at the same worker count; weak-scaling
// efficiency (T(1 analysis) / T(k analyses)) ≥ 95%.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FaasExecutor } from '../../executors/faas/index.ts';
import { LocalCluster } from '../../executors/faas/local-cluster.ts';
import { ThreadsExecutor } from '../../executors/threads/index.ts';
import type { Executor } from '../../executors/base.ts';
import { encode } from '../../src/accumulate/index.ts';
import type { Dataset } from '../../src/dataset/fileset.ts';
import { runAnalysis } from '../../src/runner/run.ts';
import { benchArgs, text, usageFail } from '../lib.ts';
import { readStudyConfig, type StudyConfig, StudyConfigError } from './config.ts';
import { cpuBetween, snapshot, type CpuByRole } from './cpu.ts';
import { seriesSVG, svgPNG, type Series } from './plot.ts';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface Cell {
  mode: 'strong' | 'weak';
  /** Total worker slots. */
  workers: number;
  concurrent: number;
}

interface RunRecord extends Cell {
  study: string;
  executor: 'threads' | 'faas';
  repeat: number;
  makespanSeconds: number;
  idealSeconds: number | null;
  identical: boolean;
  /** CPU seconds by process role during the run (Linux; zeros elsewhere). */
  cpu: CpuByRole;
  analyses: Array<{
    wallSeconds: number;
    events: number;
    chunks: number;
    faas?: {
      tailRetries: number;
      lateBound: number;
      duplicatesDiscarded: number;
      duplicatesCancelled: number;
      moved: number;
      /** Merge groups run as one task each, and their chunks (the rest went one chunk per task). */
      batches: number;
      batchedChunks: number;
    };
  }>;
}

const { config: cfgFile } = benchArgs(
  'Scaling study of the executors: makespan vs workers (strong) and vs concurrent analyses (weak).',
  {},
  { config: text('the study config, e.g. bench/scaling/quick.json', undefined, '<file>') },
);
if (!cfgFile) usageFail('give the study config: npx tsx bench/scaling/run.ts bench/scaling/<config>.json');
let cfg: StudyConfig;
try {
  cfg = readStudyConfig(cfgFile);
} catch (e) {
  if (!(e instanceof StudyConfigError)) throw e;
  usageFail(e.message);
}
const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
const outDir = resolve(repo, cfg.out ?? 'bench/scaling/out', `${cfg.name}-${stamp}`);
mkdirSync(outDir, { recursive: true });

// ---------------------------------------------------------------- the analysis

const { fileset, processor, chunksize, maxchunks, perChunkMs, chunksPerAnalysis } = analysisOf(cfg);

function analysisOf(c: StudyConfig) {
  const k = c.chunks;
  if (k.kind === 'sleep') {
    const file = resolve(repo, '..', 'shared', 'data', 'Run2012B_SingleMu_10000.root');
    const perFile = Math.floor(10_000 / k.eventsPerChunk);
    const copies = Math.ceil(k.perAnalysis / perFile);
    const ds: Dataset[] = Array.from({ length: copies }, (_, i) => ({
      name: `d${i}`,
      files: [{ path: file, tree: 'Events' }],
      metadata: { sleepMs: k.sleepMs },
    }));
    return {
      fileset: ds,
      processor: resolve(repo, 'bench', 'scaling', 'processors', 'sleep-met.ts'),
      chunksize: k.eventsPerChunk,
      maxchunks: k.perAnalysis,
      perChunkMs: k.sleepMs,
      chunksPerAnalysis: k.perAnalysis,
    };
  }
  const ds: Dataset[] = Array.from({ length: k.copies }, (_, i) => ({
    name: `d${i}`,
    files: k.files.map((f) => ({ path: resolve(repo, f), tree: 'Events' })),
    metadata: {},
  }));
  return {
    fileset: ds,
    processor: resolve(repo, k.processor),
    chunksize: k.chunksize,
    maxchunks: undefined,
    perChunkMs: undefined,
    chunksPerAnalysis: undefined,
  };
}

function cells(c: StudyConfig): Cell[] {
  const out: Cell[] = [];
  for (const n of c.strong?.workers ?? [])
    for (const k of c.strong?.concurrent ?? [1]) out.push({ mode: 'strong', workers: n, concurrent: k });
  for (const k of c.weak?.concurrent ?? [])
    out.push({ mode: 'weak', workers: k * c.weak!.workersPerAnalysis, concurrent: k });
  // Grouped by total workers, so FaaS endpoints restart only when their size changes.
  return out.sort((a, b) => a.workers - b.workers || a.concurrent - b.concurrent);
}

function ideal(cell: Cell): number | null {
  if (perChunkMs === undefined || chunksPerAnalysis === undefined) return null;
  const total = chunksPerAnalysis * cell.concurrent;
  return (Math.ceil(total / cell.workers) * perChunkMs) / 1000;
}

// ---------------------------------------------------------------- executors

let cluster: LocalCluster | undefined;
let layout = '';
let endpointNames: string[] = [];

/** (Re)start FaaS endpoints so they offer `slots` worker slots in total, split across cfg.endpoints. */
async function ensureEndpoints(slots: number): Promise<void> {
  const n = Math.min(cfg.endpoints, slots);
  const sizes = Array.from({ length: n }, (_, i) => Math.floor(slots / n) + (i < slots % n ? 1 : 0));
  const key = sizes.join(',');
  if (key === layout) return;
  // RISTRETTO_CPU_PROF=<dir>: CPU profiles of the service and agents (agents then stop with SIGTERM).
  const profDir = process.env.RISTRETTO_CPU_PROF;
  cluster ??= await LocalCluster.start(profDir ? { cpuProfileDir: profDir } : {});
  process.env.RISTRETTO_TOKEN = cluster.token;
  await stopEndpoints(profDir ? 'SIGTERM' : 'SIGKILL');
  endpointNames = sizes.map((_, i) => `ep${i}`);
  // Sleep chunks: one process per endpoint with async slots; CPU chunks: one process per slot. A Slurm
  // endpoint holds one warm block with the same worker layout.
  const sleep = cfg.chunks.kind === 'sleep';
  await Promise.all(
    sizes.map((s, i) => {
      const slurm = cfg.providers?.[i] === 'slurm';
      const extra = slurm
        ? {
            args: [
              '--provider',
              'slurm',
              '--min-blocks',
              '1',
              '--max-blocks',
              '1',
              '--workers-per-block',
              String(sleep ? 1 : s),
              '--idle-timeout',
              '3600',
            ],
          }
        : {};
      return cluster!.startEndpoint(
        endpointNames[i],
        sleep ? { workers: 1, concurrency: s, ...extra } : { workers: s, ...extra },
      );
    }),
  );
  layout = key;
}

/** Stop the endpoints; Slurm ones with SIGTERM, so they cancel their blocks. */
async function stopEndpoints(signal: NodeJS.Signals): Promise<void> {
  if (!cluster) return;
  for (const name of [...cluster.endpoints.keys()]) {
    const slurm = cfg.providers?.[Number(name.slice(2))] === 'slurm';
    await cluster.killEndpoint(name, slurm ? 'SIGTERM' : signal);
  }
}

async function makeExecutors(kind: 'threads' | 'faas', cell: Cell): Promise<Executor[]> {
  const per = Math.max(1, Math.round(cell.workers / cell.concurrent));
  if (kind === 'threads') return Array.from({ length: cell.concurrent }, () => new ThreadsExecutor({ workers: per }));
  await ensureEndpoints(cell.workers);
  const exs: Executor[] = [];
  for (let i = 0; i < cell.concurrent; i++)
    exs.push(
      await FaasExecutor.connect({
        service: cluster!.url,
        endpoints: endpointNames,
        ...(cfg.tailTimeout ? { tailTimeout: cfg.tailTimeout } : {}),
      }),
    );
  return exs;
}

// ---------------------------------------------------------------- measuring

const cacheFile = join(outDir, 'preprocess.json');
let reference: Buffer | undefined;

async function once(exs: Executor[], limit?: number) {
  const c0 = snapshot();
  const t0 = performance.now();
  const results = await Promise.all(
    exs.map((executor) =>
      runAnalysis({ fileset, processor, executor, chunksize, maxchunks: limit ?? maxchunks, cacheFile }),
    ),
  );
  const seconds = (performance.now() - t0) / 1000;
  return { seconds, results, cpu: cpuBetween(c0, snapshot()) };
}

const records: RunRecord[] = [];
// Per cell, the executors take turns repeat by repeat (threads, faas, threads, ...): on a shared VM
// the machine's speed drifts over minutes (the same FaaS run measured 3.0 s one hour and 3.9 s the
// next), and cells measured one executor after the other would compare different machines.
for (const cell of cells(cfg)) {
  const sets = new Map<'threads' | 'faas', Executor[]>();
  try {
    for (const kind of cfg.executors) {
      const exs = await makeExecutors(kind, cell);
      sets.set(kind, exs);
      await once(exs, Math.max(1, Math.ceil(cell.workers / cell.concurrent))); // warm-up: one wave, not recorded
    }
    for (let rep = 0; rep < cfg.repeats; rep++) {
      for (const [kind, exs] of sets) {
        const { seconds, results, cpu } = await once(exs);
        let identical = true;
        for (const r of results) {
          const bytes = Buffer.from(encode(r.accumulator));
          reference ??= bytes;
          identical &&= bytes.equals(reference);
        }
        const rec: RunRecord = {
          study: cfg.name,
          executor: kind,
          ...cell,
          repeat: rep,
          makespanSeconds: seconds,
          idealSeconds: ideal(cell),
          identical,
          cpu,
          analyses: results.map((r, i) => {
            const ex = exs[i];
            const f = ex instanceof FaasExecutor ? ex.faas : undefined;
            return {
              wallSeconds: r.metrics.wallSeconds,
              events: r.metrics.events,
              chunks: r.metrics.chunks,
              ...(f
                ? {
                    faas: {
                      tailRetries: f.tailRetries,
                      lateBound: f.lateBound,
                      duplicatesDiscarded: f.duplicatesDiscarded,
                      duplicatesCancelled: f.duplicatesCancelled,
                      moved: f.moved,
                      batches: f.batches,
                      batchedChunks: f.batchedChunks,
                    },
                  }
                : {}),
            };
          }),
        };
        records.push(rec);
        process.stderr.write(
          `${kind.padEnd(7)} ${cell.mode.padEnd(6)} workers ${String(cell.workers).padStart(3)}  analyses ${cell.concurrent}  repeat ${rep}: ${seconds.toFixed(3)} s${identical ? '' : '  RESULT MISMATCH'}\n`,
        );
      }
    }
  } finally {
    for (const exs of sets.values()) await Promise.all(exs.map((e) => e.close()));
  }
}
await stopEndpoints('SIGKILL');
await cluster?.close();

// ---------------------------------------------------------------- summary, tables, plots

interface Stat {
  mean: number;
  sd: number;
  n: number;
}
const stat = (xs: number[]): Stat => {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, sd, n: xs.length };
};
const groupKey = (r: { mode: string; executor: string; workers: number; concurrent: number }) =>
  `${r.mode}|${r.executor}|${r.workers}|${r.concurrent}`;
const groups = new Map<string, number[]>();
for (const r of records) {
  const k = groupKey(r);
  if (!groups.has(k)) groups.set(k, []);
  groups.get(k)!.push(r.makespanSeconds);
}
const get = (mode: string, executor: string, workers: number, concurrent: number): Stat | undefined => {
  const xs = groups.get(groupKey({ mode, executor, workers, concurrent }));
  return xs ? stat(xs) : undefined;
};
const fmt = (s: Stat | undefined) => (s ? `${s.mean.toFixed(3)} ± ${s.sd.toFixed(3)}` : '-');

const summary: Record<string, unknown> = {
  config: cfg,
  measures:
    cfg.chunks.kind === 'sleep' ? 'scaling (sleep-padded chunks)' : 'overhead (CPU-bound chunks on this machine)',
  strong: [],
  weak: [],
};
const lines: string[] = [
  `\nstudy ${cfg.name}: ${summary.measures}; makespan in seconds, mean ± sd over ${cfg.repeats} repeats`,
];

if (cfg.strong) {
  lines.push(
    '\nstrong scaling (fixed work per analysis)',
    'workers  analyses  threads            faas               faas/threads  ideal',
  );
  for (const k of cfg.strong.concurrent ?? [1]) {
    for (const n of cfg.strong.workers) {
      const t = get('strong', 'threads', n, k);
      const f = get('strong', 'faas', n, k);
      const ratio = t && f ? f.mean / t.mean : undefined;
      const id = ideal({ mode: 'strong', workers: n, concurrent: k });
      (summary.strong as unknown[]).push({
        workers: n,
        concurrent: k,
        threads: t,
        faas: f,
        faasOverThreads: ratio ?? null,
        idealSeconds: id,
      });
      lines.push(
        `${String(n).padStart(7)}  ${String(k).padStart(8)}  ${fmt(t).padEnd(17)}  ${fmt(f).padEnd(17)}  ${ratio ? ratio.toFixed(3).padStart(12) : '           -'}  ${id?.toFixed(2) ?? '-'}`,
      );
    }
  }
}
if (cfg.weak) {
  const w = cfg.weak.workersPerAnalysis;
  lines.push(
    `\nweak scaling (${w} workers per analysis)`,
    'analyses  workers  threads            faas               eff threads  eff faas',
  );
  const base = { threads: get('weak', 'threads', w, 1), faas: get('weak', 'faas', w, 1) };
  for (const k of cfg.weak.concurrent) {
    const t = get('weak', 'threads', k * w, k);
    const f = get('weak', 'faas', k * w, k);
    const et = t && base.threads ? base.threads.mean / t.mean : undefined;
    const ef = f && base.faas ? base.faas.mean / f.mean : undefined;
    (summary.weak as unknown[]).push({
      concurrent: k,
      workers: k * w,
      threads: t,
      faas: f,
      efficiencyThreads: et ?? null,
      efficiencyFaas: ef ?? null,
    });
    lines.push(
      `${String(k).padStart(8)}  ${String(k * w).padStart(7)}  ${fmt(t).padEnd(17)}  ${fmt(f).padEnd(17)}  ${et ? et.toFixed(3).padStart(11) : '          -'}  ${ef ? ef.toFixed(3).padStart(8) : '       -'}`,
    );
  }
}
{
  // Where the CPU went (mean per run). The threads executor's workers are threads of the client.
  const rows = new Map<string, RunRecord[]>();
  for (const r of records) {
    const k = groupKey(r);
    if (!rows.has(k)) rows.set(k, []);
    rows.get(k)!.push(r);
  }
  const cpuRows: unknown[] = [];
  lines.push(
    '\nCPU seconds per run (mean), by process; FaaS overhead = client + service + agents per chunk',
    'mode    workers  analyses  executor  client  service  agents  workers   total  overhead ms/chunk',
  );
  for (const rs of rows.values()) {
    const r0 = rs[0];
    const m = (f: (c: CpuByRole) => number) => rs.reduce((a, r) => a + f(r.cpu), 0) / rs.length;
    const c: CpuByRole = {
      client: m((c) => c.client),
      service: m((c) => c.service),
      agents: m((c) => c.agents),
      workers: m((c) => c.workers),
    };
    const total = c.client + c.service + c.agents + c.workers;
    const chunks = r0.analyses.reduce((a, x) => a + x.chunks, 0);
    const overhead = r0.executor === 'faas' ? ((c.client + c.service + c.agents) / chunks) * 1000 : null;
    cpuRows.push({
      mode: r0.mode,
      workers: r0.workers,
      concurrent: r0.concurrent,
      executor: r0.executor,
      cpuSeconds: c,
      totalSeconds: total,
      chunks,
      overheadMsPerChunk: overhead,
    });
    const f2 = (x: number) => x.toFixed(2).padStart(6);
    lines.push(
      `${r0.mode.padEnd(6)}  ${String(r0.workers).padStart(7)}  ${String(r0.concurrent).padStart(8)}  ${r0.executor.padEnd(8)}  ${f2(c.client)}  ${f2(c.service).padStart(7)}  ${f2(c.agents)}  ${f2(c.workers).padStart(7)}  ${f2(total)}  ${overhead === null ? '                -' : overhead.toFixed(2).padStart(17)}`,
    );
  }
  summary.cpu = cpuRows;
}
const mismatches = records.filter((r) => !r.identical).length;
lines.push(
  `\nresults identical to the first run: ${mismatches === 0 ? 'yes, all runs' : `NO, ${mismatches} run(s) differ`}`,
);

writeFileSync(join(outDir, 'runs.json'), JSON.stringify(records, null, 1));
writeFileSync(join(outDir, 'summary.json'), JSON.stringify(summary, null, 1));

async function plot(
  file: string,
  series: Series[],
  title: string,
  xTitle: string,
  ideal?: 'strong' | 'weak',
): Promise<void> {
  if (series.length === 0) return;
  const svg = await seriesSVG(series, { title, xTitle, yTitle: 'makespan [s]', ideal });
  writeFileSync(join(outDir, `${file}.svg`), svg);
  writeFileSync(join(outDir, `${file}.png`), await svgPNG(svg));
}

function seriesFor(
  mode: 'strong' | 'weak',
  xs: Array<{ x: number; workers: number; concurrent: number }>,
  suffix: string,
): Series[] {
  const out: Series[] = [];
  for (const executor of cfg.executors) {
    const pts = xs.map((p) => ({ x: p.x, s: get(mode, executor, p.workers, p.concurrent) })).filter((p) => p.s);
    if (pts.length)
      out.push({
        label: `${executor}${suffix}`,
        x: pts.map((p) => p.x),
        y: pts.map((p) => p.s!.mean),
        ey: pts.map((p) => p.s!.sd),
      });
  }
  return out;
}

if (cfg.strong) {
  const series: Series[] = [];
  for (const k of cfg.strong.concurrent ?? [1]) {
    const suffix = (cfg.strong.concurrent ?? [1]).length > 1 ? `, ${k} analyses` : '';
    series.push(
      ...seriesFor(
        'strong',
        cfg.strong.workers.map((n) => ({ x: n, workers: n, concurrent: k })),
        suffix,
      ),
    );
  }
  const id = cfg.strong.workers.map((n) => ideal({ mode: 'strong', workers: n, concurrent: 1 }));
  if (id.every((v) => v !== null))
    series.push({ label: 'ideal', x: cfg.strong.workers, y: id as number[], ey: id.map(() => 0) });
  await plot('strong', series, `Strong scaling (${cfg.name})`, 'workers', 'strong');
}
if (cfg.weak) {
  const w = cfg.weak.workersPerAnalysis;
  await plot(
    'weak',
    seriesFor(
      'weak',
      cfg.weak.concurrent.map((k) => ({ x: k, workers: k * w, concurrent: k })),
      '',
    ),
    `Weak scaling, ${w} workers per analysis (${cfg.name})`,
    'concurrent analyses',
    'weak',
  );
}

lines.push(`\nwritten to ${outDir}`);
process.stdout.write(`${lines.join('\n')}\n`);
if (mismatches) process.exitCode = 1;
