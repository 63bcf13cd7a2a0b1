/** Shared pieces of the runner tests: fixture paths, temp dirs, and naive reference computations. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openParquet } from '../../src/io/parquet/index.ts';
import { openRoot } from '../../src/io/root/index.ts';
import type { Jagged } from '../../src/columnar/types.ts';
import { afterAll, beforeAll } from 'vitest';
import { repoRoot, sharedPath } from '../shared.ts';

export const fixture = (name: string) => resolve(repoRoot, 'test', 'fixtures', 'processors', name);
export const ROOT_FILE = () => sharedPath('data', 'Run2012B_SingleMu_10000.root');
export const PARQUET_FILE = () => sharedPath('data', 'Run2012B_SingleMu-1000.parquet');

export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'ristretto-runner-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * A fresh temp folder for the tests of one file: made before them (and handed to `ready`, which may
 * write into it), removed after them. Registers the `beforeAll`/`afterAll` hooks itself.
 */
export function useTempDir(ready: (dir: string) => void | Promise<void>): void {
  let cleanup: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const t = await tempDir();
    cleanup = t.cleanup;
    await ready(t.dir);
  });
  afterAll(async () => {
    await cleanup?.();
  });
}

export async function writeJson(file: string, value: unknown): Promise<string> {
  await writeFile(file, JSON.stringify(value));
  return file;
}

/** MET_pt and muon pt of a whole file, read in one go straight from the format's reader (no runner, no events layer). */
export async function readDirect(
  path: string,
): Promise<{ met: Float32Array | Float64Array; muonCounts: number[]; muonPt: ArrayLike<number> }> {
  const r = path.endsWith('.root') ? await openRoot(path, { treeName: 'Events' }) : await openParquet(path);
  const cols = await r.read(['MET_pt', 'Muon_pt'], 0, r.numEntries);
  await r.close();
  const mu = cols.Muon_pt as Jagged;
  const counts: number[] = [];
  for (let i = 0; i + 1 < mu.offsets.length; i++) counts.push(mu.offsets[i + 1] - mu.offsets[i]);
  return { met: cols.MET_pt as Float32Array, muonCounts: counts, muonPt: mu.content };
}

/** What test/fixtures/processors/met-muons.ts should produce, by a plain loop. */
export function naiveMetMuons(files: Array<{ dataset: string; met: ArrayLike<number>; muonCounts: number[] }>) {
  let nevents = 0;
  let nmuons = 0;
  let sumMet = 0;
  const metBins: Record<string, number> = {};
  const perDataset: Record<string, number> = {};
  for (const f of files) {
    for (let i = 0; i < f.met.length; i++) {
      nevents++;
      nmuons += f.muonCounts[i];
      sumMet += f.met[i];
      const b = String(Math.min(20, Math.floor(f.met[i] / 10)));
      metBins[b] = (metBins[b] ?? 0) + 1;
    }
    perDataset[f.dataset] = (perDataset[f.dataset] ?? 0) + f.met.length;
  }
  return { nevents, nmuons, sumMet, metBins, perDataset };
}
