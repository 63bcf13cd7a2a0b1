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
import { existsSync } from 'node:fs';
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

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Published per-core rates of coffea on the ADL tasks (events/s), for the table. */
const COFFEA: Record<number, number> = { 1: 19e6, 5: 1.4e6, 6: 0.22e6, 8: 0.88e6 };

interface HistSpec {
  name: string;
  bins: number;
  lo: number;
  hi: number;
}

interface Query {
  id: number;
  hists: HistSpec[];
  /**
   * SQL formulations producing one column per histogram (x1, x2, ...) over the view `events` (which has
   * `file_row_number` as an event id). DuckDB runs each and is credited with the fastest.
   */
  sql: Record<string, string>;
}

const h = (name: string, bins: number, lo: number, hi: number): HistSpec => ({ name, bins, lo, hi });

// Two SQL styles where they differ: `lists` keeps one row per event and works on the lists with lambdas
// (DuckDB's `lambda x: ...` form); `joins` unnests objects to rows keyed by file_row_number and self-joins.
const QUERIES: Query[] = [
  { id: 1, hists: [h('query-1', 100, 0, 2000)], sql: { lists: `SELECT MET.pt AS x1 FROM events` } },
  { id: 2, hists: [h('query-2', 100, 15, 60)], sql: { lists: `SELECT unnest(list_transform(Jet, lambda j: j.pt)) AS x1 FROM events` } },
  {
    id: 3,
    hists: [h('query-3', 100, 15, 60)],
    sql: { lists: `SELECT unnest(list_transform(list_filter(Jet, lambda j: abs(j.eta) < 1), lambda j: j.pt)) AS x1 FROM events` },
  },
  {
    id: 4,
    hists: [h('query-4', 100, 0, 2000)],
    sql: { lists: `SELECT MET.pt AS x1 FROM events WHERE len(list_filter(Jet, lambda j: j.pt > 40)) >= 2` },
  },
  {
    id: 5,
    hists: [h('query-5', 100, 0, 2000)],
    sql: {
      lists: `SELECT MET.pt AS x1 FROM events
          WHERE len(Muon) >= 2 AND list_bool_or(flatten(list_transform(range(1, len(Muon)), lambda i:
            list_transform(range(i + 1, len(Muon) + 1), lambda k:
              Muon[i].charge * Muon[k].charge < 0 AND mass2(Muon[i], Muon[k]) BETWEEN 60 AND 120))))`,
      joins: `WITH v AS (
            SELECT ev, met, i, charge, pt * cos(phi) AS x, pt * sin(phi) AS y, pt * sinh(eta) AS z, sqrt(pow(pt * cosh(eta), 2) + mass * mass) AS e
            FROM (SELECT file_row_number AS ev, MET.pt AS met, generate_subscripts(Muon, 1) AS i, unnest(Muon, recursive := true) FROM events WHERE len(Muon) >= 2))
          SELECT any_value(a.met) AS x1 FROM v a JOIN v b ON a.ev = b.ev AND a.i < b.i
          WHERE a.charge * b.charge < 0 AND sqrt(greatest(0, pow(a.e + b.e, 2) - pow(a.x + b.x, 2) - pow(a.y + b.y, 2) - pow(a.z + b.z, 2))) BETWEEN 60 AND 120
          GROUP BY a.ev`,
    },
  },
  {
    id: 6,
    hists: [h('query-6-1', 100, 15, 40), h('query-6-2', 100, 0, 1)],
    sql: {
      lists: `WITH c AS (
            SELECT Jet, list_min(flatten(flatten(list_transform(range(1, len(Jet) - 1), lambda i:
              list_transform(range(i + 1, len(Jet)), lambda j:
                list_transform(range(j + 1, len(Jet) + 1), lambda k:
                  {d: abs(mass3(Jet[i], Jet[j], Jet[k]) - 172.5), i: i, j: j, k: k})))))) AS b
            FROM events WHERE len(Jet) >= 3)
          SELECT sqrt(pow(px(Jet[b.i]) + px(Jet[b.j]) + px(Jet[b.k]), 2) + pow(py(Jet[b.i]) + py(Jet[b.j]) + py(Jet[b.k]), 2)) AS x1,
                 greatest(Jet[b.i].btag, Jet[b.j].btag, Jet[b.k].btag) AS x2
          FROM c`,
      joins: `WITH j AS (
            SELECT ev, i, pt * cos(phi) AS x, pt * sin(phi) AS y, pt * sinh(eta) AS z, sqrt(pow(pt * cosh(eta), 2) + mass * mass) AS e, btag
            FROM (SELECT file_row_number AS ev, generate_subscripts(Jet, 1) AS i, unnest(Jet, recursive := true) FROM events WHERE len(Jet) >= 3)),
          t AS (
            SELECT a.ev, a.x + b.x + c.x AS x, a.y + b.y + c.y AS y, a.z + b.z + c.z AS z, a.e + b.e + c.e AS e, greatest(a.btag, b.btag, c.btag) AS btag
            FROM j a JOIN j b ON a.ev = b.ev AND a.i < b.i JOIN j c ON b.ev = c.ev AND b.i < c.i),
          m AS (SELECT ev, sqrt(x * x + y * y) AS pt, btag, abs(sqrt(greatest(0, e * e - x * x - y * y - z * z)) - 172.5) AS d FROM t)
          SELECT arg_min(pt, d) AS x1, arg_min(btag, d) AS x2 FROM m GROUP BY ev`,
    },
  },
  {
    id: 7,
    hists: [h('query-7', 100, 15, 200)],
    sql: {
      lists: `WITH e AS (
            SELECT Jet, list_filter(list_concat(list_transform(Muon, lambda m: {pt: m.pt, eta: m.eta, phi: m.phi}),
                                                list_transform(Electron, lambda m: {pt: m.pt, eta: m.eta, phi: m.phi})),
                                    lambda l: l.pt > 10) AS lep
            FROM events),
          s AS (
            SELECT list_transform(list_filter(Jet, lambda j: j.pt > 30 AND len(list_filter(lep, lambda l: dr2(j, l) < 0.16)) = 0),
                                  lambda j: j.pt) AS pts
            FROM e)
          SELECT list_sum(pts) AS x1 FROM s WHERE len(pts) > 0`,
      joins: `WITH jets AS (
            SELECT ev, i, pt, eta, phi FROM (SELECT file_row_number AS ev, generate_subscripts(Jet, 1) AS i, unnest(Jet, recursive := true) FROM events) WHERE pt > 30),
          leps AS (
            SELECT ev, eta, phi FROM (SELECT file_row_number AS ev, unnest(Muon, recursive := true) FROM events) WHERE pt > 10
            UNION ALL
            SELECT ev, eta, phi FROM (SELECT file_row_number AS ev, unnest(Electron, recursive := true) FROM events) WHERE pt > 10),
          near AS (SELECT DISTINCT j.ev, j.i FROM jets j JOIN leps l ON j.ev = l.ev WHERE dr2(j, l) < 0.16)
          SELECT sum(j.pt) AS x1 FROM jets j ANTI JOIN near n ON j.ev = n.ev AND j.i = n.i GROUP BY j.ev`,
    },
  },
  {
    id: 8,
    hists: [h('query-8', 100, 15, 250)],
    sql: {
      lists: `WITH l AS (
            SELECT MET AS met, list_concat(
                list_transform(Muon, lambda m: {pt: m.pt, eta: m.eta, phi: m.phi, mass: m.mass, charge: m.charge, f: 0}),
                list_transform(Electron, lambda m: {pt: m.pt, eta: m.eta, phi: m.phi, mass: m.mass, charge: m.charge, f: 1})) AS lep
            FROM events WHERE len(Muon) + len(Electron) >= 3),
          p AS (
            SELECT met, lep, list_min(flatten(list_transform(range(1, len(lep)), lambda i:
              list_transform(list_filter(range(i + 1, len(lep) + 1), lambda k: lep[i].f = lep[k].f AND lep[i].charge * lep[k].charge < 0),
                             lambda k: {d: abs(mass2(lep[i], lep[k]) - 91.2), i: i, k: k})))) AS best
            FROM l),
          o AS (
            SELECT met, list_max(list_transform(list_filter(range(1, len(lep) + 1), lambda q: q != best.i AND q != best.k),
                                                lambda q: {pt: lep[q].pt, phi: lep[q].phi})) AS lead
            FROM p WHERE best IS NOT NULL)
          SELECT sqrt(2 * met.pt * lead.pt * (1 - cos(met.phi - lead.phi))) AS x1 FROM o`,
      joins: `WITH sel AS (SELECT * FROM events WHERE len(Muon) + len(Electron) >= 3),
          l AS (
            SELECT ev, metpt, metphi, 0 AS f, i, pt, eta, phi, mass, charge
            FROM (SELECT file_row_number AS ev, MET.pt AS metpt, MET.phi AS metphi, generate_subscripts(Muon, 1) AS i, unnest(Muon, recursive := true) FROM sel)
            UNION ALL
            SELECT ev, metpt, metphi, 1 AS f, i, pt, eta, phi, mass, charge
            FROM (SELECT file_row_number AS ev, MET.pt AS metpt, MET.phi AS metphi, generate_subscripts(Electron, 1) AS i, unnest(Electron, recursive := true) FROM sel)),
          v AS (SELECT *, pt * cos(phi) AS x, pt * sin(phi) AS y, pt * sinh(eta) AS z, sqrt(pow(pt * cosh(eta), 2) + mass * mass) AS e FROM l),
          p AS (
            SELECT a.ev, a.f, a.i AS i, b.i AS k, abs(sqrt(greatest(0, pow(a.e + b.e, 2) - pow(a.x + b.x, 2) - pow(a.y + b.y, 2) - pow(a.z + b.z, 2))) - 91.2) AS d
            FROM v a JOIN v b ON a.ev = b.ev AND a.f = b.f AND a.i < b.i WHERE a.charge * b.charge < 0),
          best AS (SELECT ev, arg_min({f: f, i: i, k: k}, {d: d, f: f, i: i, k: k}) AS b FROM p GROUP BY ev),
          o AS (
            SELECT v.ev, any_value(v.metpt) AS metpt, any_value(v.metphi) AS metphi, max(v.pt) AS pt, arg_max(v.phi, v.pt) AS phi
            FROM v JOIN best ON v.ev = best.ev
            WHERE NOT (v.f = best.b.f AND (v.i = best.b.i OR v.i = best.b.k))
            GROUP BY v.ev)
          SELECT sqrt(2 * metpt * pt * (1 - cos(metphi - phi))) AS x1 FROM o`,
    },
  },
];

const MACROS = [
  `CREATE MACRO px(o) AS o.pt * cos(o.phi)`,
  `CREATE MACRO py(o) AS o.pt * sin(o.phi)`,
  `CREATE MACRO pz(o) AS o.pt * sinh(o.eta)`,
  `CREATE MACRO en(o) AS sqrt(pow(o.pt * cosh(o.eta), 2) + o.mass * o.mass)`,
  `CREATE MACRO mass2(a, b) AS sqrt(greatest(0, pow(en(a) + en(b), 2) - pow(px(a) + px(b), 2) - pow(py(a) + py(b), 2) - pow(pz(a) + pz(b), 2)))`,
  `CREATE MACRO mass3(a, b, c) AS sqrt(greatest(0, pow(en(a) + en(b) + en(c), 2) - pow(px(a) + px(b) + px(c), 2) - pow(py(a) + py(b) + py(c), 2) - pow(pz(a) + pz(b) + pz(c), 2)))`,
  `CREATE MACRO dphi(d) AS d - 2 * pi() * floor((d + pi()) / (2 * pi()))`,
  `CREATE MACRO dr2(a, b) AS pow(a.eta - b.eta, 2) + pow(dphi(a.phi - b.phi), 2)`,
];

interface Args {
  file: string;
  queries: number[];
  reps: number;
  threads: boolean;
  duckdb: boolean;
  chunksize: number;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { file: resolve(repo, 'bench', 'data', 'adl-2M.parquet'), queries: [1, 2, 3, 4, 5, 6, 7, 8], reps: 3, threads: true, duckdb: true, chunksize: 100_000 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    if (k === '--no-threads') a.threads = false;
    else if (k === '--no-duckdb') a.duckdb = false;
    else {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${k} needs a value`);
      if (k === '--file') a.file = resolve(v);
      else if (k === '--queries') a.queries = v.split(',').map(Number);
      else if (k === '--reps') a.reps = Number(v);
      else if (k === '--chunksize') a.chunksize = Number(v);
      else throw new Error(`unknown option ${k} (known: --file --queries --reps --chunksize --no-threads --no-duckdb)`);
    }
  }
  return a;
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
  for (const s of specs) out[s.name] = acc[s.name]!.values({ flow: true });
  return out;
}

async function ristrettoSingle(q: Query, items: WorkItem[], reps: number): Promise<{ seconds: number; counts: Counts; columns: string[] }> {
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

async function ristrettoThreads(q: Query, items: WorkItem[], reps: number, prefetch: string[]): Promise<{ seconds: number; counts: Counts }> {
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

/** The query's values binned in SQL exactly like a Regular axis: floor((x − lo) · bins/(hi − lo)) in float64. */
function binnedSql(q: Query, sql: string): string {
  const binExpr = (s: HistSpec, col: string) =>
    `CASE WHEN ${col} IS NULL OR isnan(${col}::DOUBLE) OR ${col}::DOUBLE >= ${s.hi} THEN ${s.bins + 1} WHEN ${col}::DOUBLE < ${s.lo} THEN 0 ` +
    `ELSE 1 + floor((${col}::DOUBLE - ${s.lo}) * ${s.bins / (s.hi - s.lo)})::INTEGER END`;
  const bins = q.hists.map((s, i) => `${binExpr(s, `x${i + 1}`)} AS b${i + 1}`).join(', ');
  const keys = q.hists.map((_, i) => `b${i + 1}`).join(', ');
  return `SELECT ${keys}, count(*)::DOUBLE AS n FROM (SELECT ${bins} FROM (${sql})) GROUP BY ${keys}`;
}

/** Every SQL formulation of the query, timed; the fastest one's time, with each formulation's histograms for the checks. */
async function duckdbRun(conn: DuckDBConnection, q: Query, reps: number): Promise<{ seconds: number; style: string; counts: Record<string, Counts> }> {
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
      q.hists.forEach((s, i) => (c[s.name]![Number(row[i])]! += n));
    }
    counts[name] = c;
  }
  return { seconds, style, counts };
}

function compare(a: Counts, b: Counts): { totalsAgree: boolean; binsDiffer: number } {
  let totalsAgree = true;
  let binsDiffer = 0;
  for (const k of Object.keys(a)) {
    const x = a[k]!;
    const y = b[k]!;
    let sx = 0;
    let sy = 0;
    for (let i = 0; i < x.length; i++) {
      sx += x[i]!;
      sy += y[i]!;
      if (x[i] !== y[i]) binsDiffer++;
    }
    if (sx !== sy) totalsAgree = false;
  }
  return { totalsAgree, binsDiffer };
}

const fmt = (r: number | undefined): string => (r === undefined ? '—' : r >= 1e6 ? `${(r / 1e6).toFixed(2)} M` : `${(r / 1e3).toFixed(0)} k`);

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (!existsSync(args.file)) {
    console.error(`${args.file} is missing: build it first with  npx tsx bench/make-adl-dataset.ts`);
    process.exit(1);
  }
  const plan = await planWork([{ name: 'adl', files: [{ path: args.file, tree: 'Events' }], metadata: {} }], { chunksize: args.chunksize, align: true });
  const items = plan.items;
  const events = items.reduce((n, it) => n + it.entryStop - it.entryStart, 0);
  console.log(`${args.file}: ${events.toLocaleString()} events, ${items.length} chunks; best of ${args.reps} after a warm-up\n`);

  let conn: DuckDBConnection | undefined;
  if (args.duckdb) {
    const db = await DuckDBInstance.create(':memory:');
    conn = await db.connect();
    await conn.run(`SET threads = 1`);
    for (const m of MACROS) await conn.run(m);
    await conn.run(`CREATE VIEW events AS SELECT * FROM read_parquet('${args.file.replaceAll("'", "''")}', file_row_number = true)`);
  }

  const rows: string[][] = [];
  const header = ['query', 'Ristretto 1 thread', '2 threads (per core)', 'DuckDB 1 thread', 'DuckDB SQL', 'Ristretto / DuckDB', 'coffea per core', 'totals agree', 'bins differ'];
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
    rows.push([`Q${q.id}`, fmt(r1), fmt(r2), fmt(rd), duck?.style ?? '—', rd ? `${(r1 / rd).toFixed(2)}×` : '—', fmt(COFFEA[q.id]), agree, differ]);
    console.log(rows[rows.length - 1]!.join('  '));
  }
  console.log();
  const widths = header.map((hd, i) => Math.max(hd.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => '| ' + cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ') + ' |';
  console.log(line(header));
  console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  for (const r of rows) console.log(line(r));
  conn?.closeSync();
}

await main();
