/**
 * Workers started by the launcher before the command loads (executors/threads/prestart.mjs): which
 * command lines start them, that the pool adopts them (and runs real chunks on them, with the same
 * result as in process), and that workers nobody adopts never keep a process alive.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ThreadsExecutor } from '../../executors/threads/index.ts';
import { poolSizeFromArgv, prestart, prestartedRuntime } from '../../executors/threads/prestart.mjs';
import { workerRuntime } from '../../executors/threads/runtime.ts';
import { runAnalysis } from '../../src/runner/run.ts';
import { repoRoot } from '../shared.ts';
import { fixture, PARQUET_FILE, useTempDir, writeJson } from '../runner/helpers.ts';

let dir: string;
useTempDir((d) => {
  dir = d;
});

describe('prestarted pool workers', () => {
  it('reads the worker count from the command line forms commander accepts', () => {
    const p = ['data.json', 'proc.ts'];
    expect(poolSizeFromArgv([...p, '--executor', 'threads', '--workers', '3'])).toBe(3);
    expect(poolSizeFromArgv(['-e', 'threads', '-w', '2', ...p])).toBe(2);
    expect(poolSizeFromArgv(['--executor=threads', '--workers=5', ...p])).toBe(5);
    expect(poolSizeFromArgv(['-ethreads', '-w4', ...p])).toBe(4);
    expect(poolSizeFromArgv([...p, '--executor', 'threads'])).toBeGreaterThanOrEqual(1); // the available cores
    // No pool, or nothing to run, or a count the CLI will refuse: nothing started.
    expect(poolSizeFromArgv([...p])).toBeUndefined();
    expect(poolSizeFromArgv([...p, '--executor', 'iterative', '--workers', '2'])).toBeUndefined();
    expect(poolSizeFromArgv([...p, '--executor', 'faas'])).toBeUndefined();
    expect(poolSizeFromArgv(['--help', '--executor', 'threads'])).toBeUndefined();
    expect(poolSizeFromArgv([...p, '-e', 'threads', '--workers', '0'])).toBeUndefined();
    expect(poolSizeFromArgv([...p, '-e', 'threads', '--workers', 'two'])).toBeUndefined();
    expect(poolSizeFromArgv(['--', '-e', 'threads'])).toBeUndefined();
  });

  it('the pool adopts the prestarted workers, runs every chunk on them and gets the in-process result', async () => {
    const runtime = await workerRuntime(); // built (and cached) if it was not yet
    const marker = join(dir, 'imports.txt');
    process.env.RISTRETTO_TEST_IMPORT_MARKER = marker; // workers take their environment when started
    expect(prestart(2)).toBe(2);
    expect(prestartedRuntime()?.href).toBe(runtime.href);
    const fileset = await writeJson(join(dir, 'ds.json'), { d: { files: [PARQUET_FILE()] } });
    const pool = new ThreadsExecutor({ workers: 2, callerRuns: false });
    try {
      const threads = await runAnalysis({
        fileset,
        processor: fixture('import-marker.ts'),
        executor: pool,
        chunksize: 100,
      });
      expect(pool.adopted).toBe(2);
      // Only the two adopted workers imported the processor: the pool started none of its own.
      const lines = readFileSync(marker, 'utf8').trim().split('\n');
      expect(new Set(lines.map((l) => l.split(' ')[0])).size).toBe(2);
      expect(threads.metrics.chunks).toBe(10);
      const inProcess = await runAnalysis({ fileset, processor: fixture('import-marker.ts'), chunksize: 100 });
      expect(threads.accumulator).toEqual(inProcess.accumulator);
      // None left to adopt: a second pool starts its own.
      const second = new ThreadsExecutor({ workers: 1 });
      try {
        await runAnalysis({ fileset, processor: fixture('import-marker.ts'), executor: second, chunksize: 500 });
        expect(second.adopted).toBe(0);
      } finally {
        await second.close();
      }
    } finally {
      delete process.env.RISTRETTO_TEST_IMPORT_MARKER;
      await pool.close();
    }
  });

  it('workers nobody adopts do not keep the process alive', async () => {
    await workerRuntime(); // the cached runtime the child's prestart looks up
    const url = pathToFileURL(join(repoRoot, 'executors', 'threads', 'prestart.mjs')).href;
    const script = `import(${JSON.stringify(url)}).then((m) => { console.log('started', m.prestart(2)); });`;
    // Runs until its event loop is empty: with the two workers referenced it would never end.
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.signal).toBeNull(); // not killed by the timeout
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe('started 2');
  });
});
