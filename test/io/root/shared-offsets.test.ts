/**
 * Jagged columns of one collection share their offsets array when their counts agree, and nothing the
 * reader reuses between reads can change a column it handed out earlier: a processor that keeps a chunk's
 * columns (an accumulator of columns) still sees that chunk's values after the next chunks are read.
 * Every expected value comes from jsroot's own entry-by-entry reading.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Jagged } from '../../../src/columnar/types.ts';
import { openRoot, type RootReader } from '../../../src/io/root/index.ts';
import { columnEvents } from '../../helpers/columns.ts';
import { sharedPath } from '../../shared.ts';
import { expectSameEntries } from './compare.ts';
import { jsrootRead } from './jsroot-reference.ts';

const RUN2012 = sharedPath('data', 'Run2012B_SingleMu_10000.root');
const JET = ['Jet_pt', 'Jet_eta', 'Jet_phi'];

describe('offsets shared within a collection, columns kept across reads', () => {
  let reader: RootReader;
  beforeAll(async () => {
    reader = await openRoot(RUN2012);
  });
  afterAll(() => reader.close());

  it('fields of one collection read together get one offsets array, with jsroot’s values', async () => {
    const want = await jsrootRead(RUN2012, 'Events', JET, 1234, 5678);
    const got = await reader.read(JET, 1234, 5678);
    const pt = got.Jet_pt as Jagged;
    expect((got.Jet_eta as Jagged).offsets).toBe(pt.offsets);
    expect((got.Jet_phi as Jagged).offsets).toBe(pt.offsets);
    for (const n of JET) expectSameEntries(columnEvents(got[n]), want[n], n);
  });

  it('a field read on its own after another of its collection shares that one’s offsets', async () => {
    const pt = (await reader.read(['Jet_pt'], 100, 2100)).Jet_pt as Jagged;
    const eta = (await reader.read(['Jet_eta'], 100, 2100)).Jet_eta as Jagged;
    expect(eta.offsets).toBe(pt.offsets);
    // A different range, or another collection, never gets them.
    expect(((await reader.read(['Jet_eta'], 100, 2000)).Jet_eta as Jagged).offsets).not.toBe(pt.offsets);
    const mu = (await reader.read(['Muon_pt'], 100, 2100)).Muon_pt as Jagged;
    expect(mu.offsets).not.toBe(pt.offsets);
    const want = await jsrootRead(RUN2012, 'Events', ['Jet_eta', 'Muon_pt'], 100, 2100);
    expectSameEntries(columnEvents(eta), want.Jet_eta, 'Jet_eta');
    expectSameEntries(columnEvents(mu), want.Muon_pt, 'Muon_pt');
  });

  it('offsets a processor overwrote are not handed to the next field', async () => {
    const pt = (await reader.read(['Jet_pt'], 3000, 4000)).Jet_pt as Jagged;
    pt.offsets.fill(0); // a processor scribbling on its input
    const eta = (await reader.read(['Jet_eta'], 3000, 4000)).Jet_eta as Jagged;
    expect(eta.offsets).not.toBe(pt.offsets);
    const want = await jsrootRead(RUN2012, 'Events', ['Jet_eta'], 3000, 4000);
    expectSameEntries(columnEvents(eta), want.Jet_eta, 'Jet_eta');
  });

  it('offsets a processor changed inside, totals kept, are not handed to the next field', async () => {
    const pt = (await reader.read(['Jet_pt'], 5000, 6000)).Jet_pt as Jagged;
    // Move one boundary between two entries of different sizes: the first and last offsets stay.
    const o = pt.offsets;
    let i = 0;
    while (o[i + 1] - o[i] === o[i + 2] - o[i + 1]) i++;
    o[i + 1] = o[i] + (o[i + 2] - o[i + 1]);
    const eta = (await reader.read(['Jet_eta'], 5000, 6000)).Jet_eta as Jagged;
    expect(eta.offsets).not.toBe(pt.offsets);
    const want = await jsrootRead(RUN2012, 'Events', ['Jet_eta'], 5000, 6000);
    expectSameEntries(columnEvents(eta), want.Jet_eta, 'Jet_eta');
  });

  it('columns kept from one chunk keep their values while the next chunks are read', async () => {
    const chunks: [number, number][] = [
      [0, 2500],
      [2500, 5000],
      [5000, 7500],
      [7500, 10000],
    ];
    const names = [...JET, 'Muon_pt', 'MET_pt'];
    const kept = [];
    for (const [a, b] of chunks) {
      kept.push(await reader.read(names, a, b));
      // Also through the synchronous path, which the runner uses for a processor's first touch.
      reader.readSync?.(names, a, b);
    }
    for (let k = 0; k < chunks.length; k++) {
      const want = await jsrootRead(RUN2012, 'Events', names, ...chunks[k]);
      for (const n of names) expectSameEntries(columnEvents(kept[k][n]), want[n], `${n} of chunk ${k}`);
    }
  });
});
