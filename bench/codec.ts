// Run: npx tsx bench/codec.ts              (defaults: --reps 7)
//      npx tsx bench/codec.ts --reps 3     (quick check)
//
// One accumulator codec for threads and FaaS? Both executors move a chunk's accumulator as the bytes of
// src/accumulate/codec.ts ("RSAC": JSON structure + 8-byte-aligned raw arrays, views on decode); the
// alternative is Node's v8.serialize, with Ristretto's classes (Hist, WeightStatistics, ColumnAccumulator)
// turned into tagged plain parts before and rebuilt through the same binary-type registry after (v8 alone
// drops prototypes and private state). Per accumulator kind, one chunk output is encoded, decoded and
// merged into a running total, as the runner does; the two formats alternate within every repetition
// (A/B interleaved against a loaded machine) and the final totals of the two must be equal.
import v8 from 'node:v8';
import {
  accumulate,
  binaryDecoder,
  ColumnAccumulator,
  decode,
  encode,
  isBinarySerializable,
  WeightStatistics,
} from '../src/accumulate/index.ts';
import { Hist, Regular } from '../src/hist/index.ts';
import { benchArgs, int, rng } from './lib.ts';

function hist1d(seed: number, bins: number, lo: number, hi: number, entries: number): Hist {
  const r = rng(seed);
  const h = new Hist(new Regular(bins, lo, hi, { name: 'x' }), { name: `h${seed}` });
  h.fill(Float64Array.from({ length: entries }, () => lo + (hi - lo) * r()));
  return h;
}

function hist2d(seed: number, nx: number, ny: number, entries: number): Hist {
  const r = rng(seed);
  const h = new Hist(new Regular(nx, 0, 1, { name: 'x' }), new Regular(ny, 0, 1, { name: 'y' }));
  h.fill(Float64Array.from({ length: entries }, r), Float64Array.from({ length: entries }, r));
  return h;
}

/** What one chunk of each kind of analysis hands back. */
const KINDS: { name: string; n: number; make: () => unknown }[] = [
  // ADL queries 5 and 8 (processors/adl): one 100-bin Hist each
  { name: 'ADL Q5 (1 Hist, 100 bins)', n: 2000, make: () => ({ 'query-5': hist1d(5, 100, 0, 2000, 10_000) }) },
  { name: 'ADL Q8 (1 Hist, 100 bins)', n: 2000, make: () => ({ 'query-8': hist1d(8, 100, 15, 250, 10_000) }) },
  {
    // a cutflow-style output: per dataset a few counters, a cutflow dict and weight statistics
    name: 'small dicts (300 datasets × 14 numbers + WeightStatistics)',
    n: 100,
    make: () => {
      const r = rng(3);
      const out: Record<string, unknown> = {};
      for (let d = 0; d < 300; d++) {
        const cutflow: Record<string, number> = {};
        for (const c of ['all', 'trigger', 'twoMuons', 'os', 'mass', 'met', 'jets', 'btag', 'final'])
          cutflow[c] = Math.floor(r() * 1e5);
        const w = new WeightStatistics().fill(Float64Array.from({ length: 16 }, r));
        out[`dataset_${d}`] = { nevents: 100_000, sumw: r() * 1e5, sumw2: r() * 1e5, cutflow, weightStats: w };
      }
      return out;
    },
  },
  {
    name: '50 Hists 100×50 (bench/merge.ts)',
    n: 100,
    make: () => Object.fromEntries(Array.from({ length: 50 }, (_, k) => [`h${k}`, hist2d(k + 1, 100, 50, 20_000)])),
  },
  { name: '1 Hist 1000×1000 (1 M bins)', n: 15, make: () => ({ big: hist2d(42, 1000, 1000, 200_000) }) },
  {
    name: 'ColumnAccumulator 1 M float64',
    n: 15,
    make: () => ({ col: ColumnAccumulator.wrap(Float64Array.from({ length: 1_000_000 }, rng(7))) }),
  },
];

// ---------------------------------------------------------------- v8.serialize with class reconstruction

const TAG = '\u0000ristretto';

/** Classes to tagged plain parts, everything else as v8 takes it (typed arrays, Map, Set, bigint...). */
function toParts(v: unknown): unknown {
  if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v)) return v;
  if (v instanceof ColumnAccumulator) return { [TAG]: 'column', values: v.values };
  if (Array.isArray(v)) return v.map(toParts);
  if (v instanceof Map) return new Map([...v].map(([k, x]) => [toParts(k), toParts(x)]));
  if (v instanceof Set) return new Set([...v].map(toParts));
  if (isBinarySerializable(v)) {
    const { header, buffers } = v.toBinaryParts();
    return { [TAG]: v.binaryTag, header, buffers };
  }
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) out[k] = toParts((v as Record<string, unknown>)[k]);
  return out;
}

function fromParts(v: unknown): unknown {
  if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v)) return v;
  if (Array.isArray(v)) return v.map(fromParts);
  if (v instanceof Map) return new Map([...v].map(([k, x]) => [fromParts(k), fromParts(x)]));
  if (v instanceof Set) return new Set([...v].map(fromParts));
  const o = v as Record<string, unknown>;
  const tag = o[TAG];
  if (tag === 'column') return ColumnAccumulator.wrap(o.values as Float64Array);
  if (typeof tag === 'string') return binaryDecoder(tag)(o.header, o.buffers as ArrayBufferView[]);
  for (const k of Object.keys(o)) o[k] = fromParts(o[k]);
  return o;
}

const v8Encode = (acc: unknown): Uint8Array => v8.serialize(toParts(acc));
const v8Decode = (bytes: Uint8Array): unknown => fromParts(v8.deserialize(bytes));

// ---------------------------------------------------------------- timing

interface Format {
  name: string;
  encode: (acc: unknown) => Uint8Array;
  decode: (bytes: Uint8Array) => unknown;
}
const FORMATS: Format[] = [
  { name: 'RSAC codec', encode, decode: (b) => decode(b) },
  { name: 'v8.serialize', encode: v8Encode, decode: v8Decode },
];

interface Times {
  encode: number[];
  decode: number[];
  merge: number[];
  bytes: number;
}

/** n chunk outputs of one kind through one format: per-output µs of each step; the final total. */
function once(f: Format, out: unknown, n: number, t: Times): unknown {
  let total: unknown = null;
  let enc = 0n;
  let dec = 0n;
  let mer = 0n;
  for (let i = 0; i < n; i++) {
    let t0 = process.hrtime.bigint();
    const bytes = f.encode(out);
    enc += process.hrtime.bigint() - t0;
    t.bytes = bytes.byteLength;
    t0 = process.hrtime.bigint();
    const back = f.decode(bytes);
    dec += process.hrtime.bigint() - t0;
    t0 = process.hrtime.bigint();
    total = accumulate(total, back);
    mer += process.hrtime.bigint() - t0;
  }
  const us = (x: bigint) => Number(x) / 1e3 / n;
  t.encode.push(us(enc));
  t.decode.push(us(dec));
  t.merge.push(us(mer));
  return total;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
};

/** The totals of the two formats must agree bin by bin (the expected side is the other format). */
function sameTotals(a: unknown, b: unknown): boolean {
  const ea = encode(a);
  const eb = encode(b);
  return ea.length === eb.length && ea.every((x, i) => x === eb[i]);
}

const { reps } = benchArgs(
  'Accumulator codecs (RSAC vs v8.serialize): encode, decode and merge per chunk output, A/B.',
  {
    reps: int('repetitions per format', 7, 1),
  },
);
console.log(`node ${process.version}, ${reps} repetitions per format (interleaved), medians per chunk output`);
const rows: Record<string, string>[] = [];
for (const kind of KINDS) {
  const out = kind.make();
  const times = FORMATS.map((): Times => ({ encode: [], decode: [], merge: [], bytes: 0 }));
  const totals: unknown[] = [];
  for (let r = 0; r < reps; r++) {
    // alternate which format goes first, so neither always runs on a warmer (or busier) machine
    const order = r % 2 === 0 ? [0, 1] : [1, 0];
    for (const i of order) totals[i] = once(FORMATS[i], out, kind.n, times[i]);
  }
  const ok = sameTotals(totals[0], totals[1]);
  const sum = (t: Times) => median(t.encode) + median(t.decode) + median(t.merge);
  FORMATS.forEach((f, i) => {
    const t = times[i];
    rows.push({
      accumulator: kind.name,
      format: f.name,
      bytes: String(t.bytes),
      'encode µs': median(t.encode).toFixed(1),
      'decode µs': median(t.decode).toFixed(1),
      'merge µs': median(t.merge).toFixed(1),
      'total µs': sum(t).toFixed(1),
      'v8 / RSAC': i === 1 ? (sum(times[1]) / sum(times[0])).toFixed(2) : '',
      'totals equal': ok ? 'yes' : 'NO',
    });
  });
  if (!ok) process.exitCode = 1;
}
console.table(rows);
