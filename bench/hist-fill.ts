// npx tsx bench/hist-fill.ts [entries=10000000] [repeats=7]
//
// Histogram fill throughput of src/hist against hand-written tight loops in the same run, on the same
// 10 M float32 values (a falling, MET-like spectrum with 10 % beyond the range and some NaN). Each hand
// loop has the same semantics as the histogram (flow bins, NaN to overflow) but bins with one multiply,
// which puts a value lying within rounding of a bin edge one bin off now and then. So every result is
// checked bin by bin against an exact reference (boost-histogram's formula, (x - lo) / (hi - lo) * n,
// written out below) before timing counts, and the hand loop's disagreement with it is printed.
// Median of `repeats` runs.
import { Hist, Regular, Weight } from '../src/hist/index.ts';
import { benchArgs, int } from './lib.ts';

const { entries: N, repeats: REPEATS } = benchArgs(
  'Histogram fill throughput of src/hist against hand-written loops, same values.',
  {},
  { entries: int('values to fill', 10_000_000, 1), repeats: int('runs (median)', 7, 1) },
);

function spectrum(n: number, seed: number, scale: number, withNaN = true): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const u = (s + 0.5) / 4294967296;
    out[i] = -Math.log(u) * scale;
  }
  if (withNaN) for (let i = 0; i < n; i += 9973) out[i] = NaN;
  return out;
}

const x = spectrum(N, 1, 45);
const y = spectrum(N, 2, 30);
const w = spectrum(N, 3, 1, false);

// ---------------------------------------------------------------- hand-written loops

function handCount(v: Float32Array, counts: Float64Array, lo: number, hi: number, n: number): void {
  const scale = n / (hi - lo);
  for (let i = 0; i < v.length; i++) {
    const z = (v[i] - lo) * scale;
    const b = z < 0 ? 0 : z < n ? (z | 0) + 1 : n + 1; // NaN: z < n false → overflow
    counts[b] += 1;
  }
}

function handBare(v: Float32Array, counts: Float64Array, lo: number, hi: number, n: number): void {
  const scale = n / (hi - lo);
  for (let i = 0; i < v.length; i++) {
    const b = ((v[i] - lo) * scale) | 0;
    if (b >= 0 && b < n) counts[b] += 1;
  }
}

function handWeighted(
  v: Float32Array,
  wt: Float32Array,
  sumw: Float64Array,
  sumw2: Float64Array,
  lo: number,
  hi: number,
  n: number,
): void {
  const scale = n / (hi - lo);
  for (let i = 0; i < v.length; i++) {
    const z = (v[i] - lo) * scale;
    const b = z < 0 ? 0 : z < n ? (z | 0) + 1 : n + 1;
    const wi = wt[i];
    sumw[b] += wi;
    sumw2[b] += wi * wi;
  }
}

function hand2D(a: Float32Array, b: Float32Array, counts: Float64Array, n: number, lo: number, hi: number): void {
  const scale = n / (hi - lo);
  const e = n + 2;
  for (let i = 0; i < a.length; i++) {
    const za = (a[i] - lo) * scale;
    const zb = (b[i] - lo) * scale;
    const ba = za < 0 ? 0 : za < n ? (za | 0) + 1 : n + 1;
    const bb = zb < 0 ? 0 : zb < n ? (zb | 0) + 1 : n + 1;
    counts[ba * e + bb] += 1;
  }
}

// ---------------------------------------------------------------- exact references (correctness only)

function exactBin(v: number, lo: number, hi: number, n: number): number {
  const z = ((v - lo) / (hi - lo)) * n;
  return z < 0 ? 0 : z < n ? Math.floor(z) + 1 : n + 1;
}

function refCount(v: Float32Array, lo: number, hi: number, n: number): Float64Array {
  const c = new Float64Array(n + 2);
  for (let i = 0; i < v.length; i++) c[exactBin(v[i], lo, hi, n)] += 1;
  return c;
}

function refWeighted(
  v: Float32Array,
  wt: Float32Array,
  lo: number,
  hi: number,
  n: number,
): [Float64Array, Float64Array] {
  const sw = new Float64Array(n + 2);
  const sw2 = new Float64Array(n + 2);
  for (let i = 0; i < v.length; i++) {
    const b = exactBin(v[i], lo, hi, n);
    sw[b] += wt[i];
    sw2[b] += wt[i] * wt[i];
  }
  return [sw, sw2];
}

function ref2D(a: Float32Array, b: Float32Array, n: number, lo: number, hi: number): Float64Array {
  const c = new Float64Array((n + 2) * (n + 2));
  for (let i = 0; i < a.length; i++) c[exactBin(a[i], lo, hi, n) * (n + 2) + exactBin(b[i], lo, hi, n)] += 1;
  return c;
}

/** Entries the one-multiply hand loop bins differently from the exact formula. */
function offByRounding(hand: Float64Array, exact: Float64Array): number {
  let d = 0;
  for (let i = 0; i < hand.length; i++) d += Math.abs(hand[i] - exact[i]);
  return d / 2;
}

// ---------------------------------------------------------------- harness

/** Median seconds of `a` and of `b`, run alternately so that load changes hit both alike. */
function medians(a: () => void, b: () => void): [number, number] {
  const ta: number[] = [];
  const tb: number[] = [];
  const time = (f: () => void): number => {
    const t0 = process.hrtime.bigint();
    f();
    return Number(process.hrtime.bigint() - t0) / 1e9;
  };
  for (let r = 0; r < REPEATS; r++) {
    ta.push(time(a));
    tb.push(time(b));
  }
  const mid = (t: number[]): number => t.sort((x, y) => x - y)[t.length >> 1];
  return [mid(ta), mid(tb)];
}

function check(name: string, got: Float64Array, want: Float64Array, rel = 0): void {
  if (got.length !== want.length) throw new Error(`${name}: ${got.length} bins vs ${want.length}`);
  for (let i = 0; i < got.length; i++) {
    const ok = rel === 0 ? got[i] === want[i] : Math.abs(got[i] - want[i]) <= rel * Math.max(1, Math.abs(want[i]));
    if (!ok) throw new Error(`${name}: bin ${i} is ${got[i]}, the exact reference has ${want[i]}`);
  }
}

const rows: { name: string; hist: number; hand: number }[] = [];

// 1-D Regular, 100 bins
{
  const ref = refCount(x, 0, 200, 100);
  check('1-D', new Hist(new Regular(100, 0, 200)).fill(x).values({ flow: true }), ref);
  const hand1 = new Float64Array(102);
  handCount(x, hand1, 0, 200, 100);
  console.log(
    `1-D: the hand loop bins ${offByRounding(hand1, ref)} of ${N} entries differently from the exact formula`,
  );
  const [hist, hand] = medians(
    () => void new Hist(new Regular(100, 0, 200)).fill(x),
    () => handCount(x, new Float64Array(102), 0, 200, 100),
  );
  const [hist2, bare] = medians(
    () => void new Hist(new Regular(100, 0, 200)).fill(x),
    () => handBare(x, new Float64Array(100), 0, 200, 100),
  );
  rows.push({ name: '1-D Regular 100 bins, Double', hist, hand });
  rows.push({ name: '  vs hand loop without flow bins', hist: hist2, hand: bare });
}

// weighted 1-D into Weight storage
{
  const [sw, sw2] = refWeighted(x, w, 0, 200, 100);
  const h = new Hist(new Regular(100, 0, 200), { storage: new Weight() }).fill(x, { weight: w });
  check('weighted Σw', h.values({ flow: true }), sw, 1e-12);
  check('weighted Σw²', h.variances({ flow: true })!, sw2, 1e-12);
  const [hist, hand] = medians(
    () => void new Hist(new Regular(100, 0, 200), { storage: new Weight() }).fill(x, { weight: w }),
    () => handWeighted(x, w, new Float64Array(102), new Float64Array(102), 0, 200, 100),
  );
  rows.push({ name: '1-D Regular 100 bins, Weight (Σw, Σw²)', hist, hand });
}

// 2-D Regular × Regular, 100 × 100 bins
{
  const ref = ref2D(x, y, 100, 0, 200);
  check('2-D', new Hist(new Regular(100, 0, 200), new Regular(100, 0, 200)).fill(x, y).values({ flow: true }), ref);
  const [hist, hand] = medians(
    () => void new Hist(new Regular(100, 0, 200), new Regular(100, 0, 200)).fill(x, y),
    () => hand2D(x, y, new Float64Array(102 * 102), 100, 0, 200),
  );
  rows.push({ name: '2-D Regular 100×100, Double', hist, hand });
}

const M = (s: number): string => (N / s / 1e6).toFixed(0).padStart(9);
console.log(
  `hist fill, ${(N / 1e6).toFixed(1)} M float32 values, median of ${REPEATS} alternating runs (results checked against the exact reference)\n`,
);
console.log(`${'case'.padEnd(42)} ${'hist M/s'.padStart(9)} ${'hand M/s'.padStart(9)} ${'hist/hand'.padStart(9)}`);
for (const r of rows)
  console.log(`${r.name.padEnd(42)} ${M(r.hist)} ${M(r.hand)} ${(r.hand / r.hist).toFixed(2).padStart(9)}`);
