/**
 * Peak memory of the whole `run-analysis` command as a function of the chunk size, the worker count and
 * the file size (issue 15: peak RSS must be bounded by chunk size and workers, not by the file).
 *
 *     npx tsx bench/peak-memory.ts --files D/adl-1M-snappy.parquet,D/adl-20M-snappy.parquet   # Q1 Q6 Q8
 *     npx tsx bench/peak-memory.ts --files F --chunksizes 50000,100000,1000000 --workers 0,2 --out m.json
 *     npx tsx bench/peak-memory.ts --files F --workers 0,1,2,4 --via local,root --out m.json  # + root://
 *     npx tsx bench/peak-memory.ts --report m.json,n.json                                      # tables only
 *
 * Every cell (file × query × chunk size × workers × local/root://) is one fresh
 * `node bin/run-analysis.mjs -q --no-cache` process under `/usr/bin/time`: its peak RSS (`%M`: the main
 * thread and its worker threads are one process) and CPU seconds (user + system). Workers 0 is the
 * iterative executor (no worker threads); W ≥ 1 is `--executor threads --workers W`. Repetitions are
 * interleaved over the cells, the order reversed every other round, so that a load change hits all alike;
 * peak RSS barely moves with load, wall time does, so CPU seconds are reported beside it. `--via root`
 * starts a real xrootd on loopback serving the files in place (test/helpers/xrootd-server.ts) and stops
 * it at the end.
 *
 * Besides the table, a fit per (file, query) over its threaded runs: RSS ≈ base + a·W + b·W·C, with W the
 * workers and C the chunk size in units of 100 k events (what a worker holds at once scales with its
 * chunk), with the largest residual, so that one sees where the model holds; and per file-size series
 * (same query, executor and chunk size, files that differ only in event count) the MB per million
 * events, which must be near 0 for memory bounded by the chunk.
 *
 * `--out FILE.json` is written after every run; started again with the same `--out`, runs already in it
 * are skipped (resume; `--fresh` starts over). `--report A.json,B.json` prints the tables of merged files.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startXrootd, type XrootdServer } from '../test/helpers/xrootd-server.ts';
import { benchArgs, flag, ints, text, usageFail, words, int } from './lib.ts';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TIME = '/usr/bin/time';
const VIAS = ['local', 'root'] as const;
type Via = (typeof VIAS)[number];

/** One command's measurement. */
interface Run {
  file: string;
  bytes: number;
  query: number;
  chunksize: number;
  workers: number;
  via: Via;
  rep: number;
  rssMB: number;
  cpu: number;
  elapsed: number;
  /** 1-minute load average just before the run. */
  load: number;
  events: number;
  chunks: number;
  bytesRead: number;
  /** The checkout's commit (with "+" when src/, executors/ or processors/ differ from it). */
  tree: string;
}

interface Cell {
  file: string;
  query: number;
  chunksize: number;
  workers: number;
  via: Via;
}

const cellKey = (c: Cell) => `${c.file}|${c.query}|${c.chunksize}|${c.workers}|${c.via}`;

function parseArgs() {
  const o = benchArgs('Peak RSS and CPU of run-analysis over chunk sizes, worker counts and files (issue 15).', {
    files: words('input files (Parquet or ROOT, tree Events)', []),
    queries: ints('ADL queries (processors/adl/query-N.ts)', [1, 6, 8], 1),
    chunksizes: ints('events per chunk', [100_000], 1),
    workers: ints('worker threads; 0 = the iterative executor', [0, 2], 0),
    via: words('read each file locally and/or through xrootd on loopback', ['local'], VIAS),
    reps: int('repetitions (interleaved)', 2, 1),
    out: text('write the runs as JSON here (resumed when it exists)', undefined, '<file>'),
    fresh: flag('start over instead of resuming from --out'),
    report: text('only print the tables of these results files (comma-separated)', undefined, '<files>'),
  });
  if (!o.report && !o.files.length) usageFail('--files is required (or --report)');
  for (const q of o.report ? [] : o.queries)
    if (!existsSync(join(repo, 'processors', 'adl', `query-${q}.ts`))) usageFail(`--queries: no query ${q}`);
  const files = o.files.map((f) => resolve(f));
  for (const f of files) if (!existsSync(f)) usageFail(`--files: ${f} is missing`);
  if (!o.report && !existsSync(TIME)) usageFail(`${TIME} is needed for the peak RSS (Debian package "time")`);
  return { ...o, files };
}

function treeOf(dir: string): string {
  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: dir, encoding: 'utf8' }).trim();
  const dirty = execFileSync('git', ['status', '--short', '--', 'src', 'executors', 'processors'], {
    cwd: dir,
    encoding: 'utf8',
  }).trim();
  return dirty ? `${commit}+` : commit;
}

function runOne(cell: Cell, rep: number, input: string, work: string, tree: string): Run {
  const dataset = join(work, `dataset-${rep}.json`);
  writeFileSync(dataset, JSON.stringify({ adl: { files: { [input]: 'Events' } } }));
  const out = join(work, 'out');
  const timeFile = join(work, 'time.txt');
  rmSync(out, { recursive: true, force: true });
  const args = [join(repo, 'bin', 'run-analysis.mjs'), '-q', '--no-cache', '-o', out];
  args.push('--chunksize', String(cell.chunksize));
  if (cell.workers > 0) args.push('--executor', 'threads', '--workers', String(cell.workers));
  args.push(dataset, join(repo, 'processors', 'adl', `query-${cell.query}.ts`));
  const load = loadavg()[0];
  const t0 = process.hrtime.bigint();
  const r = spawnSync(TIME, ['-f', '%M %U %S', '-o', timeFile, process.execPath, ...args], {
    cwd: repo,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`run-analysis ${args.join(' ')} failed (exit ${r.status}):\n${r.stderr}`);
  // The last line: /usr/bin/time writes "Command exited with …" before it on failure.
  const [kb, user, sys] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  const m = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as {
    events: number;
    chunks: number;
    bytesRead: number;
  };
  return {
    ...cell,
    bytes: statSync(cell.file).size,
    rep,
    rssMB: kb / 1024,
    cpu: user + sys,
    elapsed,
    load,
    events: m.events,
    chunks: m.chunks,
    bytesRead: m.bytesRead,
    tree,
  };
}

const f0 = (x: number) => x.toFixed(0);
const f1 = (x: number) => x.toFixed(1);
const f2 = (x: number) => x.toFixed(2);
const evs = (n: number) => (n >= 1e6 ? `${n / 1e6} M` : `${n / 1e3} k`);
const execName = (w: number) => (w === 0 ? 'iterative' : `threads ×${w}`);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Least squares `y ≈ X·β` through the normal equations (small, well-conditioned designs only). */
function leastSquares(X: number[][], y: number[]): number[] | undefined {
  const k = X[0].length;
  const A = Array.from({ length: k }, (_, i) => [
    ...Array.from({ length: k }, (_, j) => X.reduce((s, r) => s + r[i] * r[j], 0)),
    X.reduce((s, r, n) => s + r[i] * y[n], 0),
  ]);
  for (let c = 0; c < k; c++) {
    const p = A.slice(c).reduce((b, r, i) => (Math.abs(r[c]) > Math.abs(A[b][c]) ? c + i : b), c);
    [A[c], A[p]] = [A[p], A[c]];
    if (Math.abs(A[c][c]) < 1e-9) return undefined;
    for (let r = 0; r < k; r++) {
      if (r === c) continue;
      const f = A[r][c] / A[c][c];
      for (let j = c; j <= k; j++) A[r][j] -= f * A[c][j];
    }
  }
  return A.map((r, i) => r[k] / r[i]);
}

function groupBy<T>(xs: T[], key: (x: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const x of xs) m.set(key(x), [...(m.get(key(x)) ?? []), x]);
  return m;
}

function report(runs: Run[]): void {
  const cells = groupBy(runs, cellKey);
  const rows = [...cells.values()].sort(
    (a, b) =>
      a[0].query - b[0].query ||
      basename(a[0].file).localeCompare(basename(b[0].file)) ||
      a[0].via.localeCompare(b[0].via) ||
      a[0].workers - b[0].workers ||
      a[0].chunksize - b[0].chunksize,
  );
  console.log(
    '\n| query | file | via | executor | chunk | chunks | peak RSS [MB] (each rep) | CPU s (median) | wall s (median) | load | tree |',
  );
  console.log('| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const rs of rows) {
    const r = rs[0];
    console.log(
      `| Q${r.query} | ${basename(r.file)} | ${r.via} | ${execName(r.workers)} | ${evs(r.chunksize)} | ${r.chunks} | ${rs.map((x) => f0(x.rssMB)).join(' / ')} | ${f2(median(rs.map((x) => x.cpu)))} | ${f2(median(rs.map((x) => x.elapsed)))} | ${rs.map((x) => f1(x.load)).join(' ')} | ${[...new Set(rs.map((x) => x.tree))].join(' ')} |`,
    );
  }
  // Model: per (file, via, query), over threaded cells: RSS = base + a·W + b·W·C (C in 100 k events);
  // over iterative cells (one thread holds one chunk): RSS = base + b·C.
  const fits: string[] = [];
  const fitRow = (cells: Run[][], X: number[][], label: string) => {
    const y = cells.map((c) => median(c.map((x) => x.rssMB)));
    const beta = leastSquares(X, y);
    if (!beta) return;
    const res = X.map((x, i) => y[i] - x.reduce((s, v, j) => s + v * beta[j], 0));
    const worst = res.reduce((b, v, i) => (Math.abs(v) > Math.abs(res[b]) ? i : b), 0);
    const [r, w] = [cells[0][0], cells[worst][0]];
    const a = beta.length === 3 ? f1(beta[1]) : '—';
    fits.push(
      `| Q${r.query} | ${basename(r.file)} | ${r.via} | ${label} | ${cells.length} | ${f0(beta[0])} | ${a} | ${f1(beta.at(-1)!)} | ${f0(res[worst])} (${execName(w.workers)}, ${evs(w.chunksize)}) |`,
    );
  };
  for (const rs of groupBy(runs, (r) => `${r.file}|${r.via}|${r.query}`).values()) {
    const thr = [
      ...groupBy(
        rs.filter((r) => r.workers > 0),
        cellKey,
      ).values(),
    ];
    const it = [
      ...groupBy(
        rs.filter((r) => r.workers === 0),
        cellKey,
      ).values(),
    ];
    const sizes = (cs: Run[][]) => new Set(cs.map((c) => c[0].chunksize)).size;
    // More cells than parameters, or the fit passes through every point and its residual says nothing.
    if (thr.length > 3 && new Set(thr.map((c) => c[0].workers)).size >= 2 && sizes(thr) >= 2)
      fitRow(
        thr,
        thr.map((c) => [1, c[0].workers, (c[0].workers * c[0].chunksize) / 1e5]),
        'threads',
      );
    if (it.length > 2 && sizes(it) >= 2)
      fitRow(
        it,
        it.map((c) => [1, c[0].chunksize / 1e5]),
        'iterative',
      );
  }
  if (fits.length) {
    console.log(
      '\nLeast-squares fits, C = chunk size / 100 k events. threads: RSS ≈ base + a·W + b·W·C; iterative: RSS ≈ base + b·C.\n',
    );
    console.log(
      '| query | file | via | executor | cells | base [MB] | a [MB/worker] | b [MB per chunk holder per 100 k events] | largest residual [MB] |',
    );
    console.log('| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: |');
    for (const l of fits) console.log(l);
  }
  // File size: same query, executor, chunk and via; files whose names differ only in the event count.
  const family = (f: string) => basename(f).replace(/\d+[Mk]-/, 'N-');
  const sizeRows: string[] = [];
  for (const rs of groupBy(runs, (r) => `${family(r.file)}|${r.via}|${r.query}|${r.workers}|${r.chunksize}`).values()) {
    const byFile = [...groupBy(rs, (r) => r.file).values()].sort((a, b) => a[0].events - b[0].events);
    if (byFile.length < 2) continue;
    const pts = byFile.map((x) => [x[0].events / 1e6, median(x.map((r) => r.rssMB))]);
    const slope = (pts.at(-1)![1] - pts[0][1]) / (pts.at(-1)![0] - pts[0][0]);
    const r = rs[0];
    sizeRows.push(
      `| Q${r.query} | ${family(r.file)} | ${r.via} | ${execName(r.workers)} | ${evs(r.chunksize)} | ${pts.map(([e, m]) => `${e} M: ${f0(m)}`).join(', ')} | ${f2(slope)} |`,
    );
  }
  if (sizeRows.length) {
    console.log('\nFile size (median peak RSS; slope from the smallest to the largest file):\n');
    console.log('| query | files | via | executor | chunk | peak RSS [MB] by events | MB per M events |');
    console.log('| --- | --- | --- | --- | ---: | --- | ---: |');
    for (const l of sizeRows) console.log(l);
  }
}

async function main(): Promise<void> {
  const a = parseArgs();
  if (a.report) {
    report(a.report.split(',').flatMap((f) => JSON.parse(readFileSync(f, 'utf8')) as Run[]));
    return;
  }
  const runs: Run[] = a.out && existsSync(a.out) && !a.fresh ? JSON.parse(readFileSync(a.out, 'utf8')) : [];
  const done = new Set(runs.map((r) => `${cellKey(r)}|${r.rep}`));
  const cells: Cell[] = [];
  for (const file of a.files)
    for (const query of a.queries)
      for (const chunksize of a.chunksizes)
        for (const workers of a.workers) for (const via of a.via) cells.push({ file, query, chunksize, workers, via });
  const tree = treeOf(repo);
  console.log(`command: npx tsx bench/peak-memory.ts ${process.argv.slice(2).join(' ')}`);
  console.log(
    `machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, Node ${process.version}; tree ${tree}; load ${loadavg().map(f1).join(' ')}`,
  );
  const work = mkdtempSync(join(tmpdir(), 'ristretto-peak-memory-'));
  let server: XrootdServer | undefined;
  const stop = () => server?.proc.kill('SIGKILL');
  process.once('SIGINT', () => {
    stop();
    process.exit(130);
  });
  try {
    if (a.via.includes('root')) server = await startXrootd([]);
    for (let rep = 1; rep <= a.reps; rep++) {
      for (const cell of rep % 2 ? cells : [...cells].reverse()) {
        if (done.has(`${cellKey(cell)}|${rep}`)) continue;
        const input = cell.via === 'root' ? server!.url(cell.file) : cell.file;
        const r = runOne(cell, rep, input, work, tree);
        runs.push(r);
        if (a.out) writeFileSync(a.out, JSON.stringify(runs, null, 1));
        console.log(
          `  Q${r.query} ${basename(r.file)} ${r.via} ${execName(r.workers)} chunk ${evs(r.chunksize)} rep ${rep}: ${f0(r.rssMB)} MB, CPU ${f2(r.cpu)} s, ${f2(r.elapsed)} s, ${r.chunks} chunks, load ${f1(r.load)}`,
        );
      }
    }
  } finally {
    await server?.stop();
    rmSync(work, { recursive: true, force: true });
  }
  console.log(`load after: ${loadavg().map(f1).join(' ')}`);
  report(runs);
}

await main();
