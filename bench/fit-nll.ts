/**
 * The NLL evaluation and slsqp-fd fits of this tree against another revision, side by side in one
 * process (the revision's `src/` is extracted with `git archive` into a temp dir), on ATLAS sbottom
 * RegionA points (64 parameters):
 *
 *   npx tsx bench/fit-nll.ts [--base REV=HEAD] [--points 6] [--reps 3] [--limit]
 *
 * Per point and repetition, each side in turn (the order alternates):
 * - `evalUs`: microseconds per 2·NLL evaluation (pyhf's sum, what slsqp-fd minimizes) in the
 *   pattern of a forward-difference gradient: each evaluation moves one parameter by 1e-8;
 * - `hypotestMs`: one q̃ hypotest at μ = 1 with `optimizer: 'slsqp-fd'`;
 * - `--limit`: also `upperLimit` (slsqp-fd) of sbottom_1300_850_60 once per side and repetition.
 *
 * Every result (CLs observed and expected band, μ̂, the limits) must be identical to the bit on both
 * sides; the bench stops with an error otherwise. Prints one JSON line per measurement, then medians.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { benchArgs, flag, int, text } from './lib.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const shared = resolve(root, '..', 'shared', 'fit');
const {
  base: baseRev,
  points: nPoints,
  reps,
  limit: withLimit,
} = benchArgs('NLL evaluations and slsqp-fd fits of this tree against another revision, side by side.', {
  base: text('the git revision to compare with', 'HEAD', '<rev>'),
  points: int('ATLAS sbottom signal points', 6, 1),
  reps: int('repetitions', 3, 1),
  limit: flag('also time upperLimit of sbottom_1300_850_60'),
});

type FitModule = typeof import('../src/fit/index.ts');
type NllModule = typeof import('../src/fit/nll.ts');
interface Side {
  name: string;
  fit: FitModule;
  nll: NllModule;
}

const tmp = mkdtempSync(join(tmpdir(), 'ristretto-fit-nll-bench-'));
try {
  const baseDir = join(tmp, 'base');
  mkdirSync(baseDir);
  const rev = execFileSync('git', ['rev-parse', '--short', baseRev], { cwd: root, encoding: 'utf8' }).trim();
  execFileSync('sh', ['-c', `git archive ${rev} src package.json | tar -x -C "${baseDir}"`], { cwd: root });
  symlinkSync(join(root, 'node_modules'), join(baseDir, 'node_modules'));
  const load = async (dir: string, name: string): Promise<Side> => ({
    name,
    fit: (await import(pathToFileURL(join(dir, 'src', 'fit', 'index.ts')).href)) as FitModule,
    nll: (await import(pathToFileURL(join(dir, 'src', 'fit', 'nll.ts')).href)) as NllModule,
  });
  const sides = [await load(baseDir, `base ${rev}`), await load(root, 'this tree')];
  const uptime = () => execFileSync('uptime', { encoding: 'utf8' }).trim();
  console.log(JSON.stringify({ uptime: uptime(), cores: cpus().length, node: process.version, base: rev }));

  execFileSync('tar', ['-xzf', join(shared, 'atlas-sbottom-multib-likelihoods.tar.gz'), '-C', tmp]);
  const region = join(tmp, 'RegionA');
  const all = readdirSync(region)
    .filter((f) => f.startsWith('patch.'))
    .sort();
  const step = Math.max(1, Math.floor(all.length / nPoints));
  const points = all.filter((_, i) => i % step === 0).slice(0, nPoints);
  const bkgFile = join(region, 'BkgOnly.json');

  const samples = new Map<string, number[]>();
  const note = (key: string, v: number) => samples.set(key, [...(samples.get(key) ?? []), v]);
  const same = (what: string, a: unknown, b: unknown) => {
    const [x, y] = [JSON.stringify(a), JSON.stringify(b)];
    if (x !== y) throw new Error(`${what}: results differ between the sides:\n${x}\n${y}`);
  };

  for (let rep = 0; rep < reps; rep++) {
    const order = rep % 2 === 0 ? sides : [...sides].reverse();
    for (const p of points) {
      const results: unknown[] = [];
      for (const s of order) {
        const model = s.fit.buildModel(s.fit.loadWorkspace(bkgFile, { patches: [join(region, p)] }));
        const data = model.observedData();
        // 2·NLL in a forward-difference pattern: 30 sweeps over the parameters, one moved at a time.
        const ws = new s.nll.NllWorkspace(model);
        const x = model.suggestedInit();
        let sink = 0;
        const t0 = performance.now();
        let evals = 0;
        for (let sweep = 0; sweep < 30; sweep++) {
          sink += s.nll.twiceNllPyhfOrder(ws, data, x);
          evals++;
          for (let i = 0; i < x.length; i++) {
            const xi = x[i];
            x[i] = xi + 1e-8;
            sink += s.nll.twiceNllPyhfOrder(ws, data, x);
            x[i] = xi;
            evals++;
          }
        }
        const evalUs = ((performance.now() - t0) * 1000) / evals;
        const t1 = performance.now();
        const h = s.fit.hypotest(model, 1, data, { optimizer: 'slsqp-fd' });
        const hypotestMs = performance.now() - t1;
        results.push({ sink, cls: [h.clsObs, ...h.clsExp, h.muHat] });
        note(`${s.name} evalUs`, evalUs);
        note(`${s.name} hypotestMs`, hypotestMs);
        console.log(
          JSON.stringify({
            rep,
            point: p,
            side: s.name,
            evalUs: Number(evalUs.toFixed(2)),
            hypotestMs: Math.round(hypotestMs),
          }),
        );
      }
      same(p, results[0], results[1]);
    }
    if (withLimit) {
      const results: unknown[] = [];
      for (const s of order) {
        const model = s.fit.buildModel(
          s.fit.loadWorkspace(bkgFile, { patches: [join(region, 'patch.sbottom_1300_850_60.json')] }),
        );
        const t0 = performance.now();
        const r = s.fit.upperLimit(model, model.observedData(), { optimizer: 'slsqp-fd' });
        const limitS = (performance.now() - t0) / 1000;
        results.push([r.obs, ...r.exp, r.tests]);
        note(`${s.name} limitS`, limitS);
        console.log(
          JSON.stringify({ rep, limit: 'sbottom_1300_850_60', side: s.name, limitS: Number(limitS.toFixed(2)) }),
        );
      }
      same('upper limit', results[0], results[1]);
    }
  }
  const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
  console.log(
    JSON.stringify({
      uptime: uptime(),
      identical: true,
      medians: Object.fromEntries([...samples].map(([k, v]) => [k, Number(median(v).toFixed(2))])),
    }),
  );
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
