/**
 * The processor runs from its bundle on every executor, with its own copy of Ristretto's classes; the
 * runner merges and encodes with its copy. Columns (ColumnAccumulator) and a binary type the processor
 * registers itself must come through both executors whole, equal to the file read directly.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { executorFactory } from '../../executors/index.ts';
import { runAnalysis } from '../../src/runner/run.ts';
import type { Columns } from '../fixtures/processors/columns.ts';
import { fixture, PARQUET_FILE, readDirect, useTempDir, writeJson } from './helpers.ts';

let dataset: string;
useTempDir(async (d) => {
  dataset = await writeJson(join(d, 'ds.json'), { pq: { files: { [PARQUET_FILE()]: 'Events' } } });
});

describe('accumulators across copies of Ristretto', () => {
  it('columns and a processor-registered binary type merge whole on iterative and threads', async () => {
    const direct = await readDirect(PARQUET_FILE());
    for (const executor of [undefined, executorFactory('threads')]) {
      const r = await runAnalysis<Columns>({
        fileset: dataset,
        processor: fixture('columns.ts'),
        chunksize: 300, // several chunks: the merge order is the items' order
        ...(executor ? { executor, workers: 2 } : {}),
      });
      expect(r.metrics.chunks).toBeGreaterThan(1);
      expect(r.accumulator.met.toArray()).toEqual(Float32Array.from(direct.met));
      expect(r.accumulator.count.n).toBe(direct.met.length);
    }
  });
});
