/**
 * Builds the ADL benchmark input: a nested-layout NanoAOD Parquet file of ≥ 2 M events made from the real
 * CMS Run2012B SingleMu events in ../shared/data (the 10,000-event ROOT file), repeated with jittered kinematics.
 *
 *     npx tsx bench/make-adl-dataset.ts                       # → bench/data/adl-2M.parquet (200 copies, uncompressed)
 *     npx tsx bench/make-adl-dataset.ts --copies 20 --codec SNAPPY --out bench/data/adl-200k-snappy.parquet
 *     npx tsx bench/make-adl-dataset.ts --copies 2000 --codec ZSTD --out /data/adl-20M-zstd.parquet
 *     npx tsx bench/make-adl-dataset.ts --copies 2000 --codec SNAPPY --layout flat --out /data/adl-20M-flat-snappy.parquet
 *
 * Layouts (what DuckDB, coffea and Ristretto's reader all understand):
 * - `--layout nested` (default, the IRIS-HEP "restructured" ADL file):
 *     MET struct<pt float, phi float>
 *     Jet list<struct<pt, eta, phi, mass, btag: float>>
 *     Muon, Electron list<struct<pt, eta, phi, mass: float, charge: int32>>
 * - `--layout flat` (NanoAOD style, as the original ADL `Run2012B_SingleMu.parquet`): `MET_pt`, `MET_phi`
 *   float; per collection a count `nJet` int64 and one list<float|int32> column per field (`Jet_pt`, ...).
 *   The same events as the nested file of the same seed and copies, value for value.
 * `--codec ZSTD[:LEVEL]` compresses with libzstd (WebAssembly, level 1 by default, Arrow's default).
 * Row groups of `--rowgroup` events (default 100,000). Copy 0 is the original data, bit for bit; every other copy
 * scales pt and mass by a per-object factor in [0.97, 1.03] and shifts η, φ by up to ±0.02 (φ wrapped), from a
 * seeded RNG, so copies neither compress away nor fill histograms identically.
 *
 * Writes with hyparquet-writer's column writer: levels are built straight from offsets (its row API wants one
 * JS object per event, far too slow for millions of events).
 */
import { mkdirSync, renameSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ColumnChunk, SchemaElement } from 'hyparquet';
import { fileWriter, ParquetWriter } from 'hyparquet-writer';
import { writeColumn } from 'hyparquet-writer/src/column.js';
import type { Jagged, NumericArray } from '../src/columnar/types.ts';
import { openReader } from '../src/io/open.ts';
import { loadZstd, zstdCompress } from '../src/io/root-write/zstd.ts';
import { Rng } from '../samples/rng.ts';
import { benchArgs, choice, int, type Opt, text, UsageError } from './lib.ts';

type ColumnEncoder = Parameters<typeof writeColumn>[0]['column'];
type PageData = Parameters<typeof writeColumn>[0]['pageData'];

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..');

interface Options {
  input: string;
  out: string;
  copies: number;
  rowgroup: number;
  codec: 'UNCOMPRESSED' | 'SNAPPY' | 'ZSTD';
  /** ZSTD level. */
  level: number;
  layout: 'nested' | 'flat';
  seed: number;
}

function parseArgs(argv: string[]): Options {
  const codec: Opt<{ codec: Options['codec']; level: number }> = {
    help: 'page compression: UNCOMPRESSED, SNAPPY or ZSTD[:LEVEL]',
    fallback: { codec: 'UNCOMPRESSED', level: 1 },
    metavar: '<codec>',
    parse: (t, name) => {
      const [c, lv] = t.toUpperCase().split(':');
      if (c !== 'UNCOMPRESSED' && c !== 'SNAPPY' && c !== 'ZSTD')
        throw new UsageError(`${name} is UNCOMPRESSED, SNAPPY or ZSTD[:LEVEL], got "${t}"`);
      const level = lv === undefined ? 1 : Number(lv);
      if (lv !== undefined && (c !== 'ZSTD' || !Number.isInteger(level) || level < 1 || level > 22))
        throw new UsageError(`${name}: a codec level is ZSTD:1 … ZSTD:22, got "${t}"`);
      return { codec: c, level };
    },
  };
  const a = benchArgs(
    'Build the ADL benchmark input: nested NanoAOD Parquet from the real Run2012B events, repeated with jitter.',
    {
      input: text('source ROOT file (default ../shared/data/Run2012B_SingleMu_10000.root)', undefined, '<file>'),
      out: text('output file (default bench/data/adl-2M.parquet)', undefined, '<file>'),
      copies: int('copies of the source events', 200, 1),
      rowgroup: int('rows per row group', 100_000, 1),
      codec,
      layout: choice('column layout', ['nested', 'flat'] as const, 'nested'),
      seed: int('jitter seed', 2012),
    },
    {},
    argv,
  );
  return {
    ...a,
    ...a.codec,
    input: resolve(a.input ?? resolve(repo, '..', 'shared', 'data', 'Run2012B_SingleMu_10000.root')),
    out: resolve(a.out ?? resolve(repo, 'bench', 'data', 'adl-2M.parquet')),
  };
}

/** One collection of the output: list<struct<fields>>. */
interface CollectionSpec {
  name: string;
  fields: Array<{ name: string; type: 'FLOAT' | 'INT32' }>;
}

const COLLECTIONS: CollectionSpec[] = [
  { name: 'Jet', fields: ['pt', 'eta', 'phi', 'mass', 'btag'].map((name) => ({ name, type: 'FLOAT' as const })) },
  {
    name: 'Muon',
    fields: [
      ...['pt', 'eta', 'phi', 'mass'].map((name) => ({ name, type: 'FLOAT' as const })),
      { name: 'charge', type: 'INT32' as const },
    ],
  },
  {
    name: 'Electron',
    fields: [
      ...['pt', 'eta', 'phi', 'mass'].map((name) => ({ name, type: 'FLOAT' as const })),
      { name: 'charge', type: 'INT32' as const },
    ],
  },
];
const MET_FIELDS = ['pt', 'phi'];

/** The flat (NanoAOD-style) schema: top-level scalars, counts and one list column per collection field. */
function flatSchemaOf(): SchemaElement[] {
  const s: SchemaElement[] = [
    { name: 'schema', num_children: MET_FIELDS.length + COLLECTIONS.reduce((n, c) => n + 1 + c.fields.length, 0) },
  ];
  for (const f of MET_FIELDS) s.push({ name: `MET_${f}`, repetition_type: 'REQUIRED', type: 'FLOAT' });
  for (const c of COLLECTIONS) {
    s.push({ name: `n${c.name}`, repetition_type: 'REQUIRED', type: 'INT64' });
    for (const f of c.fields) {
      s.push({
        name: `${c.name}_${f.name}`,
        repetition_type: 'REQUIRED',
        converted_type: 'LIST',
        logical_type: { type: 'LIST' },
        num_children: 1,
      });
      s.push({ name: 'list', repetition_type: 'REPEATED', num_children: 1 });
      s.push({ name: 'element', repetition_type: 'REQUIRED', type: f.type });
    }
  }
  return s;
}

function schemaOf(): SchemaElement[] {
  const s: SchemaElement[] = [{ name: 'schema', num_children: 1 + COLLECTIONS.length }];
  s.push({ name: 'MET', repetition_type: 'REQUIRED', num_children: MET_FIELDS.length });
  for (const f of MET_FIELDS) s.push({ name: f, repetition_type: 'REQUIRED', type: 'FLOAT' });
  for (const c of COLLECTIONS) {
    s.push({
      name: c.name,
      repetition_type: 'REQUIRED',
      converted_type: 'LIST',
      logical_type: { type: 'LIST' },
      num_children: 1,
    });
    s.push({ name: 'list', repetition_type: 'REPEATED', num_children: 1 });
    s.push({ name: 'element', repetition_type: 'REQUIRED', num_children: c.fields.length });
    for (const f of c.fields) s.push({ name: f.name, repetition_type: 'REQUIRED', type: f.type });
  }
  return s;
}

/** Source events in memory: flat MET fields and one offsets array per collection. */
interface Source {
  n: number;
  met: Record<string, Float32Array>;
  coll: Record<string, { offsets: Int32Array; fields: Record<string, NumericArray> }>;
}

async function readSource(path: string): Promise<Source> {
  const reader = await openReader(path);
  const names = [
    ...MET_FIELDS.map((f) => `MET_${f}`),
    ...COLLECTIONS.flatMap((c) => c.fields.map((f) => `${c.name}_${f.name}`)),
  ];
  const cols = await reader.read(names, 0, reader.numEntries);
  await reader.close();
  const met: Source['met'] = {};
  for (const f of MET_FIELDS) met[f] = Float32Array.from(cols[`MET_${f}`] as NumericArray);
  const coll: Source['coll'] = {};
  for (const c of COLLECTIONS) {
    const first = cols[`${c.name}_${c.fields[0].name}`] as Jagged;
    const fields: Record<string, NumericArray> = {};
    for (const f of c.fields) {
      const j = cols[`${c.name}_${f.name}`] as Jagged;
      fields[f.name] = f.type === 'FLOAT' ? Float32Array.from(j.content) : Int32Array.from(j.content);
    }
    coll[c.name] = { offsets: first.offsets, fields };
  }
  return { n: reader.numEntries, met, coll };
}

function wrap(phi: number): number {
  return phi >= Math.PI ? phi - 2 * Math.PI : phi < -Math.PI ? phi + 2 * Math.PI : phi;
}

/** The events of one copy: copy 0 is the source itself; the others jitter kinematics. */
function makeCopy(src: Source, copy: number, rng: Rng): Source {
  if (copy === 0) return src;
  const met = { pt: new Float32Array(src.n), phi: new Float32Array(src.n) };
  for (let i = 0; i < src.n; i++) {
    met.pt[i] = src.met.pt[i] * (0.97 + 0.06 * rng.uniform());
    met.phi[i] = wrap(src.met.phi[i] + 0.04 * (rng.uniform() - 0.5));
  }
  const coll: Source['coll'] = {};
  for (const c of COLLECTIONS) {
    const s = src.coll[c.name];
    const pt = s.fields.pt;
    const eta = s.fields.eta;
    const phi = s.fields.phi;
    const mass = s.fields.mass;
    const m = pt.length;
    const out = {
      pt: new Float32Array(m),
      eta: new Float32Array(m),
      phi: new Float32Array(m),
      mass: new Float32Array(m),
    };
    for (let k = 0; k < m; k++) {
      const scale = 0.97 + 0.06 * rng.uniform();
      out.pt[k] = pt[k] * scale;
      out.mass[k] = mass[k] * scale;
      out.eta[k] = eta[k] + 0.04 * (rng.uniform() - 0.5);
      out.phi[k] = wrap(phi[k] + 0.04 * (rng.uniform() - 0.5));
    }
    coll[c.name] = { offsets: s.offsets, fields: { ...s.fields, ...out } };
  }
  return { n: src.n, met, coll };
}

/** Concatenate copies into one row group's columns. */
function concatCopies(parts: Source[]): Source {
  const n = parts.reduce((a, p) => a + p.n, 0);
  const met: Source['met'] = {};
  for (const f of MET_FIELDS) {
    const a = new Float32Array(n);
    let at = 0;
    for (const p of parts) a.set(p.met[f], at), (at += p.n);
    met[f] = a;
  }
  const coll: Source['coll'] = {};
  for (const c of COLLECTIONS) {
    const offsets = new Int32Array(n + 1);
    let ev = 0;
    let base = 0;
    for (const p of parts) {
      const o = p.coll[c.name].offsets;
      for (let i = 1; i <= p.n; i++) offsets[ev + i] = base + o[i] - o[0];
      ev += p.n;
      base = offsets[ev];
    }
    const fields: Record<string, NumericArray> = {};
    for (const f of c.fields) {
      const a = f.type === 'FLOAT' ? new Float32Array(base) : new Int32Array(base);
      let at = 0;
      for (const p of parts) {
        const pc = p.coll[c.name];
        const v = pc.fields[f.name].subarray(pc.offsets[0], pc.offsets[p.n]);
        a.set(v, at);
        at += v.length;
      }
      fields[f.name] = a;
    }
    coll[c.name] = { offsets, fields };
  }
  return { n, met, coll };
}

/** Repetition/definition levels of a required list of required elements (one slot per element or empty list). */
function listLevels(offsets: Int32Array): { def: number[]; rep: number[]; slotOf: Int32Array } {
  const n = offsets.length - 1;
  let slots = 0;
  for (let i = 0; i < n; i++) slots += Math.max(1, offsets[i + 1] - offsets[i]);
  const def = new Array<number>(slots);
  const rep = new Array<number>(slots);
  // Index into content for each slot, −1 for an empty list.
  const slotOf = new Int32Array(slots);
  let s = 0;
  for (let i = 0; i < n; i++) {
    const a = offsets[i];
    const b = offsets[i + 1];
    if (a === b) {
      def[s] = 0;
      rep[s] = 0;
      slotOf[s++] = -1;
      continue;
    }
    for (let k = a; k < b; k++) {
      def[s] = 1;
      rep[s] = k === a ? 0 : 1;
      slotOf[s++] = k;
    }
  }
  return { def, rep, slotOf };
}

function writeRowGroup(pq: ParquetWriter, schema: SchemaElement[], g: Source, layout: Options['layout']): void {
  const chunks: ColumnChunk[] = [];
  const groupStart = pq.writer.offset;
  const put = (path: string[], element: SchemaElement, pageData: PageData): void => {
    const column: ColumnEncoder = {
      columnName: path.join('.'),
      element,
      schemaPath: [schema[0], ...elementsOf(schema, path)],
      codec: pq.codec,
      compressors: pq.compressors,
      stats: true,
      pageSize: 1 << 20,
      columnIndex: false,
      offsetIndex: true,
    };
    const result = writeColumn({ writer: pq.writer, column, pageData });
    chunks.push(result.chunk);
    pq.pendingIndexes.push(result);
  };
  const flat = layout === 'flat';
  for (const f of MET_FIELDS) {
    const path = flat ? [`MET_${f}`] : ['MET', f];
    put(path, elementsOf(schema, path).at(-1)!, {
      values: g.met[f],
      definitionLevels: [],
      repetitionLevels: [],
      maxDefinitionLevel: 0,
    } as unknown as PageData);
  }
  for (const c of COLLECTIONS) {
    const cc = g.coll[c.name];
    if (flat) {
      // nJet: the flat layout's count column (int64, as in the original ADL Parquet file).
      const counts = new BigInt64Array(g.n);
      for (let i = 0; i < g.n; i++) counts[i] = BigInt(cc.offsets[i + 1] - cc.offsets[i]);
      const path = [`n${c.name}`];
      put(path, elementsOf(schema, path).at(-1)!, {
        values: counts,
        definitionLevels: [],
        repetitionLevels: [],
        maxDefinitionLevel: 0,
      } as unknown as PageData);
    }
    const { def, rep, slotOf } = listLevels(cc.offsets);
    for (const f of c.fields) {
      const content = cc.fields[f.name];
      const values = new Array<number | undefined>(slotOf.length);
      for (let s = 0; s < slotOf.length; s++) values[s] = slotOf[s] >= 0 ? content[slotOf[s]] : undefined;
      const path = flat ? [`${c.name}_${f.name}`, 'list', 'element'] : [c.name, 'list', 'element', f.name];
      put(path, elementsOf(schema, path).at(-1)!, {
        values,
        definitionLevels: def,
        repetitionLevels: rep,
        maxDefinitionLevel: 1,
      } as unknown as PageData);
    }
  }
  let total = 0n;
  for (const ch of chunks) total += ch.meta_data?.total_uncompressed_size ?? 0n;
  pq.num_rows += BigInt(g.n);
  pq.row_groups.push({
    columns: chunks,
    total_byte_size: total,
    num_rows: BigInt(g.n),
    total_compressed_size: BigInt(pq.writer.offset - groupStart),
  });
  pq.writer.flush?.();
}

/** The schema elements along a column path (group names, then the leaf), found by walking the flat schema list. */
function elementsOf(schema: SchemaElement[], path: string[]): SchemaElement[] {
  const out: SchemaElement[] = [];
  let i = 1;
  let end = schema.length;
  for (const name of path) {
    // Scan the children of the current group (skipping grandchildren) for `name`.
    let found = -1;
    for (let j = i; j < end; j = skip(schema, j)) {
      if (schema[j].name === name) {
        found = j;
        break;
      }
    }
    if (found < 0) throw new Error(`schema has no ${path.join('.')}`);
    out.push(schema[found]);
    i = found + 1;
    end = skip(schema, found);
  }
  return out;
}

/** Index just past the subtree rooted at `j`. */
function skip(schema: SchemaElement[], j: number): number {
  let k = j + 1;
  for (let c = 0; c < (schema[j].num_children ?? 0); c++) k = skip(schema, k);
  return k;
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const t0 = performance.now();
  const src = await readSource(o.input);
  const rng = new Rng(o.seed);
  mkdirSync(dirname(o.out), { recursive: true });
  const schema = o.layout === 'flat' ? flatSchemaOf() : schemaOf();
  const compressors: Record<string, (input: Uint8Array) => Uint8Array> = {};
  if (o.codec === 'ZSTD') {
    await loadZstd();
    compressors.ZSTD = (input) => zstdCompress(input, o.level);
  }
  // Written under a temporary name and renamed at the end: a half-written file never carries the final name.
  const partial = `${o.out}.partial`;
  const pq = new ParquetWriter({
    writer: fileWriter(partial),
    schema,
    codec: o.codec,
    compressors,
    createdBy: 'ristretto bench/make-adl-dataset.ts',
  });
  const total = src.n * o.copies;
  let pending: Source[] = [];
  let pendingRows = 0;
  let written = 0;
  const flush = (): void => {
    if (!pendingRows) return;
    writeRowGroup(pq, schema, concatCopies(pending), o.layout);
    written += pendingRows;
    pending = [];
    pendingRows = 0;
    // redrawn in place on a terminal; one line each in a log file
    process.stderr.write(
      `${process.stderr.isTTY ? '\r' : ''}${written.toLocaleString()} / ${total.toLocaleString()} events${process.stderr.isTTY ? '' : '\n'}`,
    );
  };
  for (let c = 0; c < o.copies; c++) {
    // A copy may straddle row groups: split it so every group has exactly `rowgroup` rows (bar the last).
    let copy = makeCopy(src, c, rng);
    while (copy.n > 0) {
      const take = Math.min(copy.n, o.rowgroup - pendingRows);
      const [head, tail] = splitSource(copy, take);
      pending.push(head);
      pendingRows += take;
      copy = tail;
      if (pendingRows === o.rowgroup) flush();
    }
  }
  flush();
  await pq.finish();
  renameSync(partial, o.out);
  process.stderr.write('\n');
  console.log(
    `wrote ${o.out}: ${total.toLocaleString()} events, ${Math.ceil(total / o.rowgroup)} row groups, ${o.layout}, ${o.codec}${o.codec === 'ZSTD' ? `:${o.level}` : ''}, ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
}

function splitSource(s: Source, k: number): [Source, Source] {
  if (k >= s.n) return [s, { n: 0, met: {}, coll: {} }];
  const part = (lo: number, hi: number): Source => {
    const met: Source['met'] = {};
    for (const f of MET_FIELDS) met[f] = s.met[f].subarray(lo, hi);
    const coll: Source['coll'] = {};
    for (const c of COLLECTIONS) {
      const sc = s.coll[c.name];
      coll[c.name] = { offsets: sc.offsets.subarray(lo, hi + 1), fields: sc.fields };
    }
    return { n: hi - lo, met, coll };
  };
  return [part(0, k), part(k, s.n)];
}

await main();
