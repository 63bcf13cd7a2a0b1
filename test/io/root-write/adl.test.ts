/**
 * The nested-layout ADL Parquet file converted to a NanoAOD-style flat ROOT file must give the same
 * analysis: all eight ADL queries run through runAnalysis on both files give identical histograms, and
 * queries 1–5 on the ROOT file match the published reference histograms (independent of Ristretto).
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Hist } from '../../../src/hist/hist.ts';
import { convert } from '../../../src/io/convert.ts';
import { openParquet } from '../../../src/io/parquet/index.ts';
import { runAnalysis } from '../../../src/runner/run.ts';
import { processorPath, readRef, refRows } from '../../adl/helpers.ts';
import { tempDir } from '../../helpers/files.ts';
import { sharedPath } from '../../shared.ts';

const NESTED = sharedPath('data', 'Run2012B_SingleMu-restructured-1000.parquet');
const dir = tempDir('root-write-adl');
const OUT = join(dir, 'adl.root');

const BINNING: Record<string, [number, number, number]> = {
  'query-1': [100, 0, 2000],
  'query-2': [100, 15, 60],
  'query-3': [100, 15, 60],
  'query-4': [100, 0, 2000],
  'query-5': [100, 0, 2000],
};

async function run(query: string, file: string): Promise<Record<string, Hist>> {
  const out = await runAnalysis<Record<string, Hist>>({
    fileset: [{ name: 'singlemu', files: [{ path: file, tree: 'Events' }], metadata: {} }],
    processor: processorPath(query),
    executor: 'iterative',
    chunksize: 300,
    cacheFile: false,
  });
  return out.accumulator;
}

beforeAll(async () => {
  const input = await openParquet(NESTED);
  try {
    // small chunks: several clusters and baskets per branch
    await convert(input, OUT, { chunkSize: 256, compression: 'lz4' });
  } finally {
    await input.close();
  }
}, 120_000);

describe('ADL on nested Parquet converted to ROOT', () => {
  it.each(['query-1', 'query-2', 'query-3', 'query-4', 'query-5', 'query-6', 'query-7', 'query-8'])(
    '%s: same histograms from both files',
    async (query) => {
      const fromRoot = await run(query, OUT);
      const fromParquet = await run(query, NESTED);
      expect(Object.keys(fromRoot).sort()).toEqual(Object.keys(fromParquet).sort());
      for (const [k, h] of Object.entries(fromParquet)) {
        expect(Array.from(fromRoot[k].values({ flow: true })), `${query} ${k}`).toEqual(
          Array.from(h.values({ flow: true })),
        );
        expect(fromRoot[k].entries).toBe(h.entries);
      }
      const binning = BINNING[query];
      if (binning) {
        const [bins, lo, hi] = binning;
        const rows = refRows(fromRoot[query].values({ flow: true }), bins, lo, hi);
        const ref = readRef(query);
        expect(rows.map((r) => r.y)).toEqual(ref.map((r) => r.y));
        expect(rows.map((r) => r.x)).toEqual(ref.map((r) => expect.closeTo(r.x, 6)));
      }
    },
    120_000,
  );
});
