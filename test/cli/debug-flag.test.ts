/** `ristretto --debug` works like `run-analysis --debug`: before or after the subcommand, or RISTRETTO_DEBUG=1. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runNode } from '../helpers/cli.ts';
import { repoRoot } from '../shared.ts';

const ristretto = join(repoRoot, 'bin', 'ristretto.mjs');
const missing = join(repoRoot, 'no-such-file.root');

describe('ristretto --debug', () => {
  it('prints a known error as one message, without a stack or the stack-trace hint', async () => {
    const r = await runNode([ristretto, 'ls', missing], { env: { ...process.env, RISTRETTO_DEBUG: '' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^ristretto: cannot open ROOT file .*no-such-file\.root/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stderr).not.toMatch(/--debug/);
  });

  for (const [how, args, env] of [
    ['--debug after the subcommand', ['ls', missing, '--debug'], {}],
    ['--debug before the subcommand', ['--debug', 'ls', missing], {}],
    ['RISTRETTO_DEBUG=1', ['ls', missing], { RISTRETTO_DEBUG: '1' }],
  ] as const) {
    it(`adds the stack trace with ${how}`, async () => {
      const r = await runNode([ristretto, ...args], { env: { ...process.env, ...env } });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/RootFileError: cannot open ROOT file .*\n\s+at /);
    });
  }

  it('lists --debug in --help', async () => {
    const r = await runNode([ristretto, '--help']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/--debug\s+print stack traces/);
  });
});
