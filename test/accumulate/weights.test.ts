import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WeightStatistics, Weights, WeightsError, accumulate, decode, encode } from '../../src/accumulate/index.ts';

interface Factor {
  name: string;
  w: number[];
  up?: number[];
  down?: number[];
}

const factorsArb = fc.integer({ min: 0, max: 200 }).chain((n) => {
  const col = fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: n, maxLength: n });
  return fc
    .uniqueArray(fc.constantFrom('gen', 'pileup', 'muonSF', 'trigger', 'lumi'), { minLength: 1, maxLength: 5 })
    .chain((names) =>
      fc.tuple(
        ...names.map((name) =>
          fc
            .record({ w: col, up: fc.option(col, { nil: undefined }), down: fc.option(col, { nil: undefined }) })
            .map((f) => ({ name, ...f }) as Factor),
        ),
      ),
    )
    .map((factors) => ({ n, factors }));
});

function build(factors: Factor[], asFloat32: boolean): Weights {
  const w = new Weights();
  const conv = (x: number[] | undefined) =>
    x === undefined ? undefined : asFloat32 ? Float32Array.from(x) : Float64Array.from(x);
  for (const f of factors) w.add(f.name, conv(f.w)!, { up: conv(f.up), down: conv(f.down) });
  return w;
}

describe('Weights against naive per-event loops', () => {
  it('weight() is the product of nominal factors, with one factor swapped for a variation', () => {
    fc.assert(
      fc.property(factorsArb, fc.boolean(), ({ n, factors }, f32) => {
        const w = build(factors, f32);
        const val = (x: number) => (f32 ? Math.fround(x) : x);
        const naive = (swap?: { name: string; arr: number[] }) => {
          const out = new Float64Array(n);
          for (let e = 0; e < n; e++) {
            let p = 1;
            for (const f of factors) p *= val(swap && swap.name === f.name ? swap.arr[e] : f.w[e]);
            out[e] = p;
          }
          return out;
        };
        expect(w.weight()).toEqual(naive());
        const expectedVariations: string[] = [];
        for (const f of factors) {
          if (f.up) {
            expectedVariations.push(`${f.name}Up`);
            expect(w.weight(`${f.name}Up`)).toEqual(naive({ name: f.name, arr: f.up }));
          }
          if (f.down) {
            expectedVariations.push(`${f.name}Down`);
            expect(w.weight(`${f.name}Down`)).toEqual(naive({ name: f.name, arr: f.down }));
          }
        }
        expect(w.variations).toEqual(expectedVariations);
      }),
      { numRuns: 150 },
    );
  });

  it('statistics give sum, sumw2, min, max and n per factor', () => {
    fc.assert(
      fc.property(factorsArb, ({ n, factors }) => {
        const stats = build(factors, false).statistics;
        expect(Object.keys(stats)).toEqual(factors.map((f) => f.name));
        for (const f of factors) {
          let sum = 0;
          let sumw2 = 0;
          let min = Infinity;
          let max = -Infinity;
          for (let e = 0; e < n; e++) {
            sum += f.w[e];
            sumw2 += f.w[e] * f.w[e];
            min = Math.min(min, f.w[e]);
            max = Math.max(max, f.w[e]);
          }
          const s = stats[f.name];
          // `+ 0` turns -0 into 0: the minimum of {0, -0} may be either (Math.min picks -0, a `<` scan the first).
          expect([s.sum, s.sumw2, s.min + 0, s.max + 0, s.n]).toEqual([sum, sumw2, min + 0, max + 0, n]);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('statistics merge across chunks (sums add, extrema combine) and survive the codec', () => {
    const chunk1 = new Weights().add('gen', [1, -2, 3]).statistics;
    const chunk2 = new Weights().add('gen', [0.5, 7]).statistics;
    const total = accumulate(chunk1, decode(encode(chunk2)) as typeof chunk2);
    const g = total.gen;
    expect([g.sum, g.sumw2, g.min, g.max, g.n]).toEqual([1 - 2 + 3 + 0.5 + 7, 1 + 4 + 9 + 0.25 + 49, -2, 7, 5]);
    const empty = decode(encode(new WeightStatistics())) as WeightStatistics;
    expect([empty.min, empty.max, empty.n]).toEqual([Infinity, -Infinity, 0]);
  });

  it('explains misuse: unknown variation with alternatives, lengths, duplicates', () => {
    const w = new Weights(3).add('pileup', [1, 1, 1], { up: [2, 2, 2] });
    expect(() => w.weight('pileupDown')).toThrow(/no weight variation "pileupDown" — .*closest: pileupUp/);
    expect(() => w.weight('pileup')).toThrow(WeightsError);
    expect(() => w.add('gen', [1, 2])).toThrow(/weight "gen" \(weight\) has 2 entries, expected 3/);
    expect(() => w.add('pileup', [1, 1, 1])).toThrow(/already added/);
    expect(new Weights(4).weight()).toEqual(new Float64Array([1, 1, 1, 1]));
  });
});
