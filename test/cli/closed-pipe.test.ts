/**
 * `ristretto … | head -1`: the reader closes the pipe after one line. Every subcommand must then end
 * quietly with exit 0, not with an unhandled EPIPE stack (found for `fit mle` and `fit scan --json`).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, sharedPath } from '../shared.ts';
import { extractAtlas, removeDir } from '../fit/helpers.ts';

let atlas = '';
beforeAll(() => {
  atlas = extractAtlas();
});
afterAll(() => removeDir(atlas));

/** Run the CLI, destroy our end of its stdout at the first newline; resolve with exit code and stderr. */
function firstLineThenClose(args: string[]): Promise<{ code: number | null; line: string; err: string }> {
  return new Promise((res, rej) => {
    const p = spawn(process.execPath, [join(repoRoot, 'bin', 'ristretto.mjs'), ...args], { cwd: repoRoot });
    let out = '';
    let err = '';
    p.stderr.on('data', (d) => (err += String(d)));
    p.stdout.on('data', (d) => {
      out += String(d);
      if (out.includes('\n')) p.stdout.destroy();
    });
    p.on('error', rej);
    p.on('close', (code) => res({ code, line: out.split('\n')[0], err }));
  });
}

describe('a closed stdout pipe ends the command quietly', () => {
  it('fit mle', async () => {
    const r = await firstLineThenClose([
      'fit',
      'mle',
      join(atlas, 'RegionA', 'BkgOnly.json'),
      '-p',
      join(atlas, 'RegionA', 'patch.sbottom_1300_850_60.json'),
      '--optimizer',
      'lbfgsb',
    ]);
    expect(r.line.length).toBeGreaterThan(0);
    expect(r.err).not.toMatch(/EPIPE|Unhandled/);
    expect(r.code).toBe(0);
  });

  it('ls', async () => {
    const r = await firstLineThenClose(['ls', sharedPath('data', 'Run2012B_SingleMu_10000.root')]);
    expect(r.line).toContain('ROOT file');
    expect(r.err).not.toMatch(/EPIPE|Unhandled/);
    expect(r.code).toBe(0);
  });
});
