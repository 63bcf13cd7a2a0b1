/**
 * One DuckDB run of an ADL query, as bench/adl-e2e.ts times it: plain Node, no tsx and none of the bench's
 * imports, so that the process's elapsed time, CPU seconds and peak RSS are DuckDB's own (node start,
 * `@duckdb/node-api` import, instance, view, query, result rows), like `node bin/run-analysis.mjs` on
 * Ristretto's side.
 *
 *     node bench/adl-duckdb.mjs SPEC.json
 *
 * SPEC (written by adl-e2e.ts, which owns the SQL): `{ threads, macros: string[], views: [{name, sql}],
 * sql, hists: [{name, bins}] }`. The views are tried in order; the next one only when the query does not
 * bind against the previous (the flat layout's view with only the fields Ristretto read, then all fields).
 * Prints one JSON line: `seconds` (instance to last row, the inner time), `importSeconds` (the module
 * import), `sinceStart` (process start to last row, from `performance.timeOrigin`), `counts` (flow
 * bins included, per histogram) and `view` (the view that ran).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Run `spec` in a fresh DuckDB instance; the result as printed.
 * @param {{threads: number, macros: string[], views: {name: string, sql: string}[], sql: string,
 *   hists: {name: string, bins: number}[]}} spec
 */
export async function runDuckdb(spec) {
  const i0 = performance.now();
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const t0 = performance.now();
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  await conn.run(`SET threads = ${spec.threads}`);
  for (const m of spec.macros) await conn.run(m);
  let rows;
  let view;
  for (const [k, v] of spec.views.entries()) {
    if (k > 0) await conn.run('DROP VIEW events');
    await conn.run(v.sql);
    view = v.name;
    try {
      rows = (await conn.runAndReadAll(spec.sql)).getRows();
      break;
    } catch (e) {
      // A field the view left out makes the query fail to bind: the next view holds more.
      if (k === spec.views.length - 1 || !/Binder|not found|does not exist/i.test(e.message)) throw e;
    }
  }
  const end = performance.now();
  const counts = {};
  for (const s of spec.hists) counts[s.name] = new Array(s.bins + 2).fill(0);
  for (const row of rows) {
    const n = Number(row[spec.hists.length]);
    spec.hists.forEach((s, i) => {
      counts[s.name][Number(row[i])] += n;
    });
  }
  conn.closeSync();
  return {
    seconds: (end - t0) / 1000,
    importSeconds: (t0 - i0) / 1000,
    sinceStart: end / 1000,
    counts,
    view,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const spec = JSON.parse(readFileSync(process.argv[2], 'utf8'));
  console.log(JSON.stringify(await runDuckdb(spec)));
}
