/** Shared by the ADL tests: running a processor through the real runner, and the published reference CSVs. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Dataset } from '../../src/dataset/fileset.ts';
import type { Hist } from '../../src/hist/hist.ts';
import { executorFactory } from '../../executors/index.ts';
import { runAnalysis } from '../../src/runner/run.ts';
import { repoRoot, sharedPath } from '../shared.ts';

export const processorPath = (name: string): string => resolve(repoRoot, 'processors', 'adl', `${name}.ts`);

export function dataset(file: string): Dataset[] {
  return [{ name: 'singlemu', files: [{ path: sharedPath('data', file), tree: 'Events' }], metadata: {} }];
}

/** Run an ADL processor over a shared data file through runAnalysis (bundled processor, executor, merge). */
export async function runQuery(
  query: string,
  file: string,
  opts: { chunksize?: number; maxchunks?: number; executor?: 'iterative' | 'threads' } = {},
): Promise<Record<string, Hist>> {
  const out = await runAnalysis<Record<string, Hist>>({
    fileset: dataset(file),
    processor: processorPath(query),
    executor: opts.executor === 'threads' ? executorFactory('threads') : 'iterative',
    workers: opts.executor === 'threads' ? 2 : undefined,
    chunksize: opts.chunksize,
    maxchunks: opts.maxchunks,
    cacheFile: false,
  });
  return out.accumulator;
}

export interface Row {
  x: number;
  y: number;
}

/** `adl/refs/<query>.csv`: one row per non-empty bin (x = bin centre, y = count). */
export function readRef(query: string): Row[] {
  const text = readFileSync(sharedPath('adl', 'refs', `${query}.csv`), 'utf8')
    .trim()
    .split(/\r?\n/);
  if (text[0].trim() !== 'x,y') throw new Error(`unexpected header in ${query}.csv: ${text[0]}`);
  return text.slice(1).map((line) => {
    const [x, y] = line.split(',').map(Number);
    return { x: x, y: y };
  });
}

/**
 * Rows of a 1-D histogram in the references' convention, computed from the bin edges given here (not from the
 * histogram's own axis): underflow at lo − width/2, overflow at hi + width/2, empty bins left out.
 */
export function refRows(flowValues: Float64Array, bins: number, lo: number, hi: number): Row[] {
  if (flowValues.length !== bins + 2)
    throw new Error(`expected ${bins + 2} values with flow, got ${flowValues.length}`);
  const w = (hi - lo) / bins;
  const rows: Row[] = [];
  for (let b = 0; b < bins + 2; b++) {
    const y = flowValues[b];
    if (y !== 0) rows.push({ x: lo + (b - 1) * w + w / 2, y });
  }
  return rows;
}
