/**
 * Time per asymptotic hypotest (qtilde, μ = 1) on pyhf's validation cases and on the ATLAS sbottom
 * RegionA signal points (../shared/fit), in one process, one after the other.
 *
 *   npx tsx bench/fit-hypotest.ts [maxPatches] [--warm-start]
 *
 * Prints one JSON line per section. Nothing is compared with a peer here: correctness of the same
 * code paths is checked by test/fit (validation set, closed forms, gradients).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchArgs, flag, int } from './lib.ts';
import { buildModel, hypotest, loadWorkspace, readPatches, testPatch, type WorkspaceSpec } from '../src/fit/index.ts';

const shared = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'shared', 'fit');
const { maxPatches, 'warm-start': warmStart } = benchArgs(
  "Time per asymptotic hypotest on pyhf's validation cases and the ATLAS sbottom RegionA points.",
  { 'warm-start': flag('start each fit from the previous one') },
  { maxPatches: int('ATLAS signal points at most (default all)', Number.POSITIVE_INFINITY, 1) },
);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

// Validation cases: median of 7 runs each, after one warm-up.
const cases = (
  JSON.parse(readFileSync(join(shared, 'pyhf-validation.json'), 'utf8')) as {
    cases: { name: string; workspace: WorkspaceSpec; poi_test: number; test_stat: 'q' | 'qtilde' | 'q0' }[];
  }
).cases;
const perCase: Record<string, number> = {};
for (const c of cases) {
  const model = buildModel(c.workspace);
  hypotest(model, c.poi_test, model.observedData(), { testStat: c.test_stat });
  const times: number[] = [];
  for (let i = 0; i < 7; i++) {
    const t0 = performance.now();
    hypotest(model, c.poi_test, model.observedData(), { testStat: c.test_stat, warmStart });
    times.push(performance.now() - t0);
  }
  perCase[c.name] = Number(median(times).toFixed(3));
}
console.log(JSON.stringify({ section: 'validation', unit: 'ms per hypotest (median of 7)', perCase }));

// ATLAS RegionA: every signal patch once.
const dir = mkdtempSync(join(tmpdir(), 'ristretto-fit-bench-'));
try {
  execFileSync('tar', ['-xzf', join(shared, 'atlas-sbottom-multib-likelihoods.tar.gz'), '-C', dir]);
  const bkg = loadWorkspace(join(dir, 'RegionA', 'BkgOnly.json'));
  const { patches } = readPatches(join(dir, 'RegionA'));
  const chosen = patches.slice(0, Math.min(patches.length, maxPatches));
  const t0 = performance.now();
  const times: number[] = [];
  let failed = 0;
  let first: unknown;
  for (const p of chosen) {
    const r = testPatch(bkg, p, { warmStart });
    if (!r.ok) failed++;
    if (p.name === 'sbottom_1300_850_60') first = r;
    times.push(r.seconds * 1000);
  }
  const total = (performance.now() - t0) / 1000;
  console.log(
    JSON.stringify({
      section: 'atlas-regionA',
      warmStart,
      patches: chosen.length,
      failed,
      totalSeconds: Number(total.toFixed(2)),
      msPerPatch: {
        median: Number(median(times).toFixed(1)),
        max: Number(Math.max(...times).toFixed(1)),
        first: Number(times[0].toFixed(1)),
      },
      sbottom_1300_850_60: first,
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
