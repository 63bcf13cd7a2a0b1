/**
 * `run-analysis` reports failures through the reporter every command shares (src/errors/report.ts): the
 * real command in a child process, on real files. An error of the user's own code (process, accumulator,
 * postprocess) is not a bug in Ristretto: it names the user's file and the chunk, lists the frames of
 * the user's code and exits 1; bad input (a missing file, an output folder in the way) is one line, exit
 * 1. None of them may print "internal error" or ask for a bug report (exit 70 is for Ristretto's bugs).
 * The expected lines are found in the processors' text, not computed by the code under test.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Ran, runNode } from '../helpers/cli.ts';
import { fixture, ROOT_FILE, useTempDir, writeJson } from '../runner/helpers.ts';
import { repoRoot } from '../shared.ts';

const BIN = join(repoRoot, 'bin', 'run-analysis.mjs');

let dir: string;
let dataset: string;
useTempDir(async (d) => {
  dir = d;
  dataset = await writeJson(join(d, 'ds.json'), { zmm: [ROOT_FILE()] });
});

function run(args: string[]): Promise<Ran> {
  return runNode([BIN, '-q', '--chunksize', '5000', ...args], {
    cwd: repoRoot,
    env: { ...process.env, RISTRETTO_DEBUG: '' },
  });
}

/** Write processor `name` with `lines` into the temp folder; returns its path. */
async function processor(name: string, lines: string[]): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `${lines.join('\n')}\n`);
  return path;
}

/** 1-based line of the first line of `path` containing `marker`. */
async function lineOf(path: string, marker: string): Promise<number> {
  return (await readFile(path, 'utf8')).split('\n').findIndex((l) => l.includes(marker)) + 1;
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Neither the internal-error wording nor its exit code. */
function notABug(r: Ran): void {
  expect(r.stderr).not.toMatch(/internal error|bug in Ristretto/);
  expect(r.code, r.stderr).toBe(1);
}

describe('run-analysis errors', () => {
  for (const executor of ['iterative', 'threads']) {
    it(`a TypeError in process() names the file, the chunk and the user's frames (--executor ${executor})`, async () => {
      const p = await processor(`type-error-${executor}.ts`, [
        'function firstMuon(events: { Muon: { pt: ArrayLike<number> } }): number {',
        '  const none = undefined as unknown as number[];',
        '  return none.length + events.Muon.pt.length; // THROWS HERE',
        '}',
        'export default {',
        '  accumulator: () => ({ n: 0 }),',
        '  process(events: never, ctx: { entryStart: number }) {',
        '    return { n: ctx.entryStart >= 5000 ? firstMuon(events) : 0 }; // CALLED HERE',
        '  },',
        '};',
      ]);
      const workers = executor === 'threads' ? ['-w', '2'] : [];
      const r = await run(['-e', executor, ...workers, '-o', join(dir, `out-te-${executor}`), dataset, p]);
      notABug(r);
      expect(r.stderr).toMatch(
        new RegExp(
          `^run-analysis: processor failed on dataset zmm, file ${esc(ROOT_FILE())} \\(tree Events\\), entries \\[5000, 10000\\): TypeError: Cannot read properties of undefined \\(reading 'length'\\) — fix the processor\\n`,
        ),
      );
      const thrown = await lineOf(p, 'THROWS HERE');
      const called = await lineOf(p, 'CALLED HERE');
      // innermost first: where it threw, then the call in process()
      expect(r.stderr).toMatch(
        new RegExp(
          `\\n  at ${esc(p)}:${thrown}:\\d+ \\(in your code\\)\\n  at ${esc(p)}:${called}:\\d+ \\(in your code\\)\\n`,
        ),
      );
      expect(r.stderr).toContain('(rerun with --debug for the stack trace)');
    });
  }

  for (const executor of ['iterative', 'threads']) {
    it(`a misspelt branch gets one piece of advice, not three (--executor ${executor})`, async () => {
      const p = await processor(`typo-${executor}.ts`, [
        'export default {',
        '  accumulator: () => ({ n: 0 }),',
        '  process(events: { Muon: Record<string, ArrayLike<number>> }) {',
        '    return { n: events.Muon.ptt.length }; // TYPO HERE',
        '  },',
        '};',
      ]);
      const r = await run(['-e', executor, '-o', join(dir, `out-typo-${executor}`), dataset, p]);
      notABug(r);
      const first = r.stderr.split('\n')[0]; // either chunk may fail first on two workers
      expect(first).toMatch(
        new RegExp(
          `^run-analysis: processor failed on dataset zmm, file ${esc(ROOT_FILE())} \\(tree Events\\), entries \\[(0, 5000|5000, 10000)\\): MissingBranchError: no branch Muon_ptt in ${esc(ROOT_FILE())} tree Events; closest: Muon_pt, `,
        ),
      );
      expect(first).toMatch(
        new RegExp(` — fix the name \\(\`npx ristretto ls ${esc(ROOT_FILE())}\` lists every branch\\)$`),
      );
      expect(first.split(' — ')).toHaveLength(2);
      expect(r.stderr).toContain(`\n  at ${p}:${await lineOf(p, 'TYPO HERE')}:`);
    });
  }

  it('a throwing accumulator() names the function and the file, exit 1', async () => {
    const p = await processor('acc-throws.ts', [
      'export default {',
      "  accumulator(): { n: number } { throw new RangeError('no bins for pt'); }, // THROWS HERE",
      '  process: (events: { numEvents: number }) => ({ n: events.numEvents }),',
      '};',
    ]);
    const r = await run(['-o', join(dir, 'out-acc'), dataset, p]);
    notABug(r);
    expect(r.stderr).toMatch(
      new RegExp(`^run-analysis: accumulator\\(\\) of ${esc(p)} threw: RangeError: no bins for pt — fix accumulator`),
    );
    expect(r.stderr).toMatch(
      new RegExp(`\\n  at ${esc(p)}:${await lineOf(p, 'THROWS HERE')}:\\d+ \\(in your code\\)\\n`),
    );
  });

  it('a postprocess that throws a string (not an Error) is the processor failing, not a bug', async () => {
    const p = await processor('post-string.ts', [
      'export default {',
      '  accumulator: () => ({ n: 0 }),',
      '  process: (events: { numEvents: number }) => ({ n: events.numEvents }),',
      "  postprocess() { throw 'no luminosity for zmm'; },",
      '};',
    ]);
    const r = await run(['-o', join(dir, 'out-post'), dataset, p]);
    notABug(r);
    expect(r.stderr).toContain(
      `run-analysis: postprocess() of ${p} failed after all 2 chunks were merged: "no luminosity for zmm" (thrown, not an Error) — fix postprocess, then rerun the same command with --resume`,
    );
  });

  it('a missing data file or dataset JSON is one line naming it, exit 1', async () => {
    const missing = join(dir, 'no-such-file.root');
    const ds = await writeJson(join(dir, 'missing.json'), { zmm: [missing] });
    const r = await run(['-o', join(dir, 'out-missing'), ds, fixture('met-muons.ts')]);
    notABug(r);
    expect(r.stderr).toMatch(new RegExp(`^run-analysis: cannot open ${esc(missing)} \\(dataset zmm`));
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);

    const noJson = join(dir, 'no-such-dataset.json');
    const j = await run(['-o', join(dir, 'out-missing'), noJson, fixture('met-muons.ts')]);
    notABug(j);
    expect(j.stderr).toMatch(new RegExp(`^run-analysis: cannot read dataset file ${esc(noJson)}: ENOENT`));
  });

  it('an output file that a folder stands in the way of is an OutputError naming it (was an internal error)', async () => {
    const out = join(dir, 'out-blocked');
    await mkdir(join(out, 'metrics.json'), { recursive: true });
    const r = await run(['-o', out, dataset, fixture('met-muons.ts')]);
    notABug(r);
    expect(r.stderr).toMatch(new RegExp(`^run-analysis: cannot write ${esc(join(out, 'metrics.json'))}: EISDIR`));
  });
});
