import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PackedSelection, SelectionError } from '../../src/accumulate/index.ts';

/** Random masks over the same events: k names, n events, each mask biased so cuts keep some events. */
const masksArb = (maxK: number) =>
  fc.integer({ min: 0, max: 300 }).chain((n) =>
    fc
      .array(fc.tuple(fc.integer({ min: 1, max: 9 }), fc.array(fc.nat(9), { minLength: n, maxLength: n })), {
        minLength: 1,
        maxLength: maxK,
      })
      .map((specs) => ({
        n,
        masks: specs.map(([keep, r], j) => ({ name: `cut${j}`, mask: Uint8Array.from(r, (x) => (x < keep ? 1 : 0)) })),
      })),
  );

function build(masks: { name: string; mask: Uint8Array }[], capacity: 32 | 64): PackedSelection {
  const sel = new PackedSelection(capacity);
  for (const m of masks) sel.add(m.name, m.mask);
  return sel;
}

/** A random subset of the names, in random order, plus random required values. */
const pickArb = (k: number) =>
  fc
    .shuffledSubarray([...Array(k).keys()])
    .chain((idx) =>
      fc.tuple(fc.constant(idx), fc.array(fc.boolean(), { minLength: idx.length, maxLength: idx.length })),
    );

describe('PackedSelection against naive per-event loops', () => {
  for (const capacity of [32, 64] as const) {
    it(`all / any / require match (capacity ${capacity})`, () => {
      fc.assert(
        fc.property(
          masksArb(capacity).chain((m) => fc.tuple(fc.constant(m), pickArb(m.masks.length))),
          ([{ n, masks }, [idx, want]]) => {
            const sel = build(masks, capacity);
            const names = idx.map((i) => masks[i].name);
            const all = new Uint8Array(n);
            const any = new Uint8Array(n);
            const req = new Uint8Array(n);
            for (let e = 0; e < n; e++) {
              let a = 1;
              let o = 0;
              let r = 1;
              idx.forEach((i, j) => {
                const pass = masks[i].mask[e] === 1;
                if (!pass) a = 0;
                if (pass) o = 1;
                if (pass !== want[j]) r = 0;
              });
              all[e] = a;
              any[e] = o;
              req[e] = r;
            }
            expect(sel.all(...names)).toEqual(all);
            expect(sel.any(...names)).toEqual(any);
            expect(sel.require(Object.fromEntries(names.map((nm, j) => [nm, want[j]])))).toEqual(req);
          },
        ),
        { numRuns: 80 },
      );
    });

    it(`cutflow and nminusone match (capacity ${capacity})`, () => {
      fc.assert(
        fc.property(
          masksArb(capacity).chain((m) => fc.tuple(fc.constant(m), pickArb(m.masks.length))),
          ([{ n, masks }, [idx]]) => {
            const sel = build(masks, capacity);
            const names = idx.map((i) => masks[i].name);
            const onecut = [n];
            const flow = [n];
            for (let c = 0; c < idx.length; c++) {
              let alone = 0;
              let seq = 0;
              for (let e = 0; e < n; e++) {
                if (masks[idx[c]].mask[e]) alone++;
                let ok = true;
                for (let d = 0; d <= c; d++) if (!masks[idx[d]].mask[e]) ok = false;
                if (ok) seq++;
              }
              onecut.push(alone);
              flow.push(seq);
            }
            const cf = sel.cutflow(...names);
            expect(cf.labels).toEqual(['initial', ...names]);
            expect(cf.onecut).toEqual(onecut);
            expect(cf.cutflow).toEqual(flow);

            const counts = [n];
            for (let skip = 0; skip < idx.length; skip++) {
              let c = 0;
              for (let e = 0; e < n; e++) if (idx.every((i, d) => d === skip || masks[i].mask[e])) c++;
              counts.push(c);
            }
            let passAll = 0;
            for (let e = 0; e < n; e++) if (idx.every((i) => masks[i].mask[e])) passAll++;
            counts.push(passAll);
            const nm1 = sel.nminusone(...names);
            expect(nm1.labels).toEqual(['initial', ...names.map((x) => `N - ${x}`), 'N']);
            expect(nm1.counts).toEqual(counts);
          },
        ),
        { numRuns: 80 },
      );
    });
  }

  it('exposes the packed bits per event (one 32-bit or one 64-bit word)', () => {
    const masks = Array.from({ length: 40 }, (_, j) => ({ name: `c${j}`, mask: Uint8Array.of(j % 2, 1, 0) }));
    const sel = build(masks, 64);
    const packed = sel.packed as BigUint64Array;
    expect(packed).toBeInstanceOf(BigUint64Array);
    let expected0 = 0n;
    for (let j = 0; j < 40; j++) if (j % 2) expected0 |= 1n << BigInt(j);
    expect(packed[0]).toBe(expected0);
    expect(packed[1]).toBe((1n << 40n) - 1n);
    expect(packed[2]).toBe(0n);
    const small = build(masks.slice(0, 3), 32).packed;
    expect(small).toEqual(Uint32Array.of(0b010, 0b111, 0));
  });

  it('treats any non-zero mask byte as passing', () => {
    const sel = new PackedSelection().add('a', Uint8Array.of(0, 2, 255));
    expect(sel.all('a')).toEqual(Uint8Array.of(0, 1, 1));
  });

  it('explains misuse: unknown names with alternatives, lengths, capacity, duplicates', () => {
    const sel = new PackedSelection().add('twoMuons', Uint8Array.of(1, 0)).add('oppositeSign', Uint8Array.of(1, 1));
    expect(() => sel.all('twoMuon')).toThrow(/no selection named "twoMuon" — add it first; closest: twoMuons/);
    expect(() => sel.add('x', Uint8Array.of(1))).toThrow(/has 1 entries but earlier selections have 2/);
    expect(() => sel.add('twoMuons', Uint8Array.of(1, 1))).toThrow(SelectionError);
    expect(() => sel.cutflow('twoMuons', 'twoMuons')).toThrow(/named twice/);
    const full = new PackedSelection(32);
    for (let j = 0; j < 32; j++) full.add(`c${j}`, Uint8Array.of(1));
    expect(() => full.add('c32', Uint8Array.of(1))).toThrow(/at most 32 — construct it with new PackedSelection\(64\)/);
  });

  it('a weighted cutflow sums the weights of the events passing each prefix of cuts', () => {
    const sel = new PackedSelection();
    sel.add('a', Uint8Array.of(1, 1, 0, 1, 1));
    sel.add('b', Uint8Array.of(1, 0, 1, 1, 0));
    const w = Float64Array.of(0.5, 2, 4, -1, 8);
    const cf = sel.cutflow('a', 'b', { weight: w });
    // by hand: all 13.5; a: 0.5+2-1+8 = 9.5; a&b: 0.5-1 = -0.5; b alone: 0.5+4-1 = 3.5
    expect(cf.labels).toEqual(['initial', 'a', 'b']);
    expect(cf.cutflow).toEqual([13.5, 9.5, -0.5]);
    expect(cf.onecut).toEqual([13.5, 9.5, 3.5]);
    expect(() => sel.cutflow('a', { weight: Float64Array.of(1) })).toThrow(/1 entries for 5 events/);
  });
});
