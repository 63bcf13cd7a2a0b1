/**
 * `fit cls --test-stat q0` is a discovery test: it prints and returns p0 (what pyhf's hypotest reports for
 * q0), labelled p0 — before, CLs+b/CLb was printed as "CLs observed". Reference numbers: pyhf's
 * validation case 1bin_shapesys_q0 (../shared/fit/pyhf-validation.json).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerFitCommands } from '../../src/fit/cli.ts';
import { captureOutput } from '../helpers/cli.ts';
import { validationCases } from './helpers.ts';

let dir = '';
let file = '';
const c = validationCases().find((x) => x.name === '1bin_shapesys_q0')!;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ristretto-q0-'));
  file = join(dir, 'ws.json');
  writeFileSync(file, JSON.stringify(c.workspace));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[]): Promise<{ out: string; err: string; code: number | undefined }> {
  const program = new Command('ristretto').exitOverride();
  registerFitCommands(program);
  return captureOutput(() => program.parseAsync(['node', 'ristretto', ...args]));
}

const interp = ['--interp', `normsys=${c.interpolation.normsys},histosys=${c.interpolation.histosys}`];

describe('fit cls --test-stat q0', () => {
  it("--json: p0_obs and p0_exp are pyhf's numbers, tested at μ = 0; no cls_* fields", async () => {
    expect(c.test_stat).toBe('q0');
    expect(c.poi_test).toBe(0);
    const { out, code, err } = await run(['fit', 'cls', file, '--test-stat', 'q0', ...interp, '--json']);
    expect(code, err).toBeUndefined();
    const r = JSON.parse(out) as Record<string, unknown> & { p0_obs: number; p0_exp: number[] };
    expect(r.poi_test).toBe(0);
    expect(Math.abs(r.p0_obs - c.expected.cls_obs) / c.expected.cls_obs).toBeLessThanOrEqual(c.rel_tolerance);
    r.p0_exp.forEach((v, i) =>
      expect(Math.abs(v - c.expected.cls_exp[i]) / c.expected.cls_exp[i]).toBeLessThanOrEqual(c.rel_tolerance),
    );
    for (const k of ['cls_obs', 'cls_exp', 'clsb_obs', 'clb_obs']) expect(r, k).not.toHaveProperty(k);
  });

  it('the table says p0, never CLs', async () => {
    const { out, code } = await run(['fit', 'cls', file, '--test-stat', 'q0', ...interp]);
    expect(code).toBeUndefined();
    expect(out).not.toMatch(/CLs/);
    const lines = out.trim().split('\n');
    expect(lines[0]).toMatch(/ = 0 \(q0, discovery\), μ̂ = /);
    const obs = Number(/^p0 observed: (\S+)$/.exec(lines[1])?.[1]);
    expect(Math.abs(obs - c.expected.cls_obs) / c.expected.cls_obs).toBeLessThanOrEqual(1e-5 + c.rel_tolerance);
    expect(lines[2]).toMatch(/^p0 expected \(−2σ, −1σ, median, \+1σ, \+2σ\): /);
  });

  it('q0 with a non-zero --poi-test, and fit scan --test-stat q0, are refused with what to do', async () => {
    const a = await run(['fit', 'cls', file, '--test-stat', 'q0', '--poi-test', '1']);
    expect(a.code).toBe(1);
    expect(a.err).toMatch(/--test-stat q0 tests μ = 0 \(discovery\), not --poi-test 1 — drop --poi-test/);
    const b = await run(['fit', 'scan', file, '--patchset', dir, '--test-stat', 'q0']);
    expect(b.code).toBe(1);
    expect(b.err).toMatch(/fit scan makes exclusion scans .* — use --test-stat qtilde or q/);
  });
});
