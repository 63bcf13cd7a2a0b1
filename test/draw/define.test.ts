/**
 * `events.define`: an expression becomes an event-level column, through runOnEvents and through a bundled
 * processor run by runAnalysis; results equal a naive loop over the raw columns; misuse is a DefineError.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { executorFactory } from '../../executors/index.ts';
import { DefineError } from '../../src/events/errors.ts';
import { runOnEvents } from '../../src/events/run.ts';
import type { Hist } from '../../src/hist/hist.ts';
import { openReader } from '../../src/io/open.ts';
import { runAnalysis } from '../../src/runner/run.ts';
import { repoRoot, sharedPath } from '../shared.ts';

const FLAT = sharedPath('data', 'Run2012B_SingleMu-1000.parquet');

/** HT and MET per event by a plain loop over the file's columns. */
async function naive(): Promise<{ ht: number[]; met: number[] }> {
  const reader = await openReader(FLAT);
  try {
    const c = await reader.read(['Jet_pt', 'MET_pt'], 0, reader.numEntries);
    const jet = c.Jet_pt as { offsets: Int32Array; content: Float32Array };
    const met = Array.from(c.MET_pt as Float32Array);
    const ht = met.map((_, e) => {
      let s = 0;
      for (let i = jet.offsets[e]; i < jet.offsets[e + 1]; i++) if (jet.content[i] > 30) s += jet.content[i];
      return s;
    });
    return { ht, met };
  } finally {
    await reader.close();
  }
}

describe('events.define', () => {
  it('adds a column equal to a naive loop, usable by name and in later expressions', async () => {
    const { ht, met } = await naive();
    const reader = await openReader(FLAT);
    try {
      const { result } = await runOnEvents(reader, 100, 600, (events) => {
        const h = events.define('ht', 'sum(Jet.pt[Jet.pt > 30])');
        const r = events.define('twice', '2 * ht + MET_pt');
        return { h, byName: events.ht, r };
      });
      expect(result.byName).toBe(result.h);
      expect(Array.from(result.h)).toEqual(ht.slice(100, 600).map((v) => expect.closeTo(v, 9)));
      expect(Array.from(result.r)).toEqual(ht.slice(100, 600).map((v, i) => expect.closeTo(2 * v + met[100 + i], 9)));
    } finally {
      await reader.close();
    }
  });

  it('rejects a used name and an expression without one value per event', async () => {
    const reader = await openReader(FLAT);
    try {
      await expect(runOnEvents(reader, 0, 50, async (events) => events.define('Jet', 'MET_pt'))).rejects.toThrow(
        DefineError,
      );
      await expect(runOnEvents(reader, 0, 50, async (events) => events.define('jets', 'Jet_pt'))).rejects.toThrow(
        /gives \d+ values for 50 events/,
      );
      await expect(runOnEvents(reader, 0, 50, async (events) => events.define('x', 'Jet_ptt'))).rejects.toThrow(
        /closest: Jet_pt/,
      );
    } finally {
      await reader.close();
    }
  });

  it.each(['iterative', 'threads'] as const)(
    'works in a bundled processor run by runAnalysis (%s executor)',
    async (executor) => {
      const { ht, met } = await naive();
      const out = await runAnalysis<Record<string, Hist>>({
        fileset: [{ name: 'singlemu', files: [{ path: FLAT, tree: 'Events' }], metadata: {} }],
        processor: join(repoRoot, 'test', 'draw', 'fixtures', 'define-ht.ts'),
        executor: executor === 'threads' ? executorFactory('threads') : 'iterative',
        workers: executor === 'threads' ? 2 : undefined,
        chunksize: 300,
        cacheFile: false,
      });
      const count = (vals: number[], n: number, lo: number, hi: number) => {
        const c = new Array<number>(n + 2).fill(0);
        for (const v of vals) c[v < lo ? 0 : v >= hi ? n + 1 : 1 + Math.floor(((v - lo) / (hi - lo)) * n)]++;
        return c;
      };
      expect(Array.from(out.accumulator.ht.values({ flow: true }))).toEqual(count(ht, 40, 0, 400));
      expect(Array.from(out.accumulator.htOverMet.values({ flow: true }))).toEqual(
        count(
          ht.map((h, i) => h / met[i]),
          40,
          0,
          20,
        ),
      );
    },
  );
});
