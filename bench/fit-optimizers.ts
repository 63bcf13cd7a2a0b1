/**
 * The three fit optimizers side by side, interleaved (A/B/C per repetition, so machine load hits all
 * alike): 'slsqp' (default: pyhf's SLSQP on the analytic gradient), 'slsqp-fd' (pyhf's SLSQP with
 * scipy's finite differences, numpy-backend pyhf step for step) and 'lbfgsb' (analytic gradient,
 * converged optimum). Per pyhf validation case: ms per hypotest (median of 5) and the largest
 * relative deviation from the file's CLs; then ATLAS sbottom RegionA signal points: ms per hypotest
 * and the largest relative deviation of each from 'slsqp-fd' (observed CLs and the expected band).
 *
 *   npx tsx bench/fit-optimizers.ts [atlasPatches=10]
 *
 * Prints one JSON line per section.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  buildModel,
  hypotest,
  loadWorkspace,
  patchWorkspace,
  readPatches,
  testPatch,
  type FitOptimizer,
  type InterpCode,
  type WorkspaceSpec,
} from '../src/fit/index.ts';
import { benchArgs, int } from './lib.ts';

const shared = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'shared', 'fit');
const { atlasPatches: nAtlas } = benchArgs(
  'The three fit optimizers side by side, interleaved, on pyhf cases and ATLAS sbottom points.',
  {},
  { atlasPatches: int('ATLAS signal points', 10, 0) },
);
const OPTS: FitOptimizer[] = ['slsqp', 'slsqp-fd', 'lbfgsb'];
const round = (v: number, digits: number): number => Number(v.toFixed(digits));
const perOpt = (f: (o: FitOptimizer) => number): Record<string, number> =>
  Object.fromEntries(OPTS.map((o) => [o, f(o)]));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

interface Case {
  name: string;
  workspace: WorkspaceSpec;
  poi_test: number;
  test_stat: 'q' | 'qtilde' | 'q0';
  interpolation: { normsys: InterpCode; histosys: InterpCode };
  expected: { cls_obs: number; cls_exp: number[] };
  rel_tolerance: number;
}
const cases = (JSON.parse(readFileSync(join(shared, 'pyhf-validation.json'), 'utf8')) as { cases: Case[] }).cases;
const rows: Record<string, unknown>[] = [];
for (const c of cases) {
  // The file's histosys numbers were made with code0 (see test/fit/validation.test.ts).
  const model = buildModel(c.workspace, {
    interp: {
      normsys: c.interpolation.normsys,
      histosys: c.name.includes('histosys') ? 'code0' : c.interpolation.histosys,
    },
  });
  const times: Record<string, number[]> = Object.fromEntries(OPTS.map((o) => [o, []]));
  const dev: Record<string, number> = {};
  for (let rep = 0; rep < 6; rep++) {
    for (const optimizer of OPTS) {
      const t0 = performance.now();
      const r = hypotest(model, c.poi_test, model.observedData(), { testStat: c.test_stat, optimizer });
      if (rep > 0) times[optimizer].push(performance.now() - t0);
      const ours = [r.reported.obs, ...r.reported.exp];
      const ref = [c.expected.cls_obs, ...c.expected.cls_exp];
      dev[optimizer] = Math.max(...ours.map((x, i) => Math.abs(x - ref[i]) / ref[i]));
    }
  }
  rows.push({
    case: c.name,
    tolerance: c.rel_tolerance,
    ms: perOpt((o) => round(median(times[o]), 3)),
    maxRelDev: perOpt((o) => Number(dev[o].toExponential(2))),
  });
}
console.log(JSON.stringify({ section: 'validation', rows }));

const dir = mkdtempSync(join(tmpdir(), 'ristretto-fit-bench-'));
try {
  execFileSync('tar', ['-xzf', join(shared, 'atlas-sbottom-multib-likelihoods.tar.gz'), '-C', dir]);
  const bkg = loadWorkspace(join(dir, 'RegionA', 'BkgOnly.json'));
  const { patches } = readPatches(join(dir, 'RegionA'));
  const step = Math.max(1, Math.floor(patches.length / nAtlas));
  const chosen = patches.filter((_, i) => i % step === 0).slice(0, nAtlas);
  const times: Record<string, number[]> = Object.fromEntries(OPTS.map((o) => [o, []]));
  const maxRel: Record<string, number> = perOpt(() => 0);
  const worst: Record<string, string> = {};
  for (const p of chosen) {
    const got: Record<string, number[]> = {};
    for (const optimizer of OPTS) {
      const r = testPatch(bkg, p, { optimizer });
      if (!r.ok) throw new Error(`${p.name} (${optimizer}): ${r.error}`);
      times[optimizer].push(r.seconds * 1000);
      got[optimizer] = [r.clsObs, ...r.clsExp];
    }
    const ref = got['slsqp-fd'];
    for (const o of OPTS)
      got[o].forEach((v, i) => {
        const d = Math.abs(v - ref[i]) / Math.abs(ref[i]);
        if (d > maxRel[o]) {
          maxRel[o] = d;
          worst[o] =
            `${p.name} ${i === 0 ? 'obs' : `exp[${i - 1}]`}: ${v.toExponential(6)} vs ${ref[i].toExponential(6)}`;
        }
      });
  }
  console.log(
    JSON.stringify({
      section: 'atlas-regionA',
      patches: chosen.length,
      parameters: buildModel(patchWorkspace(bkg, chosen[0])).npars,
      msMedian: perOpt((o) => round(median(times[o]), 1)),
      maxRelDiffVsSlsqpFd: perOpt((o) => Number(maxRel[o].toExponential(2))),
      worst,
      load: loadavg()
        .map((x) => x.toFixed(1))
        .join(' '),
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
