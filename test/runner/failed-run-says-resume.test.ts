/**
 * A run that stops on a failure the user's code did not cause (here: a damaged basket in the second
 * file) keeps its merged chunks, and says so with the way to continue, as Ctrl-C does; --resume then
 * continues from there. A failure of the processor's own code gets no such line: fixing the processor
 * starts over (--resume refuses chunks of another version). Real run-analysis processes on real files.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runNode } from '../helpers/cli.ts';
import { repoRoot } from '../shared.ts';
import { fixture, ROOT_FILE, useTempDir, writeJson } from './helpers.ts';

let dir: string;
useTempDir((d) => {
  dir = d;
  const bytes = readFileSync(ROOT_FILE());
  writeFileSync(join(d, 'good.root'), bytes);
  bytes[2_000_167 + 300] ^= 0x55; // inside MET_pt's only basket
  writeFileSync(join(d, 'damaged.root'), bytes);
});

const run = (args: string[]) =>
  runNode(
    [join(repoRoot, 'bin', 'run-analysis.mjs'), ...args, '--chunksize', '2500', '--checkpoint-every', '1', '-q'],
    {
      cwd: dir,
      env: { ...process.env, RISTRETTO_DEBUG: '' },
    },
  );

describe('a run that fails mid-way', () => {
  it('on a file it cannot read: says how many chunks are saved and that --resume continues', async () => {
    const ds = await writeJson(join(dir, 'two.json'), { SingleMu: ['good.root', 'damaged.root'] });
    const args = [ds, fixture('met-muons.ts'), '-o', 'out-read'];
    const failed = await run(args);
    expect(failed.code).toBe(1);
    const lines = failed.stderr.trim().split('\n');
    expect(lines[0]).toMatch(
      /^run-analysis: cannot read dataset SingleMu, file .*damaged\.root .*incorrect data check/,
    );
    // the first file's 4 chunks were merged before the second file's first chunk failed
    expect(lines.at(-1)).toBe(
      'run-analysis: 4 of 8 chunks are saved in out-read; once the cause is gone (same files, processor and options), rerun the same command with --resume to continue',
    );
    const resumed = await run([...args, '--resume']);
    expect(resumed.stderr).toMatch(/^resuming: 4 of 8 chunks already done$/m);
    expect(resumed.code).toBe(1); // the file is still damaged: it fails at the same chunk, and says so again
    expect(resumed.stderr.trim().split('\n').at(-1)).toBe(lines.at(-1));
  });

  it("in the processor's own code, after chunks were saved: no --resume promise", async () => {
    const proc = join(dir, 'late-throw.ts');
    writeFileSync(
      proc,
      [
        'export default {',
        '  accumulator: () => ({ n: 0 }),',
        '  process(events: { numEvents: number }, ctx: { entryStart: number }) {',
        "    if (ctx.entryStart >= 5000) throw new Error('bad chunk');",
        '    return { n: events.numEvents };',
        '  },',
        '};',
        '',
      ].join('\n'),
    );
    const ds = await writeJson(join(dir, 'good.json'), { SingleMu: ['good.root'] });
    const r = await run([ds, proc, '-o', 'out-throws']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bad chunk/);
    expect(r.stderr).not.toMatch(/chunks are saved|--resume/);
    // the two chunks before the failure are in the checkpoint all the same (the line is held back, not the file)
    const again = await run([ds, proc, '-o', 'out-throws', '--resume']);
    expect(again.stderr).toMatch(/^resuming: 2 of 4 chunks already done$/m);
  });
});
