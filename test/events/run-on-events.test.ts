import { describe, expect, it } from 'vitest';
import {
  MissingBranchError,
  ColumnNotLoadedError,
  InvalidEntryRangeError,
  SyncReadUnavailableError,
  runOnEvents,
} from '../../src/events/index.ts';
import type { Events } from '../../src/events/index.ts';
import { MemoryReader, toyBranches, toyEvents } from './memory-reader.ts';
import type { ToyEvent } from './memory-reader.ts';

const EVENTS = toyEvents(200);
const reader = () => new MemoryReader('mem://toy', toyBranches(EVENTS));

/** Processor under test: sum of leading-muon pt for events with ≥ 2 muons, and MET of those events. */
function leadingMuon(events: Events): { n: number; sumPt: number; sumMet: number } {
  const off = events.Muon.offsets;
  const pt = events.Muon.pt.content;
  const met = events.MET.pt;
  let n = 0;
  let sumPt = 0;
  let sumMet = 0;
  for (let i = 0; i < events.numEvents; i++) {
    if (off[i + 1] - off[i] < 2) continue;
    n++;
    sumPt += pt[off[i]];
    sumMet += met[i];
  }
  return { n, sumPt, sumMet };
}

function naiveLeadingMuon(evs: ToyEvent[]) {
  let n = 0;
  let sumPt = 0;
  let sumMet = 0;
  for (const e of evs) {
    if (e.muons.length < 2) continue;
    n++;
    sumPt += e.muons[0].pt;
    sumMet += e.metPt;
  }
  return { n, sumPt, sumMet };
}

describe('runOnEvents: lazy loading', () => {
  it('reads only the branches the processor touches, calling it once and reading each on first access', async () => {
    const r = reader();
    let calls = 0;
    const out = await runOnEvents(r, 0, r.numEntries, (e) => {
      calls++;
      return leadingMuon(e);
    });
    expect(calls).toBe(1);
    expect(out.result).toEqual(naiveLeadingMuon(EVENTS));
    // Muon.offsets is touched before any Muon field is loaded, so it asks for the counts branch; once
    // Muon_pt is loaded too, the counts branch is not needed (the next chunks take lengths from Muon_pt).
    expect(out.columnsRead).toEqual(['MET_pt', 'Muon_pt', 'nMuon']);
    expect(out.columnsAccessed).toEqual(['MET_pt', 'Muon_pt']);
    expect(out.columnsReadOnAccess).toEqual(['MET_pt', 'Muon_pt', 'nMuon']);
    expect(r.syncReads).toEqual([['nMuon'], ['Muon_pt'], ['MET_pt']]);
    expect(r.reads).toEqual(r.syncReads);
    expect(out.bytesRead).toBe(r.bytesRead);
  });

  it('reads misses synchronously on a cold chunk and everything up front with prefetch', async () => {
    const r = reader();
    const fn = (e: Events) => {
      const a = e.Muon.pt.content.length;
      const b = e.MET.pt.length;
      const c = e.run.length;
      return a + b + c;
    };
    const first = await runOnEvents(r, 0, 50, fn);
    expect(first.columnsRead).toEqual(['MET_pt', 'Muon_pt', 'run']);
    expect(r.syncReads).toEqual([['Muon_pt'], ['MET_pt'], ['run']]);

    const r2 = reader();
    const second = await runOnEvents(r2, 50, 100, fn, { prefetch: first.columnsRead });
    expect(r2.reads).toEqual([['MET_pt', 'Muon_pt', 'run']]);
    expect(r2.syncReads).toEqual([]);
    expect(second.columnsReadOnAccess).toEqual([]);
    const naive = EVENTS.slice(50, 100).reduce((s, e) => s + e.muons.length, 0) + 50 + 50;
    expect(second.result).toBe(naive);
  });

  it('calls a processor with side effects once, also when it touches a column only in some chunks', async () => {
    const r = reader();
    const log: string[] = [];
    // Jet_pt is read only for chunks starting at an odd entry: the prefetch from the first chunk lacks it.
    const fn = (e: Events) => {
      log.push(`chunk ${e.entryStart}`);
      let s = e.MET.pt.length;
      if (e.entryStart % 2 === 1) s += e.Jet.pt.content.length;
      log.push(`  muons ${e.Muon.pt.content.length}`);
      return s;
    };
    const first = await runOnEvents(r, 0, 40, fn);
    const second = await runOnEvents(r, 41, 80, fn, { prefetch: first.columnsRead });
    expect(log).toEqual([
      'chunk 0',
      `  muons ${EVENTS.slice(0, 40).reduce((s, e) => s + e.muons.length, 0)}`,
      'chunk 41',
      `  muons ${EVENTS.slice(41, 80).reduce((s, e) => s + e.muons.length, 0)}`,
    ]);
    expect(second.columnsReadOnAccess).toEqual(['Jet_pt']);
    expect(second.result).toBe(39 + EVENTS.slice(41, 80).reduce((s, e) => s + e.jets.length, 0));
  });

  it('ignores prefetch names the file lacks and still reads nothing untouched', async () => {
    const r = reader();
    const out = await runOnEvents(r, 0, 10, (e) => e.run[0], { prefetch: ['run', 'Muon_ptt'] });
    expect(out.result).toBe(EVENTS[0].run);
    expect(out.columnsReadOnAccess).toEqual([]);
    expect(out.columnsRead).toEqual(['run']);
  });

  it('a chunk that prefetches what the previous one accessed reads no counts branch, with the same result', async () => {
    const r = reader();
    const first = await runOnEvents(r, 0, 100, leadingMuon);
    const second = await runOnEvents(r, 100, 200, leadingMuon, { prefetch: first.columnsAccessed });
    expect(second.columnsRead).toEqual(['MET_pt', 'Muon_pt']);
    expect(second.columnsAccessed).toEqual(['MET_pt', 'Muon_pt']);
    expect(second.columnsReadOnAccess).toEqual([]);
    expect(second.result).toEqual(naiveLeadingMuon(EVENTS.slice(100, 200)));
  });

  it('keeps the counts branch as accessed when only counts are used, or when the processor reads it itself', async () => {
    const r = reader();
    const countsOnly = await runOnEvents(r, 0, 50, (e) => e.Muon.counts.reduce((a, b) => a + b, 0));
    expect(countsOnly.result).toBe(EVENTS.slice(0, 50).reduce((a, ev) => a + ev.muons.length, 0));
    expect(countsOnly.columnsAccessed).toEqual(['nMuon']);
    const explicit = await runOnEvents(r, 0, 50, (e) => {
      const off = e.Muon.offsets; // lengths first (from nMuon), then a field and nMuon by name
      return off[50] + e.Muon.pt.content.length + (e.column('nMuon') as Int32Array).length;
    });
    expect(explicit.columnsAccessed).toEqual(['Muon_pt', 'nMuon']);
  });

  it('reports prefetched-but-unused branches in columnsRead but not in columnsAccessed', async () => {
    const r = reader();
    const out = await runOnEvents(r, 0, 10, (e) => e.MET.pt[1], { prefetch: ['MET_pt', 'Jet_pt'] });
    expect(out.result).toBe(EVENTS[1].metPt);
    expect(out.columnsRead).toEqual(['Jet_pt', 'MET_pt']);
    expect(out.columnsAccessed).toEqual(['MET_pt']);
  });

  it('rethrows the processor’s own error untouched, also after reading on access', async () => {
    const r = reader();
    const mine = new TypeError('processor bug');
    await expect(
      runOnEvents(r, 0, 10, () => {
        throw mine;
      }),
    ).rejects.toBe(mine);
    await expect(
      runOnEvents(r, 0, 10, (e) => {
        if (e.MET.pt.length > 0) throw mine;
        return 0;
      }),
    ).rejects.toBe(mine);
    await expect(runOnEvents(r, 0, 10, async () => Promise.reject(mine))).rejects.toBe(mine);
  });

  it('a failed read on access reaches the processor and the caller as the reader’s error', async () => {
    const r = reader();
    const broken = new RangeError('disk on fire');
    r.readSync = () => {
      throw broken;
    };
    let caught: unknown;
    const err = await runOnEvents(r, 0, 10, (e) => {
      try {
        return e.MET.pt.length;
      } catch (x) {
        caught = x;
        throw x;
      }
    }).catch((x: unknown) => x);
    expect(caught).toBe(broken);
    expect(err).toBe(broken);
  });

  it('says what to do when the reader can neither read synchronously nor be reopened', async () => {
    const r = reader();
    Object.assign(r, { readSync: undefined });
    const err = await runOnEvents(r, 0, 10, (e) => e.MET.pt.length).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(SyncReadUnavailableError);
    expect((err as Error).message).toMatch(
      /column MET_pt of mem:\/\/toy tree Events was not prefetched.*readSync.*prefetch/,
    );
    const ok = await runOnEvents(r, 0, 10, (e) => e.MET.pt.length, { prefetch: ['MET_pt'] });
    expect(ok.result).toBe(10);
  });

  it('validates the entry range', async () => {
    const r = reader();
    await expect(runOnEvents(r, 5, 4, () => 0)).rejects.toBeInstanceOf(InvalidEntryRangeError);
    await expect(runOnEvents(r, 0, r.numEntries + 1, () => 0)).rejects.toThrow(/not within \[0, 200\]/);
    await expect(runOnEvents(r, 0.5, 3, () => 0)).rejects.toBeInstanceOf(InvalidEntryRangeError);
  });

  it('works on a sub-range and on an empty range', async () => {
    const r = reader();
    const out = await runOnEvents(r, 37, 151, leadingMuon);
    expect(out.result).toEqual(naiveLeadingMuon(EVENTS.slice(37, 151)));
    const empty = await runOnEvents(r, 20, 20, leadingMuon);
    expect(empty.result).toEqual({ n: 0, sumPt: 0, sumMet: 0 });
  });

  it('supports async processors', async () => {
    const r = reader();
    const out = await runOnEvents(r, 0, 30, async (e) => {
      await new Promise((res) => setTimeout(res, 1));
      let s = 0;
      for (const x of e.nMuon) s += x;
      return s;
    });
    expect(out.result).toBe(EVENTS.slice(0, 30).reduce((s, e) => s + e.muons.length, 0));
    expect(out.columnsRead).toEqual(['nMuon']);
  });

  it('lets a processor return parts of events (probes like `then` do not throw)', async () => {
    const r = reader();
    const out = await runOnEvents(r, 0, 5, async (e) => (e.MET.pt ? e.MET : undefined));
    expect(out.result!.pt).toBeInstanceOf(Float32Array);
  });
});

describe('runOnEvents: missing branches', () => {
  it('names the branch, the file, the tree and the closest branches for a collection field', async () => {
    const r = reader();
    const err = await runOnEvents(r, 0, 10, (e) => e.Muon.ptt).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(MissingBranchError);
    expect((err as Error).message).toMatch(/^no branch Muon_ptt in mem:\/\/toy tree Events; closest: Muon_pt, /);
    expect((err as MissingBranchError).closest[0]).toBe('Muon_pt');
    expect(r.reads).toEqual([]);
  });

  it('does the same through fields, records and top-level names', async () => {
    const r = reader();
    const msg = async (fn: (e: Events) => unknown) =>
      ((await runOnEvents(r, 0, 10, fn).catch((x: unknown) => x)) as Error).message;
    expect(await msg((e) => e.Jet.fields.etaa)).toMatch(
      /^no branch Jet_etaa in mem:\/\/toy tree Events; closest: Jet_eta,/,
    );
    expect(await msg((e) => e.HLT.IsoMu2)).toMatch(/^no branch HLT_IsoMu2 in .*; closest: HLT_IsoMu24/);
    expect(await msg((e) => e.Muons)).toMatch(/^no branch or collection Muons in .*; closest: Muon,/);
    expect(await msg((e) => e.column('MET_ptt'))).toMatch(/^no branch MET_ptt in .*; closest: MET_pt,/);
  });

  it('lets `in` probe optional fields without throwing', async () => {
    const r = reader();
    const out = await runOnEvents(r, 0, 10, (e) => ['pt' in e.Muon, 'ptt' in e.Muon, 'Muon' in e, 'Tau' in e]);
    expect(out.result).toEqual([true, false, true, false]);
  });

  it('explains itself when events are used after runOnEvents returned', async () => {
    const r = reader();
    const { result: kept } = await runOnEvents(r, 0, 10, (e) => e);
    expect(() => kept.Jet.pt).toThrow(ColumnNotLoadedError);
    expect(() => kept.Jet.pt).toThrow(/only inside the function given to runOnEvents/);
    expect(r.reads).toEqual([]);
  });
});
