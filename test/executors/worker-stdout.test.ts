/**
 * What a processor prints in a pool worker reaches the command's stdout, all of it: workers let go at
 * the end of a run exit once their output is through instead of being terminated with lines still held
 * in their stdout (1–2 of 14 lines were lost in most runs before).
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runNode } from '../helpers/cli.ts';
import { repoRoot } from '../shared.ts';
import { fixture, ROOT_FILE, useTempDir } from '../runner/helpers.ts';

let dir: string;
useTempDir((d) => {
  dir = d;
});

/** Arguments of `node` for run-analysis of the printing processor on 2 worker threads. */
function printingRun(datasets: string, chunksize: number, out: string): string[] {
  return [
    join(repoRoot, 'bin', 'run-analysis.mjs'),
    datasets,
    fixture('prints-per-chunk.ts'),
    '--executor',
    'threads',
    '--workers',
    '2',
    '--chunksize',
    String(chunksize),
    '--out',
    out,
  ];
}

describe('console output of pool workers', () => {
  it('every chunk’s line is printed once, run after run (threads, 2 workers)', async () => {
    const datasets = join(dir, 'datasets.json');
    writeFileSync(datasets, JSON.stringify({ single: { files: { [ROOT_FILE()]: 'Events' } } }));
    // 10,000 events in chunks of 500: 20 lines, written while other chunks finish and workers are let go.
    const expected = Array.from({ length: 20 }, (_, i) => `CHUNK single ${i * 500}-${(i + 1) * 500}`);
    for (let run = 0; run < 3; run++) {
      const r = await runNode(printingRun(datasets, 500, join(dir, `out-${run}`)));
      expect(r.code, r.stderr).toBe(0);
      const lines = r.stdout.split('\n').filter((l) => l.startsWith('CHUNK '));
      expect(lines.sort(), `run ${run}`).toEqual([...expected].sort());
    }
  }, 240_000);

  it('a reader that closes the pipe early (`| head`) ends the run quietly, not with an EPIPE stack', async () => {
    const datasets = join(dir, 'datasets-head.json');
    writeFileSync(datasets, JSON.stringify({ single: { files: { [ROOT_FILE()]: 'Events' } } }));
    const child = spawn(process.execPath, printingRun(datasets, 100, join(dir, 'out-head')), {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // Like `head -1`: read up to the first printed line, then close the pipe while 99 more chunks print.
    let seen = '';
    child.stdout.on('data', (d: Buffer) => {
      seen += d.toString();
      if (seen.includes('CHUNK ')) child.stdout.destroy();
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(seen).toContain('CHUNK ');
    expect(stderr).not.toMatch(/EPIPE|Unhandled 'error'/);
    expect(code, stderr).toBe(0);
  }, 240_000);
});
