/**
 * A processor that calls process.exit() inside process(): in process (iterative) the command ends, but
 * not silently — one line names the processor, the chunk and what to do instead; on threads the lost
 * worker's message says it was process.exit, not memory. The commands' own exits (a second Ctrl-C) are
 * not blamed on the processor. With two runners a chunk runs on the main thread only with --caller-runs,
 * so by default the exit still loses only a worker. Real run-analysis processes over a real ROOT file.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runNode } from '../helpers/cli.ts';
import { repoRoot } from '../shared.ts';
import { fixture, ROOT_FILE, useTempDir, writeJson } from './helpers.ts';

const BIN = join(repoRoot, 'bin', 'run-analysis.mjs');
const env = { ...process.env, RISTRETTO_DEBUG: '' };

let dir: string;
useTempDir((d) => {
  dir = d;
});

/** A one-file dataset with `metadata` for the fixture processors. */
const dataset = (name: string, metadata: Record<string, unknown>) =>
  writeJson(join(dir, `${name}.json`), { single: { files: [ROOT_FILE()], metadata } });

const chunk = (start: number, stop: number) =>
  `dataset single, file ${ROOT_FILE()} (tree Events), entries [${start}, ${stop})`;

describe('process.exit() in process(), iterative', () => {
  it('the command says which processor and chunk, and keeps the exit code', async () => {
    const ds = await dataset('exit3', { exitAt: 4000, exitCode: 3 });
    const r = await runNode([BIN, ds, fixture('exits.ts'), '--chunksize', '2000', '-q', '-o', join(dir, 'o3')], {
      cwd: repoRoot,
      env,
    });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain(
      `ristretto: process() of test/fixtures/processors/exits.ts called process.exit(3) on ${chunk(4000, 6000)}; the run stopped there — process() must return its accumulator (throw an Error to fail a chunk)\n`,
    );
  });

  it('process.exit(0) in a chunk does not end the command with success', async () => {
    const ds = await dataset('exit0', { exitAt: 0, exitCode: 0 });
    const r = await runNode([BIN, ds, fixture('exits.ts'), '--chunksize', '5000', '-q', '-o', join(dir, 'o0')], {
      cwd: repoRoot,
      env,
    });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`called process.exit(0) on ${chunk(0, 5000)}`);
    expect(existsSync(join(dir, 'o0', 'metrics.json'))).toBe(false);
  });

  it('a second Ctrl-C during a chunk exits 130 without blaming the processor', async () => {
    const markers = join(dir, 'held-markers');
    await mkdir(markers, { recursive: true });
    const ds = await dataset('held', { waitAt: 2000, markerDir: markers });
    const args = [BIN, ds, fixture('waits-at.ts'), '--chunksize', '1000', '-q', '-o', join(dir, 'held-out')];
    const child = spawn(process.execPath, args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.resume();
    const ended = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const until = async (what: () => boolean) => {
      while (!what()) await new Promise((r) => setTimeout(r, 20));
    };
    await until(() => existsSync(join(markers, 'waiting')));
    child.kill('SIGINT');
    await until(() => stderr.includes('SIGINT: stopping'));
    child.kill('SIGINT');
    expect(await ended, stderr).toBe(130);
    expect(stderr).toMatch(/^quit without saving/m);
    expect(stderr).not.toContain('process.exit');
  });
});

describe('process.exit() in process(), threads', () => {
  it('the lost worker says process.exit and what to do, not retries or memory', async () => {
    const ds = await dataset('exit-threads', { exitAt: 2000, exitCode: 3 });
    const r = await runNode(
      [
        BIN,
        ds,
        fixture('exits.ts'),
        '--executor',
        'threads',
        '--workers',
        '1',
        '--chunksize',
        '2000',
        '-q',
        '-o',
        join(dir, 'ot'),
      ],
      { cwd: repoRoot, env },
    );
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(
      `run-analysis: worker lost while running ${chunk(2000, 4000)}: worker exited with code 3: process() called process.exit(3) — process() must return its accumulator (throw an Error to fail a chunk)\n`,
    );
    expect(r.stderr).not.toContain('--retries N');
    expect(r.stderr).not.toContain('memory');
  });

  it('a worker that crashes otherwise, with --retries given, is not told to pass --retries', async () => {
    const ds = await dataset('dies', { dieAt: 0 });
    const r = await runNode(
      [
        BIN,
        ds,
        fixture('dies-uncaught.ts'),
        '--executor',
        'threads',
        '--workers',
        '1',
        '--retries',
        '1',
        '--chunksize',
        '5000',
        '-q',
      ].concat(['-o', join(dir, 'od')]),
      { cwd: repoRoot, env },
    );
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(
      `run-analysis: worker lost while running ${chunk(0, 5000)}: uncaught Error: native-like crash — if every attempt fails, the processor may exhaust memory: lower --chunksize\n`,
    );
    expect(r.stderr).not.toContain('--retries N');
  });
});

describe('process.exit() in process(), two runners', () => {
  /** `exits.ts` exiting with 3 in the first chunk, on `--executor threads --workers 2` plus `extra`. */
  const twoRunners = async (name: string, extra: string[]) => {
    const ds = await dataset(name, { exitAt: 0, exitCode: 3 });
    const args = [BIN, ds, fixture('exits.ts'), '--executor', 'threads', '--workers', '2', '--chunksize', '2000'];
    return runNode([...args, '-q', '-o', join(dir, name), ...extra], { cwd: repoRoot, env });
  };

  it('by default every chunk runs in a worker thread: the exit loses a worker, not the command', async () => {
    const r = await twoRunners('exit-two', []);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(
      `run-analysis: worker lost while running ${chunk(0, 2000)}: worker exited with code 3: process() called process.exit(3)`,
    );
    expect(r.stderr).not.toContain('the run stopped there');
  });

  it('with --caller-runs the first chunk runs on the main thread: its exit ends the command, named', async () => {
    const r = await twoRunners('exit-caller', ['--caller-runs']);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain(
      `ristretto: process() of test/fixtures/processors/exits.ts called process.exit(3) on ${chunk(0, 2000)}; the run stopped there`,
    );
  });
});
