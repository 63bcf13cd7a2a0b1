/**
 * Start-up failures of run-analysis with the thread pool, whose workers start while the footers are read
 * (Executor.prestart): a dataset that cannot be planned ends the process (no worker left running), and a
 * processor that does not bundle is reported before the dataset's problem, as when the steps ran in turn.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../shared.ts';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ristretto-startup-failure-'));
  await writeFile(join(dir, 'package.json'), '{"type": "module"}');
  await writeFile(join(dir, 'ds.json'), JSON.stringify({ d: [join(dir, 'missing.parquet')] }));
  await writeFile(join(dir, 'broken.ts'), 'export default { accumulator() { return {} ;\n');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function runAnalysis(processor: string) {
  return spawnSync(
    process.execPath,
    [
      join(repoRoot, 'bin', 'run-analysis.mjs'),
      '-q',
      '--no-cache',
      '-o',
      join(dir, 'out'),
      '--executor',
      'threads',
      '--workers',
      '2',
      join(dir, 'ds.json'),
      processor,
    ],
    // A worker left running would keep the process alive: the timeout turns that into status null.
    { encoding: 'utf8', timeout: 120_000, env: { ...process.env, NODE_OPTIONS: '' } },
  );
}

describe('run-analysis start-up failures with --executor threads', () => {
  it('a dataset file that cannot be opened ends the command with its message', () => {
    const r = runAnalysis(join(repoRoot, 'test', 'fixtures', 'processors', 'count-events.ts'));
    expect(r.signal).toBeNull();
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`cannot open ${join(dir, 'missing.parquet')}`);
  });

  it('a processor that does not bundle is reported first, naming the processor', () => {
    const r = runAnalysis(join(dir, 'broken.ts'));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`cannot bundle processor ${join(dir, 'broken.ts')}`);
    expect(r.stderr).not.toContain('missing.parquet');
  });
});
