// npx tsx bench/kernels.ts [events=1000000] [repeats=7]
//
// Opposite-sign dimuon invariant mass over jagged muons (offsets + Float32 fields, Int32 charge):
// the columnar kernels (general pipeline and fused pair builder) against a hand-written loop, in one run, on
// the same synthetic events (seeded RNG). Two scenarios: all opposite-sign pairs of every event, and events with
// exactly two muons. Results are cross-checked (pair count and mass sum) before any timing is printed.
// Goal: kernels within 1.5× of the hand loop.
import * as ak from '../src/columnar/index.ts';
import type { Collection } from '../src/columnar/types.ts';

const EVENTS = Number(process.argv[2] ?? 1_000_000);
const REPEATS = Number(process.argv[3] ?? 7);

/** mulberry32: small seeded PRNG, good enough for synthetic kinematics. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function makeMuons(n: number, seed: number): Collection {
  const r = rng(seed);
  // Multiplicity roughly like a dimuon skim: 0..4 muons.
  const cdf = [0.3, 0.6, 0.85, 0.95, 1];
  const offsets = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) {
    const u = r();
    let c = 0;
    while (u > cdf[c]) c++;
    offsets[i + 1] = offsets[i] + c;
  }
  const total = offsets[n];
  const pt = new Float32Array(total);
  const eta = new Float32Array(total);
  const phi = new Float32Array(total);
  const mass = new Float32Array(total).fill(0.1057);
  const charge = new Int32Array(total);
  for (let j = 0; j < total; j++) {
    pt[j] = 5 - 20 * Math.log(1 - r());
    eta[j] = (r() * 2 - 1) * 2.4;
    phi[j] = (r() * 2 - 1) * Math.PI;
    charge[j] = r() < 0.5 ? -1 : 1;
  }
  return { offsets, fields: { pt, eta, phi, mass, charge } };
}

interface Result {
  pairs: number;
  massSum: number;
}

/** What a physicist would write by hand: count, allocate, fill (jagged output, same as the kernels). */
function handAllPairs(mu: Collection): Result {
  const { offsets } = mu;
  const pt = mu.fields.pt as Float32Array;
  const eta = mu.fields.eta as Float32Array;
  const phi = mu.fields.phi as Float32Array;
  const m = mu.fields.mass as Float32Array;
  const q = mu.fields.charge as Int32Array;
  const n = offsets.length - 1;
  const outOffsets = new Int32Array(n + 1);
  let total = 0;
  for (let e = 0; e < n; e++) {
    const hi = offsets[e + 1];
    for (let a = offsets[e]; a < hi; a++) for (let b = a + 1; b < hi; b++) if (q[a] * q[b] < 0) total++;
    outOffsets[e + 1] = total;
  }
  const out = new Float64Array(total);
  let k = 0;
  for (let e = 0; e < n; e++) {
    const hi = offsets[e + 1];
    for (let a = offsets[e]; a < hi; a++) {
      for (let b = a + 1; b < hi; b++) {
        if (q[a] * q[b] >= 0) continue;
        const px1 = pt[a] * Math.cos(phi[a]), py1 = pt[a] * Math.sin(phi[a]), pz1 = pt[a] * Math.sinh(eta[a]);
        const px2 = pt[b] * Math.cos(phi[b]), py2 = pt[b] * Math.sin(phi[b]), pz2 = pt[b] * Math.sinh(eta[b]);
        const e1 = Math.sqrt(px1 * px1 + py1 * py1 + pz1 * pz1 + m[a] * m[a]);
        const e2 = Math.sqrt(px2 * px2 + py2 * py2 + pz2 * pz2 + m[b] * m[b]);
        const x = px1 + px2, y = py1 + py2, z = pz1 + pz2, en = e1 + e2;
        out[k++] = Math.sqrt(Math.max(0, en * en - x * x - y * y - z * z));
      }
    }
  }
  return summarize(out);
}

/** Hand loop, exactly two muons of opposite charge: one mass per selected event. */
function handExactlyTwo(mu: Collection): Result {
  const { offsets } = mu;
  const pt = mu.fields.pt as Float32Array;
  const eta = mu.fields.eta as Float32Array;
  const phi = mu.fields.phi as Float32Array;
  const m = mu.fields.mass as Float32Array;
  const q = mu.fields.charge as Int32Array;
  const n = offsets.length - 1;
  const out = new Float64Array(n);
  let k = 0;
  for (let e = 0; e < n; e++) {
    const a = offsets[e];
    if (offsets[e + 1] - a !== 2) continue;
    const b = a + 1;
    if (q[a] * q[b] >= 0) continue;
    const px1 = pt[a] * Math.cos(phi[a]), py1 = pt[a] * Math.sin(phi[a]), pz1 = pt[a] * Math.sinh(eta[a]);
    const px2 = pt[b] * Math.cos(phi[b]), py2 = pt[b] * Math.sin(phi[b]), pz2 = pt[b] * Math.sinh(eta[b]);
    const e1 = Math.sqrt(px1 * px1 + py1 * py1 + pz1 * pz1 + m[a] * m[a]);
    const e2 = Math.sqrt(px2 * px2 + py2 * py2 + pz2 * pz2 + m[b] * m[b]);
    const x = px1 + px2, y = py1 + py2, z = pz1 + pz2, en = e1 + e2;
    out[k++] = Math.sqrt(Math.max(0, en * en - x * x - y * y - z * z));
  }
  return summarize(out.subarray(0, k));
}

/** Kernels, general pipeline: all pairs → charge of each slot → mask → select → mass. */
function kernelsGeneral(mu: Collection): Result {
  const pairs = ak.combinations(mu, 2);
  const q = mu.fields.charge;
  const os = ak.selectObjects(pairs, ak.ne(ak.combinationField(pairs, 0, q), ak.combinationField(pairs, 1, q)));
  return summarize(ak.sumMass(os, mu).content);
}

/** Kernels, fused pair builder: opposite-charge pairs directly → mass. */
function kernelsFused(mu: Collection): Result {
  return summarize(ak.sumMass(ak.oppositeChargePairs(mu), mu).content);
}

/** Kernels for exactly two muons: event selection, then the fused pair builder. */
function kernelsExactlyTwo(mu: Collection): Result {
  const two = ak.filterEvents(mu, ak.eq(ak.counts(mu), 2));
  return summarize(ak.sumMass(ak.oppositeChargePairs(two), two).content);
}

/** Kernels for exactly two muons without copying fields: pairs keep global indices, so filter the pairs instead. */
function kernelsExactlyTwoIndices(mu: Collection): Result {
  const pairs = ak.filterEvents(ak.oppositeChargePairs(mu), ak.eq(ak.counts(mu), 2));
  return summarize(ak.sumMass(pairs, mu).content);
}

function summarize(masses: Float64Array): Result {
  let s = 0;
  for (let i = 0; i < masses.length; i++) s += masses[i];
  return { pairs: masses.length, massSum: s };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function time(f: (mu: Collection) => Result, mu: Collection): { ms: number; result: Result } {
  let result = f(mu);
  result = f(mu); // warm-up: let the JIT settle on this input's types
  const ms: number[] = [];
  for (let r = 0; r < REPEATS; r++) {
    const t0 = performance.now();
    result = f(mu);
    ms.push(performance.now() - t0);
  }
  return { ms: median(ms), result };
}

function agree(a: Result, b: Result): boolean {
  return a.pairs === b.pairs && Math.abs(a.massSum - b.massSum) <= 1e-9 * Math.abs(b.massSum);
}

const mu = makeMuons(EVENTS, 20240611);
console.log(`${EVENTS} events, ${mu.offsets[EVENTS]} muons, median of ${REPEATS} runs\n`);

const scenarios: [string, [string, (m: Collection) => Result][]][] = [
  [
    'all opposite-sign pairs',
    [
      ['hand loop', handAllPairs],
      ['kernels: combinations + mask + sumMass', kernelsGeneral],
      ['kernels: oppositeChargePairs + sumMass', kernelsFused],
    ],
  ],
  [
    'exactly two muons, opposite sign',
    [
      ['hand loop', handExactlyTwo],
      ['kernels: filterEvents + oppositeChargePairs + sumMass', kernelsExactlyTwo],
      ['kernels: oppositeChargePairs + filterEvents(pairs) + sumMass', kernelsExactlyTwoIndices],
    ],
  ],
];

let failed = false;
for (const [title, paths] of scenarios) {
  console.log(title);
  console.log(`  ${'path'.padEnd(62)} ${'ms'.padStart(8)} ${'M ev/s'.padStart(8)} ${'× hand'.padStart(7)}  pairs`);
  let hand: { ms: number; result: Result } | undefined;
  for (const [name, f] of paths) {
    const t = time(f, mu);
    hand ??= t;
    const ok = agree(t.result, hand.result);
    failed ||= !ok;
    console.log(
      `  ${name.padEnd(62)} ${t.ms.toFixed(1).padStart(8)} ${(EVENTS / t.ms / 1e3).toFixed(1).padStart(8)} ${(t.ms / hand.ms)
        .toFixed(2)
        .padStart(7)}  ${t.result.pairs}${ok ? '' : '  MISMATCH vs hand loop'}`,
    );
  }
  console.log('');
}
if (failed) {
  console.error('results differ from the hand loop');
  process.exitCode = 1;
}
