/**
 * The whole `run-analysis` command, start to exit, on short queries: where DuckDB's lead is the fixed cost
 * of starting (loading the CLI, bundling the processor, starting workers), not the event loop.
 *
 *     npx tsx bench/startup.ts --files A.parquet,B.parquet [--queries 1] [--reps 3] [--baseline DIR] [--out res.json]
 *
 * Per repetition, interleaved so that load changes hit all alike: for each file and query, Ristretto with
 * `--executor iterative` and `--executor threads --workers 2` (this checkout, and `--baseline DIR`'s when
 * given), then DuckDB `threads=1` and `threads=2` through bench/adl-e2e.ts's DuckDB child (the same SQL and
 * histogram check as the ADL benchmark). Every process runs under `/usr/bin/time`: "wall" is the whole
 * process, start to exit; "CPU" its user + system seconds (worker threads and esbuild included);
 * Ristretto's `metrics.json` `wallSeconds` (the run inside the process) is shown beside it. DuckDB's time
 * is the child's instance + view + query time, without its process start. The first repetition warms the
 * build caches (it is reported but the table takes the best of all). Histograms are compared: the
 * baseline's and this checkout's must agree bin for bin.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchArgs, int, ints, text, usageFail, words } from './lib.ts';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');

interface Run {
  who: string;
  file: string;
  query: number;
  rep: number;
  wall: number;
  cpu: number;
  rssMB: number;
  inner: number;
  load: number;
}

const a = benchArgs('The whole run-analysis command, start to exit, on short ADL queries, against DuckDB.', {
  files: words('nested-layout ADL Parquet files (bench/make-adl-dataset.ts)', []),
  queries: ints('ADL queries', [1], 1),
  reps: int('repetitions', 3, 1),
  baseline: text('another checkout to compare with', undefined, '<dir>'),
  out: text('write the results as JSON here', undefined, '<file>'),
});
const files = a.files.map((f) => resolve(f));
const { queries, reps } = a;
const baseline = a.baseline ? resolve(a.baseline) : undefined;
const outFile = a.out ? resolve(a.out) : undefined;
if (!files.length) usageFail('give --files A.parquet,B.parquet (nested ADL layout, see bench/make-adl-dataset.ts)');
for (const f of files)
  if (!existsSync(f)) usageFail(`--files: ${f} is missing: build it with bench/make-adl-dataset.ts`);

const work = mkdtempSync(join(tmpdir(), 'ristretto-startup-'));
const timeFile = join(work, 'time.txt');

/** Run under /usr/bin/time; wall, CPU and peak RSS of the process. */
function timed(cmd: string, args: string[]): { stdout: string; wall: number; cpu: number; rssMB: number } {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', '-o', timeFile, cmd, ...args], {
    cwd: repo,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status}):\n${r.stderr}`);
  const [wall, user, sys, kb] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  return { stdout: r.stdout, wall, cpu: user + sys, rssMB: kb / 1024 };
}

const counts = new Map<string, string>();

function ristretto(root: string, who: string, file: string, query: number, rep: number, workers: number): Run {
  const out = join(work, 'out');
  rmSync(out, { recursive: true, force: true });
  const ds = join(work, `ds-${basename(file)}.json`);
  writeFileSync(ds, JSON.stringify({ adl: { files: { [file]: 'Events' } } }));
  const args = [join(root, 'bin', 'run-analysis.mjs'), '-q', '--no-cache', '-o', out];
  if (workers > 1) args.push('--executor', 'threads', '--workers', String(workers));
  args.push(ds, join(root, 'processors', 'adl', `query-${query}.ts`));
  const load = loadavg()[0];
  const t = timed(process.execPath, args);
  const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as { wallSeconds: number };
  const hist = readFileSync(join(out, `query-${query}.json`), 'utf8');
  const values = JSON.stringify(
    Object.values(JSON.parse(hist) as Record<string, { storage: { values: number[] } }>).map((h) => h.storage.values),
  );
  const key = `${file} ${query}`;
  if (!counts.has(key)) counts.set(key, values);
  else if (counts.get(key) !== values)
    throw new Error(`${who} on ${file} Q${query}: histogram differs from the first run`);
  return { who, file, query, rep, wall: t.wall, cpu: t.cpu, rssMB: t.rssMB, inner: metrics.wallSeconds, load };
}

function duckdb(file: string, query: number, rep: number, threads: number): Run {
  const load = loadavg()[0];
  const t = timed(process.execPath, [
    '--import',
    'tsx',
    join(repo, 'bench', 'adl-e2e.ts'),
    '--child',
    'duckdb',
    '--file',
    file,
    '--layout',
    'nested',
    '--columns',
    '',
    '--query',
    String(query),
    '--threads',
    String(threads),
  ]);
  const r = JSON.parse(t.stdout.trim().split('\n').pop()!) as { seconds: number };
  return {
    who: `duckdb ${threads}`,
    file,
    query,
    rep,
    wall: t.wall,
    cpu: t.cpu,
    rssMB: t.rssMB,
    inner: r.seconds,
    load,
  };
}

const runs: Run[] = [];
const sides: Array<[string, string]> = [
  ...(baseline ? ([[baseline, 'baseline']] as Array<[string, string]>) : []),
  [repo, 'this'],
];
for (let rep = 0; rep < reps; rep++)
  for (const file of files)
    for (const q of queries) {
      for (const workers of [1, 2])
        for (const [root, name] of sides) {
          const r = ristretto(root, `${name} ${workers === 1 ? 'iterative' : 'threads 2'}`, file, q, rep, workers);
          runs.push(r);
          console.error(
            `${r.who.padEnd(20)} ${basename(file)} Q${q} rep ${rep}: wall ${r.wall.toFixed(2)} s, CPU ${r.cpu.toFixed(2)} s, inner ${r.inner.toFixed(2)} s, load ${r.load.toFixed(1)}`,
          );
        }
      for (const threads of [1, 2]) {
        const r = duckdb(file, q, rep, threads);
        runs.push(r);
        console.error(
          `${r.who.padEnd(20)} ${basename(file)} Q${q} rep ${rep}: wall ${r.wall.toFixed(2)} s, CPU ${r.cpu.toFixed(2)} s, query ${r.inner.toFixed(2)} s, load ${r.load.toFixed(1)}`,
        );
      }
    }

const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repo, encoding: 'utf8' }).trim();
const machine = `${cpus().length}× ${cpus()[0]?.model ?? '?'}, Node ${process.version}, commit ${commit}`;
if (outFile) writeFileSync(outFile, JSON.stringify({ machine, runs }, null, 1));

// Best (minimum) of the repetitions per cell; the median load over the cell's runs.
const cell = (who: string, file: string, q: number) =>
  runs.filter((r) => r.who === who && r.file === file && r.query === q);
const min = (xs: number[]) => Math.min(...xs);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`\n${machine}; best of ${reps}; load = median 1-min load average during the cell\n`);
console.log(
  '| file | query | who | wall [s] | CPU [s] | run inside (metrics.json / DuckDB query) [s] | RSS [MB] | load |',
);
console.log('| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |');
const whos = [...new Set(runs.map((r) => r.who))];
for (const file of files)
  for (const q of queries)
    for (const who of whos) {
      const c = cell(who, file, q);
      if (!c.length) continue;
      console.log(
        `| ${basename(file)} | Q${q} | ${who} | ${min(c.map((r) => r.wall)).toFixed(2)} | ${min(c.map((r) => r.cpu)).toFixed(2)} | ${min(c.map((r) => r.inner)).toFixed(2)} | ${min(c.map((r) => r.rssMB)).toFixed(0)} | ${median(c.map((r) => r.load)).toFixed(1)} |`,
      );
    }
rmSync(work, { recursive: true, force: true });
