import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  loadWorkspace,
  readPatches,
  readResults,
  scan,
  ScanError,
  testPatch,
  uncorrelatedBackground,
  type NamedPatch,
  type ScanRecord,
  type WorkspaceSpec,
} from '../../src/fit/index.ts';
import { jsonLines, runNode } from '../helpers/cli.ts';
import { repoRoot } from '../shared.ts';
import { extractAtlas, removeDir } from './helpers.ts';

let dir = '';
let bkg: WorkspaceSpec;
let atlasPatches: NamedPatch[];
beforeAll(() => {
  dir = extractAtlas();
  bkg = loadWorkspace(join(dir, 'RegionA', 'BkgOnly.json'));
  // A spread of the grid: every 30th signal point.
  atlasPatches = readPatches(join(dir, 'RegionA')).patches.filter((_, i) => i % 30 === 0);
});
afterAll(() => removeDir(dir));

/** What must not depend on where a patch ran: everything but the timing and the place. */
function essence(r: ScanRecord): unknown {
  const { seconds: _s, where: _w, ...rest } = r;
  return rest;
}

const broken: NamedPatch = {
  name: 'sbottom_broken_1',
  values: [1],
  patch: [{ op: 'replace', path: '/channels/99/samples/0/data', value: [1] }],
};

describe('scan on worker threads', () => {
  it('gives exactly the in-process results, and an error entry naming a broken patch', async () => {
    const patches = [...atlasPatches, broken];
    const expected = patches.map((p) => testPatch(bkg, p));
    const seen: string[] = [];
    const summary = await scan(bkg, patches, {
      executor: 'threads',
      workers: 2,
      onResult: (r, p) => seen.push(`${r.name} ${p.done}/${p.total}`),
    });
    expect(summary.results).toHaveLength(patches.length);
    expect(seen).toHaveLength(patches.length);
    const byName = new Map(summary.results.map((r) => [r.name, r]));
    for (const e of expected) expect(essence(byName.get(e.name)!)).toEqual(essence(e));
    expect(summary.failed.map((r) => r.name)).toEqual(['sbottom_broken_1']);
    const f = summary.failed[0];
    expect(!f.ok && f.error).toMatch(/patch sbottom_broken_1: operation 0 at \/channels\/99\/samples\/0\/data/);
    expect(summary.results.filter((r) => r.ok).every((r) => r.where?.startsWith('thread '))).toBe(true);
  }, 180_000);
});

describe('results.json and resume', () => {
  const simple = uncorrelatedBackground([0, 0], [50, 52], [3, 7], [51, 48]);
  const sig = (s: number): NamedPatch => ({
    name: `sig_${s}`,
    values: [s],
    patch: [{ op: 'replace', path: '/channels/0/samples/0/data', value: [s, s / 2] }],
  });

  it('is rewritten after every patch; resume tests only what is missing or failed', async () => {
    const out = join(dir, 'resume-simple');
    const sizes: number[] = [];
    await scan(simple, [sig(1), sig(5), broken], {
      out,
      onResult: () => sizes.push(readResults(join(out, 'results.json')).results.length),
    });
    // The file already holds the result being reported, every time.
    expect(sizes).toEqual([1, 2, 3]);
    const tested: string[] = [];
    const again = await scan(simple, [sig(1), sig(5), sig(10), broken], {
      out,
      resume: true,
      onResult: (r) => tested.push(r.name),
    });
    expect(tested.sort()).toEqual(['sbottom_broken_1', 'sig_10']);
    expect(again.skipped).toBe(2);
    const file = readResults(join(out, 'results.json'));
    expect(file.results.map((r) => r.name).sort()).toEqual(['sbottom_broken_1', 'sig_1', 'sig_10', 'sig_5']);
    expect(file.total).toBe(4);
  });

  it('refuses to overwrite an earlier scan, or to resume a different one', async () => {
    const out = join(dir, 'resume-refuse');
    await scan(simple, [sig(1)], { out });
    await expect(scan(simple, [sig(1)], { out })).rejects.toThrow(/results\.json exists.*pass --resume/);
    await expect(scan(simple, [sig(1)], { out, resume: true, poiTest: 2 })).rejects.toThrow(ScanError);
    await expect(scan(simple, [sig(1)], { out, resume: true, poiTest: 2 })).rejects.toThrow(
      /belongs to another scan \(POI test value 1, not 2\)/,
    );
    const other = uncorrelatedBackground([0, 0], [50, 52], [3, 7], [51, 49]);
    await expect(scan(other, [sig(1)], { out, resume: true })).rejects.toThrow(/another background-only workspace/);
    // The scan default is 'slsqp-fd' and is recorded; other optimizers' scans (and files from before the field) are not mixed in.
    expect(readResults(join(out, 'results.json')).identity.optimizer).toBe('slsqp-fd');
    await expect(scan(simple, [sig(1)], { out, resume: true, optimizer: 'lbfgsb' })).rejects.toThrow(
      /belongs to another scan \(optimizer slsqp-fd, not lbfgsb\)/,
    );
    await expect(scan(simple, [sig(1)], { out, resume: true, optimizer: 'slsqp' })).rejects.toThrow(
      /optimizer slsqp-fd, not slsqp\).*pass --optimizer slsqp-fd to continue it/s,
    );
    const old = join(dir, 'resume-lbfgsb');
    await scan(simple, [sig(1)], { out: old, optimizer: 'lbfgsb' });
    expect(readResults(join(old, 'results.json')).identity.optimizer).toBeUndefined();
    await expect(scan(simple, [sig(1), sig(5)], { out: old, resume: true })).rejects.toThrow(
      /optimizer lbfgsb, not slsqp-fd\).*pass --optimizer lbfgsb to continue it/s,
    );
    expect((await scan(simple, [sig(1), sig(5)], { out: old, resume: true, optimizer: 'lbfgsb' })).skipped).toBe(1);
    writeFileSync(join(out, 'results.json'), '{"format": "something else"}');
    await expect(scan(simple, [sig(1)], { out, resume: true })).rejects.toThrow(
      /not a ristretto fit scan results file/,
    );
  });

  it('refuses two patches of the same name', async () => {
    await expect(scan(simple, [sig(1), sig(1)])).rejects.toThrow(/two patches are named "sig_1"/);
  });

  it('resumes a CLI scan whose process was killed, ending with the same results as an uninterrupted scan', async () => {
    const patchDir = join(dir, 'subset');
    mkdirSync(patchDir, { recursive: true });
    const files = readdirSync(join(dir, 'RegionA'))
      .filter((f) => f.startsWith('patch.'))
      .filter((_, i) => i % 9 === 0);
    for (const f of files) copyFileSync(join(dir, 'RegionA', f), join(patchDir, f));
    const out = join(dir, 'killed');
    const results = join(out, 'results.json');
    const args = [
      join(repoRoot, 'bin', 'ristretto.mjs'),
      'fit',
      'scan',
      join(dir, 'RegionA', 'BkgOnly.json'),
      '--patchset',
      patchDir,
      '--out',
      out,
      '--plot',
      'none',
    ];
    const child = spawn(process.execPath, args, { stdio: 'ignore' });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    // Kill it once at least two patches are on disk.
    for (;;) {
      if (existsSync(results) && readResults(results).results.length >= 2) break;
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGKILL');
    await exited;
    const before = readResults(results).results;
    expect(before.length).toBeGreaterThanOrEqual(2);
    const resumed = await runNode([...args, '--resume', '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    const lines = jsonLines<{ summary?: { tested: number; skipped: number; failed: number } }>(resumed.stdout);
    const summary = lines.at(-1)!.summary!;
    expect(summary.skipped).toBe(before.filter((r) => r.ok).length);
    expect(summary.tested + summary.skipped).toBe(files.length);
    expect(summary.failed).toBe(0);
    const after = readResults(results).results;
    expect(after).toHaveLength(files.length);
    const subset = readPatches(patchDir).patches;
    for (const p of subset) expect(essence(after.find((r) => r.name === p.name)!)).toEqual(essence(testPatch(bkg, p)));
    expect(JSON.parse(readFileSync(results, 'utf8')).identity.workspaceHash).toMatch(/^[0-9a-f]{64}$/);
  }, 240_000);
});
