/**
 * A thread pool over root:// reads what it uses and no more: a worker running a single chunk (the tail
 * of a run is cut into single-chunk units) is told that nothing follows, as after a batch, since its
 * next unit is whichever the pool hands it. Before, the chunk guessed the range right after it, of its
 * own length: wrong for chunks of different lengths (--align) and, with two runners, mostly the other's
 * chunk, read and decoded for nothing. Against a real xrootd on loopback; the reference is the same pool
 * reading the same file from local disk, which reads nothing ahead.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ThreadsExecutor } from '../../executors/threads/index.ts';
import { encode } from '../../src/accumulate/index.ts';
import { convert } from '../../src/io/convert.ts';
import { openReader } from '../../src/io/open.ts';
import { runAnalysis } from '../../src/runner/run.ts';
import { tempDir } from '../helpers/files.ts';
import { xrootdMissingFor } from '../helpers/xrootd-missing.ts';
import { startXrootd, type XrootdServer } from '../helpers/xrootd-server.ts';
import { writeJson } from '../runner/helpers.ts';
import { repoRoot, sharedPath } from '../shared.ts';

// A real server on a machine that may be busy: the limits only bound a hang.
vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

const missing = xrootdMissingFor('thread-pool read-ahead over root://');

const NANO = sharedPath('data', 'Run2012B_SingleMu_10000.root');
const dir = tempDir('threads-root-read-ahead');
/** The 10,000 NanoAOD events as ROOT in baskets of 700 entries. */
const ROOT700 = join(dir, 'nano-700.root');
const Q3 = join(repoRoot, 'processors', 'adl', 'query-3.ts');

describe.skipIf(missing !== undefined)('a thread pool over root:// reads ahead only what it was told', () => {
  let server: XrootdServer;

  beforeAll(async () => {
    const r = await openReader(NANO);
    try {
      expect((await convert(r, ROOT700, { chunkSize: 700 })).chunks).toBe(15);
    } finally {
      await r.close();
    }
    server = await startXrootd([ROOT700]);
  });
  afterAll(async () => {
    await server?.stop();
  });

  /** Q3 over `file` on a pool of one worker thread: the file is opened once, in that worker, in both runs. */
  async function poolRun(file: string, name: string) {
    const fileset = await writeJson(join(dir, `${name}.json`), { SingleMu: { files: [file] } });
    // Chunks of about 1600 cut at basket starts: 1400 entries each, 1600 for the last; single-chunk units.
    return runAnalysis({
      fileset,
      processor: Q3,
      executor: (ctx) => new ThreadsExecutor({ ...ctx, workers: 1 }),
      chunksize: 1600,
      align: true,
      cacheFile: false,
    });
  }

  it('chunks of different lengths: a worker reads over root:// the bytes it reads from local disk', async () => {
    const local = await poolRun(ROOT700, 'local');
    const remote = await poolRun(server.url('nano-700.root'), 'remote');
    expect(remote.metrics.chunks).toBe(7);
    expect(local.metrics.chunks).toBe(7);
    expect(Buffer.from(encode(remote.accumulator)).equals(Buffer.from(encode(local.accumulator)))).toBe(true);
    // A chunk read ahead for nothing is counted in the next chunk the worker reads from the same reader.
    expect(remote.metrics.bytesRead).toBe(local.metrics.bytesRead);
  });
});
