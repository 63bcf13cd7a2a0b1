// Run: npx tsx bench/merge.ts            (defaults: --accumulators 1000 --hists 50, 100×50 bins each)
//      npx tsx bench/merge.ts --accumulators 100   (quick check)
//
// Merging 1,000 chunk outputs of 50 two-dimensional histograms (100×50 bins + flow) into one total,
// the way a runner does. Modes, each in its own child process so peak RSS is per mode:
//   in-place     total = accumulate(total, out)                    (local executor path)
//   copying      total = merged(total, out)                        (functional merge; memory churn)
//   codec        total = accumulate(total, decode(encode(out)))    (threads/processes path)
//   v8-serialize peer: v8.serialize / deserialize of the raw bin arrays + hand-written add loops
//                (what structured cloning the same data would cost; no types, no registry)
// Every mode checks its final bins against a sum computed independently here.
// Uses src/hist's Hist when it exists; otherwise a stand-in Float64Array histogram (said in the output).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import {
  accumulate,
  decode,
  encode,
  merged,
  registerBinaryType,
  type BinarySerializable,
  type InPlaceAddable,
} from '../src/accumulate/index.ts';

const NX = 100;
const NY = 50;
const POOL = 4; // distinct chunk outputs cycled through (generating 1000 would dominate the run)

type Mode = 'in-place' | 'copying' | 'codec' | 'v8-serialize';
const MODES: Mode[] = ['in-place', 'copying', 'codec', 'v8-serialize'];

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** Small deterministic RNG so every child builds the same pool. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------------------------------------------
// Histogram implementations: src/hist when present, else a stand-in with the same bin count.

interface HistImpl {
  name: string;
  /** A filled 100×50 histogram. */
  make(seed: number): unknown;
  /** All bins (flow included), as a flat Float64Array. */
  bins(h: unknown): Float64Array;
}

class StandInHist implements InPlaceAddable<StandInHist>, BinarySerializable {
  readonly binaryTag = 'bench.StandInHist';
  constructor(readonly counts: Float64Array) {}
  add(o: StandInHist): StandInHist {
    return this.copy().iadd(o);
  }
  iadd(o: StandInHist): StandInHist {
    const a = this.counts;
    const b = o.counts;
    for (let i = 0; i < a.length; i++) a[i]! += b[i]!;
    return this;
  }
  copy(): StandInHist {
    return new StandInHist(this.counts.slice());
  }
  toBinaryParts() {
    return { header: { nx: NX, ny: NY }, buffers: [this.counts] };
  }
}
registerBinaryType('bench.StandInHist', (_h, b) => new StandInHist(b[0] as Float64Array));

const standIn: HistImpl = {
  name: 'stand-in (src/hist not available)',
  make(seed) {
    const r = rng(seed);
    const c = new Float64Array((NX + 2) * (NY + 2));
    for (let i = 0; i < 20_000; i++) c[1 + Math.floor(r() * NX) + (NX + 2) * (1 + Math.floor(r() * NY))]! += 1;
    return new StandInHist(c);
  },
  bins: (h) => (h as StandInHist).counts,
};

/**
 * src/hist adapter. Its API was not final when this bench was written: the calls below follow
 * boost-histogram (axes in the constructor, fill by named columns, values with flow). If they fail,
 * the error is printed and the stand-in is used, so the bench still runs.
 */
async function loadHist(): Promise<HistImpl> {
  const url = new URL('../src/hist/index.ts', import.meta.url);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url.href)) as Record<string, unknown>;
  } catch {
    return standIn;
  }
  try {
    const { Hist, Regular } = mod as { Hist: new (...axes: unknown[]) => unknown; Regular: new (...a: unknown[]) => unknown };
    const impl: HistImpl = {
      name: 'src/hist Hist',
      make(seed) {
        const r = rng(seed);
        const h = new Hist(new Regular(NX, 0, 1, { name: 'x' }), new Regular(NY, 0, 1, { name: 'y' })) as {
          fill(cols: Record<string, Float64Array>): unknown;
        };
        const x = Float64Array.from({ length: 20_000 }, r);
        const y = Float64Array.from({ length: 20_000 }, r);
        h.fill({ x, y });
        return h;
      },
      bins: (h) => (h as { values(o: { flow: boolean }): Float64Array }).values({ flow: true }),
    };
    const probe = impl.make(1);
    if (!(impl.bins(probe) instanceof Float64Array)) throw new Error('values({flow: true}) did not return a Float64Array');
    return impl;
  } catch (e) {
    console.error(`src/hist exists but the bench adapter failed (${(e as Error).message}); using the stand-in`);
    return standIn;
  }
}

// ---------------------------------------------------------------------------------------------------

type Output = Record<string, unknown>;

interface Result {
  mode: Mode;
  impl: string;
  mergeS: number;
  encodeS: number;
  decodeS: number;
  totalS: number;
  bytesMerged: number;
  baselineRssMB: number;
  peakRssMB: number;
  peakHeapArraysMB: number;
  ok: boolean;
}

async function child(mode: Mode, n: number, nh: number): Promise<Result> {
  const impl = await loadHist();
  const pool: Output[] = [];
  for (let p = 0; p < POOL; p++) {
    const out: Output = {};
    for (let k = 0; k < nh; k++) out[`h${k}`] = impl.make(1000 * p + k + 1);
    pool.push(out);
  }
  const rawPool = pool.map((o) => Object.fromEntries(Object.entries(o).map(([k, h]) => [k, impl.bins(h)])));
  const bytesPerOutput = Object.values(rawPool[0]!).reduce((s, a) => s + a.byteLength, 0);
  global.gc?.();
  const baselineRss = process.memoryUsage().rss;
  let peakHeapArrays = 0;
  const sample = () => {
    const m = process.memoryUsage();
    peakHeapArrays = Math.max(peakHeapArrays, m.heapUsed + m.arrayBuffers);
  };

  let mergeNs = 0n;
  let encodeNs = 0n;
  let decodeNs = 0n;
  const t0 = process.hrtime.bigint();
  let total: unknown = null;
  let rawTotal: Record<string, Float64Array> | null = null;
  for (let i = 0; i < n; i++) {
    const out = pool[i % POOL]!;
    if (mode === 'in-place' || mode === 'copying') {
      const t = process.hrtime.bigint();
      total = mode === 'in-place' ? accumulate(total, out) : merged(total, out);
      mergeNs += process.hrtime.bigint() - t;
    } else if (mode === 'codec') {
      let t = process.hrtime.bigint();
      const bytes = encode(out);
      encodeNs += process.hrtime.bigint() - t;
      t = process.hrtime.bigint();
      const back = decode(bytes);
      decodeNs += process.hrtime.bigint() - t;
      t = process.hrtime.bigint();
      total = accumulate(total, back);
      mergeNs += process.hrtime.bigint() - t;
    } else {
      let t = process.hrtime.bigint();
      const buf = v8.serialize(rawPool[i % POOL]);
      encodeNs += process.hrtime.bigint() - t;
      t = process.hrtime.bigint();
      const back = v8.deserialize(buf) as Record<string, Float64Array>;
      decodeNs += process.hrtime.bigint() - t;
      t = process.hrtime.bigint();
      if (rawTotal === null) rawTotal = back;
      else {
        for (const k of Object.keys(back)) {
          const a = rawTotal[k]!;
          const b = back[k]!;
          for (let j = 0; j < a.length; j++) a[j]! += b[j]!;
        }
      }
      mergeNs += process.hrtime.bigint() - t;
    }
    if (i % 10 === 0) sample();
  }
  const totalNs = process.hrtime.bigint() - t0;
  sample();

  // Independent reference: multiplicity of each pool member times its bins.
  let ok = true;
  for (let k = 0; k < nh; k++) {
    const key = `h${k}`;
    const expected = new Float64Array(rawPool[0]![key]!.length);
    for (let p = 0; p < POOL; p++) {
      const times = Math.floor(n / POOL) + (p < n % POOL ? 1 : 0);
      const src = rawPool[p]![key]!;
      for (let j = 0; j < expected.length; j++) expected[j]! += times * src[j]!;
    }
    const got = mode === 'v8-serialize' ? rawTotal![key]! : impl.bins((total as Output)[key]);
    for (let j = 0; j < expected.length; j++) if (got[j] !== expected[j]) ok = false;
  }
  const MB = 1024 * 1024;
  return {
    mode,
    impl: impl.name,
    mergeS: Number(mergeNs) / 1e9,
    encodeS: Number(encodeNs) / 1e9,
    decodeS: Number(decodeNs) / 1e9,
    totalS: Number(totalNs) / 1e9,
    bytesMerged: bytesPerOutput * n,
    baselineRssMB: baselineRss / MB,
    peakRssMB: (process.resourceUsage().maxRSS * 1024) / MB,
    peakHeapArraysMB: peakHeapArrays / MB,
    ok,
  };
}

async function main(): Promise<void> {
  const n = arg('accumulators', 1000);
  const nh = arg('hists', 50);
  const modeIdx = process.argv.indexOf('--mode');
  if (modeIdx >= 0) {
    const r = await child(process.argv[modeIdx + 1] as Mode, n, nh);
    process.stdout.write(`RESULT ${JSON.stringify(r)}\n`);
    return;
  }
  const self = fileURLToPath(import.meta.url);
  const rows: Result[] = [];
  for (const mode of MODES) {
    const p = spawnSync(process.execPath, [...process.execArgv, self, '--mode', mode, '--accumulators', String(n), '--hists', String(nh)], {
      encoding: 'utf8',
      maxBuffer: 16 * 1024 * 1024,
    });
    const line = p.stdout.split('\n').find((l) => l.startsWith('RESULT '));
    if (p.stderr.trim()) process.stderr.write(p.stderr);
    if (!line) throw new Error(`mode ${mode} failed (exit ${p.status})`);
    rows.push(JSON.parse(line.slice(7)) as Result);
  }
  console.log(`merge ${n} outputs × ${nh} hists of ${NX}×${NY} bins (+flow); histogram: ${rows[0]!.impl}`);
  console.log(`data merged per mode: ${(rows[0]!.bytesMerged / 1e9).toFixed(2)} GB`);
  const fmt = (x: number, d = 2) => x.toFixed(d);
  const table = rows.map((r) => ({
    mode: r.mode,
    'total s': fmt(r.totalS),
    'merge s': fmt(r.mergeS),
    'encode s': fmt(r.encodeS),
    'decode s': fmt(r.decodeS),
    'GB/s': fmt(r.bytesMerged / 1e9 / r.totalS),
    'baseline RSS MB': fmt(r.baselineRssMB, 0),
    'peak RSS MB': fmt(r.peakRssMB, 0),
    'peak heap+buffers MB': fmt(r.peakHeapArraysMB, 0),
    'bins correct': r.ok ? 'yes' : 'NO',
  }));
  console.table(table);
  if (rows.some((r) => !r.ok)) process.exitCode = 1;
}

await main();
