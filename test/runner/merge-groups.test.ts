/**
 * Merge groups: the cuts that fix the order of every sum. They cover the items in order, never span two
 * files, shrink to single items at the tail, and are the same cuts when a run resumes part-way.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { WorkItem } from '../../src/dataset/chunking.ts';
import type { JobSpec } from '../../src/runner/executor.ts';
import { InProcessExecutor } from '../../src/runner/in-process.ts';
import { batchGroup, mergeGroups } from '../../src/runner/merge-groups.ts';
import { runAnalysis } from '../../src/runner/run.ts';
import type { MetMuons } from '../fixtures/processors/met-muons.ts';
import { fixture, naiveMetMuons, readDirect, ROOT_FILE, useTempDir, writeJson } from './helpers.ts';

let dir: string;
useTempDir((d) => {
  dir = d;
});

function file(name: string, chunks: number): WorkItem[] {
  return Array.from({ length: chunks }, (_, i) => ({
    dataset: 'd',
    file: name,
    tree: 'Events',
    entryStart: i * 100,
    entryStop: (i + 1) * 100,
    fileId: `${name}:1`,
  }));
}

const sizes = (g: ReadonlyArray<readonly [number, number]>) => g.map(([a, b]) => b - a);

describe('merge groups', () => {
  it('one file of 40 chunks: an eighth of what is left, then single chunks for the last 14', () => {
    const g = mergeGroups(file('a', 40));
    // 40/8 → 5, 35/8 → 4, 31/8, 28/8, 25/8 → 3, 22/8 … 16/8 → 2, then fewer than 16 left → 1 each.
    expect(sizes(g)).toEqual([5, 4, 3, 3, 3, 2, 2, 2, 2, ...Array(14).fill(1)]);
    expect(g[0]).toEqual([0, 5]);
    expect(g.at(-1)).toEqual([39, 40]);
  });

  it('covers every item once, in order, at most 16 per group, never across files', () => {
    const items = [...file('a', 3), ...file('b', 250), ...file('c', 1), ...file('d', 37)];
    const g = mergeGroups(items);
    let at = 0;
    for (const [a, b] of g) {
      expect(a).toBe(at);
      expect(b - a).toBeGreaterThanOrEqual(1);
      expect(b - a).toBeLessThanOrEqual(16);
      expect(new Set(items.slice(a, b).map((it) => it.file)).size).toBe(1);
      at = b;
    }
    expect(at).toBe(items.length);
    expect(sizes(g).slice(0, 2)).toEqual([3, 16]); // file a alone, then b at the cap
    expect(g.filter(([a, b]) => b - a === 16).length).toBeGreaterThan(5);
  });

  it('resuming from a group boundary gives the same cuts; from inside a group, the rest of that group first', () => {
    const items = file('a', 200);
    const all = mergeGroups(items);
    const k = 5;
    const boundary = all[k][0];
    expect(mergeGroups(items, boundary)).toEqual(all.slice(k));
    const inside = all[k][0] + 1;
    expect(all[k][1] - all[k][0]).toBeGreaterThan(1);
    expect(mergeGroups(items, inside)).toEqual([[inside, all[k][1]], ...all.slice(k + 1)]);
    expect(mergeGroups(items, 200)).toEqual([]);
    expect(mergeGroups([])).toEqual([]);
  });
});

describe('merge groups on the in-process executor', () => {
  it('runs each multi-chunk group as one batch (no codec per chunk) and sums what a plain loop sums', async () => {
    const ds = await writeJson(join(dir, 'ds.json'), { single: [ROOT_FILE()] });
    const seen: number[] = [];
    const executor = new InProcessExecutor();
    const submitBatch = executor.submitBatch.bind(executor);
    executor.submitBatch = (items: readonly WorkItem[], job: JobSpec) => {
      seen.push(items.length);
      return submitBatch(items, job);
    };
    const done: number[] = [];
    const r = await runAnalysis<MetMuons>({
      fileset: ds,
      processor: fixture('met-muons.ts'),
      chunksize: 100,
      executor,
      hooks: { onProgress: (p) => done.push(p.done) },
    });
    await executor.close();
    const groups = mergeGroups(r.items).filter(([a, b]) => b - a > 1);
    expect(seen).toEqual(groups.map(([a, b]) => b - a));
    expect(r.metrics.chunks).toBe(100);
    expect(r.metrics.chunkSeconds).toHaveLength(100);
    // Progress moves by whole groups, then one chunk at a time at the tail.
    expect(done.at(-1)).toBe(100);
    expect(done.slice(-3)).toEqual([98, 99, 100]);
    const { sumMet, ...exact } = naiveMetMuons([{ dataset: 'single', ...(await readDirect(ROOT_FILE())) }]);
    expect({ ...r.accumulator, sumMet: undefined }).toEqual({ ...exact, sumMet: undefined });
    expect(r.accumulator.sumMet).toBeCloseTo(sumMet, 6);
  });
});

describe('batchGroup', () => {
  it("batches a group only while it is at most half of a slot's share of what is left", () => {
    expect(batchGroup(0, 16, 200, 2)).toBe(true);
    expect(batchGroup(0, 8, 64, 8)).toBe(false); // 8 workers, 64 items: item by item
    expect(batchGroup(5, 6, 200, 2)).toBe(false); // a single item is never a batch
    expect(batchGroup(0, 16, 200, 1)).toBe(true); // in process: batches
    expect(batchGroup(0, 4, 64, 8)).toBe(true); // 4 ≤ 64 / 16
  });

  it('64 items on 8 slots start item by item; 200 on 2 and 1000 on 16 still send batches', () => {
    const plan = (n: number, slots: number) => mergeGroups(file('f', n)).map(([a, b]) => batchGroup(a, b, n, slots));
    expect(plan(64, 8).slice(0, 4)).toEqual([false, false, false, false]);
    expect(plan(200, 2).filter(Boolean).length).toBeGreaterThan(5);
    expect(plan(1000, 16).filter(Boolean).length).toBeGreaterThan(5);
  });
});
