/**
 * A processor runs from its bundle, with its own copy of Ristretto's classes; the runner decodes and
 * merges results with its copy. `instanceof` in the user's postprocess must still hold for the
 * histograms, axes, storages and weight statistics the runner hands back (src/accumulate/brand.ts),
 * on the in-process executor and across worker threads, and must stay false for unrelated values. The
 * same for errors: the runner's events throw their copy's MissingBranchError into the processor's code.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { executorFactory } from '../../executors/index.ts';
import { Hist, Regular } from '../../src/hist/index.ts';
import { runAnalysis } from '../../src/runner/run.ts';
import type { Checks } from '../fixtures/processors/instanceof-checks.ts';
import { fixture, PARQUET_FILE, useTempDir, writeJson } from '../runner/helpers.ts';

let dataset: string;
useTempDir(async (d) => {
  dataset = await writeJson(join(d, 'ds.json'), { pq: { files: { [PARQUET_FILE()]: 'Events' } } });
});

const EXPECTED = {
  hist: true,
  regular: true,
  strCategory: true,
  intCategory: true,
  variable: true,
  boolean: true,
  weight: true,
  weightStatistics: true,
  selection: true,
  named: true,
  regularIsNotHist: false,
  plainObjectIsNotHist: false,
};

describe('instanceof across the bundle and the runner', () => {
  it('holds in postprocess for what the runner merged, on iterative and threads', async () => {
    for (const executor of [undefined, executorFactory('threads')]) {
      const r = await runAnalysis<Checks>({
        fileset: dataset,
        processor: fixture('instanceof-checks.ts'),
        chunksize: 400,
        ...(executor ? { executor, workers: 2 } : {}),
      });
      expect(r.metrics.chunks).toBeGreaterThan(1);
      expect(r.accumulator.checks).toEqual(EXPECTED);
      // And from this side: the runner's result is an instance of the test's (source) copy too.
      expect(r.accumulator.met instanceof Hist).toBe(true);
      expect(r.accumulator.met.axes[0] instanceof Regular).toBe(true);
      expect(r.accumulator.stats.sum).toBe(3 * r.metrics.chunks);
      // Errors too: every chunk's processor saw the runner's MissingBranchError as its MissingColumnError.
      const n = r.metrics.chunks;
      expect(r.accumulator.errors).toEqual({ missingColumn: n, ristretto: n, notHist: n });
    }
  });

  it('a subclass that is not branded itself keeps the plain test', () => {
    class Mine extends Hist {}
    const h = new Hist(new Regular(2, 0, 1));
    const m = new Mine(new Regular(2, 0, 1));
    expect(m instanceof Hist).toBe(true);
    expect(m instanceof Mine).toBe(true);
    expect(h instanceof Mine).toBe(false);
  });
});
