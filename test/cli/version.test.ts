/** `--version` on both commands prints package.json's version, read at run time. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageVersion } from '../../src/cli/version.ts';
import { repoRoot } from '../shared.ts';

const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;

describe('--version', () => {
  it('packageVersion() reads package.json', () => {
    expect(packageVersion()).toBe(version);
  });

  for (const bin of ['ristretto.mjs', 'run-analysis.mjs']) {
    for (const flag of ['--version', '-V']) {
      it(`${bin} ${flag}`, () => {
        const r = spawnSync(process.execPath, [join(repoRoot, 'bin', bin), flag], { cwd: repoRoot, encoding: 'utf8' });
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout.trim()).toBe(version);
      });
    }
  }
});
