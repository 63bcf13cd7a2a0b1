/**
 * The threads executor when a worker thread dies mid-scan: a real worker_thread exit (the test entry
 * test/fit/fixtures/dying-fit-worker.ts calls process.exit on chosen patches). The scan finishes;
 * a patch whose thread died once is retried on a fresh thread and gives the in-process result; one
 * whose thread dies every time is listed as failed, naming the patch and the exit code; every other
 * patch gives exactly the in-process result, once.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  testPatch,
  ThreadPoolRunner,
  uncorrelatedBackground,
  workspaceHash,
  type NamedPatch,
  type ScanRecord,
} from '../../src/fit/index.ts';

const DYING = fileURLToPath(new URL('./fixtures/dying-fit-worker.ts', import.meta.url));
const dieDir = mkdtempSync(join(tmpdir(), 'ristretto-fit-die-'));
afterAll(() => {
  delete process.env.RISTRETTO_FIT_DIE_DIR;
  rmSync(dieDir, { recursive: true, force: true });
});

const bkg = uncorrelatedBackground([0, 0], [50, 52], [3, 7], [51, 48]);
const sig = (name: string, s: number): NamedPatch => ({
  name,
  values: [s],
  patch: [{ op: 'replace', path: '/channels/0/samples/0/data', value: [s, s / 2] }],
});

function essence(r: ScanRecord): unknown {
  const { seconds: _s, where: _w, ...rest } = r;
  return rest;
}

describe('threads executor: a worker thread that dies mid-scan', () => {
  it('retries the patch once on a fresh thread, lists a patch that always kills its thread as failed, and finishes', async () => {
    process.env.RISTRETTO_FIT_DIE_DIR = dieDir;
    const patches = [
      sig('sig_1', 1),
      sig('die_once_3', 3),
      sig('sig_5', 5),
      sig('die_always_7', 7),
      sig('sig_10', 10),
      sig('sig_20', 20),
    ];
    const seen: ScanRecord[] = [];
    await new ThreadPoolRunner(2, { entry: DYING }).run(bkg, workspaceHash(bkg), patches, { poiTest: 1 }, (r) =>
      seen.push(r),
    );
    // One result per patch, none twice.
    expect(seen.map((r) => r.name).sort()).toEqual(patches.map((p) => p.name).sort());
    // The die_once thread really died (its marker is there) and the retry gave the in-process result.
    expect(readdirSync(dieDir)).toEqual(['die_once_3']);
    for (const p of patches.filter((x) => !x.name.startsWith('die_always_'))) {
      const r = seen.find((x) => x.name === p.name)!;
      expect(r.ok, p.name).toBe(true);
      expect(essence(r)).toEqual(essence(testPatch(bkg, p, { poiTest: 1 })));
    }
    const dead = seen.find((r) => r.name === 'die_always_7')!;
    expect(dead.ok).toBe(false);
    expect(!dead.ok && dead.error).toMatch(/^thread \d was lost twice while testing die_always_7 \(exit code 9\)$/);
  }, 120_000);
});
