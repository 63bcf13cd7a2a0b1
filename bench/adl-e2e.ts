/**
 * ADL end to end: the whole `run-analysis` command against DuckDB, on one file, at 1 and 2 threads.
 *
 *     npx tsx bench/make-adl-dataset.ts --copies 2000 --codec SNAPPY --out /data/adl-20M-snappy.parquet   # once
 *     npx tsx bench/adl-e2e.ts --file /data/adl-20M-snappy.parquet                # Q1–Q8, best of 2
 *     npx tsx bench/adl-e2e.ts --file F --queries 3,8 --reps 1 --no-floor --json out.json
 *     npx tsx bench/adl-e2e.ts --file F --repo /tmp/after --baseline /tmp/before   # A/B of two checkouts
 *
 * For each query and repetition, interleaved so that load changes hit both sides alike:
 * - Ristretto, 1 thread: `run-analysis --executor iterative` in a fresh process (default chunk size);
 *   the time is `wallSeconds` of its metrics.json (preprocessing, every chunk, merge, output);
 * - DuckDB, `threads=1`, in a fresh process: instance, view, query and result rows;
 * - Ristretto, 2 threads: `run-analysis --executor threads --workers 2` (pool start-up included);
 * - DuckDB, `threads=2`.
 * Each side runs under `/usr/bin/time` for its peak RSS (worker threads share the process) and the CPU
 * seconds of the whole process (less sensitive than wall time to a loaded machine). The
 * "floor" is the time to only read and decompress the column chunks the query reads (the columns from
 * Ristretto's metrics.json), on one thread: what is left once decoding and the analysis cost nothing.
 * Histograms are checked: Ristretto 1 vs 2 threads identical bin for bin, DuckDB's total equal to Ristretto's.
 * The 1-minute load average is sampled before every run and reported (mean over the query's runs).
 * `--repo DIR` runs Ristretto from another checkout (its bin/ and processors/adl/, e.g. a `git worktree` of
 * one commit, so that files being edited in this tree do not leak in); `--baseline DIR` adds that
 * checkout's 1- and 2-thread runs to the same interleaved loop, for before/after tables.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { parquetMetadataAsync, type FileMetaData } from 'hyparquet';
import { parquetHeader } from 'hyparquet/src/column.js';
import { decompressPage } from 'hyparquet/src/datapage.js';
import { compressors } from 'hyparquet-compressors';
import { gunzipSync } from 'node:zlib';
import { mapSchema } from '../src/io/parquet/schema.ts';
import { binnedSql, COFFEA, MACROS, QUERIES, type Query } from './adl-queries.ts';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const self = fileURLToPath(import.meta.url);

interface Args {
  file: string;
  queries: number[];
  reps: number;
  workers: number;
  chunksize: number | undefined;
  duckdb: boolean;
  floor: boolean;
  json: string | undefined;
  repo: string;
  baseline: string | undefined;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { file: resolve(repo, 'bench', 'data', 'adl-2M.parquet'), queries: [1, 2, 3, 4, 5, 6, 7, 8], reps: 2, workers: 2, chunksize: undefined, duckdb: true, floor: true, json: undefined, repo, baseline: undefined };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    if (k === '--no-duckdb') a.duckdb = false;
    else if (k === '--no-floor') a.floor = false;
    else {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${k} needs a value`);
      if (k === '--file') a.file = resolve(v);
      else if (k === '--queries') a.queries = v.split(',').map(Number);
      else if (k === '--reps') a.reps = Number(v);
      else if (k === '--workers') a.workers = Number(v);
      else if (k === '--chunksize') a.chunksize = Number(v);
      else if (k === '--json') a.json = resolve(v);
      else if (k === '--repo') a.repo = resolve(v);
      else if (k === '--baseline') a.baseline = resolve(v);
      else throw new Error(`unknown option ${k} (known: --file --queries --reps --workers --chunksize --json --repo --baseline --no-duckdb --no-floor)`);
    }
  }
  return a;
}

interface Timed {
  seconds: number;
  /** Peak RSS in MB (undefined without /usr/bin/time). */
  rssMB: number | undefined;
  /** User + system CPU seconds of the whole process (undefined without /usr/bin/time). */
  cpu: number | undefined;
  load: number;
}

const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

/** Run `cmd args` (under /usr/bin/time when present), fail loudly on a non-zero exit; peak RSS in MB. */
function runMeasured(cmd: string, args: string[]): { stdout: string; rssMB: number | undefined; cpu: number | undefined } {
  const rssFile = join(tmpdir(), `ristretto-e2e-rss-${process.pid}.txt`);
  const [bin, argv] = TIME ? [TIME, ['-f', '%M %U %S', '-o', rssFile, cmd, ...args]] : [cmd, args];
  const r = spawnSync(bin, argv, { cwd: repo, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status}):\n${r.stderr}`);
  let rssMB: number | undefined;
  let cpu: number | undefined;
  if (TIME) {
    const [kb, user, sys] = readFileSync(rssFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
    rssMB = kb! / 1024;
    cpu = user! + sys!;
    rmSync(rssFile, { force: true });
  }
  return { stdout: r.stdout, rssMB, cpu };
}

/** Flow-inclusive counts per histogram. */
type Counts = Record<string, number[]>;

function ristretto(q: Query, a: Args, dataset: string, out: string, workers: number, root = a.repo): Timed & { counts: Counts; columns: string[]; chunks: number; events: number } {
  rmSync(out, { recursive: true, force: true });
  const load = loadavg()[0]!;
  const args = [join(root, 'bin', 'run-analysis.mjs'), '-q', '--no-cache', '-o', out];
  if (workers > 1) args.push('--executor', 'threads', '--workers', String(workers));
  if (a.chunksize) args.push('--chunksize', String(a.chunksize));
  args.push(dataset, join(root, 'processors', 'adl', `query-${q.id}.ts`));
  const { rssMB, cpu } = runMeasured(process.execPath, args);
  const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as { wallSeconds: number; columns: string[]; chunks: number; events: number };
  const counts: Counts = {};
  for (const s of q.hists) {
    const file = JSON.parse(readFileSync(join(out, `${s.name}.json`), 'utf8')) as Record<string, { storage: { values: number[] } }>;
    counts[s.name] = file[s.name]!.storage.values;
  }
  return { seconds: metrics.wallSeconds, rssMB, cpu, load, counts, columns: metrics.columns, chunks: metrics.chunks, events: metrics.events };
}

function duckdb(q: Query, a: Args, threads: number): Timed & { counts: Counts } {
  const load = loadavg()[0]!;
  const { stdout, rssMB, cpu } = runMeasured(process.execPath, ['--import', 'tsx', self, '--child', 'duckdb', '--file', a.file, '--query', String(q.id), '--threads', String(threads)]);
  const r = JSON.parse(stdout.trim().split('\n').pop()!) as { seconds: number; counts: Counts };
  return { seconds: r.seconds, rssMB, cpu, load, counts: r.counts };
}

function floor(a: Args, columns: string[]): Timed & { bytes: number } {
  const load = loadavg()[0]!;
  const { stdout, rssMB, cpu } = runMeasured(process.execPath, ['--import', 'tsx', self, '--child', 'floor', '--file', a.file, '--columns', columns.join(',')]);
  const r = JSON.parse(stdout.trim().split('\n').pop()!) as { seconds: number; bytes: number };
  return { seconds: r.seconds, rssMB, cpu, load, bytes: r.bytes };
}

/** Child: one DuckDB run in a fresh instance, the fastest SQL formulation of the query (bench/adl.ts picks it). */
async function duckdbChild(file: string, id: number, threads: number): Promise<void> {
  const q = QUERIES.find((x) => x.id === id)!;
  // The 'lists' form is the fastest at 2 M events for every query but Q6 and Q7 (bench/RESULTS.md).
  const sql = q.sql[id === 6 || id === 7 ? 'joins' : 'lists'] ?? q.sql.lists!;
  const t0 = performance.now();
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  await conn.run(`SET threads = ${threads}`);
  for (const m of MACROS) await conn.run(m);
  await conn.run(`CREATE VIEW events AS SELECT * FROM read_parquet('${file.replaceAll("'", "''")}', file_row_number = true)`);
  const rows = (await conn.runAndReadAll(binnedSql(q, sql))).getRows();
  const seconds = (performance.now() - t0) / 1000;
  const counts: Counts = {};
  for (const s of q.hists) counts[s.name] = new Array<number>(s.bins + 2).fill(0);
  for (const row of rows) {
    const n = Number(row[q.hists.length]);
    q.hists.forEach((s, i) => (counts[s.name]![Number(row[i])]! += n));
  }
  conn.closeSync();
  console.log(JSON.stringify({ seconds, counts }));
}

/**
 * Child: read and decompress every page of the column chunks behind `columns` (Ristretto branch names),
 * row group by row group, without decoding levels or values. Counts (nJet) read their collection's
 * first leaf, as the reader does.
 */
async function floorChild(file: string, columns: string[]): Promise<void> {
  const t0 = performance.now();
  const { openSync, readSync, fstatSync, closeSync } = await import('node:fs');
  const fd = openSync(file, 'r');
  const size = fstatSync(fd).size;
  const tail = Buffer.alloc(Math.min(size, 1 << 20));
  readSync(fd, tail, 0, tail.length, size - tail.length);
  const footerLen = tail.readUInt32LE(tail.length - 8);
  const foot = Buffer.alloc(footerLen + 8);
  readSync(fd, foot, 0, foot.length, size - foot.length);
  const ab = foot.buffer.slice(foot.byteOffset, foot.byteOffset + foot.byteLength);
  const md: FileMetaData = await parquetMetadataAsync({ byteLength: foot.length, slice: async (s, e) => ab.slice(s, e) });
  const table = mapSchema(md);
  const leaves = new Set<number>();
  for (const c of columns) {
    const b = table.branches.get(c);
    if (!b) throw new Error(`no branch ${c} in ${file}`);
    leaves.add(b.kind === 'count' ? b.leaves[0]!.columnIndex : b.columnIndex);
  }
  const codecs = { ...compressors, GZIP: (input: Uint8Array) => new Uint8Array(gunzipSync(input)) };
  let bytes = 0;
  for (const rg of md.row_groups) {
    for (const k of leaves) {
      const meta = rg.columns[k]!.meta_data!;
      const dict = meta.dictionary_page_offset !== undefined && meta.dictionary_page_offset > 0n ? Number(meta.dictionary_page_offset) : Infinity;
      const start = Math.min(dict, Number(meta.data_page_offset));
      const buf = new Uint8Array(Number(meta.total_compressed_size));
      readSync(fd, buf, 0, buf.length, start);
      bytes += buf.length;
      const reader = { view: new DataView(buf.buffer), offset: 0 };
      while (reader.offset < buf.length) {
        const h = parquetHeader(reader);
        const raw = buf.subarray(reader.offset, reader.offset + h.compressed_page_size);
        reader.offset += h.compressed_page_size;
        const v2 = h.data_page_header_v2;
        const levels = v2 ? (v2.repetition_levels_byte_length ?? 0) + (v2.definition_levels_byte_length ?? 0) : 0;
        if (v2 && v2.is_compressed === false) continue;
        decompressPage(raw.subarray(levels), h.uncompressed_page_size - levels, meta.codec, codecs);
      }
    }
  }
  closeSync(fd);
  console.log(JSON.stringify({ seconds: (performance.now() - t0) / 1000, bytes }));
}

const best = <T extends { seconds: number }>(xs: T[]): T => xs.reduce((m, x) => (x.seconds < m.seconds ? x : m));
const maxRss = (xs: Timed[]): number | undefined => (xs.some((x) => x.rssMB === undefined) ? undefined : Math.max(...xs.map((x) => x.rssMB!)));
const total = (c: Counts): number => Object.values(c).reduce((s, v) => s + v.reduce((a, b) => a + b, 0), 0);
const same = (a: Counts, b: Counts): boolean => Object.keys(a).every((k) => a[k]!.length === b[k]!.length && a[k]!.every((v, i) => v === b[k]![i]));
const f2 = (x: number | undefined): string => (x === undefined ? '—' : x.toFixed(2));
const rate = (r: number): string => (r >= 1e6 ? `${(r / 1e6).toFixed(2)} M` : `${(r / 1e3).toFixed(0)} k`);

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const child = argv.indexOf('--child');
  if (child >= 0) {
    const get = (k: string) => argv[argv.indexOf(k) + 1]!;
    if (argv[child + 1] === 'duckdb') return duckdbChild(get('--file'), Number(get('--query')), Number(get('--threads')));
    return floorChild(get('--file'), get('--columns').split(','));
  }
  const a = parseArgs(argv);
  if (!existsSync(a.file)) {
    console.error(`${a.file} is missing: build it with  npx tsx bench/make-adl-dataset.ts --copies N --codec SNAPPY --out FILE`);
    process.exit(1);
  }
  const work = mkdtempSync(join(tmpdir(), 'ristretto-e2e-'));
  const dataset = join(work, 'dataset.json');
  writeFileSync(dataset, JSON.stringify({ adl: { files: { [a.file]: 'Events' } } }));
  const describe = (dir: string): string => {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: dir, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--short', '--', 'src', 'executors', 'processors'], { cwd: dir, encoding: 'utf8' }).trim();
    return `${commit}${dirty ? ' + uncommitted changes' : ''}`;
  };
  const commit = describe(a.repo);
  console.log(`${a.file}; Ristretto at ${commit}${a.baseline ? `, baseline at ${describe(a.baseline)}` : ''}; ${cpus().length} × ${cpus()[0]?.model}; Node ${process.version}; best of ${a.reps}, interleaved`);
  console.log(`load before: ${loadavg().map((x) => x.toFixed(2)).join(' ')}\n`);

  const results: unknown[] = [];
  const rows: string[][] = [];
  for (const id of a.queries) {
    const q = QUERIES.find((x) => x.id === id);
    if (!q) throw new Error(`no query ${id}`);
    try {
      rows.push(measure(q));
    } catch (e) {
      // One failed run (a checkout being rebuilt, a crash) loses its query, not the whole table.
      console.error(`Q${id} failed: ${(e as Error).message}`);
      rows.push([`Q${id}`, `failed: ${(e as Error).message.split('\n')[0]}`]);
    }
  }

  function measure(q: Query): string[] {
    const id = q.id;
    const r1: ReturnType<typeof ristretto>[] = [];
    const r2: ReturnType<typeof ristretto>[] = [];
    const d1: ReturnType<typeof duckdb>[] = [];
    const d2: ReturnType<typeof duckdb>[] = [];
    const p1: ReturnType<typeof ristretto>[] = [];
    const p2: ReturnType<typeof ristretto>[] = [];
    for (let rep = 0; rep < a.reps; rep++) {
      r1.push(ristretto(q, a, dataset, join(work, 'out1'), 1));
      if (a.baseline) p1.push(ristretto(q, a, dataset, join(work, 'out3'), 1, a.baseline));
      if (a.duckdb) d1.push(duckdb(q, a, 1));
      r2.push(ristretto(q, a, dataset, join(work, 'out2'), a.workers));
      if (a.baseline) p2.push(ristretto(q, a, dataset, join(work, 'out4'), a.workers, a.baseline));
      if (a.duckdb) d2.push(duckdb(q, a, a.workers));
    }
    const fl: ReturnType<typeof floor>[] = [];
    if (a.floor) for (let rep = 0; rep < a.reps; rep++) fl.push(floor(a, r1[0]!.columns));
    const [b1, b2] = [best(r1), best(r2)];
    const [e1, e2] = [d1.length ? best(d1) : undefined, d2.length ? best(d2) : undefined];
    const bf = fl.length ? best(fl) : undefined;
    const all: Timed[] = [...r1, ...r2, ...p1, ...p2, ...d1, ...d2, ...fl];
    const load = all.reduce((s, x) => s + x.load, 0) / all.length;
    const threadsAgree = same(b1.counts, b2.counts) && [...p1, ...p2].every((x) => same(b1.counts, x.counts));
    const duckAgree = e1 ? total(e1.counts) === total(b1.counts) && total(e2!.counts) === total(b1.counts) : undefined;
    const row = [
      `Q${id}`,
      ...(a.baseline ? [f2(best(p1).seconds), f2(best(p2).seconds)] : []),
      f2(b1.seconds),
      f2(e1?.seconds),
      e1 ? `${(e1.seconds / b1.seconds).toFixed(2)}×` : '—',
      f2(b2.seconds),
      f2(e2?.seconds),
      e2 ? `${(e2.seconds / b2.seconds).toFixed(2)}×` : '—',
      (b1.seconds / (a.workers * b2.seconds)).toFixed(2),
      rate(b1.events / b1.seconds),
      COFFEA[id] ? rate(COFFEA[id]) : '—',
      f2(bf?.seconds),
      `${f2(b1.cpu)} / ${a.baseline ? f2(best(p1).cpu) : '—'} / ${f2(e1?.cpu)}`,
      `${(maxRss(r1) ?? NaN).toFixed(0)} / ${(maxRss(r2) ?? NaN).toFixed(0)}`,
      e1 ? `${(maxRss(d1) ?? NaN).toFixed(0)} / ${(maxRss(d2) ?? NaN).toFixed(0)}` : '—',
      `${threadsAgree ? 'yes' : 'NO'} / ${duckAgree === undefined ? '—' : duckAgree ? 'yes' : 'NO'}`,
      load.toFixed(1),
    ];
    console.log(row.join('  '));
    results.push({ query: id, ristretto1: r1, ristretto2: r2, baseline1: p1, baseline2: p2, duckdb1: d1, duckdb2: d2, floor: fl, threadsAgree, duckAgree, columns: b1.columns, chunks: b1.chunks });
    return row;
  }
  console.log(`\nload after: ${loadavg().map((x) => x.toFixed(2)).join(' ')}\n`);
  const header = ['query', ...(a.baseline ? ['before 1 thr [s]', `before ${a.workers} thr [s]`] : []), 'R 1 thr [s]', 'DuckDB 1 [s]', 'DuckDB/R 1', `R ${a.workers} thr [s]`, `DuckDB ${a.workers} [s]`, `DuckDB/R ${a.workers}`, 'efficiency', 'R ev/s 1 thr', 'coffea ev/s/core', 'floor [s]', 'CPU s 1 thr: R / before / DuckDB', 'R RSS 1/2 [MB]', 'DuckDB RSS 1/2 [MB]', 'hists: threads / DuckDB agree', 'load'];
  console.log(`| ${header.join(' | ')} |`);
  console.log(`|${header.map(() => ' ---: ').join('|')}|`);
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
  if (a.json) writeFileSync(a.json, JSON.stringify({ file: a.file, commit, repo: a.repo, baseline: a.baseline, results }, null, 1));
  rmSync(work, { recursive: true, force: true });
}

await main();
