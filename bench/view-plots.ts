/**
 * Cost of the live view and of the figures: one ViewState publication (fingerprints of every
 * histogram, metadata of the changed ones) for a large accumulator, and figureSVG / figurePNG of a
 * stack + ratio plot. Prints machine load so the numbers can be read against it.
 *
 *   npx tsx bench/view-plots.ts
 */
import { availableParallelism, cpus, loadavg } from 'node:os';
import { Hist, Regular, StrCategory } from '../src/hist/index.ts';
import { figurePNG, figureSVG } from '../src/hist/render.ts';
import { ViewState } from '../src/view/state.ts';
import { Rng } from '../samples/rng.ts';
import { benchArgs } from './lib.ts';

benchArgs('Cost of the live view (one ViewState publication) and of figureSVG / figurePNG.', {});

const rng = new Rng(1);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
process.stdout.write(
  `machine: ${cpus()[0]?.model ?? '?'} x${availableParallelism()}, load ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}\n`,
);

const acc: Record<string, Hist> = {};
for (let i = 0; i < 50; i++) {
  const h = new Hist(new Regular(1000, 0, 1000, { name: `h${i}` }));
  h.fill(Float64Array.from({ length: 10_000 }, (_, k) => k % 1000));
  acc[`h${i}`] = h;
}
const big = new Hist(new Regular(500, 0, 1, { name: 'x' }), new Regular(500, 0, 1, { name: 'y' }));
big.fill(
  Float64Array.from({ length: 100_000 }, () => rng.uniform()),
  Float64Array.from({ length: 100_000 }, () => rng.uniform()),
);
acc['big'] = big;
const state = new ViewState({ throttleMs: 1e9 });
const pub: number[] = [];
for (let r = 0; r < 21; r++) {
  acc['h0'].fill(Float64Array.of(r)); // one histogram changes per publication, as between two merges
  state.setAccumulator(acc);
  const t = performance.now();
  state.flush();
  pub.push(performance.now() - t);
}
process.stdout.write(
  `ViewState publication, 51 histograms (50 x 1000 bins + 500 x 500): median ${median(pub).toFixed(2)} ms of 21\n`,
);

const h = new Hist(
  new StrCategory([], { name: 'dataset', growth: true }),
  new Regular(60, 60, 120, { name: 'm', label: 'm_{#mu#mu} [GeV]' }),
);
h.fill(
  'DY',
  Float64Array.from({ length: 10_000 }, () => 91 + 2.5 * rng.normal()),
).fill(
  'data',
  Float64Array.from({ length: 10_000 }, () => 91 + 2.5 * rng.normal()),
);
const svg: number[] = [];
for (let i = 0; i < 21; i++) {
  const t = performance.now();
  figureSVG(h, { data: ['data'], label: 'CMS Open Data', lumi: 11.6, sqrts: 8 });
  svg.push(performance.now() - t);
}
figurePNG(h, { data: ['data'] }); // font loading once
const png: number[] = [];
for (let i = 0; i < 7; i++) {
  const t = performance.now();
  figurePNG(h, { data: ['data'], label: 'CMS Open Data', lumi: 11.6, sqrts: 8 });
  png.push(performance.now() - t);
}
process.stdout.write(
  `figureSVG stack + ratio: median ${median(svg).toFixed(2)} ms of 21; figurePNG: median ${median(png).toFixed(1)} ms of 7\n`,
);
process.stdout.write(
  `load after: ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}\n`,
);
