/**
 * ADL end to end: the whole `run-analysis` command against DuckDB (and, for ROOT files, against the same
 * events' Parquet time and jsroot's TSelector), over a list of files, at 1 and 2 threads.
 *
 *     npx tsx bench/make-adl-dataset.ts --copies 2000 --codec SNAPPY --out /data/adl-20M-snappy.parquet   # once
 *     npx tsx bench/adl-e2e.ts --files /data/adl-20M-snappy.parquet                  # Q1–Q8, best of 2
 *     npx tsx bench/adl-e2e.ts --files A.parquet,B.parquet,C.root --queries 3,8 --reps 1 --out res.json
 *     npx tsx bench/adl-e2e.ts --report res.json                                     # tables from a JSON only
 *     npx tsx bench/adl-e2e.ts --file F --repo /tmp/after --baseline /tmp/before     # A/B of two checkouts
 *
 * Files may be Parquet in the nested or the flat (NanoAOD-style) layout, any codec, or ROOT TTrees (tree
 * `Events`). For each query and repetition, interleaved over the files so that load changes hit all alike:
 * - Ristretto, 1 thread: `node bin/run-analysis.mjs --executor iterative` in a fresh process (default chunk
 *   size);
 * - DuckDB, `threads=1`, in a fresh plain-Node process (bench/adl-duckdb.mjs: no tsx, none of this file's
 *   imports): instance, view, query and result rows (Parquet only; for the flat layout the view rebuilds
 *   the nested structs from the columns the query needs, see flatView); one SQL form per query, duckdbForm;
 * - Ristretto, 2 threads: `run-analysis --executor threads --workers 2`;
 * - DuckDB, `threads=2`;
 * - jsroot (ROOT files with at most `--jsroot-max` events): jsroot's TSelector reads the query's branches
 *   entry by entry in chunks of 100 k (`treeProcess` with firstentry/numentries), the values are copied into
 *   columns and the same processor (processors/adl/query-N.ts) runs on them; its histograms must equal
 *   Ristretto's bin for bin.
 * Two times per run. "command": the process's elapsed time, spawn to exit (what a user waits for: Node
 * start, module loads, the worker pool's start, the run, exit). "inner": Ristretto's metrics.json
 * `wallSeconds`, whose clock starts inside runAnalysis — Node start, the CLI's load and the part of the
 * pool's start that bin/run-analysis.mjs begins before it are outside; DuckDB's instance creation to its
 * last result row (node start and the module import outside). The DuckDB ÷ Ristretto ratios are given on
 * both. Each process runs under `/usr/bin/time` for its peak RSS (worker threads share the process) and
 * CPU seconds. `--pin` runs the 1-thread sides of both under `taskset -c 0` (one core each: Ristretto's
 * GC/compiler threads and read pool then share the query's core, like DuckDB's single thread).
 * The "floor" is the time to only read and decompress the column chunks (Parquet, with the reader's own
 * decoders into a reused buffer) or baskets (ROOT, `decodeBasket`) the query reads (the columns from
 * Ristretto's metrics.json), on one thread, inside the process (no start-up).
 * Histograms are checked bin for bin, flow bins included: Ristretto 1 vs 2 threads, DuckDB vs Ristretto.
 * A ROOT file is compared with the Parquet file of the same events (`--ref`, or else the first Parquet file
 * of the list with the same event count): the issue's goal is ROOT within 1.2× of Parquet.
 *
 * `--out FILE.json` is written after every (file, query) cell; started again with the same `--out`, cells
 * already in it are skipped (resume; `--fresh` starts over). The tables are printed at the end, and
 * `--report A.json,B.json` prints them from JSON files alone (merged: runs made apart show as one table).
 * When the list holds files of the same format, layout and codec but different event counts, a
 * cost-vs-size table follows (time and CPU per event).
 * `--modes r1,r2,duckdb,floor,jsroot` picks the columns (default: all). `--repo DIR` runs Ristretto from
 * another checkout; `--baseline DIR` adds that checkout's 1- and 2-thread runs to the interleaved loop.
 * `--pin` cells are kept apart from unpinned ones (one `--out` may hold both; the table shows them as
 * separate rows, marked "pinned"). Result files written before session 16 have no command times, and
 * their DuckDB CPU/RSS include the tsx child's; `--report` shows "—" and says so.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  fstatSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { asyncBufferFromFile, type CompressionCodec, type FileMetaData, parquetMetadataAsync } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { parquetHeader } from 'hyparquet/src/column.js';
import { decompressPage } from 'hyparquet/src/datapage.js';
import { accumulate } from '../src/accumulate/index.ts';
import type { Jagged } from '../src/columnar/types.ts';
import { runOnEvents } from '../src/events/index.ts';
import type { Hist } from '../src/hist/hist.ts';
import { loadZstd, zstdDecompressInto } from '../src/io/codecs/zstd.ts';
import { mapSchema } from '../src/io/parquet/schema.ts';
import { snappyDecompressInto } from '../src/io/parquet/snappy.ts';
import type { BranchInfo, Column, EventReader } from '../src/io/reader.ts';
import { decodeBasket } from '../src/io/root/basket.ts';
import { openRoot } from '../src/io/root/index.ts';
import { loadProcessor } from '../src/processor/load.ts';
import type { ProcessContext, Processor } from '../src/processor/types.ts';
import { binnedSql, COFFEA, duckdbForm, MACROS, QUERIES, type Query, RDATAFRAME } from './adl-queries.ts';
import { benchArgs, choice, flag, int, ints, text, usageFail, words } from './lib.ts';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const self = fileURLToPath(import.meta.url);
const duckdbScript = join(dirname(self), 'adl-duckdb.mjs');

const MODES = ['r1', 'r2', 'duckdb', 'floor', 'jsroot'] as const;
type Mode = (typeof MODES)[number];

interface Args {
  files: string[];
  queries: number[];
  reps: number;
  workers: number;
  chunksize: number | undefined;
  modes: Set<Mode>;
  jsrootMax: number;
  ref: string | undefined;
  out: string | undefined;
  fresh: boolean;
  report: string | undefined;
  repo: string;
  baseline: string | undefined;
  /** Run the 1-thread sides (Ristretto iterative, DuckDB threads=1) under `taskset -c 0`. */
  pin: boolean;
  /** DuckDB's SQL form: 'auto' = duckdbForm(query). */
  duckdbForm: 'auto' | 'lists' | 'joins';
}

function parseArgs(argv: string[]): Args {
  const o = benchArgs(
    'ADL end to end: the whole run-analysis command against DuckDB (and jsroot for ROOT), over a list of files.',
    {
      files: words('input files', []),
      file: text('one more input file (default bench/data/adl-2M.parquet when no file is given)', undefined, '<file>'),
      queries: ints('ADL queries', [1, 2, 3, 4, 5, 6, 7, 8], 1),
      reps: int('repetitions', 2, 1),
      workers: int('threads of the r2 mode', 2, 1),
      chunksize: int("events per chunk (default: run-analysis's)", undefined, 1),
      modes: words('what to run', MODES, MODES),
      'jsroot-max': int('run jsroot only on ROOT files with at most this many events', 2_000_000, 0),
      ref: text(
        'the Parquet file a ROOT file is compared with (default: the first Parquet input)',
        undefined,
        '<file>',
      ),
      out: text('write the results as JSON here', undefined, '<file>'),
      json: text('the same as --out', undefined, '<file>'),
      fresh: flag('start over instead of resuming from --out'),
      report: text('only print the tables of these results files (comma-separated)', undefined, '<files>'),
      repo: text('the checkout to run (default this one)', undefined, '<dir>'),
      baseline: text('another checkout to compare with', undefined, '<dir>'),
      'no-duckdb': flag('leave out DuckDB'),
      'no-floor': flag('leave out the floor (read and decompress only)'),
      pin: flag('run the 1-thread sides of Ristretto and DuckDB on one core (taskset -c 0)'),
      'duckdb-form': choice(
        'DuckDB SQL form: auto = joins for Q6/Q7, lists otherwise (a query without the form runs lists)',
        ['auto', 'lists', 'joins'] as const,
        'auto',
      ),
    },
    {},
    argv,
  );
  const files = [...o.files, ...(o.file ? [o.file] : [])].map((f) => resolve(f));
  if (!files.length && !o.report) files.push(resolve(repo, 'bench', 'data', 'adl-2M.parquet'));
  const modes = new Set<Mode>(o.modes);
  if (o['no-duckdb']) modes.delete('duckdb');
  if (o['no-floor']) modes.delete('floor');
  for (const q of o.queries) if (!QUERIES.some((x) => x.id === q)) usageFail(`--queries: no query ${q} (1–8)`);
  const out = o.out ?? o.json;
  if (o.pin && !existsSync(TASKSET)) usageFail(`--pin needs ${TASKSET} (util-linux)`);
  return {
    files,
    queries: o.queries,
    reps: o.reps,
    workers: o.workers,
    chunksize: o.chunksize,
    modes,
    jsrootMax: o['jsroot-max'],
    ref: o.ref === undefined ? undefined : resolve(o.ref),
    out: out === undefined ? undefined : resolve(out),
    fresh: o.fresh,
    report: o.report,
    repo: o.repo === undefined ? repo : resolve(o.repo),
    baseline: o.baseline === undefined ? undefined : resolve(o.baseline),
    pin: o.pin,
    duckdbForm: o['duckdb-form'],
  };
}

/** What a file is: format, layout, codec, events; found from its metadata only. */
interface FileInfo {
  path: string;
  format: 'parquet' | 'root';
  layout: 'nested' | 'flat' | 'ttree';
  codec: string;
  events: number;
  bytes: number;
}

async function describeFile(path: string): Promise<FileInfo> {
  const bytes = statSync(path).size;
  if (path.endsWith('.root')) {
    const r = await openRoot(path);
    // The codec of the first basket of each branch that has one: ROOT stores a basket uncompressed when
    // compression would not shrink it (LZ4 on random-looking floats), so one basket does not tell.
    let codec = 'none';
    const fd = openSync(path, 'r');
    for (const br of r.branches()) {
      const first = r.branchMeta(br.name).baskets[0];
      if (!first) continue;
      // TKey header: fNbytes(4) fVersion(2) fObjlen(4) fDatime(4) fKeylen(2) …; a compressed payload starts
      // at fKeylen with a 2-byte algorithm tag.
      const head = Buffer.alloc(Math.min(first.bytes, 4096));
      readSync(fd, head, 0, head.length, first.seek);
      const keylen = head.readInt16BE(14);
      const tag = head.toString('latin1', keylen, keylen + 2);
      const c = ({ ZL: 'zlib', L4: 'lz4', ZS: 'zstd', XZ: 'lzma', CS: 'zlib' } as Record<string, string>)[tag];
      if (c && head.readInt32BE(6) !== first.bytes - keylen) {
        codec = c;
        break;
      }
    }
    closeSync(fd);
    const events = r.numEntries;
    await r.close();
    return { path, format: 'root', layout: 'ttree', codec, events, bytes };
  }
  let md: FileMetaData;
  try {
    md = await parquetMetadataAsync(await asyncBufferFromFile(path));
  } catch (e) {
    throw new Error(
      `${path}: not a readable Parquet file (${(e as Error).message}); is it still being written? Rebuild it with bench/make-adl-dataset.ts`,
    );
  }
  const top = new Set(md.schema.slice(1).map((s) => s.name));
  const codec = md.row_groups[0]?.columns[0]?.meta_data?.codec ?? 'UNCOMPRESSED';
  return {
    path,
    format: 'parquet',
    layout: top.has('MET') ? 'nested' : 'flat',
    codec: codec.toLowerCase(),
    events: Number(md.num_rows),
    bytes,
  };
}

const label = (f: FileInfo): string => `${basename(f.path)} (${f.format === 'root' ? 'ROOT' : f.layout}, ${f.codec})`;

interface Timed {
  /** The inner time: Ristretto's `wallSeconds`, DuckDB's instance → last row, the floor's and jsroot's run. */
  seconds: number;
  /** The whole process, spawn to exit (absent in result files written before session 16). */
  elapsed?: number;
  /** Peak RSS in MB (undefined without /usr/bin/time). */
  rssMB: number | undefined;
  /** User + system CPU seconds of the whole process (undefined without /usr/bin/time). */
  cpu: number | undefined;
  load: number;
}

const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
const TASKSET = '/usr/bin/taskset';

/**
 * Run `cmd args` (under /usr/bin/time when present; on CPU 0 only with `pin`), fail loudly on a non-zero
 * exit. `elapsed` is spawn to exit, timed here (/usr/bin/time's %e has 10 ms steps, too coarse for Q1).
 */
function runMeasured(
  cmd: string,
  args: string[],
  pin = false,
): { stdout: string; elapsed: number; rssMB: number | undefined; cpu: number | undefined } {
  const rssFile = join(tmpdir(), `ristretto-e2e-rss-${process.pid}.txt`);
  const [c, a] = pin ? [TASKSET, ['-c', '0', cmd, ...args]] : [cmd, args];
  const [bin, argv] = TIME ? [TIME, ['-f', '%M %U %S', '-o', rssFile, c, ...a]] : [c, a];
  const t0 = process.hrtime.bigint();
  const r = spawnSync(bin, argv, { cwd: repo, encoding: 'utf8', maxBuffer: 64 << 20 });
  const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status}):\n${r.stderr}`);
  let rssMB: number | undefined;
  let cpu: number | undefined;
  if (TIME) {
    const [kb, user, sys] = readFileSync(rssFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
    rssMB = kb / 1024;
    cpu = user + sys;
    rmSync(rssFile, { force: true });
  }
  return { stdout: r.stdout, elapsed, rssMB, cpu };
}

/** Flow-inclusive counts per histogram. */
type Counts = Record<string, number[]>;

type RistrettoRun = Timed & { counts: Counts; columns: string[]; chunks: number; events: number };

function ristretto(q: Query, a: Args, dataset: string, out: string, workers: number, root = a.repo): RistrettoRun {
  // Pinned: the 1-thread run only (two workers on one core would measure nothing useful).
  rmSync(out, { recursive: true, force: true });
  const load = loadavg()[0];
  const args = [join(root, 'bin', 'run-analysis.mjs'), '-q', '--no-cache', '-o', out];
  if (workers > 1) args.push('--executor', 'threads', '--workers', String(workers));
  if (a.chunksize) args.push('--chunksize', String(a.chunksize));
  args.push(dataset, join(root, 'processors', 'adl', `query-${q.id}.ts`));
  const { elapsed, rssMB, cpu } = runMeasured(process.execPath, args, a.pin && workers === 1);
  const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as {
    wallSeconds: number;
    columns: string[];
    chunks: number;
    events: number;
  };
  const counts: Counts = {};
  for (const s of q.hists) {
    const file = JSON.parse(readFileSync(join(out, `${s.name}.json`), 'utf8')) as Record<
      string,
      { storage: { values: number[] } }
    >;
    counts[s.name] = file[s.name].storage.values;
  }
  return {
    seconds: metrics.wallSeconds,
    elapsed,
    rssMB,
    cpu,
    load,
    counts,
    columns: metrics.columns,
    chunks: metrics.chunks,
    events: metrics.events,
  };
}

type DuckRun = Timed & {
  counts: Counts;
  view: string;
  /** The SQL form that ran (absent before session 16: 'joins' for Q6/Q7, else 'lists'). */
  form?: string;
  /** The `@duckdb/node-api` import inside the command. */
  importSeconds?: number;
};

/** What bench/adl-duckdb.mjs runs: the query's SQL in `form`, binned, over `file` with `threads`. */
function duckdbSpec(q: Query, file: string, layout: string, columns: string[], threads: number, form: string) {
  const sql = q.sql[form] ?? q.sql.lists;
  const source = `read_parquet('${file.replaceAll("'", "''")}', file_row_number = true)`;
  const views =
    layout !== 'flat'
      ? [{ name: 'nested', sql: `CREATE VIEW events AS SELECT * FROM ${source}` }]
      : [
          { name: 'flat: needed fields', sql: flatView(source, columns, false) },
          { name: 'flat: all fields', sql: flatView(source, columns, true) },
        ];
  return {
    threads,
    macros: MACROS,
    views,
    sql: binnedSql(q, sql),
    hists: q.hists.map((h) => ({ name: h.name, bins: h.bins })),
    form: q.sql[form] ? form : 'lists',
  };
}

function duckdb(q: Query, a: Args, f: FileInfo, threads: number, columns: string[], work: string): DuckRun {
  const load = loadavg()[0];
  const form = a.duckdbForm === 'auto' ? duckdbForm(q.id) : a.duckdbForm;
  const spec = duckdbSpec(q, f.path, f.layout, columns, threads, form);
  const specFile = join(work, 'duckdb-spec.json');
  writeFileSync(specFile, JSON.stringify(spec));
  const { stdout, elapsed, rssMB, cpu } = runMeasured(
    process.execPath,
    [duckdbScript, specFile],
    a.pin && threads === 1,
  );
  const r = JSON.parse(stdout.trim().split('\n').pop()!) as {
    seconds: number;
    importSeconds: number;
    counts: Counts;
    view: string;
  };
  return {
    seconds: r.seconds,
    elapsed,
    rssMB,
    cpu,
    load,
    counts: r.counts,
    view: r.view,
    form: spec.form,
    importSeconds: r.importSeconds,
  };
}

type FloorRun = Timed & {
  bytes: number;
  /** CPU seconds of the read + decompress alone (absent before session 16). */
  cpuSeconds?: number;
};

function floor(f: FileInfo, columns: string[]): FloorRun {
  const load = loadavg()[0];
  const { stdout, elapsed, rssMB, cpu } = runMeasured(process.execPath, [
    '--import',
    'tsx',
    self,
    '--child',
    f.format === 'root' ? 'floor-root' : 'floor',
    '--file',
    f.path,
    '--columns',
    columns.join(','),
  ]);
  const r = JSON.parse(stdout.trim().split('\n').pop()!) as { seconds: number; cpuSeconds: number; bytes: number };
  return { seconds: r.seconds, elapsed, rssMB, cpu, load, bytes: r.bytes, cpuSeconds: r.cpuSeconds };
}

type JsrootRun = Timed & { counts: Counts };

function jsroot(q: Query, f: FileInfo, columns: string[], root: string): JsrootRun {
  const load = loadavg()[0];
  const { stdout, elapsed, rssMB, cpu } = runMeasured(process.execPath, [
    '--import',
    'tsx',
    self,
    '--child',
    'jsroot',
    '--file',
    f.path,
    '--columns',
    columns.join(','),
    '--query',
    String(q.id),
    '--processor',
    join(root, 'processors', 'adl', `query-${q.id}.ts`),
  ]);
  const r = JSON.parse(stdout.trim().split('\n').pop()!) as { seconds: number; counts: Counts };
  return { seconds: r.seconds, elapsed, rssMB, cpu, load, counts: r.counts };
}

const COLLECTIONS: Record<string, string[]> = {
  Jet: ['pt', 'eta', 'phi', 'mass', 'btag'],
  Muon: ['pt', 'eta', 'phi', 'mass', 'charge'],
  Electron: ['pt', 'eta', 'phi', 'mass', 'charge'],
};

/**
 * The DuckDB view over a flat-layout file: the queries' SQL is written against the nested layout
 * (`MET.pt`, `Jet` list of structs), so the view zips `Jet_pt`, `Jet_eta`, … back into structs. Only the
 * fields in `columns` (what Ristretto read for the query) go in, so DuckDB reads no more columns than we
 * do; `all` puts every field in (the fallback when the SQL touches a field Ristretto did not need).
 */
function flatView(source: string, columns: string[], all: boolean): string {
  const need = new Set(columns);
  const parts = ['file_row_number'];
  const met = ['pt', 'phi'].filter((x) => all || need.has(`MET_${x}`));
  if (met.length) parts.push(`{${met.map((x) => `${x}: MET_${x}`).join(', ')}} AS MET`);
  for (const [c, fields] of Object.entries(COLLECTIONS)) {
    const used = fields.filter((x) => all || need.has(`${c}_${x}`));
    if (!used.length && !need.has(`n${c}`)) continue;
    if (!used.length) used.push(fields[0]);
    parts.push(
      `list_transform(range(1, len(${c}_${used[0]}) + 1), lambda i: {${used.map((x) => `${x}: ${c}_${x}[i]`).join(', ')}}) AS ${c}`,
    );
  }
  return `CREATE VIEW events AS SELECT ${parts.join(', ')} FROM ${source}`;
}

/**
 * Child (kept for bench/startup.ts): one DuckDB run as adl-duckdb.mjs does it, but inside this tsx
 * process; adl-e2e itself spawns adl-duckdb.mjs in plain Node.
 */
async function duckdbChild(
  file: string,
  layout: string,
  columns: string[],
  id: number,
  threads: number,
): Promise<void> {
  const q = QUERIES.find((x) => x.id === id)!;
  const { runDuckdb } = (await import(DUCKDB_MODULE)) as { runDuckdb(spec: object): Promise<object> };
  console.log(JSON.stringify(await runDuckdb(duckdbSpec(q, file, layout, columns, threads, duckdbForm(id)))));
}

// Imported through a variable: the .mjs is plain JS, outside what tsc checks.
const DUCKDB_MODULE: string = pathToFileURL(duckdbScript).href;

/**
 * Child: read and decompress every page of the column chunks behind `columns` (Ristretto branch names),
 * row group by row group, without decoding levels or values. Counts (nJet) of the nested layout read their
 * collection's first leaf, as the reader does. The decoders are the reader's (src/io/parquet/chunk.ts):
 * its own snappy and libzstd straight into one reused buffer, node:zlib for GZIP; hyparquet-compressors
 * only for the codecs the reader takes from it too (BROTLI, LZ4). A command can then not beat its floor
 * by decoding faster than the floor does (session 12's did, with hysnappy into fresh arrays).
 */
async function floorChild(file: string, columns: string[]): Promise<void> {
  await loadZstd().catch(() => {}); // the reader loads it while opening; fzstd otherwise, as in the reader
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const fd = openSync(file, 'r');
  const size = fstatSync(fd).size;
  const tail = Buffer.alloc(Math.min(size, 1 << 20));
  readSync(fd, tail, 0, tail.length, size - tail.length);
  const footerLen = tail.readUInt32LE(tail.length - 8);
  const foot = Buffer.alloc(footerLen + 8);
  readSync(fd, foot, 0, foot.length, size - foot.length);
  const ab = foot.buffer.slice(foot.byteOffset, foot.byteOffset + foot.byteLength);
  const md: FileMetaData = await parquetMetadataAsync({
    byteLength: foot.length,
    slice: async (s, e) => ab.slice(s, e),
  });
  const table = mapSchema(md);
  const leaves = new Set<number>();
  for (const c of columns) {
    const b = table.branches.get(c);
    if (!b) throw new Error(`no branch ${c} in ${file}`);
    leaves.add(b.kind === 'count' ? b.leaves[0].columnIndex : b.columnIndex);
  }
  let scratch = new Uint8Array(1 << 20);
  const into = (size: number): Uint8Array => {
    if (scratch.length < size) scratch = new Uint8Array(Math.max(size, scratch.length * 2));
    return scratch.subarray(0, size);
  };
  const decode = (raw: Uint8Array, size: number, c: CompressionCodec) => {
    if (c === 'UNCOMPRESSED') return;
    if (c === 'SNAPPY') snappyDecompressInto(raw, into(size), 0, size);
    else if (c === 'ZSTD') zstdDecompressInto(raw, into(size));
    else if (c === 'GZIP') gunzipSync(raw);
    else decompressPage(raw, size, c, compressors);
  };
  let bytes = 0;
  for (const rg of md.row_groups) {
    for (const k of leaves) {
      const meta = rg.columns[k].meta_data!;
      const dict =
        meta.dictionary_page_offset !== undefined && meta.dictionary_page_offset > 0n
          ? Number(meta.dictionary_page_offset)
          : Infinity;
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
        decode(raw.subarray(levels), h.uncompressed_page_size - levels, meta.codec);
      }
    }
  }
  closeSync(fd);
  console.log(JSON.stringify({ seconds: (performance.now() - t0) / 1000, cpuSeconds: cpuSince(c0), bytes }));
}

/** User + system CPU seconds of this process since `c0` (the floors' own CPU: no start-up, load-proof). */
function cpuSince(c0: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(c0);
  return (d.user + d.system) / 1e6;
}

/**
 * Child: the ROOT floor. Read every basket of the branches behind `columns` (one read per basket, as
 * stored) and decompress it with Ristretto's codec layer (`decodeBasket`: key header, ROOT block framing,
 * zlib/LZ4/ZSTD), without turning bytes into values or entry-offset tables into offsets (as the Parquet
 * floor leaves levels alone). Basket locations come from the tree's metadata.
 */
async function floorRootChild(file: string, columns: string[]): Promise<void> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const reader = await openRoot(file);
  const fd = openSync(file, 'r');
  let bytes = 0;
  for (const c of columns) {
    const m = reader.branchMeta(c);
    for (const b of m.baskets) {
      const raw = new Uint8Array(b.bytes);
      readSync(fd, raw, 0, b.bytes, b.seek);
      bytes += b.bytes;
      await decodeBasket(raw, {
        branch: m.branchName,
        bytes: b.bytes,
        entries: b.entryStop - b.entryStart,
        hasEntryOffsets: m.hasEntryOffsets,
        rawEntryTable: true, // the entry-offset table is located and its length checked, not decoded
      });
    }
  }
  closeSync(fd);
  await reader.close();
  console.log(JSON.stringify({ seconds: (performance.now() - t0) / 1000, cpuSeconds: cpuSince(c0), bytes }));
}

// jsroot is imported through variables so that tsc does not try to type its modules (its typings are `any`).
const JSROOT: string = 'jsroot';
const JSROOT_TREE: string = 'jsroot/tree';

interface JsSelector {
  addBranch(name: string): number;
  tgtobj: Record<string, unknown>;
  Process(entry: number): void;
}

/** Growable typed buffer for one column of one chunk. */
class Buf {
  data: Float32Array | Int32Array | Float64Array;
  n = 0;
  constructor(readonly ctor: Float32ArrayConstructor | Int32ArrayConstructor | Float64ArrayConstructor) {
    this.data = new ctor(1 << 16);
  }
  push(v: number): void {
    if (this.n === this.data.length) {
      const d = new this.ctor(this.data.length * 2);
      d.set(this.data);
      this.data = d;
    }
    this.data[this.n++] = v;
  }
  take(): Float32Array | Int32Array | Float64Array {
    const out = this.data.slice(0, this.n);
    this.n = 0;
    return out;
  }
}

/**
 * Child: jsroot's TSelector reads the query's branches entry by entry (its own basket reading and
 * streaming, `treeProcess`), in chunks of 100 k entries; each entry's values are appended to typed
 * buffers, and each chunk's columns go to the same ADL processor Ristretto runs (through an in-memory
 * EventReader), so the histograms can be compared bin for bin. Measured: open, every chunk, merge.
 */
async function jsrootChild(file: string, columns: string[], processorPath: string): Promise<void> {
  const t0 = performance.now();
  const { openFile } = (await import(JSROOT)) as {
    openFile(p: string): Promise<{ readObject(n: string): Promise<unknown> }>;
  };
  const { TSelector, treeProcess } = (await import(JSROOT_TREE)) as {
    TSelector: new () => JsSelector;
    treeProcess(tree: unknown, sel: unknown, args?: object): Promise<unknown>;
  };
  // Branch metadata (names, dtypes, count branches) from Ristretto; the data below come from jsroot only.
  const meta = await openRoot(file);
  const infos = new Map(meta.branches().map((b) => [b.name, b]));
  const numEntries = meta.numEntries;
  await meta.close();
  const wanted = new Set(columns);
  for (const c of columns) {
    const b = infos.get(c);
    if (!b) throw new Error(`no branch ${c} in ${file}`);
    if (b.countBranch) wanted.add(b.countBranch);
  }
  // Count branches first: jsroot needs them to size the jagged ones.
  const names = [...wanted].sort((x, y) => Number(!x.startsWith('n')) - Number(!y.startsWith('n')));
  const ctorOf = (b: BranchInfo) =>
    b.dtype === 'float32' ? Float32Array : b.dtype === 'float64' ? Float64Array : Int32Array;
  const bufs = new Map(names.map((n) => [n, new Buf(ctorOf(infos.get(n)!))]));
  const offs = new Map(names.filter((n) => infos.get(n)!.kind === 'jagged').map((n) => [n, new Buf(Int32Array)]));
  for (const o of offs.values()) o.push(0);

  const jf = await openFile(file);
  const tree = await jf.readObject('Events');
  const proc = (await loadProcessor(processorPath)) as Processor<Record<string, Hist>>;
  let acc: Record<string, Hist> | undefined;
  const CHUNK = 100_000;
  for (let start = 0; start < numEntries; start += CHUNK) {
    const stop = Math.min(numEntries, start + CHUNK);
    const sel = new TSelector();
    for (const n of names) sel.addBranch(n);
    const flat = names.filter((n) => !offs.has(n)).map((n) => [n, bufs.get(n)!] as const);
    const jag = names.filter((n) => offs.has(n)).map((n) => [n, bufs.get(n)!, offs.get(n)!] as const);
    sel.Process = function (this: JsSelector) {
      const t = this.tgtobj;
      for (const [n, b] of flat) b.push(Number(t[n]));
      for (const [n, b, o] of jag) {
        const v = t[n] as ArrayLike<number>;
        for (let i = 0; i < v.length; i++) b.push(v[i]);
        o.push(b.n);
      }
    };
    await treeProcess(tree, sel, { firstentry: start, numentries: stop - start });
    const cols: Record<string, Column> = {};
    for (const [n, b] of bufs) {
      const o = offs.get(n);
      if (o) {
        const offsets = o.take() as Int32Array;
        o.push(0);
        cols[n] = { offsets, content: b.take() } as Jagged;
      } else cols[n] = b.take() as Column;
    }
    if (
      (cols[names[0]] as { length?: number; offsets?: Int32Array }).offsets?.length === undefined &&
      (cols[names[0]] as ArrayLike<number>).length !== stop - start
    ) {
      throw new Error(
        `jsroot returned ${(cols[names[0]] as ArrayLike<number>).length} entries for [${start}, ${stop}) of ${file}`,
      );
    }
    const mem = memoryReader(file, [...infos.values()], stop - start, cols);
    const ctx = {
      dataset: 'adl',
      file,
      tree: 'Events',
      entryStart: start,
      entryStop: stop,
      metadata: {},
    } as ProcessContext;
    const r = await runOnEvents(
      mem,
      0,
      stop - start,
      (events) => proc.process.call(proc, events, ctx) as Record<string, Hist>,
      { prefetch: names },
    );
    acc = acc ? accumulate(acc, r.result) : r.result;
  }
  const counts: Counts = {};
  for (const [k, h] of Object.entries(acc ?? {})) counts[k] = [...h.values({ flow: true })];
  console.log(JSON.stringify({ seconds: (performance.now() - t0) / 1000, counts }));
}

/** An EventReader over one chunk of columns already in memory (the jsroot child's). */
function memoryReader(path: string, infos: BranchInfo[], n: number, cols: Record<string, Column>): EventReader {
  const pick = (names: readonly string[], s: number, e: number): Record<string, Column> => {
    if (s !== 0 || e !== n) throw new Error(`in-memory chunk holds [0, ${n}), asked for [${s}, ${e})`);
    const out: Record<string, Column> = {};
    for (const k of names) {
      const c = cols[k];
      if (!c) throw new Error(`branch ${k} was not read by jsroot (add it to --columns)`);
      out[k] = c;
    }
    return out;
  };
  return {
    path,
    treeName: 'Events',
    numEntries: n,
    branches: () => infos,
    boundaries: () => [0, n],
    read: async (names, s, e) => pick(names, s, e),
    readSync: pick,
    bytesRead: 0,
    close: async () => {},
  };
}

const best = <T extends { seconds: number }>(xs: T[]): T => xs.reduce((m, x) => (x.seconds < m.seconds ? x : m));
const maxRss = (xs: Timed[]): number | undefined =>
  xs.length === 0 || xs.some((x) => x.rssMB === undefined) ? undefined : Math.max(...xs.map((x) => x.rssMB!));
const mb = (xs: Timed[]): string => maxRss(xs)?.toFixed(0) ?? '—';
const total = (c: Counts): number => Object.values(c).reduce((s, v) => s + v.reduce((a, b) => a + b, 0), 0);
const same = (a: Counts, b: Counts): boolean =>
  Object.keys(a).every((k) => a[k].length === b[k]?.length && a[k].every((v, i) => v === b[k][i]));
const f2 = (x: number | undefined): string => (x === undefined ? '—' : x.toFixed(2));
const rate = (r: number): string => (r >= 1e6 ? `${(r / 1e6).toFixed(2)} M` : `${(r / 1e3).toFixed(0)} k`);

/** One (file, query) cell of the JSON: every run, kept so the tables can be rebuilt (`--report`). */
interface Cell {
  file: FileInfo;
  query: number;
  at: string;
  commit: string;
  r1: RistrettoRun[];
  r2: RistrettoRun[];
  baseline1: RistrettoRun[];
  baseline2: RistrettoRun[];
  d1: DuckRun[];
  d2: DuckRun[];
  floor: FloorRun[];
  jsroot: JsrootRun[];
  /** Ristretto 1 vs 2 threads (and baseline) bin for bin. */
  threadsAgree: boolean | undefined;
  /** DuckDB's histograms equal Ristretto's bin for bin (before session 16: their totals only; the report recomputes). */
  duckAgree: boolean | undefined;
  /** jsroot + the same processor gives Ristretto's histograms bin for bin. */
  jsrootAgree: boolean | undefined;
  failed?: string;
  /** The 1-thread runs ran under `taskset -c 0` (`--pin`). */
  pinned?: boolean;
}

interface Results {
  machine: string;
  cells: Cell[];
}

function loadResults(path: string | undefined, fresh: boolean): Results {
  if (path && existsSync(path) && !fresh) {
    const r = JSON.parse(readFileSync(path, 'utf8')) as Results;
    if (!Array.isArray(r.cells))
      throw new Error(`${path} is not an adl-e2e result file (no "cells"); use another --out or --fresh`);
    return r;
  }
  return { machine: `${cpus().length} × ${cpus()[0]?.model}; Node ${process.version}`, cells: [] };
}

/** The Parquet file a ROOT file is compared with: `--ref`, else the first Parquet file of as many events. */
function refOf(f: FileInfo, files: FileInfo[], ref: string | undefined): FileInfo | undefined {
  if (f.format !== 'root') return undefined;
  if (ref) return files.find((x) => x.path === ref);
  return files.find((x) => x.format === 'parquet' && x.events === f.events);
}

/** Cells are keyed by file, query and whether the 1-thread runs were pinned (`--pin` runs sit beside the others). */
const slot = (c: Cell, path: string, q: number, pinned: boolean): boolean =>
  c.file.path === path && c.query === q && !!c.pinned === pinned;

/** "yes" when every run's histograms equal `ref` bin for bin (flow bins included), else what differs. */
function agreement(ref: Counts, runs: { counts: Counts }[]): string {
  if (!runs.length) return '—';
  let bins = 0;
  let totals = true;
  for (const r of runs) {
    for (const k of Object.keys(ref)) {
      const a = ref[k];
      const b = r.counts[k] ?? [];
      for (let i = 0; i < Math.max(a.length, b.length); i++) if (a[i] !== b[i]) bins++;
    }
    if (total(r.counts) !== total(ref)) totals = false;
  }
  return bins === 0 ? 'yes' : `NO: ${bins} bins${totals ? ', totals equal' : ', totals differ'}`;
}

/** The best floor run's seconds, with the CPU seconds of its read + decompress when recorded. */
const floorText = (xs: FloorRun[]): string => {
  if (!xs.length) return '—';
  const b = best(xs);
  return b.cpuSeconds === undefined ? f2(b.seconds) : `${f2(b.seconds)} (${f2(b.cpuSeconds)})`;
};
const ratio = (num: number | undefined, den: number | undefined): string =>
  num === undefined || den === undefined ? '—' : `${(num / den).toFixed(2)}×`;
/** The best (smallest) of one measure over runs; undefined when no run has it (old result files: `elapsed`). */
const bestOf = (xs: Timed[], key: 'seconds' | 'elapsed'): number | undefined => {
  const v = xs.map((x) => x[key]).filter((x): x is number => x !== undefined);
  return v.length ? Math.min(...v) : undefined;
};

function report(res: Results, workers: number, ref: string | undefined): void {
  const ok = res.cells.filter((c) => !c.failed && c.r1.length);
  const files: FileInfo[] = [];
  for (const c of ok) if (!files.some((f) => f.path === c.file.path)) files.push(c.file);
  const rows: { file: FileInfo; pinned: boolean }[] = [];
  for (const c of ok)
    if (!rows.some((r) => r.file.path === c.file.path && r.pinned === !!c.pinned))
      rows.push({ file: files.find((f) => f.path === c.file.path)!, pinned: !!c.pinned });
  const cell = (path: string, q: number, pinned: boolean) => ok.find((c) => slot(c, path, q, pinned));
  const N = workers;
  console.log(`machine: ${res.machine}`);
  for (const f of files)
    console.log(
      `- ${label(f)}: ${f.events.toLocaleString()} events, ${f.bytes >= 1e9 ? `${(f.bytes / 1e9).toFixed(2)} GB` : `${(f.bytes / 1e6).toFixed(1)} MB`}`,
    );
  console.log(
    `\ncmd = the whole process, spawn to exit; inner = Ristretto's wallSeconds / DuckDB's instance → last row.` +
      ` Each figure is the best of its runs. "pinned": the 1-thread runs of both on one core (taskset -c 0).`,
  );
  const withBaseline = ok.some((c) => c.baseline1.length > 0);
  const header = [
    'query',
    'file',
    ...(withBaseline ? [`before 1 / ${N} thr, inner [s]`] : []),
    'R 1 thr: cmd / inner [s]',
    `R ${N} thr: cmd / inner [s]`,
    'efficiency: cmd / inner',
    `DuckDB 1 / ${N} thr: cmd [s]`,
    `DuckDB 1 / ${N} thr: inner [s]`,
    'DuckDB÷R 1 thr: cmd / inner',
    `DuckDB÷R ${N} thr: cmd / inner`,
    `ROOT÷Parquet 1 / ${N} thr: cmd; inner; CPU 1 thr`,
    'floor [s] (CPU s)',
    'jsroot [s]',
    'jsroot÷R 1 thr (inner)',
    `R ev/s/core 1 / ${N} thr (inner)`,
    'coffea ev/s/core',
    'RDataFrame ev/s, 1 thr (jitted)',
    'CPU s R 1 / DuckDB 1',
    `RSS R 1 / ${N} [MB]`,
    `RSS DuckDB 1 / ${N} [MB]`,
    'agree bin for bin: thr / DuckDB / jsroot',
    'load',
  ];
  console.log(`\n| ${header.join(' | ')} |`);
  console.log(`|${header.map((_, i) => (i < 2 ? ' --- ' : ' ---: ')).join('|')}|`);
  const queries = [...new Set(ok.map((c) => c.query))].sort((x, y) => x - y);
  let oldDuck = false;
  for (const q of queries) {
    for (const { file: f, pinned } of rows) {
      const c = cell(f.path, q, pinned);
      if (!c) continue;
      const b1 = best(c.r1);
      const [i1, x1] = [bestOf(c.r1, 'seconds'), bestOf(c.r1, 'elapsed')];
      const [i2, x2] = [bestOf(c.r2, 'seconds'), bestOf(c.r2, 'elapsed')];
      const [di1, dx1] = [bestOf(c.d1, 'seconds'), bestOf(c.d1, 'elapsed')];
      const [di2, dx2] = [bestOf(c.d2, 'seconds'), bestOf(c.d2, 'elapsed')];
      const e1 = c.d1.length ? best(c.d1) : undefined;
      if ([...c.d1, ...c.d2].some((d) => d.form === undefined)) oldDuck = true;
      const otherForm = [...c.d1, ...c.d2].find((d) => d.form && d.form !== duckdbForm(q))?.form;
      const rf = refOf(f, files, ref);
      const rc = rf ? cell(rf.path, q, pinned) : undefined;
      const all: Timed[] = [
        ...c.r1,
        ...c.r2,
        ...c.baseline1,
        ...c.baseline2,
        ...c.d1,
        ...c.d2,
        ...c.floor,
        ...c.jsroot,
      ];
      const load = all.reduce((s, x) => s + x.load, 0) / all.length;
      const pair = (a: number | undefined, b: number | undefined) => `${f2(a)} / ${f2(b)}`;
      const eff = (t1: number | undefined, t2: number | undefined) =>
        t1 === undefined || t2 === undefined ? '—' : (t1 / (N * t2)).toFixed(2);
      const rootVsParquet = () => {
        if (!rc) return '—';
        const r1 = (k: 'seconds' | 'elapsed') => bestOf(rc.r1, k);
        const r2 = (k: 'seconds' | 'elapsed') => bestOf(rc.r2, k);
        const cpu = b1.cpu !== undefined && rc.r1.length && best(rc.r1).cpu !== undefined;
        return (
          `${ratio(x1, r1('elapsed'))} / ${ratio(x2, r2('elapsed'))}; ${ratio(i1, r1('seconds'))} / ${ratio(i2, r2('seconds'))}` +
          `${cpu ? `; ${ratio(b1.cpu, best(rc.r1).cpu)}` : ''}`
        );
      };
      const js = bestOf(c.jsroot, 'seconds');
      const threads = [...c.r2, ...c.baseline1, ...c.baseline2];
      const row = [
        `Q${q}`,
        `${label(f)}${pinned ? ', pinned' : ''}`,
        ...(withBaseline ? [pair(bestOf(c.baseline1, 'seconds'), bestOf(c.baseline2, 'seconds'))] : []),
        pair(x1, i1),
        pair(x2, i2),
        `${eff(x1, x2)} / ${eff(i1, i2)}`,
        c.d1.length || c.d2.length ? `${pair(dx1, dx2)}${otherForm ? ` (${otherForm} SQL)` : ''}` : '—',
        c.d1.length || c.d2.length ? pair(di1, di2) : '—',
        c.d1.length ? `${ratio(dx1, x1)} / ${ratio(di1, i1)}` : '—',
        c.d2.length ? `${ratio(dx2, x2)} / ${ratio(di2, i2)}` : '—',
        rootVsParquet(),
        floorText(c.floor),
        f2(js),
        js === undefined ? '—' : `${(js / b1.seconds).toFixed(1)}×`,
        `${rate(b1.events / b1.seconds)} / ${i2 !== undefined ? rate(b1.events / i2 / N) : '—'}`,
        COFFEA[q] ? rate(COFFEA[q]) : '—',
        RDATAFRAME[q] ? rate(RDATAFRAME[q]) : '—',
        `${f2(b1.cpu)} / ${f2(e1?.cpu)}`,
        `${mb(c.r1)} / ${mb(c.r2)}`,
        c.d1.length || c.d2.length ? `${mb(c.d1)} / ${mb(c.d2)}` : '—',
        `${agreement(b1.counts, threads)} / ${agreement(b1.counts, [...c.d1, ...c.d2])} / ${agreement(b1.counts, c.jsroot)}`,
        load.toFixed(1),
      ];
      console.log(`| ${row.join(' | ')} |`);
    }
  }
  if (oldDuck)
    console.log(
      '\nDuckDB runs from before session 16 ran in a tsx child that imported this bench: their CPU and RSS' +
        ' include tsx and the bench (≈ +0.6 CPU-s, +35 MB), and they have no command time.',
    );
  if (ok.some((c) => c.r1.some((r) => r.elapsed === undefined)))
    console.log('Runs from before session 16 have no command time ("—"): only `wallSeconds` was recorded.');
  const failed = res.cells.filter((c) => c.failed);
  for (const c of failed) console.log(`\nQ${c.query} on ${label(c.file)} failed: ${c.failed}`);

  // Cost vs size: files of one kind (format, layout, codec) with different event counts.
  const kinds = new Map<string, FileInfo[]>();
  for (const f of files) {
    const k = `${f.format}/${f.layout}/${f.codec}`;
    kinds.set(k, [...(kinds.get(k) ?? []), f]);
  }
  for (const [k, fs] of kinds) {
    const sizes = [...new Set(fs.map((f) => f.events))];
    if (sizes.length < 2) continue;
    fs.sort((x, y) => x.events - y.events);
    console.log(`\nCost vs size (${k}, 1 thread, not pinned):\n`);
    // Linear means cost = fixed + k · events: the marginal CPU per event between sizes should stay put.
    console.log(
      '| query | events | R 1 thr: cmd / inner [s] | ns/event (inner) | CPU s | ns/event (CPU) | marginal CPU ns/event vs previous size | per event vs smallest (inner / CPU) | RSS [MB] | load |',
    );
    console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const q of queries) {
      let base: { wall: number; cpu: number | undefined } | undefined;
      let prev: { events: number; cpu: number | undefined } | undefined;
      for (const f of fs) {
        const c = cell(f.path, q, false);
        if (!c) continue;
        const b = best(c.r1);
        const wall = (b.seconds / f.events) * 1e9;
        const cpu = b.cpu === undefined ? undefined : (b.cpu / f.events) * 1e9;
        base ??= { wall, cpu };
        const marginal =
          prev?.cpu !== undefined && b.cpu !== undefined
            ? `${(((b.cpu - prev.cpu) / (f.events - prev.events)) * 1e9).toFixed(0)}`
            : '—';
        prev = { events: f.events, cpu: b.cpu };
        const load = c.r1.reduce((s, x) => s + x.load, 0) / c.r1.length;
        console.log(
          `| Q${q} | ${(f.events / 1e6).toFixed(0)} M | ${f2(bestOf(c.r1, 'elapsed'))} / ${f2(b.seconds)} | ${wall.toFixed(0)} | ${f2(b.cpu)} | ${cpu === undefined ? '—' : cpu.toFixed(0)} | ${marginal} | ${(wall / base.wall).toFixed(2)} / ${cpu !== undefined && base.cpu !== undefined ? (cpu / base.cpu).toFixed(2) : '—'} | ${mb(c.r1)} | ${load.toFixed(1)} |`,
        );
      }
    }
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const child = argv.indexOf('--child');
  if (child >= 0) {
    const get = (k: string) => argv[argv.indexOf(k) + 1];
    const cols = () => get('--columns').split(',').filter(Boolean);
    const kind = argv[child + 1];
    if (kind === 'duckdb')
      return duckdbChild(get('--file'), get('--layout'), cols(), Number(get('--query')), Number(get('--threads')));
    if (kind === 'floor-root') return floorRootChild(get('--file'), cols());
    if (kind === 'jsroot') return jsrootChild(get('--file'), cols(), get('--processor'));
    return floorChild(get('--file'), cols());
  }
  const a = parseArgs(argv);
  if (a.report) {
    // Several result files (runs made apart, e.g. 20 M and 1 M) are shown as one; later files win a cell.
    const parts = a.report.split(',').map((p) => loadResults(resolve(p), false));
    const res: Results = { machine: parts[0].machine, cells: [] };
    for (const p of parts)
      for (const c of p.cells) res.cells = [...res.cells.filter((x) => !slot(x, c.file.path, c.query, !!c.pinned)), c];
    report(res, a.workers, a.ref);
    return;
  }
  for (const f of a.files) {
    if (!existsSync(f)) {
      console.error(
        `${f} is missing: build it with  npx tsx bench/make-adl-dataset.ts --copies N --codec SNAPPY --out FILE  (ROOT: ristretto convert IN.parquet OUT.root --compression zlib|lz4)`,
      );
      process.exit(1);
    }
  }
  const infos = await Promise.all(a.files.map(describeFile));
  if (a.ref && !infos.some((f) => f.path === a.ref)) infos.push(await describeFile(a.ref));
  for (const f of infos) {
    const r = refOf(f, infos, a.ref);
    if (f.format === 'root' && r && r.events !== f.events)
      throw new Error(
        `--ref ${r.path} has ${r.events} events, ${f.path} has ${f.events}: compare files of the same events`,
      );
  }
  const res = loadResults(a.out, a.fresh);
  const save = () => a.out && writeFileSync(a.out, JSON.stringify(res, null, 1));
  const work = mkdtempSync(join(tmpdir(), 'ristretto-e2e-'));
  const datasets = new Map(
    infos.map((f, i) => {
      const p = join(work, `dataset-${i}.json`);
      writeFileSync(p, JSON.stringify({ adl: { files: { [f.path]: 'Events' } } }));
      return [f.path, p] as const;
    }),
  );
  const describe = (dir: string): string => {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: dir, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--short', '--', 'src', 'executors', 'processors'], {
      cwd: dir,
      encoding: 'utf8',
    }).trim();
    return `${commit}${dirty ? ' + uncommitted changes' : ''}`;
  };
  const commit = describe(a.repo);
  console.log(
    `Ristretto at ${commit}${a.baseline ? `, baseline at ${describe(a.baseline)}` : ''}; ${res.machine}; best of ${a.reps}, interleaved over ${infos.length} file(s)`,
  );
  for (const f of infos) console.log(`- ${label(f)}: ${f.events.toLocaleString()} events`);
  console.log(
    `load before: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}\n`,
  );

  const has = (m: Mode) => a.modes.has(m);
  for (const id of a.queries) {
    const q = QUERIES.find((x) => x.id === id)!;
    // Resume: cells already in --out are not run again.
    const todo = infos.filter((f) => !res.cells.some((c) => slot(c, f.path, id, a.pin) && !c.failed));
    if (!todo.length) continue;
    const cells = new Map<string, Cell>(
      todo.map((f) => [
        f.path,
        {
          file: f,
          query: id,
          at: new Date().toISOString(),
          commit,
          r1: [],
          r2: [],
          baseline1: [],
          baseline2: [],
          d1: [],
          d2: [],
          floor: [],
          jsroot: [],
          threadsAgree: undefined,
          duckAgree: undefined,
          jsrootAgree: undefined,
          ...(a.pin ? { pinned: true } : {}),
        },
      ]),
    );
    for (let rep = 0; rep < a.reps; rep++) {
      for (const f of todo) {
        const c = cells.get(f.path)!;
        if (c.failed) continue;
        try {
          const ds = datasets.get(f.path)!;
          // r1 always runs (once at least): it gives the columns for DuckDB's flat view, the floor and jsroot.
          if (has('r1') || c.r1.length === 0) c.r1.push(ristretto(q, a, ds, join(work, 'out1'), 1));
          const columns = c.r1[0].columns;
          if (a.baseline) c.baseline1.push(ristretto(q, a, ds, join(work, 'out3'), 1, a.baseline));
          if (has('duckdb') && f.format === 'parquet') c.d1.push(duckdb(q, a, f, 1, columns, work));
          if (has('r2')) c.r2.push(ristretto(q, a, ds, join(work, 'out2'), a.workers));
          if (a.baseline && has('r2')) c.baseline2.push(ristretto(q, a, ds, join(work, 'out4'), a.workers, a.baseline));
          if (has('duckdb') && f.format === 'parquet') c.d2.push(duckdb(q, a, f, a.workers, columns, work));
          if (has('jsroot') && f.format === 'root' && f.events <= a.jsrootMax)
            c.jsroot.push(jsroot(q, f, columns, a.repo));
        } catch (e) {
          // One failed run (a checkout being rebuilt, a crash) loses its cell, not the whole table.
          c.failed = (e as Error).message.split('\n').slice(0, 3).join(' ');
          console.error(`Q${id} on ${label(f)} failed: ${(e as Error).message}`);
        }
      }
    }
    for (const f of todo) {
      const c = cells.get(f.path)!;
      if (!c.failed && has('floor')) {
        try {
          for (let rep = 0; rep < a.reps; rep++) c.floor.push(floor(f, c.r1[0].columns));
        } catch (e) {
          console.error(`Q${id} floor on ${label(f)} failed: ${(e as Error).message}`);
        }
      }
      if (!c.failed) {
        const b1 = best(c.r1);
        c.threadsAgree =
          c.r2.length || c.baseline1.length
            ? [...c.r2, ...c.baseline1, ...c.baseline2].every((x) => same(b1.counts, x.counts))
            : undefined;
        c.duckAgree =
          c.d1.length || c.d2.length ? [...c.d1, ...c.d2].every((x) => same(b1.counts, x.counts)) : undefined;
        c.jsrootAgree = c.jsroot.length ? c.jsroot.every((x) => same(b1.counts, x.counts)) : undefined;
        const cmd = (xs: Timed[]) => f2(bestOf(xs, 'elapsed'));
        const inner = (xs: Timed[]) => f2(bestOf(xs, 'seconds'));
        console.log(
          `Q${id} ${label(f)}${a.pin ? ', pinned' : ''}: cmd (inner) R ${cmd(c.r1)} (${inner(c.r1)}) / ${cmd(c.r2)} (${inner(c.r2)}) s, ` +
            `DuckDB ${cmd(c.d1)} (${inner(c.d1)}) / ${cmd(c.d2)} (${inner(c.d2)}) s, floor ${inner(c.floor)} s, jsroot ${inner(c.jsroot)} s; ` +
            `agree ${[c.threadsAgree, c.duckAgree, c.jsrootAgree].map((x) => x ?? '—').join('/')}; load ${loadavg()[0].toFixed(1)}`,
        );
      }
      res.cells = res.cells.filter((x) => !slot(x, f.path, id, a.pin));
      res.cells.push(c);
      save();
    }
  }
  console.log(
    `\nload after: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}\n`,
  );
  report(res, a.workers, a.ref);
  rmSync(work, { recursive: true, force: true });
}

await main();
