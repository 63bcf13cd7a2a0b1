import { describe, expect, it } from 'vitest';
import { Hist, Regular, StrCategory } from '../../src/hist/index.ts';
import { ViewState, type ViewUpdate } from '../../src/view/state.ts';

const reg = (n = 4) => new Hist(new Regular(n, 0, n, { name: 'x' }));

function recorder(state: ViewState): ViewUpdate[] {
  const got: ViewUpdate[] = [];
  state.subscribe((u) => got.push(u));
  return got;
}

describe('ViewState', () => {
  it('publishes only the histograms whose contents changed, with a new version', () => {
    const state = new ViewState({ throttleMs: 1e9 });
    const got = recorder(state);
    const a = reg();
    const b = reg();
    const acc = { a, nested: { b }, counter: 3 };
    state.setAccumulator(acc);
    state.flush();
    expect(got).toHaveLength(1);
    expect(got[0].hists.map((h) => h.key).sort()).toEqual(['a', 'nested/b']);
    const va = got[0].hists.find((h) => h.key === 'a')!.version;
    const vb = got[0].hists.find((h) => h.key === 'nested/b')!.version;

    a.fill(Float64Array.of(1.5, 2.5));
    state.setAccumulator(acc);
    state.flush();
    expect(got).toHaveLength(2);
    expect(got[1].hists.map((h) => h.key)).toEqual(['a']);
    expect(got[1].hists[0].version).toBeGreaterThan(va);
    expect(got[1].hists[0].total).toBe(2);

    // same contents again: nothing to publish
    state.setAccumulator(acc);
    state.flush();
    expect(got).toHaveLength(2);
    expect(state.snapshot().hists.find((h) => h.key === 'nested/b')!.version).toBe(vb);

    // a histogram that disappears is listed as removed
    state.setAccumulator({ a });
    state.flush();
    expect(got[2].removed).toEqual(['nested/b']);
    expect(got[2].hists).toEqual([]);
  });

  it('coalesces updates within the interval into one publication of what changed', () => {
    const state = new ViewState({ throttleMs: 1e9 });
    const got = recorder(state);
    const a = reg(10);
    const b = reg(10);
    state.setAccumulator({ a, b });
    state.flush();
    for (let i = 0; i < 50; i++) {
      a.fill(Float64Array.of(i % 10));
      state.setAccumulator({ a, b });
    }
    // the next publication is due in 1e9 ms: nothing went out yet
    expect(got).toHaveLength(1);
    state.flush();
    expect(got).toHaveLength(2);
    expect(got[1].hists.map((h) => h.key)).toEqual(['a']);
    expect(got[1].hists[0].total).toBe(50);
  });

  it('changes seen by a page snapshot between publications still reach the listeners', () => {
    const state = new ViewState({ throttleMs: 1e9 });
    const got = recorder(state);
    const a = reg();
    state.setAccumulator({ a });
    state.flush();
    a.fill(Float64Array.of(0.5));
    state.setAccumulator({ a });
    expect(state.snapshot().hists[0].total).toBe(1); // a new page reads the fresh state...
    state.flush();
    expect(got[1].hists.map((h) => h.key)).toEqual(['a']); // ...and open pages still hear of it
  });

  it('describes histograms: category axes for overlays, growth counts as a change', () => {
    const state = new ViewState({ throttleMs: 1e9 });
    const got = recorder(state);
    const byCat = new Hist(new StrCategory([], { name: 'dataset', growth: true }), new Regular(5, 0, 5, { name: 'x' }));
    const map = new Hist(new Regular(2, 0, 2, { name: 'x' }), new Regular(2, 0, 2, { name: 'y' }));
    const table = new Hist(new StrCategory(['a', 'b'], { name: 'c1' }), new StrCategory(['u'], { name: 'c2' }));
    byCat.fill('DY', Float64Array.of(1, 2, 3));
    state.setAccumulator({ byCat, map, table });
    state.flush();
    const info = Object.fromEntries(got[0].hists.map((h) => [h.key, h]));
    expect(info['byCat'].categoryAxis).toBe(0);
    expect(info['byCat'].total).toBe(3);
    expect(info['map'].categoryAxis).toBe(-1);
    expect(info['table'].categoryAxis).toBe(-1);
    byCat.fill('ttbar', Float64Array.of(9)); // overflow bin of a new category
    state.setAccumulator({ byCat, map, table });
    state.flush();
    expect(got[1].hists.map((h) => [h.key, h.total])).toEqual([['byCat', 4]]);
  });
});
