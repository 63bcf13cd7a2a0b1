/**
 * ADL benchmark: events/s per core for the eight ADL tasks through Ristretto (one thread: the processChunk path
 * every executor runs, chunk results encoded, decoded and merged; and the threads executor with 2 workers),
 * next to DuckDB (@duckdb/node-api, `SET threads = 1`) running the same tasks in SQL on the same Parquet file.
 * Both sides bin into the same histograms; the table says whether their totals agree (and how many bins differ,
 * which can happen when a value computed in a different order lands within rounding of a bin edge).
 *
 *     npx tsx bench/make-adl-dataset.ts          # once: bench/data/adl-2M.parquet (2 M events, nested layout)
 *     npx tsx bench/adl.ts                       # all queries, best of 3 after a warm-up
 *     npx tsx bench/adl.ts --queries 1,5,6 --reps 1 --file bench/data/adl-2M.parquet --no-threads
 *
 * Rates are events in the file / wall seconds of the run (best repetition); "per core" divides the threads
 * executor's rate by its 2 workers. The machine must be otherwise idle for the numbers to mean anything.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { accumulate, decode } from '../src/accumulate/index.ts';
import type { WorkItem } from '../src/dataset/chunking.ts';
import { planWork } from '../src/dataset/preprocess.ts';
import type { Hist } from '../src/hist/hist.ts';
import { bundleProcessor } from '../src/processor/bundle.ts';
import { loadProcessor } from '../src/processor/load.ts';
import type { Processor } from '../src/processor/types.ts';
import { createChunkState, processChunk } from '../src/runner/process-chunk.ts';
import { createExecutor, type JobSpec } from '../executors/index.ts';
import { adlFile, adlFileOptions, benchArgs, flag } from './lib.ts';
import { binnedSql, COFFEA, MACROS, QUERIES, type HistSpec, type Query } from './adl-queries.ts';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');

interface Args {
  file: string;
  queries: number[];
  reps: number;
  threads: boolean;
  duckdb: boolean;
  chunksize: number;
}

function parseArgs(argv: string[]): Args {
  const a = benchArgs(
    'ADL queries: events/s per core through Ristretto (one thread, and 2 threads) next to DuckDB.',
    {
      ...adlFileOptions(3),
      'no-threads': flag('leave out the threads executor'),
      'no-duckdb': flag('leave out DuckDB'),
    },
    {},
    argv,
  );
  return { ...a, file: adlFile(a.file), threads: !a['no-threads'], duckdb: !a['no-duckdb'] };
}

/** Flow-inclusive counts per histogram: index 0 underflow, bins+1 overflow. */
type Counts = Record<string, Float64Array>;

async function time<T>(reps: number, run: () => Promise<T>): Promise<{ seconds: number; result: T }> {
  let result = await run(); // warm-up: JIT, page cache, column discovery
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    result = await run();
    best = Math.min(best, (performance.now() - t0) / 1000);
  }
  return { seconds: best, result };
}

function countsOf(acc: Record<string, Hist>, specs: HistSpec[]): Counts {
  const out: Counts = {};
  for (const s of specs) out[s.name] = acc[s.name].values({ flow: true });
  return out;
}

async function ristrettoSingle(
  q: Query,
  items: WorkItem[],
  reps: number,
): Promise<{ seconds: number; counts: Counts; columns: string[] }> {
  const path = resolve(repo, 'processors', 'adl', `query-${q.id}.ts`);
  const processor = (await loadProcessor(path)) as Processor<Record<string, Hist>>;
  const state = createChunkState();
  const { seconds, result } = await time(reps, async () => {
    let acc = processor.accumulator();
    for (const it of items) {
      const r = await processChunk(it, processor as Processor<unknown>, state);
      acc = accumulate(acc, decode(r.accumulator) as Record<string, Hist>);
    }
    return acc;
  });
  const columns = [...(state.columns.get('') ?? [])];
  await state.readers.closeAll();
  return { seconds, counts: countsOf(result, q.hists), columns };
}

async function ristrettoThreads(
  q: Query,
  items: WorkItem[],
  reps: number,
  prefetch: string[],
): Promise<{ seconds: number; counts: Counts }> {
  const path = resolve(repo, 'processors', 'adl', `query-${q.id}.ts`);
  const processor = (await loadProcessor(path)) as Processor<Record<string, Hist>>;
  const job: JobSpec = { processor: await bundleProcessor(path), metadata: { adl: {} }, prefetch };
  const executor = createExecutor('threads', { workers: 2 });
  try {
    const { seconds, result } = await time(reps, async () => {
      const results = await Promise.all(items.map((it) => executor.submit(it, job)));
      let acc = processor.accumulator();
      for (const r of results) acc = accumulate(acc, decode(r.accumulator) as Record<string, Hist>);
      return acc;
    });
    return { seconds, counts: countsOf(result, q.hists) };
  } finally {
    await executor.close();
  }
}

/** Every SQL formulation of the query, timed; the fastest one's time, with each formulation's histograms for the checks. */
async function duckdbRun(
  conn: DuckDBConnection,
  q: Query,
  reps: number,
): Promise<{ seconds: number; style: string; counts: Record<string, Counts> }> {
  let seconds = Infinity;
  let style = '';
  const counts: Record<string, Counts> = {};
  for (const [name, text] of Object.entries(q.sql)) {
    const sql = binnedSql(q, text);
    const run = await time(reps, async () => (await conn.runAndReadAll(sql)).getRows());
    if (run.seconds < seconds) {
      seconds = run.seconds;
      style = name;
    }
    const c: Counts = {};
    for (const s of q.hists) c[s.name] = new Float64Array(s.bins + 2);
    for (const row of run.result) {
      const n = Number(row[q.hists.length]);
      q.hists.forEach((s, i) => (c[s.name][Number(row[i])] += n));
    }
    counts[name] = c;
  }
  return { seconds, style, counts };
}

function compare(a: Counts, b: Counts): { totalsAgree: boolean; binsDiffer: number } {
  let totalsAgree = true;
  let binsDiffer = 0;
  for (const k of Object.keys(a)) {
    const x = a[k];
    const y = b[k];
    let sx = 0;
    let sy = 0;
    for (let i = 0; i < x.length; i++) {
      sx += x[i];
      sy += y[i];
      if (x[i] !== y[i]) binsDiffer++;
    }
    if (sx !== sy) totalsAgree = false;
  }
  return { totalsAgree, binsDiffer };
}

const fmt = (r: number | undefined): string =>
  r === undefined ? '—' : r >= 1e6 ? `${(r / 1e6).toFixed(2)} M` : `${(r / 1e3).toFixed(0)} k`;

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const plan = await planWork([{ name: 'adl', files: [{ path: args.file, tree: 'Events' }], metadata: {} }], {
    chunksize: args.chunksize,
    align: true,
  });
  const items = plan.items;
  const events = items.reduce((n, it) => n + it.entryStop - it.entryStart, 0);
  console.log(
    `${args.file}: ${events.toLocaleString()} events, ${items.length} chunks; best of ${args.reps} after a warm-up\n`,
  );

  let conn: DuckDBConnection | undefined;
  if (args.duckdb) {
    const db = await DuckDBInstance.create(':memory:');
    conn = await db.connect();
    await conn.run(`SET threads = 1`);
    for (const m of MACROS) await conn.run(m);
    await conn.run(
      `CREATE VIEW events AS SELECT * FROM read_parquet('${args.file.replaceAll("'", "''")}', file_row_number = true)`,
    );
  }

  const rows: string[][] = [];
  const header = [
    'query',
    'Ristretto 1 thread',
    '2 threads (per core)',
    'DuckDB 1 thread',
    'DuckDB SQL',
    'Ristretto / DuckDB',
    'coffea per core',
    'totals agree',
    'bins differ',
  ];
  for (const id of args.queries) {
    const q = QUERIES.find((x) => x.id === id);
    if (!q) throw new Error(`no query ${id}`);
    const single = await ristrettoSingle(q, items, args.reps);
    const threads = args.threads ? await ristrettoThreads(q, items, args.reps, single.columns) : undefined;
    const duck = conn ? await duckdbRun(conn, q, args.reps) : undefined;
    const r1 = events / single.seconds;
    const r2 = threads ? events / threads.seconds / 2 : undefined;
    const rd = duck ? events / duck.seconds : undefined;
    let agree = '—';
    let differ = '—';
    if (duck) {
      // Every formulation must agree with Ristretto, not only the fastest.
      const checks = Object.entries(duck.counts).map(([name, c]) => [name, compare(single.counts, c)] as const);
      const bad = checks.filter(([, c]) => !c.totalsAgree).map(([name]) => name);
      agree = bad.length ? `NO (${bad.join(', ')})` : 'yes';
      differ = checks.map(([, c]) => c.binsDiffer).join('/');
    }
    if (threads && compare(single.counts, threads.counts).binsDiffer !== 0) agree += ' (threads ≠ 1 thread!)';
    rows.push([
      `Q${q.id}`,
      fmt(r1),
      fmt(r2),
      fmt(rd),
      duck?.style ?? '—',
      rd ? `${(r1 / rd).toFixed(2)}×` : '—',
      fmt(COFFEA[q.id]),
      agree,
      differ,
    ]);
    console.log(rows[rows.length - 1].join('  '));
  }
  console.log();
  const widths = header.map((hd, i) => Math.max(hd.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
  conn?.closeSync();
}

await main();
