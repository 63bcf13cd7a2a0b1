/**
 * A process() that forgets `return out` (or returns null) must fail its first chunk with a message
 * saying so, on every local executor and through the CLI — not finish "successfully" with empty
 * histograms and exit 0, as an outside probe found.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ThreadsExecutor } from '../../executors/threads/index.ts';
import { ChunkError } from '../../src/runner/errors.ts';
import { runAnalysis } from '../../src/runner/run.ts';
import { repoRoot } from '../shared.ts';
import { fixture, ROOT_FILE, tempDir, writeJson } from './helpers.ts';

let dir: string;
let cleanup: () => Promise<void>;
let dataset: string;
let threads: ThreadsExecutor;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  dataset = await writeJson(join(dir, 'ds.json'), { single: [ROOT_FILE()] });
  threads = new ThreadsExecutor({ workers: 1 });
});
afterAll(async () => {
  await threads.close();
  await cleanup();
});

describe('process() that returns no accumulator', () => {
  for (const [name, shown] of [
    ['forgets-return.ts', 'undefined'],
    ['returns-null.ts', 'null'],
  ] as const) {
    for (const executor of ['iterative', 'threads'] as const) {
      it(`${name} on ${executor}: the first chunk fails naming the slip`, async () => {
        const err = await runAnalysis({
          fileset: dataset,
          processor: fixture(name),
          chunksize: 4000,
          executor: executor === 'threads' ? threads : executor,
          cacheFile: false,
        }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ChunkError);
        expect((err as Error).message).toContain(`process() returned ${shown} instead of an accumulator`);
        expect((err as Error).message).toContain('return the filled accumulator');
        expect((err as Error).message).toMatch(/entries \[\d+, \d+\)/);
      });
    }
  }

  it('run-analysis exits non-zero and says so', () => {
    const r = spawnSync(
      process.execPath,
      [join(repoRoot, 'bin', 'run-analysis.mjs'), dataset, fixture('forgets-return.ts'), '--out', join(dir, 'out')],
      { encoding: 'utf8' },
    );
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('process() returned undefined instead of an accumulator');
  });
});
