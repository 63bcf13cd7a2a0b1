/**
 * How `fit scan` ends when it does not finish: Ctrl-C (SIGINT to a real process) exits 130 with where the
 * finished results are and "rerun … with --resume"; a scan where 4 of 6 patches fail exits 1, names the
 * failed ones and where the other results are (it exited 0 before).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readResults } from '../../src/fit/scan-results.ts';
import { uncorrelatedBackground } from '../../src/fit/simplemodels.ts';
import { jsonLines, runNode } from '../helpers/cli.ts';
import { repoRoot } from '../shared.ts';

const ristretto = join(repoRoot, 'bin', 'ristretto.mjs');
let dir = '';
let ws = '';
const replace = (s: number[]) => JSON.stringify([{ op: 'replace', path: '/channels/0/samples/0/data', value: s }]);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ristretto-scan-exit-'));
  ws = join(dir, 'ws.json');
  writeFileSync(ws, JSON.stringify(uncorrelatedBackground([12, 11], [50, 52], [3, 7], [51, 48])));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('fit scan exit status', () => {
  it('4 of 6 patches failing: exit 1, the failed ones named, the others in results.json', async () => {
    const set = join(dir, 'set6');
    mkdirSync(set);
    writeFileSync(join(set, 'patch.sig_1.json'), replace([10, 9]));
    writeFileSync(join(set, 'patch.sig_2.json'), replace([4, 3]));
    // Two that do not apply (no channel 3), one that is not JSON, one that makes a rate negative.
    const bad = JSON.stringify([
      { op: 'add', path: '/channels/3/samples/-', value: { name: 's', data: [1], modifiers: [] } },
    ]);
    writeFileSync(join(set, 'patch.sig_3.json'), bad);
    writeFileSync(join(set, 'patch.sig_4.json'), bad);
    writeFileSync(join(set, 'patch.sig_5.json'), '[{"op"');
    writeFileSync(join(set, 'patch.sig_6.json'), replace([-80, 1]));
    const out = join(dir, 'out6');
    const r = await runNode([ristretto, 'fit', 'scan', ws, '--patchset', set, '--out', out, '--plot', 'none']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/6 patches, 5 tested, 0 resumed, 4 failed/);
    expect(r.stderr).toMatch(
      new RegExp(
        `^ristretto fit: 4 of 6 patches failed \\(patch\\.sig_5\\.json, sig_3, sig_4, sig_6\\); the results of the other 2 are in ${join(out, 'results.json')} \\(fix the failures, then rerun with --resume to test only them\\)\\n$`,
      ),
    );
    const kept = readResults(join(out, 'results.json')).results;
    expect(
      kept
        .filter((x) => x.ok)
        .map((x) => x.name)
        .sort(),
    ).toEqual(['sig_1', 'sig_2']);
    // --json: the same exit code and verdict on stderr, stdout stays JSON lines.
    const j = await runNode([ristretto, 'fit', 'scan', ws, '--patchset', set, '--json']);
    expect(j.code).toBe(1);
    expect(jsonLines<{ summary?: { failed: number } }>(j.stdout).at(-1)?.summary?.failed).toBe(4);
    expect(j.stderr).toMatch(/4 of 6 patches failed .*printed above \(pass --out DIR to keep them\)/);
  }, 120_000);

  it('Ctrl-C: exit 130, where the finished results are and to rerun with --resume', async () => {
    const set = join(dir, 'many');
    mkdirSync(set);
    // Enough patches that the scan is still running when the first results are on disk.
    for (let i = 1; i <= 1000; i++) writeFileSync(join(set, `patch.sig_${i}.json`), replace([i / 10, i / 20]));
    const out = join(dir, 'outint');
    const results = join(out, 'results.json');
    const child = spawn(process.execPath, [ristretto, 'fit', 'scan', ws, '--patchset', set, '--out', out], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('close', (code) => r(code)));
    for (;;) {
      if (existsSync(results) && readResults(results).results.length >= 2) break;
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGINT');
    const code = await exited;
    expect(code, stderr).toBe(130);
    const m =
      /^ristretto fit: interrupted after (\d+) of 1000 patches; the finished ones are in (.*) — rerun the same command with --resume to test only the rest\n$/.exec(
        stderr,
      );
    expect(m, stderr).not.toBeNull();
    expect(m?.[2]).toBe(results);
    expect(Number(m?.[1])).toBeGreaterThanOrEqual(2);
    expect(Number(m?.[1])).toBeLessThan(1000);
  }, 120_000);
});
