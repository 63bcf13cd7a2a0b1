/**
 * A tree name that is not in the file: the advice depends on where the name came from. Named in the
 * dataset JSON, --treename does not apply (it is for datasets that name no tree), so the fix is in the
 * JSON; given with --treename, the fix is another --treename. One piece of advice either way: leaving
 * the file out (--skipbadfiles) is no fix for a typo. A Parquet file, having no trees, is named without
 * one. Real run-analysis processes on real files.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runNode } from '../helpers/cli.ts';
import { useTempDir, writeJson } from '../runner/helpers.ts';
import { repoRoot, sharedPath } from '../shared.ts';

const FILE = sharedPath('data', 'Run2012B_SingleMu_10000.root'); // one tree: Events
const PROCESSOR = join(repoRoot, 'test', 'fixtures', 'processors', 'count-events.ts');
let dir: string;
useTempDir((d) => {
  dir = d;
});

const run = (args: string[]) =>
  runNode([join(repoRoot, 'bin', 'run-analysis.mjs'), ...args, '-q'], {
    cwd: dir,
    env: { ...process.env, RISTRETTO_DEBUG: '' },
  });

/** The " — " separated advice after the reader's message (the message itself has none). */
const advice = (stderr: string) => stderr.trim().split(' — ').slice(1);

describe('a tree name that is not in the file', () => {
  it('named in the dataset JSON under "treename": fix it there, --treename does not help', async () => {
    await writeJson(join(dir, 'typo-treename.json'), { SingleMu: { files: [FILE], treename: 'Event' } });
    for (const extra of [[], ['--treename', 'Events']]) {
      const r = await run(['typo-treename.json', PROCESSOR, ...extra]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`(dataset SingleMu, tree Event): no tree 'Event' in ${FILE}; trees present: Events`);
      expect(advice(r.stderr)).toEqual([
        'fix the tree name in typo-treename.json at SingleMu.treename, e.g. "Events" (--treename applies only to datasets that name no tree)',
      ]);
    }
  });

  it('named for the file in the dataset JSON\'s "files" object: fix it there', async () => {
    await writeJson(join(dir, 'typo-files.json'), { SingleMu: { files: { [FILE]: 'events' } } });
    const r = await run(['typo-files.json', PROCESSOR]);
    expect(r.code).toBe(1);
    expect(advice(r.stderr)).toEqual([
      'fix the tree name in typo-files.json at SingleMu.files, e.g. "Events" (--treename applies only to datasets that name no tree)',
    ]);
  });

  it('given with --treename for a dataset that names none: choose another with --treename', async () => {
    await writeJson(join(dir, 'list.json'), { SingleMu: [FILE] });
    const r = await run(['list.json', PROCESSOR, '--treename', 'Event']);
    expect(r.code).toBe(1);
    expect(advice(r.stderr)).toEqual(['choose one with --treename, e.g. --treename Events']);
    const ok = await run(['list.json', PROCESSOR, '--treename', 'Events', '-o', 'out']);
    expect(ok.code, ok.stderr).toBe(0);
  });

  it('a file that cannot be opened at all gets one piece of advice that names --skipbadfiles', async () => {
    await writeJson(join(dir, 'missing.json'), { SingleMu: ['nope.root'] });
    const r = await run(['missing.json', PROCESSOR]);
    expect(r.code).toBe(1);
    const said = advice(r.stderr);
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(/^check the path .*, or pass --skipbadfiles to leave unreadable files out/);
  });

  it('a Parquet file, which has no trees, is described without one', async () => {
    const bytes = await readFile(sharedPath('data', 'Run2012B_SingleMu-1000.parquet'));
    await writeFile(join(dir, 'cut.parquet'), bytes.subarray(0, 5000));
    await writeJson(join(dir, 'cut.json'), { SingleMu: ['cut.parquet'] });
    const r = await run(['cut.json', PROCESSOR]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^run-analysis: cannot open \S*cut\.parquet \(dataset SingleMu\): \S*cut\.parquet is not a readable Parquet file/,
    );
  });
});
