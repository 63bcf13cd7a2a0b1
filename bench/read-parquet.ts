// Run: npx tsx bench/read-parquet.ts                 (defaults: --reps 5 --rows 200000)
//      npx tsx bench/read-parquet.ts --reps 1        (quick check)
//
// Parquet read throughput, Ristretto's reader (openParquet: pages decoded straight into offsets + typed
// arrays) vs hyparquet's default public path (parquetRead with onChunk, the fastest public mode: no row
// assembly), in the same run, on:
//   - the real 1000-event CMS files in ../shared/data (flat layout and nested layout);
//   - synthetic files of --rows events made by replicating those events with jittered kinematics, written
//     once into bench/data/ (gitignored): a flat layout (Ristretto's writer, list<float> + counts) and a
//     nested layout (hyparquet-writer's row API, Jet list<struct>, MET struct), row groups of 50,000.
// Columns: a flat float (MET_pt; nested: MET struct) and a list<float> (Jet_pt; nested: the Jet column,
// since hyparquet selects top-level columns only and so decodes every Jet field).
// Each measurement opens the file anew (no cache shared between modes); one untimed warm-up, then the
// median of --reps. Results are checked: the sum of the column must agree between the two readers.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { asyncBufferFromFile, parquetRead, type SchemaElement } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { parquetWriteFile } from 'hyparquet-writer';
import { openParquet } from '../src/io/parquet/index.ts';
import { ParquetFileWriter } from '../src/io/parquet/write.ts';
import type { Column } from '../src/io/reader.ts';
import { rng as makeRng } from '../test/helpers/rng.ts';
import { benchArgs, int } from './lib.ts';

const { reps, rows } = benchArgs(
  "Parquet read throughput: Ristretto's reader vs hyparquet's public path, flat and nested.",
  {
    reps: int('repetitions', 5, 1),
    rows: int('rows of the synthetic files', 200_000, 1),
  },
);
const here = dirname(fileURLToPath(import.meta.url));
const shared = resolve(here, '..', '..', 'shared', 'data');
const FLAT = resolve(shared, 'Run2012B_SingleMu-1000.parquet');
const NESTED = resolve(shared, 'Run2012B_SingleMu-restructured-1000.parquet');
if (!existsSync(FLAT)) throw new Error(`benchmark input missing: ${FLAT} (../shared/data beside the repository)`);
const dataDir = resolve(here, 'data');
const SYN_FLAT = resolve(dataDir, `parquet-flat-${rows}.parquet`);
const SYN_NESTED = resolve(dataDir, `parquet-nested-${rows}.parquet`);

async function makeSynthetic(): Promise<void> {
  if (existsSync(SYN_FLAT) && existsSync(SYN_NESTED)) return;
  mkdirSync(dataDir, { recursive: true });
  const src = await openParquet(FLAT);
  const names = ['MET_pt', 'MET_phi', 'Jet_pt', 'Jet_eta', 'Jet_phi', 'Jet_mass'];
  const c = await src.read(names, 0, src.numEntries);
  await src.close();
  const n0 = src.numEntries;
  const jet = c.Jet_pt as { offsets: Int32Array; content: Float32Array };
  const o = jet.offsets;
  const rng = makeRng(42);
  // Replicate events with pt/mass scaled by [0.97, 1.03] and eta/phi shifted by ±0.02 (copy 0 unchanged).
  const nJet = new Int32Array(rows);
  let total = 0;
  for (let i = 0; i < rows; i++) total += nJet[i] = o[(i % n0) + 1] - o[i % n0];
  const offsets = new Int32Array(rows + 1);
  for (let i = 0; i < rows; i++) offsets[i + 1] = offsets[i] + nJet[i];
  const out: Record<string, Float32Array> = {};
  for (const n of names) out[n] = new Float32Array(n.startsWith('Jet') ? total : rows);
  for (let i = 0; i < rows; i++) {
    const e = i % n0;
    const copy = Math.floor(i / n0);
    const jit = (scale: boolean) => (copy === 0 ? (scale ? 1 : 0) : scale ? 0.97 + 0.06 * rng() : 0.04 * (rng() - 0.5));
    out.MET_pt[i] = (c.MET_pt as Float32Array)[e] * jit(true);
    out.MET_phi[i] = (c.MET_phi as Float32Array)[e] + jit(false);
    for (let k = 0; k < nJet[i]; k++) {
      const s = o[e] + k;
      const d = offsets[i] + k;
      out.Jet_pt[d] = jet.content[s] * jit(true);
      out.Jet_eta[d] = (c.Jet_eta as { content: Float32Array }).content[s] + jit(false);
      out.Jet_phi[d] = (c.Jet_phi as { content: Float32Array }).content[s] + jit(false);
      out.Jet_mass[d] = (c.Jet_mass as { content: Float32Array }).content[s] * jit(true);
    }
  }
  const w = new ParquetFileWriter(SYN_FLAT, { nJet: 'int32' });
  for (let a = 0; a < rows; a += 50_000) {
    const b = Math.min(rows, a + 50_000);
    const lo = offsets[a];
    const jagged = (x: Float32Array): Column => ({
      offsets: offsets.subarray(a, b + 1).map((v) => v - lo),
      content: x.subarray(lo, offsets[b]),
    });
    w.write({
      MET_pt: out.MET_pt.subarray(a, b),
      MET_phi: out.MET_phi.subarray(a, b),
      nJet: nJet.subarray(a, b),
      Jet_pt: jagged(out.Jet_pt),
      Jet_eta: jagged(out.Jet_eta),
      Jet_phi: jagged(out.Jet_phi),
      Jet_mass: jagged(out.Jet_mass),
    });
  }
  await w.close();

  const f = (name: string): SchemaElement => ({ name, type: 'FLOAT', repetition_type: 'OPTIONAL' });
  const schema: SchemaElement[] = [
    { name: 'schema', num_children: 2 },
    { name: 'MET', repetition_type: 'REQUIRED', num_children: 2 },
    f('pt'),
    f('phi'),
    { name: 'Jet', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
    { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
    { name: 'element', repetition_type: 'OPTIONAL', num_children: 4 },
    f('pt'),
    f('eta'),
    f('phi'),
    f('mass'),
  ];
  const met = Array.from({ length: rows }, (_, i) => ({ pt: out.MET_pt[i], phi: out.MET_phi[i] }));
  const jets = Array.from({ length: rows }, (_, i) =>
    Array.from({ length: nJet[i] }, (_, k) => {
      const d = offsets[i] + k;
      return { pt: out.Jet_pt[d], eta: out.Jet_eta[d], phi: out.Jet_phi[d], mass: out.Jet_mass[d] };
    }),
  );
  parquetWriteFile({
    filename: SYN_NESTED,
    schema,
    rowGroupSize: 50_000,
    columnData: [
      { name: 'MET', data: met },
      { name: 'Jet', data: jets },
    ],
  });
}

function sumOf(c: Column): number {
  const v = ArrayBuffer.isView(c) ? (c as Float32Array) : c.content;
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i];
  return s;
}

/** Sum of numbers in hyparquet's chunk output (numbers, arrays of numbers, structs or arrays of structs). */
function sumNested(x: unknown, field: string): number {
  if (typeof x === 'number') return x;
  if (x === null || x === undefined) return 0;
  if (Array.isArray(x) || ArrayBuffer.isView(x)) {
    let s = 0;
    const a = x as ArrayLike<unknown>;
    for (let i = 0; i < a.length; i++) s += sumNested(a[i], field);
    return s;
  }
  return sumNested((x as Record<string, unknown>)[field], field);
}

async function ristretto(path: string, branch: string): Promise<{ n: number; sum: number }> {
  const r = await openParquet(path);
  const c = await r.read([branch], 0, r.numEntries);
  await r.close();
  return { n: r.numEntries, sum: sumOf(c[branch]) };
}

async function hyparquet(path: string, column: string, field: string): Promise<{ n: number; sum: number }> {
  const file = await asyncBufferFromFile(path);
  let n = 0;
  let sum = 0;
  await parquetRead({
    file,
    columns: [column],
    compressors,
    onChunk: ({ columnData, rowStart, rowEnd }) => {
      n = Math.max(n, rowEnd);
      void rowStart;
      sum += sumNested(columnData, field);
    },
  });
  return { n, sum };
}

async function time(fn: () => Promise<{ n: number; sum: number }>): Promise<{ ms: number; n: number; sum: number }> {
  let last = await fn(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    last = await fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)], ...last };
}

await makeSynthetic();
const cases: [label: string, path: string, branch: string, hyColumn: string, field: string][] = [
  ['real flat 1k', FLAT, 'MET_pt', 'MET_pt', ''],
  ['real flat 1k', FLAT, 'Jet_pt', 'Jet_pt', ''],
  ['real nested 1k', NESTED, 'MET_pt', 'MET', 'pt'],
  ['real nested 1k', NESTED, 'Jet_pt', 'Jet', 'pt'],
  [`synthetic flat ${rows / 1000}k`, SYN_FLAT, 'MET_pt', 'MET_pt', ''],
  [`synthetic flat ${rows / 1000}k`, SYN_FLAT, 'Jet_pt', 'Jet_pt', ''],
  [`synthetic nested ${rows / 1000}k`, SYN_NESTED, 'MET_pt', 'MET', 'pt'],
  [`synthetic nested ${rows / 1000}k`, SYN_NESTED, 'Jet_pt', 'Jet', 'pt'],
];
const fmt = (evs: number) => `${(evs / 1e6).toFixed(2)} M/s`;
console.log(
  `reps ${reps} (median), file sizes: ${[SYN_FLAT, SYN_NESTED].map((p) => `${(readFileSync(p).length / 1e6).toFixed(1)} MB`).join(', ')}`,
);
console.log('| file | branch | ristretto ev/s | hyparquet onChunk ev/s | speed-up | sums agree |');
console.log('| --- | --- | ---: | ---: | ---: | --- |');
for (const [label, path, branch, col, field] of cases) {
  const a = await time(() => ristretto(path, branch));
  const b = await time(() => hyparquet(path, col, field));
  const agree = a.n === b.n && Math.abs(a.sum - b.sum) <= 1e-9 * Math.abs(b.sum);
  console.log(
    `| ${label} | ${branch} | ${fmt((a.n / a.ms) * 1e3)} | ${fmt((b.n / b.ms) * 1e3)} | ${(b.ms / a.ms).toFixed(1)}× | ${agree ? 'yes' : `NO (${a.sum} vs ${b.sum})`} |`,
  );
  if (!agree) process.exitCode = 1;
}
