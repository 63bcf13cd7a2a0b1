import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerFitCommands, parseInterp } from '../../src/fit/cli.ts';
import { extractAtlas, removeDir, validationCases } from './helpers.ts';
import { captureOutput, jsonLines } from '../helpers/cli.ts';
import { sharedPath } from '../shared.ts';

let dir = '';
beforeAll(() => {
  dir = extractAtlas();
});
afterAll(() => removeDir(dir));

function run(args: string[]): Promise<{ out: string; err: string; code: number | undefined }> {
  const program = new Command('ristretto').exitOverride();
  registerFitCommands(program);
  return captureOutput(() => program.parseAsync(['node', 'ristretto', ...args]));
}

describe('ristretto fit', () => {
  it('cls --json prints one object with the observed CLs and the expected band', async () => {
    const ws = join(dir, 'RegionA', 'BkgOnly.json');
    const { out, code } = await run([
      'fit',
      'cls',
      ws,
      '-p',
      join(dir, 'RegionA', 'patch.sbottom_1300_850_60.json'),
      '--poi-test',
      '1',
      '--json',
    ]);
    expect(code).toBeUndefined();
    const r = JSON.parse(out) as { cls_obs: number; cls_exp: number[]; poi: string };
    expect(r.poi).toBe('mu_SIG');
    expect(r.cls_exp).toHaveLength(5);
    // 0.000912254 at the converged optimum (--optimizer lbfgsb); the default stops where pyhf's SLSQP does, 3e-5 (relative) away.
    expect(r.cls_obs).toBeCloseTo(0.000912254, 7);
  });

  it("cls gives pyhf's validation numbers by default and with --optimizer slsqp-fd; a bad --optimizer is a clear error", async () => {
    const c = validationCases().find((x) => x.name === '2bin_2channel')!;
    const tmp = mkdtempSync(join(tmpdir(), 'ristretto-fit-cli-'));
    try {
      const file = join(tmp, 'ws.json');
      writeFileSync(file, JSON.stringify(c.workspace));
      const args = ['fit', 'cls', file, '--test-stat', 'q', '--interp', 'normsys=code1,histosys=code0', '--json'];
      const ref = [c.expected.cls_obs, ...c.expected.cls_exp];
      for (const extra of [[], ['--optimizer', 'slsqp-fd']]) {
        const { out, code } = await run([...args, ...extra]);
        expect(code).toBeUndefined();
        const r = JSON.parse(out) as { cls_obs: number; cls_exp: number[] };
        [r.cls_obs, ...r.cls_exp].forEach((v, i) =>
          expect(Math.abs(v - ref[i]) / ref[i], extra.join(' ')).toBeLessThanOrEqual(c.rel_tolerance),
        );
      }
      const bad = await run([...args, '--optimizer', 'minuit']);
      expect(bad.code).toBe(1);
      expect(bad.err).toMatch(/unknown --optimizer "minuit" \(slsqp-fd: .*slsqp: .*lbfgsb: /);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('a background-only workspace without a patch says to pass one', async () => {
    const { err, code } = await run(['fit', 'cls', join(dir, 'RegionA', 'BkgOnly.json')]);
    expect(code).toBe(1);
    expect(err).toMatch(
      /the POI "mu_SIG" is not a parameter of the model .* — pass a signal patch that adds it \(-p patch\.json/,
    );
  });

  it('reports a bad workspace in one line with the JSON path', async () => {
    const { err, code } = await run([
      'fit',
      'cls',
      join(dir, 'RegionA', 'BkgOnly.json'),
      '-p',
      join(dir, 'RegionB', 'patch.sbottom_1000_131_1.json'),
    ]);
    expect(code).toBe(1);
    expect(err).toMatch(/^ristretto fit: .*at \/channels\/\d+\/samples\/\d+\/data: /);
  });

  it('a misspelled workspace path is one line naming the file once, with what to do', async () => {
    const missing = join(dir, 'RegionA', 'BkgOnly.jsn');
    const { err, code } = await run(['fit', 'cls', missing]);
    expect(code).toBe(1);
    expect(err.trim().split('\n')[0]).toBe(
      `ristretto fit: ${missing}: file not found — check the path to the workspace or patch JSON file`,
    );
  });

  it('cls names the patch file and the failing operation in it when a patch does not apply', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'ristretto-fit-cli-'));
    try {
      const bad = join(tmp, 'bad.json');
      const channels = (
        JSON.parse(readFileSync(join(dir, 'RegionA', 'BkgOnly.json'), 'utf8')) as { channels: { name: string }[] }
      ).channels;
      expect(channels).toHaveLength(3);
      // Operation 0 applies (it tests channel 0's real name); operation 1 adds to a fourth channel, which RegionA lacks.
      writeFileSync(
        bad,
        JSON.stringify([
          { op: 'test', path: '/channels/0/name', value: channels[0].name },
          { op: 'add', path: '/channels/3/samples/-', value: { name: 'sig', data: [1], modifiers: [] } },
        ]),
      );
      const { out, err, code } = await run(['fit', 'cls', join(dir, 'RegionA', 'BkgOnly.json'), '--patch', bad]);
      expect(code).toBe(1);
      expect(out).toBe('');
      expect(err).toContain(
        `ristretto fit: patch bad (${bad} at /1): operation 1 at /channels/3/samples/-: index 3 is out of range (array has 3 items)`,
      );
      expect(err).toMatch(/check that the patch was made for this background-only workspace\n$/);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('scan lists a patch file that does not apply, and one that is not JSON, by file name and finishes', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'ristretto-fit-cli-'));
    try {
      const set = join(tmp, 'set');
      mkdirSync(set);
      for (const n of ['sbottom_1300_850_60', 'sbottom_600_280_150'])
        copyFileSync(join(dir, 'RegionA', `patch.${n}.json`), join(set, `patch.${n}.json`));
      // A real signal patch whose operation 0 adds to a channel RegionA does not have (it has 3).
      const broken = join(set, 'patch.sbottom_broken_1.json');
      const ops = JSON.parse(readFileSync(join(dir, 'RegionA', 'patch.sbottom_1300_850_60.json'), 'utf8')) as {
        path: string;
      }[];
      ops[0].path = ops[0].path.replace(/^\/channels\/\d+/, '/channels/5');
      writeFileSync(broken, JSON.stringify(ops));
      const notJson = join(set, 'patch.sbottom_truncated_2.json');
      writeFileSync(notJson, '[{"op": "add", "path"');
      const { out, code } = await run([
        'fit',
        'scan',
        join(dir, 'RegionA', 'BkgOnly.json'),
        '--patchset',
        set,
        '--executor',
        'threads',
        '--workers',
        '2',
        '--json',
      ]);
      // 2 of 4 failed: not a finished scan, exit 1 (it was 0 before).
      expect(code).toBe(1);
      const lines = jsonLines(out);
      const summary = lines.at(-1) as {
        summary: { patches: number; failed: number };
        failures: { name: string; error: string }[];
      };
      expect(summary.summary).toMatchObject({ patches: 4, failed: 2 });
      expect(
        lines
          .filter((l) => l.ok === true)
          .map((l) => l.name)
          .sort(),
      ).toEqual(['sbottom_1300_850_60', 'sbottom_600_280_150']);
      const failures = new Map(summary.failures.map((f) => [f.name, f.error]));
      expect([...failures.keys()].sort()).toEqual([notJson, 'sbottom_broken_1'].sort());
      expect(failures.get('sbottom_broken_1')).toContain(
        `patch sbottom_broken_1 (${broken} at /0): operation 0 at /channels/5/samples/0: index 5 is out of range (array has 3 items)`,
      );
      expect(failures.get(notJson)).toContain(notJson);
      expect(failures.get(notJson)).toMatch(/not JSON/);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('scan exits 1 when every patch fails, and says so', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'ristretto-fit-cli-'));
    try {
      const set = join(tmp, 'set');
      mkdirSync(set);
      // RegionB's signal patches do not fit RegionA's channels: none applies.
      for (const n of ['sbottom_1000_131_1', 'sbottom_1000_205_60'])
        copyFileSync(join(dir, 'RegionB', `patch.${n}.json`), join(set, `patch.${n}.json`));
      const { out, err, code } = await run(['fit', 'scan', join(dir, 'RegionA', 'BkgOnly.json'), '--patchset', set]);
      expect(code).toBe(1);
      expect(out).toMatch(/2 patches, 2 tested, 0 resumed, 2 failed/);
      expect(err).toMatch(/2 of 2 patches failed \(sbottom_1000_131_1, sbottom_1000_205_60\); nothing was tested/);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('scan names the patch set file and the patch inside it that does not apply; the plot takes its labels', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'ristretto-fit-cli-'));
    try {
      const ps = JSON.parse(readFileSync(sharedPath('fit', 'example-patchset.json'), 'utf8')) as {
        metadata: { labels: string[] };
        patches: {
          metadata: { name: string; values: number[] };
          patch: { op: string; path: string; value: unknown }[];
        }[];
      };
      ps.metadata.labels = ['syst_scale_k'];
      // A second good point (a larger normsys variation), so the scan has a Brazil-band plot.
      ps.patches.push({
        metadata: { name: 'patch_channel1_signal_syst2', values: [2] },
        patch: ps.patches[0].patch.map((op) => ({ ...op, value: op.path.endsWith('/hi') ? 1.4 : 0.6 })),
      });
      ps.patches.push({
        metadata: { name: 'patch_missing_sample', values: [1] },
        patch: [{ op: 'replace', path: '/channels/0/samples/7/data', value: [1] }],
      });
      const file = join(tmp, 'patchset.json');
      writeFileSync(file, JSON.stringify(ps));
      const { out, err, code } = await run([
        'fit',
        'scan',
        sharedPath('fit', 'example-patchset-bkgonly.json'),
        '--patchset',
        file,
        '--out',
        join(tmp, 'out'),
      ]);
      // One failed patch: exit 1, the others' results (and the plot) kept.
      expect(err).toBe(
        `ristretto fit: 1 of 3 patches failed (patch_missing_sample); the results of the other 2 are in ${join(tmp, 'out', 'results.json')} (fix the failures, then rerun with --resume to test only them)\n`,
      );
      expect(code).toBe(1);
      expect(out).toContain(
        `patch_missing_sample: failed: patch patch_missing_sample (${file} at /patches/2/patch/0): operation 0 at /channels/0/samples/7/data: `,
      );
      expect(out).toMatch(/3 patches, 3 tested, 0 resumed, 1 failed/);
      expect(readFileSync(join(tmp, 'out', 'scan.svg'), 'utf8')).toContain('>syst_scale_k</text>');
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('scan --json streams one line per patch and a summary', async () => {
    const { out, code } = await run([
      'fit',
      'scan',
      sharedPath('fit', 'example-patchset-bkgonly.json'),
      '--patchset',
      sharedPath('fit', 'example-patchset.json'),
      '--json',
    ]);
    expect(code).toBeUndefined();
    const lines = jsonLines(out);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ name: 'patch_channel1_signal_syst1', ok: true });
    expect(lines[1]).toMatchObject({ summary: { patches: 1, failed: 0 } });
  });

  it('scan refuses options that do not fit together, with one line saying what to pass', async () => {
    const ws = sharedPath('fit', 'example-patchset-bkgonly.json');
    const ps = sharedPath('fit', 'example-patchset.json');
    const cases: [string[], RegExp][] = [
      [['--executor', 'cluster'], /unknown --executor "cluster".*iterative, threads or faas/],
      [['--executor', 'faas'], /--executor faas needs --service URL and --endpoints A,B/],
      [['--service', 'http://127.0.0.1:1'], /--service and --endpoints go with --executor faas/],
      [['--resume'], /--resume needs --out DIR/],
      [['--plot', 'gif'], /unknown --plot "gif"/],
      [['--executor', 'threads', '--workers', '0'], /--workers must be a positive integer, got "0"/],
    ];
    for (const [extra, re] of cases) {
      const { err, code } = await run(['fit', 'scan', ws, '--patchset', ps, ...extra]);
      expect(code, extra.join(' ')).toBe(1);
      expect(err).toMatch(re);
    }
  });

  it('scan --out writes results.json, and says why one point gives no plot', async () => {
    const out = join(dir, 'cli-scan');
    const { out: text, code } = await run([
      'fit',
      'scan',
      join(dir, 'RegionA', 'BkgOnly.json'),
      '--patchset',
      join(dir, 'RegionA', 'patch.sbottom_1300_850_60.json'),
      '--out',
      out,
    ]);
    // A single patch file is not a patch set: a clear error, not a crash.
    expect(code).toBe(1);
    expect(text).toBe('');
    const ok = await run([
      'fit',
      'scan',
      sharedPath('fit', 'example-patchset-bkgonly.json'),
      '--patchset',
      sharedPath('fit', 'example-patchset.json'),
      '--out',
      out,
      '--executor',
      'threads',
      '--workers',
      '1',
    ]);
    expect(ok.code).toBeUndefined();
    expect(ok.out).toMatch(/\[1\/1\] patch_channel1_signal_syst1: CLs [\d.e-]+ \(expected [\d.e-]+\), ETA 0 s/);
    expect(ok.out).toMatch(/1 patches, 1 tested, 0 resumed, 0 failed, .*results in .*results\.json/);
    expect(existsSync(join(out, 'results.json'))).toBe(true);
    expect(ok.out).toMatch(/; no plot: .*needs at least 2/);
    expect(existsSync(join(out, 'scan.svg'))).toBe(false);
  });

  it('parses --interp and refuses unknown codes', () => {
    expect(parseInterp('normsys=code1,histosys=code0')).toEqual({ normsys: 'code1', histosys: 'code0' });
    expect(() => parseInterp('normsys=code9')).toThrow(/code0, code1, code2, code4, code4p/);
  });
});
