/**
 * Cost of one 2-D colour map written as PNG (24 × 16 bins, as run-analysis writes a map): the figure kit
 * (`figureSVG` → colormap.ts, resvg with the bundled fonts) or jsroot (`plotSVG` + `svgToPNG`, whose
 * painters load on the first call). Run each arm in a fresh process, interleaved:
 *
 *     for i in 1 2 3; do for m in kit jsroot; do npx tsx bench/colormap-render.ts --mode $m; done; done
 *
 * Prints wall and CPU milliseconds per map (the first call's loading spread over `--reps`, default 5).
 */
import { Hist, Regular } from '../src/hist/index.ts';
import { figureSVG, plotSVG, svgToPNG, svgToPNGBundled } from '../src/hist/render.ts';
import { benchArgs, choice, int } from './lib.ts';

const { mode, reps } = benchArgs('Cost of one 2-D colour map written as PNG: the figure kit or jsroot.', {
  mode: choice('renderer', ['kit', 'jsroot'] as const, 'kit'),
  reps: int('maps per process (the first call loads the renderer)', 5, 1),
});
const h = new Hist(
  new Regular(24, -2.4, 2.4, { name: 'eta', label: '#eta' }),
  new Regular(16, -3.2, 3.2, { name: 'phi', label: '#phi' }),
);
const n = 20_000;
h.fill(
  Float64Array.from({ length: n }, (_, i) => -2.4 + ((i * 7919) % 4800) / 1000),
  Float64Array.from({ length: n }, (_, i) => -3.2 + ((i * 104729) % 6400) / 1000),
);
const t0 = performance.now();
const c0 = process.cpuUsage();
let bytes = 0;
for (let k = 0; k < reps; k++) {
  if (mode === 'kit') bytes = svgToPNGBundled(figureSVG(h, { label: 'CMS Open Data', lumi: 0.01, sqrts: 8 })).length;
  else bytes = (await svgToPNG(await plotSVG(h))).length;
}
const c = process.cpuUsage(c0);
console.log(
  JSON.stringify({
    mode,
    wallMsPerMap: +((performance.now() - t0) / reps).toFixed(1),
    cpuMsPerMap: +((c.user + c.system) / 1000 / reps).toFixed(1),
    pngBytes: bytes,
  }),
);
