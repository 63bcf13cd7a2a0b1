import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as ak from '../../src/columnar/index.ts';
import type { Collection, Jagged } from '../../src/columnar/types.ts';
import {
  type Lists,
  expectClose,
  expectSameValues,
  flatArb,
  listsLike,
  toCollection,
  toFlat,
  toJagged,
  toLists,
} from './naive.ts';

const f32 = (min: number, max: number) => fc.float({ min: Math.fround(min), max: Math.fround(max), noNaN: true });

/** A random NanoAOD-like collection: plain lists for the naive loops, the typed layout for the kernels. */
const particlesArb = fc
  .tuple(fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 10 }), fc.constantFrom(0, 2))
  .chain(([counts, base]) => {
    const shape: Lists = counts.map((c) => new Array<number>(c).fill(0));
    return fc.record({
      base: fc.constant(base),
      pt: listsLike(shape, f32(1, 200)),
      eta: listsLike(shape, f32(-3, 3)),
      phi: listsLike(shape, f32(-Math.PI, Math.PI)),
      mass: listsLike(shape, f32(0, 10)),
      charge: listsLike(shape, fc.constantFrom(-1, 1)),
    });
  });

type P = { pt: Lists; eta: Lists; phi: Lists; mass: Lists; charge: Lists; base: number };

function collection(p: P): Collection {
  return toCollection(
    {
      pt: { lists: p.pt, dtype: 'f32' },
      eta: { lists: p.eta, dtype: 'f32' },
      phi: { lists: p.phi, dtype: 'f32' },
      mass: { lists: p.mass, dtype: 'f32' },
      charge: { lists: p.charge, dtype: 'i32' },
    },
    p.base,
  );
}

/** Values as stored (Float32-rounded) for object j of event e. */
function obj(p: P, e: number, j: number) {
  const r = Math.fround;
  return { pt: r(p.pt[e][j]), eta: r(p.eta[e][j]), phi: r(p.phi[e][j]), m: r(p.mass[e][j]), q: p.charge[e][j] };
}
type Obj = ReturnType<typeof obj>;

// Independent algebra: m² = Σm² + 2 Σ_{i<j} (E_i E_j − p⃗_i·p⃗_j), with p⃗_i·p⃗_j = pt_i pt_j (cos Δφ + sinh η_i sinh η_j).
function naiveMass(objs: Obj[]): number {
  const E = (o: Obj) => Math.sqrt(o.m * o.m + (o.pt * Math.cosh(o.eta)) ** 2);
  let m2 = 0;
  for (const o of objs) m2 += o.m * o.m;
  for (let i = 0; i < objs.length; i++)
    for (let j = i + 1; j < objs.length; j++) {
      const a = objs[i];
      const b = objs[j];
      m2 += 2 * (E(a) * E(b) - a.pt * b.pt * (Math.cos(a.phi - b.phi) + Math.sinh(a.eta) * Math.sinh(b.eta)));
    }
  return Math.sqrt(Math.max(0, m2));
}

function naiveSumPt(objs: Obj[]): number {
  let x = 0;
  let y = 0;
  for (const o of objs) {
    x += o.pt * Math.cos(o.phi);
    y += o.pt * Math.sin(o.phi);
  }
  return Math.hypot(x, y);
}

/** Candidates of each event as lists of local index tuples (nested loops, i<j<k). */
function localTuples(n: number, size: 2 | 3): number[][] {
  const out: number[][] = [];
  for (let a = 0; a < n; a++)
    for (let b = a + 1; b < n; b++) {
      if (size === 2) out.push([a, b]);
      else for (let c = b + 1; c < n; c++) out.push([a, b, c]);
    }
  return out;
}

/**
 * Masses compared through m², with a tolerance scaled by the energy squared: m² is a difference of numbers of
 * order E², so near-collinear light pairs are only known to ~√ε·E whatever the algebra.
 */
function expectMassClose(actual: ArrayLike<number>, expected: number[], energyScale: number[]): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] ** 2 - expected[i] ** 2);
    if (!(d <= 1e-12 * energyScale[i] ** 2 + 1e-300)) expect([i, actual[i]]).toEqual([i, expected[i]]);
  }
}

function energySum(objs: Obj[]): number {
  return objs.reduce((s, o) => s + Math.sqrt(o.m * o.m + (o.pt * Math.cosh(o.eta)) ** 2), 0);
}

/** Check Δφ as a value in [−π, π) that equals the plain difference modulo 2π. */
function expectWrapped(actual: ArrayLike<number>, plain: number[]): void {
  expect(actual.length).toBe(plain.length);
  for (let i = 0; i < plain.length; i++) {
    const r = actual[i];
    if (!Number.isFinite(plain[i])) {
      expect(r).toBeNaN();
      continue;
    }
    expect(r).toBeGreaterThanOrEqual(-Math.PI);
    expect(r).toBeLessThan(Math.PI);
    expect(Math.abs(Math.cos(r) - Math.cos(plain[i]))).toBeLessThan(1e-9);
    expect(Math.abs(Math.sin(r) - Math.sin(plain[i]))).toBeLessThan(1e-9);
  }
}

describe('per-object four-vector components', () => {
  it('px, py, pz, E agree with the textbook formulas', () => {
    fc.assert(
      fc.property(particlesArb, (p) => {
        const c = collection(p);
        const objs = p.pt.map((l, e) => l.map((_, j) => obj(p, e, j)));
        const check = (r: Jagged<Float64Array>, f: (o: Obj) => number) => {
          expect(r.offsets).toBe(c.offsets);
          expectClose(toLists(r).flat(), objs.flat().map(f), 1e-12);
        };
        check(ak.px(c), (o) => o.pt * Math.cos(o.phi));
        check(ak.py(c), (o) => o.pt * Math.sin(o.phi));
        check(ak.pz(c), (o) => o.pt * Math.sinh(o.eta));
        check(ak.energy(c), (o) => Math.sqrt(o.m ** 2 + o.pt ** 2 + (o.pt * Math.sinh(o.eta)) ** 2));
      }),
      { numRuns: 60 },
    );
  });
});

describe('candidate kernels', () => {
  it('sumMass, sumPt, sumP4, sumCharge of pairs and triples agree with per-event loops', () => {
    fc.assert(
      fc.property(particlesArb, (p) => {
        const c = collection(p);
        for (const size of [2, 3] as const) {
          const combos = size === 2 ? ak.combinations(c, 2) : ak.combinations(c, 3);
          const tuples = p.pt.map((l, e) => localTuples(l.length, size).map((t) => t.map((j) => obj(p, e, j))));
          const mass = ak.sumMass(combos, c);
          expect(mass.offsets).toBe(combos.offsets);
          expectMassClose(toLists(mass).flat(), tuples.flat().map(naiveMass), tuples.flat().map(energySum));
          expectClose(toLists(ak.sumPt(combos, c)).flat(), tuples.flat().map(naiveSumPt), 1e-9);
          const q = ak.sumCharge(combos, c);
          expect(q.content).toBeInstanceOf(Int32Array);
          expectSameValues(
            toLists(q).flat(),
            tuples.flat().map((t) => t.reduce((s, o) => s + o.q, 0)),
          );

          const p4 = ak.sumP4(combos, c);
          const at = (f: string) => toLists({ offsets: p4.offsets, content: p4.fields[f] }).flat();
          expectMassClose(at('mass'), tuples.flat().map(naiveMass), tuples.flat().map(energySum));
          expectClose(at('pt'), tuples.flat().map(naiveSumPt), 1e-9);
          const pz = tuples.flat().map((t) => t.reduce((s, o) => s + o.pt * Math.sinh(o.eta), 0));
          const px = tuples.flat().map((t) => t.reduce((s, o) => s + o.pt * Math.cos(o.phi), 0));
          const py = tuples.flat().map((t) => t.reduce((s, o) => s + o.pt * Math.sin(o.phi), 0));
          // η = −ln tan(θ/2), written differently from the kernel's asinh(pz/pt).
          const eta = pz.map((z, i) => -Math.log(Math.tan(Math.atan2(Math.hypot(px[i], py[i]), z) / 2)));
          expectClose(at('eta'), eta, 1e-6);
          expectWrapped(
            at('phi').map((v, i) => v - Math.atan2(py[i], px[i])),
            at('phi').map(() => 0),
          );
        }
      }),
      { numRuns: 60 },
    );
  });

  it('sumMass of cartesian pairs reads slot 0 from a and slot 1 from b', () => {
    fc.assert(
      fc.property(particlesArb, particlesArb, (pa, pb0) => {
        // Align event counts by cutting b to a's length (padding with empty events).
        const n = pa.pt.length;
        const pad = (l: Lists) => Array.from({ length: n }, (_, i) => l[i] ?? []);
        const pb: P = {
          base: 0,
          pt: pad(pb0.pt),
          eta: pad(pb0.eta),
          phi: pad(pb0.phi),
          mass: pad(pb0.mass),
          charge: pad(pb0.charge),
        };
        const a = collection(pa);
        const b = collection(pb);
        const x = ak.cartesian(a, b);
        const expected: number[] = [];
        const scale: number[] = [];
        const dr: number[] = [];
        const dphi: number[] = [];
        for (let e = 0; e < n; e++)
          for (let i = 0; i < pa.pt[e].length; i++)
            for (let j = 0; j < pb.pt[e].length; j++) {
              const oa = obj(pa, e, i);
              const ob = obj(pb, e, j);
              expected.push(naiveMass([oa, ob]));
              scale.push(energySum([oa, ob]));
              dphi.push(oa.phi - ob.phi);
              const w = Math.atan2(Math.sin(oa.phi - ob.phi), Math.cos(oa.phi - ob.phi));
              dr.push(Math.sqrt((oa.eta - ob.eta) ** 2 + w * w));
            }
        expectMassClose(toLists(ak.sumMass(x, a, b)).flat(), expected, scale);
        expectClose(toLists(ak.pairDeltaR(x, a, b)).flat(), dr, 1e-9);
        expectWrapped(toLists(ak.pairDeltaPhi(x, a, b)).flat(), dphi);
      }),
      { numRuns: 60 },
    );
  });

  it('rejects collections the combinations were not built from', () => {
    const p: P = {
      base: 0,
      pt: [[10, 20, 30]],
      eta: [[0, 0, 0]],
      phi: [[0, 1, 2]],
      mass: [[0, 0, 0]],
      charge: [[1, -1, 1]],
    };
    const big = collection(p);
    const small = collection({ ...p, pt: [[10]], eta: [[0]], phi: [[0]], mass: [[0]], charge: [[1]] });
    const pairs = ak.combinations(big, 2);
    expect(() => ak.sumMass(pairs, small)).toThrowError(/outside the collection/);
    const noMass = { offsets: big.offsets, fields: { pt: big.fields.pt, eta: big.fields.eta, phi: big.fields.phi } };
    expect(() => ak.sumMass(pairs, noMass)).toThrowError(ak.FieldNotFoundError);
    expect(() => ak.sumPt(pairs, small)).toThrowError(ak.InvalidArgumentError);
  });

  it('pairs filtered by event keep reading the unfiltered collection', () => {
    fc.assert(
      fc.property(particlesArb, fc.infiniteStream(fc.boolean()), (p, keepStream) => {
        const c = collection(p);
        const keep = Uint8Array.from(p.pt.map(() => (keepStream.next().value ? 1 : 0)));
        const pairs = ak.filterEvents(ak.oppositeChargePairs(c), keep);
        const expected: number[] = [];
        const scale: number[] = [];
        p.pt.forEach((l, e) => {
          if (keep[e] === 0) return;
          for (const [i, j] of localTuples(l.length, 2)) {
            if (p.charge[e][i] * p.charge[e][j] >= 0) continue;
            expected.push(naiveMass([obj(p, e, i), obj(p, e, j)]));
            scale.push(energySum([obj(p, e, i), obj(p, e, j)]));
          }
        });
        expectMassClose(toLists(ak.sumMass(pairs, c)).flat(), expected, scale);
      }),
      { numRuns: 60 },
    );
  });

  it('empty chunk and events without candidates', () => {
    const empty = collection({ base: 0, pt: [], eta: [], phi: [], mass: [], charge: [] });
    expect(ak.sumMass(ak.combinations(empty, 2), empty).content.length).toBe(0);
    const one = collection({
      base: 0,
      pt: [[5], []],
      eta: [[0], []],
      phi: [[0], []],
      mass: [[1], []],
      charge: [[1], []],
    });
    const r = ak.sumMass(ak.combinations(one, 2), one);
    expectSameValues(r.offsets, [0, 0, 0]);
  });

  it('two back-to-back massless 45 GeV objects make 90 GeV', () => {
    const c = toCollection({
      pt: { lists: [[45, 45]], dtype: 'f64' },
      eta: { lists: [[0, 0]], dtype: 'f64' },
      phi: { lists: [[0, Math.PI]], dtype: 'f64' },
      mass: { lists: [[0, 0]], dtype: 'f64' },
    });
    expectClose(ak.sumMass(ak.combinations(c, 2), c).content, [90], 1e-12);
    expectClose(ak.sumPt(ak.combinations(c, 2), c).content, [0], 1e-12);
  });
});

describe('broadcasting Δφ, ΔR, transverse mass', () => {
  const caseArb = fc
    .array(fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { maxLength: 4 }), { maxLength: 10 })
    .chain((a) =>
      fc.record({
        phi: fc.constant(a),
        eta: listsLike(a, fc.double({ min: -3, max: 3, noNaN: true })),
        pt: listsLike(a, fc.double({ min: 0, max: 100, noNaN: true })),
        evPhi: flatArb(a.length, fc.double({ min: -10, max: 10, noNaN: true })),
        evEta: flatArb(a.length, fc.double({ min: -3, max: 3, noNaN: true })),
        evPt: flatArb(a.length, fc.double({ min: 0, max: 100, noNaN: true })),
      }),
    );

  it('deltaPhi is wrapped to [−π, π) for jagged-vs-flat and flat-vs-flat', () => {
    fc.assert(
      fc.property(caseArb, ({ phi, evPhi }) => {
        const r = ak.deltaPhi(toJagged(phi, 'f64'), toFlat(evPhi, 'f64'));
        expectWrapped(
          toLists(r).flat(),
          phi.flatMap((l, i) => l.map((x) => x - evPhi[i])),
        );
        expectWrapped(
          ak.deltaPhi(toFlat(evPhi, 'f64'), 1),
          evPhi.map((x) => x - 1),
        );
      }),
    );
  });

  it('deltaPhi edge cases: the interval excludes +π, NaN and Infinity give NaN', () => {
    const r = ak.deltaPhi(Float64Array.of(Math.PI, 0, -Math.PI, 3 * Math.PI, NaN, Infinity), 0);
    expect(r[0]).toBe(-Math.PI);
    expect(r[1]).toBe(0);
    expect(r[2]).toBe(-Math.PI);
    expect(r[3]).toBeGreaterThanOrEqual(-Math.PI);
    expect(r[3]).toBeLessThan(Math.PI);
    expect(r[4]).toBeNaN();
    expect(r[5]).toBeNaN();
    // -12563.229021705583 is near an odd multiple of π where the modulo step alone rounds to just below −π.
    for (const d of [
      Math.PI,
      -Math.PI,
      Math.PI * (1 + 1e-16),
      -Math.PI * (1 + 1e-16),
      1e10,
      -1e10,
      7 * Math.PI,
      -12563.229021705583,
    ]) {
      const w = ak.wrapPhi(d);
      expect(w).toBeGreaterThanOrEqual(-Math.PI);
      expect(w).toBeLessThan(Math.PI);
    }
  });

  it('deltaR and transverseMass broadcast an event-level object against a collection', () => {
    fc.assert(
      fc.property(caseArb, ({ phi, eta, pt, evPhi, evEta, evPt }) => {
        const dr = ak.deltaR(toJagged(eta, 'f64'), toJagged(phi, 'f64'), toFlat(evEta, 'f64'), toFlat(evPhi, 'f64'));
        const naiveDr = phi.flatMap((l, i) =>
          l.map((x, j) => {
            const w = Math.atan2(Math.sin(x - evPhi[i]), Math.cos(x - evPhi[i]));
            return Math.hypot(eta[i][j] - evEta[i], w);
          }),
        );
        expectClose(toLists(dr).flat(), naiveDr, 1e-9);

        const mt = ak.transverseMass(
          toJagged(pt, 'f64'),
          toJagged(phi, 'f64'),
          toFlat(evPt, 'f64'),
          toFlat(evPhi, 'f64'),
        );
        const naiveMt = pt.flatMap((l, i) =>
          l.map((x, j) => {
            // (E_T,a + E_T,b)² − |p⃗_T,a + p⃗_T,b|² for massless objects.
            const sx = x * Math.cos(phi[i][j]) + evPt[i] * Math.cos(evPhi[i]);
            const sy = x * Math.sin(phi[i][j]) + evPt[i] * Math.sin(evPhi[i]);
            return Math.sqrt(Math.max(0, (x + evPt[i]) ** 2 - sx * sx - sy * sy));
          }),
        );
        expectMassClose(
          toLists(mt).flat(),
          naiveMt,
          pt.flatMap((l, i) => l.map((x) => x + evPt[i])),
        );
        const flatMt = ak.transverseMass(toFlat(evPt, 'f64'), toFlat(evPhi, 'f64'), 30, 0.5);
        expect(flatMt).toBeInstanceOf(Float64Array);
        expectClose(
          flatMt,
          evPt.map((x, i) => Math.sqrt(2 * x * 30 * (1 - Math.cos(evPhi[i] - 0.5)))),
          1e-9,
        );
      }),
    );
  });
});
