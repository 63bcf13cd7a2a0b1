/**
 * Every file argument of every `fit` subcommand: a path that is missing, a folder where a file goes, an
 * empty patch folder or an output that cannot be written is a one-line typed error naming the path and
 * what to do — never a raw `ENOENT: no such file or directory, stat '…'` (what `fit scan --patchset
 * bad/nonexistent` printed).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerFitCommands } from '../../src/fit/cli.ts';
import { uncorrelatedBackground } from '../../src/fit/simplemodels.ts';
import { captureOutput } from '../helpers/cli.ts';

let dir = '';
let ws = '';
let patch = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ristretto-fit-files-'));
  ws = join(dir, 'ws.json');
  writeFileSync(ws, JSON.stringify(uncorrelatedBackground([12, 11], [50, 52], [3, 7], [51, 48])));
  patch = join(dir, 'patch.sig_1.json');
  writeFileSync(patch, JSON.stringify([{ op: 'replace', path: '/channels/0/samples/0/data', value: [10, 9] }]));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[]): Promise<{ out: string; err: string; code: number | undefined }> {
  const program = new Command('ristretto').exitOverride();
  registerFitCommands(program);
  return captureOutput(() => program.parseAsync(['node', 'ristretto', ...args]));
}

/** One line on stderr, `ristretto fit: <path>: <reason> — <what to do>`, exit 1, nothing on stdout. */
function expectOneLine(r: { out: string; err: string; code: number | undefined }, path: string, reason: RegExp): void {
  expect(r.code, r.err).toBe(1);
  expect(r.out).toBe('');
  const lines = r.err.trimEnd().split('\n');
  expect(lines, r.err).toHaveLength(1);
  expect(lines[0].startsWith(`ristretto fit: ${path}: `), r.err).toBe(true);
  expect(lines[0]).toMatch(reason);
  expect(lines[0]).toMatch(/ — \S/);
  expect(r.err).not.toMatch(/ENOENT|EISDIR|internal error/);
}

describe('fit file arguments', () => {
  it('a missing workspace, for cls, limit, mle and scan', async () => {
    const missing = join(dir, 'nope', 'ws.json');
    for (const cmd of ['cls', 'limit', 'mle'])
      expectOneLine(await run(['fit', cmd, missing]), missing, /file not found — check the path/);
    expectOneLine(await run(['fit', 'scan', missing, '--patchset', dir]), missing, /file not found/);
  });

  it('a folder given as the workspace, and a missing or folder --patch', async () => {
    expectOneLine(await run(['fit', 'cls', dir]), dir, /is a folder — pass the workspace JSON file/);
    const missing = join(dir, 'patch.nope.json');
    for (const cmd of ['cls', 'limit', 'mle'])
      expectOneLine(await run(['fit', cmd, ws, '-p', missing]), missing, /file not found/);
    expectOneLine(await run(['fit', 'mle', ws, '-p', dir]), dir, /is a folder/);
  });

  it('scan --patchset that does not exist, or a folder without patch files', async () => {
    expectOneLine(
      await run(['fit', 'scan', ws, '--patchset', 'bad/nonexistent']),
      'bad/nonexistent',
      /file not found — give --patchset a pyhf patch set JSON file or a folder of patch\.<name>\.json files/,
    );
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    expectOneLine(
      await run(['fit', 'scan', ws, '--patchset', empty]),
      empty,
      /the folder holds no patch\.<name>\.json files — give --patchset/,
    );
  });

  it('scan --out where the plot cannot be written names the file (results.json is kept)', async () => {
    const set = join(dir, 'set');
    mkdirSync(set);
    writeFileSync(
      join(set, 'patch.sig_1.json'),
      JSON.stringify([{ op: 'replace', path: '/channels/0/samples/0/data', value: [10, 9] }]),
    );
    writeFileSync(
      join(set, 'patch.sig_2.json'),
      JSON.stringify([{ op: 'replace', path: '/channels/0/samples/0/data', value: [4, 3] }]),
    );
    const outDir = join(dir, 'out');
    // A folder where the plot file goes: the write fails as it would on a full disk or a read-only folder.
    mkdirSync(join(outDir, 'scan.svg'), { recursive: true });
    const r = await run(['fit', 'scan', ws, '--patchset', set, '--out', outDir]);
    expect(r.code, r.err).toBe(1);
    expect(r.err).toMatch(
      new RegExp(
        `^ristretto fit: cannot write ${join(outDir, 'scan.svg')}: it is a folder — choose an --out folder you can write to`,
      ),
    );
    expect(r.err).not.toMatch(/internal error/);
  });
});
