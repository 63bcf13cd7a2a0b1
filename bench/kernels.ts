// npx tsx bench/kernels.ts [events=1000000] [repeats=7] [mixed=1]
//
// Columnar kernels against hand-written loops, in one run, on the same synthetic events (seeded RNG):
// - opposite-sign dimuon invariant mass over jagged muons (offsets + Float32 fields, Int32 charge): all
//   opposite-sign pairs of every event, and events with exactly two muons;
// - ADL Q3 (pt of jets with |eta| < 1): abs → lt → selectObjects → flatten, plus selectObjects on a collection;
// - ADL Q5 (MET of events with an opposite-charge muon pair of mass in [60, 120]): oppositeChargePairs →
//   sumMass → ge/le/and → any → filterEvents, against the fused early-exit loop of processors/adl/query-5.ts.
// Results are cross-checked (count and sum) against the hand loop of each scenario.
// mixed=1 (default) first runs every kernel on inputs of several dtypes, as a real process does (readers hand
// out Float32/Int32/Uint8/Float64 columns; analyses mix them), so the timings include polymorphic call sites;
// mixed=0 skips that and shows the best case.
// Goal: kernels within 1.5× of the hand loop.
import * as ak from '../src/columnar/index.ts';
import type { Collection, Jagged, NumericArray } from '../src/columnar/types.ts';
import { rng } from '../test/helpers/rng.ts';
import { benchArgs, choice, int } from './lib.ts';

const {
  events: EVENTS,
  repeats: REPEATS,
  mixed,
} = benchArgs(
  'Columnar kernels against hand-written loops, on the same synthetic events.',
  {},
  {
    events: int('synthetic events', 1_000_000, 1),
    repeats: int('runs (median)', 7, 1),
    mixed: choice('1: warm up on several dtypes first; 0: the best case', ['0', '1'], '1'),
  },
);
const MIXED = mixed !== '0';

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
        const px1 = pt[a] * Math.cos(phi[a]),
          py1 = pt[a] * Math.sin(phi[a]),
          pz1 = pt[a] * Math.sinh(eta[a]);
        const px2 = pt[b] * Math.cos(phi[b]),
          py2 = pt[b] * Math.sin(phi[b]),
          pz2 = pt[b] * Math.sinh(eta[b]);
        const e1 = Math.sqrt(px1 * px1 + py1 * py1 + pz1 * pz1 + m[a] * m[a]);
        const e2 = Math.sqrt(px2 * px2 + py2 * py2 + pz2 * pz2 + m[b] * m[b]);
        const x = px1 + px2,
          y = py1 + py2,
          z = pz1 + pz2,
          en = e1 + e2;
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
    const px1 = pt[a] * Math.cos(phi[a]),
      py1 = pt[a] * Math.sin(phi[a]),
      pz1 = pt[a] * Math.sinh(eta[a]);
    const px2 = pt[b] * Math.cos(phi[b]),
      py2 = pt[b] * Math.sin(phi[b]),
      pz2 = pt[b] * Math.sinh(eta[b]);
    const e1 = Math.sqrt(px1 * px1 + py1 * py1 + pz1 * pz1 + m[a] * m[a]);
    const e2 = Math.sqrt(px2 * px2 + py2 * py2 + pz2 * pz2 + m[b] * m[b]);
    const x = px1 + px2,
      y = py1 + py2,
      z = pz1 + pz2,
      en = e1 + e2;
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

function summarize(values: ArrayLike<number>): Result {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i];
  return { pairs: values.length, massSum: s };
}

/** Jets: 0..8 per event (mean ~3), Float32 pt/eta/phi/mass. */
function makeJets(n: number, seed: number): Collection {
  const r = rng(seed);
  const offsets = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) {
    let c = 0;
    while (c < 8 && r() < 0.75) c++;
    offsets[i + 1] = offsets[i] + c;
  }
  const total = offsets[n];
  const pt = new Float32Array(total);
  const eta = new Float32Array(total);
  const phi = new Float32Array(total);
  const mass = new Float32Array(total);
  for (let j = 0; j < total; j++) {
    pt[j] = 15 - 25 * Math.log(1 - r());
    eta[j] = (r() * 2 - 1) * 4.7;
    phi[j] = (r() * 2 - 1) * Math.PI;
    mass[j] = 2 + 10 * r();
  }
  return { offsets, fields: { pt, eta, phi, mass } };
}

/** Muons with Z-like pairs, so that Q5 selects a fair share of events. */
function makeZMuons(n: number, seed: number): Collection {
  const mu = makeMuons(n, seed);
  const pt = mu.fields.pt as Float32Array;
  for (let j = 0; j < pt.length; j++) pt[j] = 10 + pt[j] * 1.5;
  return mu;
}

// ---- ADL Q3: pt of jets with |eta| < 1 -------------------------------------------------------------------

/** processors/adl/query-3.ts: one fused pass over the contents. */
function handQ3(jets: Collection): Result {
  const pt = ak.flatten(ak.field(jets, 'pt')) as Float32Array;
  const eta = ak.flatten(ak.field(jets, 'eta')) as Float32Array;
  const central = new Float32Array(pt.length);
  let k = 0;
  for (let j = 0; j < pt.length; j++) {
    const e = eta[j];
    if (e < 1 && e > -1) central[k++] = pt[j];
  }
  return summarize(central.subarray(0, k));
}

function kernelsQ3(jets: Collection): Result {
  const central = ak.lt(ak.abs(ak.field(jets, 'eta')), 1);
  return summarize(ak.flatten(ak.selectObjects(ak.field(jets, 'pt'), central)));
}

function kernelsQ3Collection(jets: Collection): Result {
  const central = ak.lt(ak.abs(ak.field(jets, 'eta')), 1);
  const sel = ak.selectObjects(jets, central);
  return summarize(ak.flatten(ak.field(sel, 'pt')));
}

// Single kernels of the chain, timed on their own (inputs built once, outside the timing).
let q3Mask: Jagged<Uint8Array> | undefined;
let q3Abs: Jagged<Float64Array> | undefined;
function onlyAbs(jets: Collection): Result {
  q3Abs = ak.abs(ak.field(jets, 'eta'));
  return { pairs: q3Abs.content.length, massSum: 0 };
}
function onlyLt(jets: Collection): Result {
  q3Abs ??= ak.abs(ak.field(jets, 'eta'));
  q3Mask = ak.lt(q3Abs, 1);
  return { pairs: q3Mask.content.length, massSum: 0 };
}
function onlySelect(jets: Collection): Result {
  q3Mask ??= ak.lt(ak.abs(ak.field(jets, 'eta')), 1);
  const s = ak.selectObjects(ak.field(jets, 'pt'), q3Mask);
  return { pairs: s.content.length, massSum: 0 };
}

// ---- ADL Q5: MET of events with an opposite-charge muon pair, 60 <= m <= 120 ------------------------------

interface Q5Input {
  mu: Collection;
  met: Float32Array;
}

/** processors/adl/query-5.ts: per event, scan the pairs until one qualifies. */
function handQ5({ mu, met }: Q5Input): Result {
  const off = mu.offsets;
  const ptC = mu.fields.pt as Float32Array;
  const etaC = mu.fields.eta as Float32Array;
  const phiC = mu.fields.phi as Float32Array;
  const massC = mu.fields.mass as Float32Array;
  const q = mu.fields.charge as Int32Array;
  const n = off.length - 1;
  let px = new Float64Array(16),
    py = new Float64Array(16),
    pz = new Float64Array(16),
    en = new Float64Array(16);
  const selected = new Float64Array(n);
  let filled = 0;
  for (let e = 0; e < n; e++) {
    const a = off[e];
    const m = off[e + 1] - a;
    if (m < 2) continue;
    if (m > px.length) {
      px = new Float64Array(2 * m);
      py = new Float64Array(2 * m);
      pz = new Float64Array(2 * m);
      en = new Float64Array(2 * m);
    }
    for (let i = 0; i < m; i++) {
      const pt = ptC[a + i],
        phi = phiC[a + i];
      const x = pt * Math.cos(phi),
        y = pt * Math.sin(phi),
        z = pt * Math.sinh(etaC[a + i]);
      const mass = massC[a + i];
      px[i] = x;
      py[i] = y;
      pz[i] = z;
      en[i] = Math.sqrt(x * x + y * y + z * z + mass * mass);
    }
    let found = false;
    for (let i = 0; i < m - 1 && !found; i++) {
      const qi = q[a + i];
      for (let k = i + 1; k < m; k++) {
        if (qi * q[a + k] >= 0) continue;
        const t = en[i] + en[k],
          x = px[i] + px[k],
          y = py[i] + py[k],
          z = pz[i] + pz[k];
        const m2 = t * t - x * x - y * y - z * z;
        const mass = m2 > 0 ? Math.sqrt(m2) : 0;
        if (mass >= 60 && mass <= 120) {
          found = true;
          break;
        }
      }
    }
    if (found) selected[filled++] = met[e];
  }
  return summarize(selected.subarray(0, filled));
}

function kernelsQ5({ mu, met }: Q5Input): Result {
  const mass = ak.sumMass(ak.oppositeChargePairs(mu), mu);
  const hasZ = ak.any(ak.and(ak.ge(mass, 60), ak.le(mass, 120)));
  return summarize(ak.filterEvents(met, hasZ));
}

// ---- type feedback of a real process ----------------------------------------------------------------------

/**
 * Runs every kernel of the scenarios on tiny inputs of several dtypes, as a process does that reads columns of
 * different types (Float32 kinematics, Int32 charges, Uint8 flags, Float64 derived values).
 */
function mixTypeFeedback(): void {
  const ctors = [Float64Array, Float32Array, Int32Array, Uint8Array, Int8Array, Uint16Array, Int16Array, Uint32Array];
  const offsets = Int32Array.from([0, 2, 2, 5]);
  for (let round = 0; round < 50; round++) {
    for (const C of ctors) {
      const content = C.from([1, 0, 2, 1, 3]) as NumericArray;
      const j: Jagged = { offsets, content };
      const flat = C.from([1, 0, 1]) as NumericArray;
      const c: Collection = {
        offsets,
        fields: {
          pt: content,
          eta: content,
          phi: content,
          mass: content,
          charge: C.from([1, 0, 1, 1, 0]) as NumericArray,
        },
      };
      const m = ak.gt(j, 0);
      ak.selectObjects(j, m);
      ak.field(ak.selectObjects(c, m), 'pt');
      ak.filterEvents(flat, ak.gt(flat, 0));
      ak.filterEvents(j, ak.gt(flat, 0));
      ak.abs(j);
      ak.lt(j, 1);
      ak.lt(flat, j);
      ak.ge(j, flat);
      ak.le(j, j);
      ak.and(m, ak.lt(j, 2));
      ak.any(j);
      ak.sum(j);
      ak.max(j);
      ak.gather(content, Int32Array.from([0, 4]));
      const os = ak.oppositeChargePairs(c);
      ak.sumMass(os, c);
      ak.sumMass(ak.combinations(c, 2), c);
      ak.flatten(j);
    }
  }
}

// ---- timing ------------------------------------------------------------------------------------------------

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Interleaves the paths repeat by repeat, so that load changes on a shared machine hit every path alike. */
function timeInterleaved<I>(fs: ((input: I) => Result)[], input: I): { ms: number; result: Result }[] {
  const results = fs.map((f) => {
    f(input);
    return f(input);
  });
  const ms: number[][] = fs.map(() => []);
  for (let r = 0; r < REPEATS; r++) {
    for (let i = 0; i < fs.length; i++) {
      const t0 = performance.now();
      results[i] = fs[i](input);
      ms[i].push(performance.now() - t0);
    }
  }
  return fs.map((_, i) => ({ ms: median(ms[i]), result: results[i] }));
}

function agree(a: Result, b: Result): boolean {
  return a.pairs === b.pairs && Math.abs(a.massSum - b.massSum) <= 1e-9 * Math.abs(b.massSum);
}

interface Scenario<I> {
  title: string;
  input: I;
  /** First path is the reference every other path is checked and timed against. */
  paths: [string, (input: I) => Result][];
  /** Paths that time a part of the chain: timed and compared, but their result is not checked. */
  parts?: [string, (input: I) => Result][];
}

if (MIXED) mixTypeFeedback();
const mu = makeMuons(EVENTS, 20240611);
const jets = makeJets(EVENTS, 7);
const zmu = makeZMuons(EVENTS, 99);
const met = Float32Array.from({ length: EVENTS }, (_, i) => (i % 997) * 0.5);
console.log(
  `${EVENTS} events, ${mu.offsets[EVENTS]} muons, ${jets.offsets[EVENTS]} jets, median of ${REPEATS} interleaved runs, ` +
    `type feedback ${MIXED ? 'mixed (several dtypes seen first)' : 'clean'}\n`,
);

const scenarios: Scenario<never>[] = [
  {
    title: 'all opposite-sign pairs',
    input: mu,
    paths: [
      ['hand loop', handAllPairs],
      ['kernels: combinations + mask + sumMass', kernelsGeneral],
      ['kernels: oppositeChargePairs + sumMass', kernelsFused],
    ],
  },
  {
    title: 'exactly two muons, opposite sign',
    input: mu,
    paths: [
      ['hand loop', handExactlyTwo],
      ['kernels: filterEvents + oppositeChargePairs + sumMass', kernelsExactlyTwo],
      ['kernels: oppositeChargePairs + filterEvents(pairs) + sumMass', kernelsExactlyTwoIndices],
    ],
  },
  {
    title: 'ADL Q3: jet pt with |eta| < 1',
    input: jets,
    paths: [
      ['hand loop (processors/adl/query-3.ts)', handQ3],
      ['kernels: abs + lt + selectObjects(jagged) + flatten', kernelsQ3],
      ['kernels: abs + lt + selectObjects(collection) + field', kernelsQ3Collection],
    ],
    parts: [
      ['  part: abs', onlyAbs],
      ['  part: lt', onlyLt],
      ['  part: selectObjects(jagged)', onlySelect],
    ],
  },
  {
    title: 'ADL Q5: MET with an OS muon pair, 60 <= m <= 120',
    input: { mu: zmu, met },
    paths: [
      ['hand loop (processors/adl/query-5.ts)', handQ5],
      ['kernels: oppositeChargePairs + sumMass + ge/le/and + any + filterEvents', kernelsQ5],
    ],
  },
] as unknown as Scenario<never>[];

let failed = false;
for (const { title, input, paths, parts = [] } of scenarios) {
  console.log(title);
  console.log(`  ${'path'.padEnd(72)} ${'ms'.padStart(8)} ${'M ev/s'.padStart(8)} ${'× hand'.padStart(7)}  count`);
  const all = [...paths, ...parts];
  const timings = timeInterleaved(
    all.map(([, f]) => f),
    input,
  );
  const hand = timings[0];
  all.forEach(([name], i) => {
    const t = timings[i];
    const checked = i < paths.length;
    const ok = !checked || agree(t.result, hand.result);
    failed ||= !ok;
    console.log(
      `  ${name.padEnd(72)} ${t.ms.toFixed(1).padStart(8)} ${(EVENTS / t.ms / 1e3).toFixed(1).padStart(8)} ${(
        t.ms / hand.ms
      )
        .toFixed(2)
        .padStart(7)}  ${checked ? t.result.pairs : ''}${ok ? '' : '  MISMATCH vs hand loop'}`,
    );
  });
  console.log('');
}
if (failed) {
  console.error('results differ from the hand loop');
  process.exitCode = 1;
}
