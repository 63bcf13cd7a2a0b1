/**
 * `Hist.fill` with jagged arrays: values are flattened, jagged weights pair element by element, per-event
 * arrays are broadcast to the elements; mismatches and unusable arguments are named in the error.
 */
import { describe, expect, it } from 'vitest';
import type { Jagged, NumericArray } from '../../src/columnar/types.ts';
import { runOnEvents } from '../../src/events/index.ts';
import { FillError, Hist, Mean, Regular, StrCategory, Weight } from '../../src/hist/index.ts';
import { openParquet } from '../../src/io/parquet/index.ts';
import { sharedPath } from '../shared.ts';

const jag = (lists: number[][], T: new (n: number) => NumericArray = Float64Array): Jagged => {
  const offsets = new Int32Array(lists.length + 1);
  lists.forEach((l, i) => (offsets[i + 1] = offsets[i] + l.length));
  const content = new T(offsets[lists.length]);
  content.set(lists.flat());
  return { offsets, content };
};

const axis = () => new Regular(10, 0, 10, { name: 'pt' });

function caught(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('did not throw');
}

describe('fill with jagged arrays', () => {
  const pt = jag([[1.5, 2.5], [], [2.5, 7.5, 9.5], [0.5]]);

  it('fills every element, like filling the flattened content', () => {
    const h = new Hist(axis()).fill(pt);
    const flat = new Hist(axis()).fill([1.5, 2.5, 2.5, 7.5, 9.5, 0.5]);
    expect(Array.from(h.values({ flow: true }))).toEqual(Array.from(flat.values({ flow: true })));
    expect(h.entries).toBe(6);
  });

  it('uses only the window its offsets describe (offsets need not start at 0)', () => {
    const window: Jagged = {
      offsets: Int32Array.from([2, 2, 5]),
      content: Float32Array.from([8, 8, 2.5, 7.5, 9.5, 8]),
    };
    const h = new Hist(axis()).fill(window);
    expect(h.entries).toBe(3);
    expect(h.values()[8]).toBe(0);
    expect(h.values()[2]).toBe(1);
  });

  it('broadcasts a per-event weight to the elements of its event', () => {
    const w = Float64Array.from([2, 100, 0.5, 3]);
    const h = new Hist(axis(), { storage: new Weight() }).fill(pt, { weight: w });
    const want = new Hist(axis(), { storage: new Weight() }).fill([1.5, 2.5, 2.5, 7.5, 9.5, 0.5], {
      weight: [2, 2, 0.5, 0.5, 0.5, 3],
    });
    expect(Array.from(h.values())).toEqual(Array.from(want.values()));
    expect(Array.from(h.variances()!)).toEqual(Array.from(want.variances()!));
  });

  it('pairs a jagged weight (or sample, or second axis) of the same structure element by element', () => {
    const w = jag([[1, 2], [], [3, 4, 5], [6]]);
    const h = new Hist(axis()).fill(pt, { weight: w });
    const want = new Hist(axis()).fill([1.5, 2.5, 2.5, 7.5, 9.5, 0.5], { weight: [1, 2, 3, 4, 5, 6] });
    expect(Array.from(h.values())).toEqual(Array.from(want.values()));
    const eta = jag([[-1, 1], [], [0.5, -0.5, 2], [0]]);
    const h2 = new Hist(axis(), new Regular(4, -2, 2, { name: 'eta' })).fill(pt, eta);
    const want2 = new Hist(axis(), new Regular(4, -2, 2, { name: 'eta' })).fill(
      [1.5, 2.5, 2.5, 7.5, 9.5, 0.5],
      [-1, 1, 0.5, -0.5, 2, 0],
    );
    expect(Array.from(h2.values({ flow: true }))).toEqual(Array.from(want2.values({ flow: true })));
    const prof = new Hist(axis(), { storage: new Mean() }).fill(pt, { sample: w });
    expect(prof.values()[2]).toBe((2 + 3) / 2);
  });

  it('broadcasts a per-event category and scalars', () => {
    const h = new Hist(new StrCategory([], { name: 'ds', growth: true }), axis());
    h.fill(['a', 'b', 'b', 'a'], pt, { weight: 2 });
    expect(h.select('ds', 'a').values()[1]).toBe(2);
    expect(h.select('ds', 'a').values()[0]).toBe(2);
    expect(h.select('ds', 'b').values()[2]).toBe(2);
    expect(h.entries).toBe(6);
  });

  it('refuses a flat array that is neither per event nor jagged, saying which it is and what to do', () => {
    const e = caught(() => new Hist(axis()).fill(pt, { weight: new Float64Array(6) }));
    expect(e).toBeInstanceOf(FillError);
    expect(e.message).toContain(
      "weight is Float64Array(6) but axis 0 'pt' is a jagged array (4 events, 6 values of Float64Array)",
    );
    expect(e.message).toContain('flattened already');
    const e2 = caught(() => new Hist(axis()).fill(pt, { weight: [1, 2, 3] }));
    expect(e2.message).toContain('one entry per event (4)');
  });

  it('refuses jagged arrays of different structure, naming the first differing event', () => {
    const other = jag([[1, 2], [], [3], [4]]);
    const e = caught(() => new Hist(axis(), axis()).fill(pt, other));
    expect(e).toBeInstanceOf(FillError);
    expect(e.message).toContain("event 2 has 1 value(s) in axis 1 'pt' but 3 in axis 0 'pt'");
  });

  it('messages name what was passed', () => {
    const two = new Hist(axis(), new Regular(2, 0, 1, { name: 'eta' }));
    expect(caught(() => two.fill(pt)).message).toContain(
      "fill got 1 value argument (jagged array (4 events, 6 values of Float64Array)) for 2 axes ('pt', 'eta')",
    );
    const collection = {
      offsets: Int32Array.from([0, 1]),
      fields: { pt: Float32Array.from([1]), eta: Float32Array.from([0]) },
    };
    const e = caught(() => new Hist(axis()).fill(collection as never));
    expect(e.message).toContain('a collection of 1 events with fields pt, eta');
    expect(e.message).toContain('fill one of them');
    const doubly = { offsets: Int32Array.from([0, 2]), content: jag([[1], [2, 3]]) };
    const d = caught(() => new Hist(axis()).fill(doubly as never));
    expect(d.message).toContain('a doubly jagged array (1 events, lists of lists)');
    expect(d.message).toContain('fill its .content');
    const typo = caught(() => new Hist(axis()).fill([1, 2], { weights: [1, 1] } as never));
    expect(typo.message).toContain(
      "fill got 2 value arguments (array(2 of number), an object with keys weights) for 1 axis ('pt')",
    );
    expect(typo.message).toContain('fill options are { weight, sample }');
    expect(caught(() => new Hist(axis()).fill(pt, { weight: 'x' as never })).message).toContain(
      'weight must be a number, numeric array or jagged array, got string "x"',
    );
  });

  it('on a real NanoAOD file: muon pt weighted by genWeight equals a loop over the events', async () => {
    const r = await openParquet(sharedPath('data', 'nano_dy.parquet'));
    const cols = await r.read(['Muon_pt', 'genWeight'], 0, r.numEntries);
    const mpt = cols.Muon_pt as Jagged;
    const gw = cols.genWeight as Float32Array;
    const h = new Hist(new Regular(20, 0, 100, { name: 'pt' }), { storage: new Weight() }).fill(mpt, { weight: gw });
    const naive = new Hist(new Regular(20, 0, 100, { name: 'pt' }), { storage: new Weight() });
    let n = 0;
    for (let e = 0; e < r.numEntries; e++) {
      for (let j = mpt.offsets[e]; j < mpt.offsets[e + 1]; j++) {
        naive.fill(mpt.content[j], { weight: gw[e] });
        n++;
      }
    }
    expect(n).toBeGreaterThan(0);
    expect(h.entries).toBe(n);
    expect(Array.from(h.values({ flow: true }))).toEqual(Array.from(naive.values({ flow: true })));
    // the events layer hands processors the same jagged form
    const { result } = await runOnEvents(r, 0, r.numEntries, (ev) =>
      new Hist(new Regular(20, 0, 100), { storage: new Weight() })
        .fill(ev.Muon.pt, { weight: ev.genWeight })
        .values({ flow: true }),
    );
    expect(Array.from(result)).toEqual(Array.from(naive.values({ flow: true })));
    await r.close();
  });
});
