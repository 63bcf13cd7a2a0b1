/**
 * ADL queries 1–5 against the published reference histograms for the first 1,000 events of Run2012B SingleMu,
 * on three inputs holding those same events: the flat-layout Parquet file, the nested-layout Parquet file and
 * the first 1,000 entries of the 10,000-event ROOT file. Every run goes through runAnalysis (bundle, executor,
 * processChunk, merge), with chunk sizes that make the merge of several chunks part of the check.
 */
import { describe, expect, it } from 'vitest';
import { readRef, refRows, runQuery, type Row } from './helpers.ts';

const BINNING: Record<string, [number, number, number]> = {
  'query-1': [100, 0, 2000],
  'query-2': [100, 15, 60],
  'query-3': [100, 15, 60],
  'query-4': [100, 0, 2000],
  'query-5': [100, 0, 2000],
};

const INPUTS = [
  { label: 'flat Parquet', file: 'Run2012B_SingleMu-1000.parquet', chunksize: 300, maxchunks: undefined },
  {
    label: 'nested Parquet',
    file: 'Run2012B_SingleMu-restructured-1000.parquet',
    chunksize: 1000,
    maxchunks: undefined,
  },
  // Chunks of 250 and only the first four: exactly the first 1,000 of the 10,000 entries.
  { label: 'ROOT (first 1,000 entries)', file: 'Run2012B_SingleMu_10000.root', chunksize: 250, maxchunks: 4 },
];

function expectRowsEqual(actual: Row[], expected: Row[]): void {
  expect(actual.map((r) => r.x)).toEqual(expected.map((r) => expect.closeTo(r.x, 6)));
  expect(actual.map((r) => r.y)).toEqual(expected.map((r) => r.y));
}

describe.each(INPUTS)('ADL queries 1–5 on $label', ({ file, chunksize, maxchunks }) => {
  it.each(Object.keys(BINNING))('%s matches the reference bin for bin', async (query) => {
    const [bins, lo, hi] = BINNING[query];
    const hists = await runQuery(query, file, { chunksize, maxchunks });
    expect(Object.keys(hists)).toEqual([query]);
    const h = hists[query];
    const ref = readRef(query);
    expect(ref.length).toBeGreaterThan(3);
    expectRowsEqual(refRows(h.values({ flow: true }), bins, lo, hi), ref);
  });
});
