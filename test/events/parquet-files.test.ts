/** The events layer over the real Parquet files (flat and nested layouts of the same 1,000 events). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MissingBranchError, runOnEvents } from '../../src/events/index.ts';
import { openParquet } from '../../src/io/parquet/index.ts';
import type { EventReader } from '../../src/io/reader.ts';
import { sharedPath } from '../shared.ts';
import { flatRows, naiveSingleMu, singleMu, type SingleMuResult } from './singlemu-processor.ts';

const FLAT = sharedPath('data', 'Run2012B_SingleMu-1000.parquet');
const NESTED = sharedPath('data', 'Run2012B_SingleMu-restructured-1000.parquet');

describe('Run2012B SingleMu, Parquet', () => {
  let flat: EventReader;
  let nested: EventReader;
  let naive: SingleMuResult;
  beforeAll(async () => {
    flat = await openParquet(FLAT);
    nested = await openParquet(NESTED);
    naive = naiveSingleMu(await flatRows(FLAT, 0, 1000));
  });
  afterAll(async () => {
    await flat?.close();
    await nested?.close();
  });

  it('gives the naive per-row result on the flat layout, reading only what it touches', async () => {
    const out = await runOnEvents(flat, 0, 1000, singleMu);
    expect(out.result).toEqual(naive);
    expect(naive.eventsZmumu).toBeGreaterThan(0);
    expect(naive.eventsTwoJets40).toBeGreaterThan(0);
    // Muon_jetIdx is −1 throughout this 2012 sample; real links are checked on nano_dy.
    // Muon.jetIdxG needs the Jet offsets, taken from Jet_pt/Jet_eta when loaded or from nJet.
    expect(
      out.columnsRead.every((c) =>
        /^(MET_pt|HLT_IsoMu24|Jet_(pt|eta)|Muon_(pt|eta|phi|mass|charge|jetIdx)|nJet|nMuon)$/.test(c),
      ),
    ).toBe(true);
    expect(out.columnsRead.length).toBeLessThan(flat.branches().length / 5);
    expect(out.columnsReadOnAccess).toEqual(out.columnsRead);
    expect(out.bytesRead).toBeGreaterThan(0);
  });

  it('gives the identical result on the nested (restructured) layout', async () => {
    const out = await runOnEvents(nested, 0, 1000, singleMu);
    expect(out.result).toEqual(naive);
  });

  it('reads everything up front once the columns of an earlier chunk are prefetched', async () => {
    const first = await runOnEvents(flat, 0, 400, singleMu);
    const second = await runOnEvents(flat, 400, 1000, singleMu, { prefetch: first.columnsRead });
    expect(second.columnsReadOnAccess).toEqual([]);
    expect(second.columnsRead).toEqual(first.columnsRead);
    expect(second.result).toEqual(naiveSingleMu(await flatRows(FLAT, 400, 1000)));
  });

  it('names the file and the closest branches for a misspelt field', async () => {
    const err = await runOnEvents(flat, 0, 10, (e) => e.Muon.ptt).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(MissingBranchError);
    expect((err as Error).message).toContain(`no branch Muon_ptt in ${FLAT} tree Events; closest: Muon_pt, `);
  });
});
