/**
 * Stage-out storage on its own: a run's folder is opened by the client and closed at the end, and a
 * worker that writes after the close (a cancelled copy that could not be stopped in time) must leave
 * nothing behind — in a shared directory and in the HTTP blob store, also when the writes race the
 * close. Real files, a real store on loopback.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startBlobStore, type BlobStore } from '../../executors/faas/blob-store.ts';
import { cleanupRun, fetchStaged, openRun, stageOut, StageOutError } from '../../executors/faas/stageout.ts';

let dir: string;
let store: BlobStore | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ristretto-stageout-'));
});

afterEach(async () => {
  await store?.close();
  store = undefined;
  await rm(dir, { recursive: true, force: true });
});

const files = async (root: string) =>
  (await readdir(root, { recursive: true })).filter((f) => f.endsWith('.bin') || f.endsWith('.tmp'));

describe('stage-out runs', () => {
  it('a directory: results are written only into an open run; after the close a write fails and leaves nothing', async () => {
    const stage = join(dir, 'stage');
    await expect(openRun(stage, 'run-a')).rejects.toThrow(/cannot use the stage-out directory .*stage/);
    await mkdir(stage);
    await openRun(stage, 'run-a');
    const bytes = randomBytes(1000);
    const ref = await stageOut(stage, 'run-a/t1.bin', bytes);
    expect(Buffer.from(await fetchStaged(stage, ref)).equals(bytes)).toBe(true);
    await cleanupRun(stage, 'run-a');
    const late = stageOut(stage, 'run-a/t2.bin', bytes);
    await expect(late).rejects.toBeInstanceOf(StageOutError);
    await expect(late).rejects.toThrow(/run folder does not exist/);
    expect(await readdir(stage)).toEqual([]);
  });

  it('the HTTP store: a closed run prefix refuses writes with 410 and keeps nothing', async () => {
    store = await startBlobStore({ dir: join(dir, 'blobs') });
    await openRun(store.url, 'run-b');
    const bytes = randomBytes(1000);
    const ref = await stageOut(store.url, 'run-b/t1.bin', bytes);
    expect(Buffer.from(await fetchStaged(store.url, ref)).equals(bytes)).toBe(true);
    await cleanupRun(store.url, 'run-b');
    await expect(stageOut(store.url, 'run-b/t2.bin', bytes)).rejects.toThrow(/answered 410/);
    // Other runs are unaffected.
    await stageOut(store.url, 'run-c/t1.bin', bytes);
    expect(await files(join(dir, 'blobs'))).toEqual([join('run-c', 't1.bin')]);
  });

  for (const kind of ['directory', 'HTTP store'] as const) {
    it(`${kind}: writes racing the close leave no file once both have settled`, async () => {
      let location = join(dir, 'stage');
      let root = location;
      await mkdir(location);
      if (kind === 'HTTP store') {
        root = join(dir, 'blobs');
        store = await startBlobStore({ dir: root });
        location = store.url;
      }
      for (let round = 0; round < 5; round++) {
        const runId = `run-${round}`;
        await openRun(location, runId);
        const writes = Array.from({ length: 40 }, (_, i) =>
          stageOut(location, `${runId}/t${i}.bin`, randomBytes(20_000 + i)).then(
            () => true,
            () => false,
          ),
        );
        // Close while the writes are in flight, part way through them.
        await new Promise((r) => setTimeout(r, round));
        await cleanupRun(location, runId);
        await Promise.all(writes);
        expect(await files(root)).toEqual([]);
      }
    });
  }
});
