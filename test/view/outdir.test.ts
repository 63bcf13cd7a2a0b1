/** `ristretto view OUTDIR`: reading what run-analysis wrote (written here by the real output writer). */
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Hist, Regular, StrCategory } from '../../src/hist/index.ts';
import type { RunMetrics } from '../../src/runner/metrics.ts';
import { writeOutputs } from '../../src/runner/output.ts';
import { ViewError } from '../../src/view/errors.ts';
import { followOutputs, loadOutputs } from '../../src/view/outdir.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
async function temp(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'ristretto-view-'));
  dirs.push(d);
  return d;
}

const metrics = { events: 1234, chunks: 3, chunksTotal: 3, resumedChunks: 0, bytesRead: 0, columns: [], processSeconds: 1, chunkSeconds: [0.3, 0.3, 0.4], wallSeconds: 2, eventsPerSecond: 617, retries: 1, skippedFiles: [], executor: 'threads', workers: 2, files: 1, preprocess: { cacheHits: 0, opened: 1, seconds: 0 } } as unknown as RunMetrics;

describe('loadOutputs', () => {
  it('shows the histograms, the summary and fit scans of an output folder; unreadable files become notes', async () => {
    const dir = await temp();
    const met = new Hist(new Regular(3, 0, 30, { name: 'met' }));
    met.fill(Float64Array.of(1, 11, 12, 29));
    const mass = new Hist(new StrCategory([], { name: 'dataset', growth: true }), new Regular(2, 80, 100, { name: 'm' }));
    mass.fill('DY', Float64Array.of(85, 95, 96));
    await writeOutputs({ met, muons: { mass }, cutflow: { all: 4 } }, metrics, dir, ['json', 'root-json']);
    await writeFile(join(dir, 'broken.json'), '{"x": ');
    await writeFile(join(dir, 'scan.jsonl'), ['{"name":"m1000","ok":true,"clsObs":0.03,"clsExp":[0.01,0.02,0.05,0.1,0.2],"muHat":0.1}', '{"name":"m1200","ok":false,"error":"did not converge"}', '{"summary":{"patches":2}}'].join('\n'));
    await mkdir(join(dir, 'fit'));
    await writeFile(join(dir, 'fit', 'results.json'), JSON.stringify({ format: 'ristretto-fit-scan', version: 1, identity: {}, total: 1, results: [{ name: 'm900', ok: true, clsObs: 0.2, clsExp: [0.1, 0.2, 0.3, 0.4, 0.5], muHat: 0 }] }));
    await mkdir(join(dir, '.ristretto-cache'));
    await writeFile(join(dir, '.ristretto-cache', 'preprocess.json'), '{}');

    const state = await loadOutputs(dir);
    const snap = state.snapshot();
    expect(snap.hists.map((h) => h.key).sort()).toEqual(['met', 'muons/mass']);
    expect(Array.from(state.hist('met')!.values())).toEqual([1, 2, 1]);
    expect(Array.from(state.hist('muons/mass')!.values())).toEqual([1, 2]);
    expect(snap.progress).toMatchObject({ state: 'finished', events: 1234, done: 3, total: 3, retries: 1, executor: 'threads' });
    expect(state.notes).toHaveLength(1);
    expect(state.notes[0]).toMatch(/^broken\.json: not shown/);
    expect(state.scans).toEqual([
      { file: 'fit/results.json', results: [expect.objectContaining({ name: 'm900', clsObs: 0.2 })] },
      { file: 'scan.jsonl', results: [expect.objectContaining({ name: 'm1000', clsObs: 0.03 }), expect.objectContaining({ name: 'm1200', ok: false })] },
    ]);
  });

  it('refuses a missing folder and one without histograms, saying what to give', async () => {
    const missing = await loadOutputs('/nonexistent/out').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ViewError);
    expect((missing as Error).message).toContain('no output folder /nonexistent/out');
    const dir = await temp();
    await writeFile(join(dir, 'metrics.json'), JSON.stringify(metrics));
    const empty = await loadOutputs(dir).catch((e: unknown) => e);
    expect(empty).toBeInstanceOf(ViewError);
    expect((empty as Error).message).toMatch(/holds no histogram JSON.*--format json.*fit scan --out/);
  });
});

describe('followOutputs', () => {
  it('reloads when run-analysis rewrites the folder, and open pages hear only what changed', async () => {
    const dir = await temp();
    const met = new Hist(new Regular(3, 0, 30, { name: 'met' }));
    const eta = new Hist(new Regular(2, -1, 1, { name: 'eta' }));
    met.fill(Float64Array.of(1));
    eta.fill(Float64Array.of(0.5));
    await writeOutputs({ met, eta }, metrics, dir, ['json']);
    const state = await loadOutputs(dir);
    const stop = followOutputs(dir, state, 20);
    try {
      const update = new Promise<string[]>((resolve) => state.subscribe((u) => resolve(u.hists.map((h) => h.key))));
      met.fill(Float64Array.of(25, 25));
      // metrics.json is written last: its new mtime triggers the reload of the whole new state
      await writeOutputs({ met, eta }, { ...metrics, events: 3 } as RunMetrics, dir, ['json']);
      const later = new Date(Date.now() + 10_000); // distinct even on file systems with coarse mtimes
      await utimes(join(dir, 'metrics.json'), later, later);
      expect(await update).toEqual(['met']);
      expect(Array.from(state.hist('met')!.values())).toEqual([1, 0, 2]);
      expect(state.progress.events).toBe(3);
    } finally {
      stop();
    }
  });
});
