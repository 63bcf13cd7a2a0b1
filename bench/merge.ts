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
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import { accumulate, decode, encode, merged } from '../src/accumulate/index.ts';
import { Hist, Regular } from '../src/hist/index.ts';
import { benchArgs, choice, int, rng } from './lib.ts';

const NX = 100;
const NY = 50;
const POOL = 4; // distinct chunk outputs cycled through (generating 1000 would dominate the run)

type Mode = 'in-place' | 'copying' | 'codec' | 'v8-serialize';
const MODES: Mode[] = ['in-place', 'copying', 'codec', 'v8-serialize'];

/** A 100×50 Double-storage histogram filled with 20,000 uniform entries. */
function makeHist(seed: number): Hist {
  const r = rng(seed);
  const h = new Hist(new Regular(NX, 0, 1, { name: 'x' }), new Regular(NY, 0, 1, { name: 'y' }));
  h.fill(Float64Array.from({ length: 20_000 }, r), Float64Array.from({ length: 20_000 }, r));
  return h;
}

/** All bins, flow included. */
const bins = (h: unknown): Float64Array => (h as Hist).values({ flow: true });

// ---------------------------------------------------------------------------------------------------

type Output = Record<string, unknown>;

interface Result {
  mode: Mode;
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

function child(mode: Mode, n: number, nh: number): Result {
  const pool: Output[] = [];
  for (let p = 0; p < POOL; p++) {
    const out: Output = {};
    for (let k = 0; k < nh; k++) out[`h${k}`] = makeHist(1000 * p + k + 1);
    pool.push(out);
  }
  const rawPool = pool.map((o) => Object.fromEntries(Object.entries(o).map(([k, h]) => [k, bins(h).slice()])));
  const bytesPerOutput = Object.values(rawPool[0]).reduce((s, a) => s + a.byteLength, 0);
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
    const out = pool[i % POOL];
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
          const a = rawTotal[k];
          const b = back[k];
          for (let j = 0; j < a.length; j++) a[j] += b[j];
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
    const expected = new Float64Array(rawPool[0][key].length);
    for (let p = 0; p < POOL; p++) {
      const times = Math.floor(n / POOL) + (p < n % POOL ? 1 : 0);
      const src = rawPool[p][key];
      for (let j = 0; j < expected.length; j++) expected[j] += times * src[j];
    }
    const got = mode === 'v8-serialize' ? rawTotal![key] : bins((total as Output)[key]);
    for (let j = 0; j < expected.length; j++) if (got[j] !== expected[j]) ok = false;
  }
  const MB = 1024 * 1024;
  return {
    mode,
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
  const a = benchArgs('Merging chunk outputs of 2-D histograms into one total, per merge strategy.', {
    accumulators: int('chunk outputs to merge', 1000, 1),
    hists: int('histograms per output', 50, 1),
    mode: choice('internal: measure one strategy in this process', MODES, undefined),
  });
  const { accumulators: n, hists: nh } = a;
  if (a.mode) {
    const r = child(a.mode, n, nh);
    process.stdout.write(`RESULT ${JSON.stringify(r)}\n`);
    return;
  }
  const self = fileURLToPath(import.meta.url);
  const rows: Result[] = [];
  for (const mode of MODES) {
    const p = spawnSync(
      process.execPath,
      [...process.execArgv, self, '--mode', mode, '--accumulators', String(n), '--hists', String(nh)],
      {
        encoding: 'utf8',
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    const line = p.stdout.split('\n').find((l) => l.startsWith('RESULT '));
    if (p.stderr.trim()) process.stderr.write(p.stderr);
    if (!line) throw new Error(`mode ${mode} failed (exit ${p.status})`);
    rows.push(JSON.parse(line.slice(7)) as Result);
  }
  console.log(`merge ${n} outputs × ${nh} src/hist Hists of ${NX}×${NY} bins (+flow, Double storage)`);
  console.log(`data merged per mode: ${(rows[0].bytesMerged / 1e9).toFixed(2)} GB`);
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
