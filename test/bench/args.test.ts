/**
 * The benches' command lines (bench/lib.ts `benchArgs`): run as real processes, a bench answers `--help`,
 * and an unknown option, a bad value or a missing input with one line naming the option and exit code 2,
 * before doing any work and without a stack trace.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../shared.ts';

function bench(script: string, ...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', resolve(repoRoot, 'bench', script), ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Exit 2 and exactly one line on stderr, starting with the bench's path. */
function expectUsageError(r: ReturnType<typeof bench>, script: string, message: string): void {
  expect(r.err).not.toMatch(/^\s+at /m);
  expect(r.err.trimEnd().split('\n')).toEqual([`bench/${script}: ${message} (--help lists every option)`]);
  expect(r.code).toBe(2);
  expect(r.out).toBe('');
}

describe('bench command lines', () => {
  it('every bench script reads its command line through benchArgs (modules that only export are exempt)', () => {
    const dir = resolve(repoRoot, 'bench');
    const files = [
      ...readdirSync(dir).filter((f) => f.endsWith('.ts')),
      ...readdirSync(join(dir, 'scaling'))
        .filter((f) => f.endsWith('.ts'))
        .map((f) => `scaling/${f}`),
    ];
    const scripts = files.filter((f) => !/^export /m.test(readFileSync(join(dir, f), 'utf8')));
    const without = scripts.filter((f) => !readFileSync(join(dir, f), 'utf8').includes('benchArgs('));
    expect(scripts.length).toBeGreaterThan(25);
    expect(without).toEqual([]);
  });

  it('a bad value names the option and what it takes', () => {
    expectUsageError(bench('codec.ts', '--reps', 'abc'), 'codec.ts', '--reps must be an integer ≥ 1, got "abc"');
    expectUsageError(
      bench('faas-store.ts', '--tasks', '0'),
      'faas-store.ts',
      '--tasks must be an integer ≥ 1, got "0"',
    );
    expectUsageError(
      bench('fit-scan.ts', '--only', 'threads,slurm'),
      'fit-scan.ts',
      '--only: unknown slurm (known: iterative, threads, faas)',
    );
    expectUsageError(
      bench('merge.ts', '--mode', 'fast'),
      'merge.ts',
      '--mode must be one of in-place, copying, codec, v8-serialize, got "fast"',
    );
  }, 240_000);

  it('an unknown option, a missing value and an extra argument are refused', () => {
    expectUsageError(bench('faas-chunk-path.ts', '--taks', '10'), 'faas-chunk-path.ts', 'unknown option --taks');
    expectUsageError(bench('read-root.ts', '--reps'), 'read-root.ts', '--reps needs a value');
    expectUsageError(
      bench('faas-store.ts', '--sync-full=yes'),
      'faas-store.ts',
      '--sync-full is a switch and takes no value',
    );
    expectUsageError(
      bench('hist-fill.ts', '1000', '3', '9'),
      'hist-fill.ts',
      'unexpected argument "9" (takes [entries] [repeats])',
    );
    expectUsageError(bench('hist-fill.ts', 'lots'), 'hist-fill.ts', 'entries must be an integer ≥ 1, got "lots"');
  }, 240_000);

  it('a missing input or a bad study config is one line too', () => {
    expectUsageError(
      bench('scaling/run.ts'),
      'scaling/run.ts',
      'give the study config: npx tsx bench/scaling/run.ts bench/scaling/<config>.json',
    );
    const missing = resolve(repoRoot, 'no-such-study.json');
    const r = bench('scaling/run.ts', missing);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`bench/scaling/run.ts: cannot read study config ${missing}`);
    expect(r.err.trimEnd().split('\n')).toHaveLength(1);
    expectUsageError(
      bench('adl.ts', '--file', 'no-such.parquet'),
      'adl.ts',
      `--file: ${resolve(repoRoot, 'no-such.parquet')} is missing: build it with  npx tsx bench/make-adl-dataset.ts`,
    );
  }, 240_000);

  it('--help lists every option with its default and exits 0', () => {
    const r = bench('faas-chunk-path.ts', '--help');
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(r.out).toMatch(/^usage: npx tsx bench\/faas-chunk-path\.ts \[options\]\n/);
    for (const line of [
      /--tasks <n> +tasks per round \(default 400\)/,
      /--spin-ms <x> +CPU each task spins \(ms\) \(default 5\)/,
      /--syscalls +count system calls/,
      /--cpu-prof <dir> +service and agent write V8 CPU profiles/,
      /--help +this text/,
    ])
      expect(r.out).toMatch(line);
    const k = bench('kernels.ts', '-h');
    expect(k.code).toBe(0);
    expect(k.out).toContain('usage: npx tsx bench/kernels.ts [options] [events] [repeats] [mixed]');
  }, 240_000);
});
