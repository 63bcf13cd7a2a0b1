/**
 * Parquet (nested layout): fields of one collection read together share one offsets array, and columns a
 * processor keeps from one read keep their values while later reads run. Expected values are jsroot's
 * reading of the ROOT file the Parquet file was made from (its first 1000 events).
 */
import { describe, expect, it } from 'vitest';
import type { Jagged } from '../../src/columnar/types.ts';
import { openParquet } from '../../src/io/parquet/index.ts';
import { columnEvents } from '../helpers/columns.ts';
import { sharedPath } from '../shared.ts';
import { expectSameEntries } from './root/compare.ts';
import { jsrootRead } from './root/jsroot-reference.ts';

const ROOT = sharedPath('data', 'Run2012B_SingleMu_10000.root');
const NESTED = sharedPath('data', 'Run2012B_SingleMu-restructured-1000.parquet');
const JET = ['Jet_pt', 'Jet_eta', 'Jet_phi'];

describe('Parquet: offsets shared within a collection, columns kept across reads', () => {
  it('fields of one collection read together get one offsets array, with jsroot’s values', async () => {
    const pq = await openParquet(NESTED);
    try {
      const got = await pq.read(JET, 0, 1000);
      const pt = got.Jet_pt as Jagged;
      expect((got.Jet_eta as Jagged).offsets).toBe(pt.offsets);
      expect((got.Jet_phi as Jagged).offsets).toBe(pt.offsets);
      const want = await jsrootRead(ROOT, 'Events', JET, 0, 1000);
      for (const n of JET) expectSameEntries(columnEvents(got[n]), want[n], n);
    } finally {
      await pq.close();
    }
  });

  it('columns kept from one read keep their values while the next reads run', async () => {
    const pq = await openParquet(NESTED);
    try {
      const names = [...JET, 'Muon_pt', 'MET_pt'];
      const chunks: [number, number][] = [
        [0, 300],
        [300, 650],
        [650, 1000],
      ];
      const kept = [];
      for (const [a, b] of chunks) {
        kept.push(await pq.read(names, a, b));
        pq.readSync?.(names, a, b);
      }
      for (let k = 0; k < chunks.length; k++) {
        const want = await jsrootRead(ROOT, 'Events', names, ...chunks[k]);
        for (const n of names) expectSameEntries(columnEvents(kept[k][n]), want[n], `${n} of chunk ${k}`);
      }
    } finally {
      await pq.close();
    }
  });
});
