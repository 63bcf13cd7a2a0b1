/**
 * An error thrown in a user's process() names the user's file and line, not a line of the processor
 * bundle: run-analysis prints `at <file>:<line>:<col> (in your code)` on both executors, and --debug
 * prints stacks whose bundle frames are mapped back to the sources (src/processor/stack.ts, from the
 * source map the build cache keeps beside each processor bundle). The expected lines are found in the
 * fixture's text, not computed by the code under test.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture, PARQUET_FILE, useTempDir, writeJson } from '../runner/helpers.ts';
import { repoRoot } from '../shared.ts';

const FIXTURE = 'test/fixtures/processors/throws-at-line.ts';
const lineOf = (marker: string) =>
  readFileSync(fixture('throws-at-line.ts'), 'utf8')
    .split('\n')
    .findIndex((l) => l.includes(marker)) + 1;

let dir: string;
let dataset: string;
useTempDir(async (d) => {
  dir = d;
  dataset = await writeJson(join(d, 'ds.json'), { pq: { files: { [PARQUET_FILE()]: 'Events' } } });
});

function run(...args: string[]) {
  return spawnSync(
    process.execPath,
    [join(repoRoot, 'bin', 'run-analysis.mjs'), '-q', '--no-cache', '-o', join(dir, 'out'), ...args],
    { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, RISTRETTO_TSX: '0' }, timeout: 300_000 },
  );
}

describe('errors in a processor name its source line', () => {
  const thrown = lineOf('THROWS HERE');
  const called = lineOf('CALLED HERE');

  for (const executor of ['iterative', 'threads']) {
    it(`run-analysis --executor ${executor} names ${FIXTURE}:${thrown}`, () => {
      expect(thrown).toBeGreaterThan(0);
      const r = run('-e', executor, dataset, fixture('throws-at-line.ts'));
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr).toContain('refusing');
      expect(r.stderr).toMatch(
        new RegExp(`\\n  at ${FIXTURE.replaceAll('.', '\\.')}:${thrown}:\\d+ \\(in your code\\)\\n`),
      );
    });
  }

  it('--debug maps the bundle frames of the stack to the processor file', () => {
    const r = run('--debug', dataset, fixture('throws-at-line.ts'));
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toContain(`at checkEvents (${fixture('throws-at-line.ts')}:${thrown}:`);
    // In process the error's stack is printed once (not again as "in the worker").
    expect(r.stderr.split(`at checkEvents (${fixture('throws-at-line.ts')}:${thrown}:`).length - 1).toBe(1);
    expect(r.stderr).toContain(`(${fixture('throws-at-line.ts')}:${called}:`);
    // No frame of the processor's bundle is left unmapped (frames of Ristretto's own command build may remain).
    const hashes = [...r.stderr.matchAll(/\/([0-9a-f]{64})\.mjs:\d+:\d+/g)].map((m) => m[1]);
    expect(hashes).toEqual([]);
  });
});
