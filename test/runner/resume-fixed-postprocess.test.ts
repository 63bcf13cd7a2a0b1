/**
 * "postprocess() failed — fix postprocess, then rerun the same command with --resume": the user fixes it
 * by editing the processor file, which changes the processor bundle. A checkpoint with every chunk merged
 * is then reused (only the new postprocess runs, with a note that the chunks were run by the earlier
 * version of the file); a partial checkpoint of another version is refused, because its remaining
 * chunks would be merged with results of different process() code. Real run-analysis processes on a
 * real file, with each executor: iterative, threads and faas (a loopback service with one endpoint).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalCluster } from '../../executors/faas/local-cluster.ts';
import { runNode } from '../helpers/cli.ts';
import { repoRoot } from '../shared.ts';
import { ROOT_FILE, useTempDir, writeJson } from './helpers.ts';

const BIN = join(repoRoot, 'bin', 'run-analysis.mjs');
const EVENTS = 10_000; // Run2012B_SingleMu_10000.root: 10,000 events, 4 chunks of 2,500

/** The processor file as the user edits it: `postprocess` and `process` bodies are the parts that change. */
const processorText = (postprocess: string, process = 'return { n: events.numEvents, chunks: 1 };') =>
  [
    'export default {',
    '  accumulator: () => ({ n: 0, chunks: 0 }),',
    '  process(events: { numEvents: number }, ctx: { entryStart: number }) {',
    `    ${process}`,
    '  },',
    '  postprocess(acc: { n: number; chunks: number }) {',
    `    ${postprocess}`,
    '    return acc;',
    '  },',
    '};',
    '',
  ].join('\n');

let dir: string;
useTempDir((d) => {
  dir = d;
});
// The FaaS cluster starts with the first test that needs it, so the other executors do not depend on it.
let cluster: LocalCluster | undefined;
afterAll(() => cluster?.close());

const executors: Record<'iterative' | 'threads' | 'faas', () => Promise<string[]>> = {
  iterative: async () => [],
  threads: async () => ['-e', 'threads', '-w', '2'],
  faas: async () => {
    if (!cluster) {
      cluster = await LocalCluster.start();
      await cluster.startEndpoint('resume-ep');
    }
    return ['-e', 'faas', '--service', cluster.url, '--endpoints', 'resume-ep'];
  },
};

function run(args: string[]) {
  return runNode([BIN, ...args], {
    cwd: dir,
    env: { ...process.env, RISTRETTO_DEBUG: '', ...(cluster ? { RISTRETTO_TOKEN: cluster.token } : {}) },
  });
}

describe.each(Object.keys(executors) as (keyof typeof executors)[])(
  '--resume after editing the processor (%s)',
  (name) => {
    it('a fixed postprocess runs on the kept chunks, with a note; a partial checkpoint of another version is refused', async () => {
      const proc = join(dir, `ana-${name}.ts`);
      const ds = await writeJson(join(dir, `ds-${name}.json`), { SingleMu: [ROOT_FILE()] });
      const out = join(dir, `out-${name}`);
      const using = await executors[name]();
      const args = [ds, proc, '-o', out, '--chunksize', '2500', '--format', 'json', '-q', ...using];

      // 1. postprocess has a bug: every chunk is merged and kept.
      await writeFile(proc, processorText('(acc as any).nothing.here = 1;'));
      const failed = await run(args);
      expect(failed.code).toBe(1);
      expect(failed.stderr).toMatch(
        /postprocess\(\) of .*ana-\w+\.ts failed after all 4 chunks were merged: TypeError: .* — fix postprocess, then rerun the same command with --resume/,
      );

      // 2. The user edits the file, and the new postprocess fails too: still no chunk runs again.
      await writeFile(proc, processorText("acc.n *= 2; throw new RangeError('still wrong');"));
      const again = await run([...args, '--resume']);
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/RangeError: still wrong/);
      expect(again.stderr).toMatch(/all 4 chunks were merged by an earlier version of .*ana-\w+\.ts/);

      // 3. Fixed. The chunks are those of the first version, which the note still says.
      await writeFile(proc, processorText('acc.n *= 2;'));
      const fixed = await run([...args, '--resume']);
      expect(fixed.code, fixed.stderr).toBe(0);
      expect(fixed.stderr).toMatch(
        /all 4 chunks were merged by an earlier version of .*ana-\w+\.ts; only postprocess\(\) runs now — if you changed process\(\) or accumulator\(\), rerun without --resume/,
      );
      const m = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8'));
      expect(m).toMatchObject({ chunks: 4, resumedChunks: 4, events: EVENTS });
      expect(JSON.parse(await readFile(join(out, 'accumulator.json'), 'utf8'))).toEqual({ n: 2 * EVENTS, chunks: 4 });

      // 4. process() fails at the third chunk: two chunks are kept (run in process, so that exactly the two
      //    before the failure are merged). Fixing process() and resuming would merge chunks of two
      //    versions: refused on every executor, and a run without --resume starts over.
      const partialOut = join(dir, `partial-${name}`);
      const partial = [ds, proc, '-o', partialOut, '--chunksize', '2500', '--format', 'json', '-q'];
      await writeFile(
        proc,
        processorText(
          '',
          "if (ctx.entryStart >= 5000) throw new Error('bad chunk'); return { n: events.numEvents, chunks: 1 };",
        ),
      );
      const broken = await run([...partial, '--checkpoint-every', '1']);
      expect(broken.code).toBe(1);
      expect(broken.stderr).toMatch(/bad chunk/);
      await writeFile(proc, processorText(''));
      const refused = await run([...partial, ...using, '--resume']);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(
        /the checkpoint in .*partial-\w+ holds 2 of 4 chunks merged by another version of the processor file — rerun without --resume to start over/,
      );
      const over = await run([...partial, ...using]);
      expect(over.code, over.stderr).toBe(0);
      expect(JSON.parse(await readFile(join(partialOut, 'accumulator.json'), 'utf8'))).toEqual({
        n: EVENTS,
        chunks: 4,
      });
    }, 300_000);
  },
);
