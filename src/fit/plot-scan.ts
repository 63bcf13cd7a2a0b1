/**
 * Plots of a scan. Two or more parameters per patch (masses in the patch names or patch set metadata):
 * the plane of the first two, coloured by observed CLs, with the observed and expected CLs = 0.05
 * contours and the expected ±1σ contours — the standard exclusion plot. Further parameters are held
 * at their most common value (e.g. m(χ̃₁⁰) = 60 GeV of the sbottom grid) and named in the title. One
 * parameter: CLs against it with the expected ±1σ/±2σ band (the "Brazil band") and the 0.05 line.
 *
 * Plain SVG drawn here, in the bundled DejaVu Sans; PNG rendered by resvg with that font.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { linearTicks } from '../hist/figure.ts';
import { contourBands, contourSegments, delaunay } from './contour.ts';
import { ScanError } from './errors.ts';
import { writing, type ScanRecord } from './scan-results.ts';

export interface ScanPlotOptions {
  /** CLs level of the contours (default 0.05). */
  level?: number;
  /** Axis titles for the parameters (default m1, m2, ...). */
  labels?: string[];
  title?: string;
  /** POI value the scan tested, for the title. */
  poiTest?: number;
  width?: number;
  height?: number;
  /** Called with the reason when {@link writeScanPlot} writes no plot (too few usable points). */
  onSkipped?: (reason: string) => void;
}

type Ok = Extract<ScanRecord, { ok: true }>;

const W = 720,
  H = 560,
  L = 80,
  R = 150,
  T = 50,
  B = 60;

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** About `n` round tick values covering [lo, hi]: the major ticks of the histogram plots' `linearTicks`. */
export function niceTicks(lo: number, hi: number, n = 6): number[] {
  return linearTicks(lo, hi, n).major;
}

/** Viridis-like colour for t in [0, 1] (a few stops, linearly interpolated). */
function colour(t: number): string {
  const stops = [
    [68, 1, 84],
    [59, 82, 139],
    [33, 145, 140],
    [94, 201, 98],
    [253, 231, 37],
  ];
  const x = Math.min(1, Math.max(0, t)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const c = stops[i].map((a, k) => Math.round(a + f * (stops[i + 1][k] - a)));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

function frame(
  title: string,
  xl: string,
  yl: string,
  xt: number[],
  yt: number[],
  sx: (v: number) => number,
  sy: (v: number) => number,
  yfmt: (v: number) => string = String,
): string[] {
  const s: string[] = [];
  s.push(`<rect x="${L}" y="${T}" width="${W - L - R}" height="${H - T - B}" fill="none" stroke="#000"/>`);
  for (const v of xt)
    s.push(
      `<line x1="${sx(v)}" y1="${H - B}" x2="${sx(v)}" y2="${H - B + 6}" stroke="#000"/><text x="${sx(v)}" y="${H - B + 20}" text-anchor="middle" font-size="12">${v}</text>`,
    );
  for (const v of yt)
    s.push(
      `<line x1="${L - 6}" y1="${sy(v)}" x2="${L}" y2="${sy(v)}" stroke="#000"/><text x="${L - 9}" y="${sy(v) + 4}" text-anchor="end" font-size="12">${yfmt(v)}</text>`,
    );
  s.push(`<text x="${(L + W - R) / 2}" y="${H - 15}" text-anchor="middle" font-size="14">${esc(xl)}</text>`);
  s.push(
    `<text transform="translate(20 ${(T + H - B) / 2}) rotate(-90)" text-anchor="middle" font-size="14">${esc(yl)}</text>`,
  );
  s.push(`<text x="${L}" y="${T - 15}" font-size="14">${esc(title)}</text>`);
  return s;
}

/** The bundled font `--plot png` renders with (FONT_FAMILY of src/hist/fonts.ts, not imported: it loads resvg). */
const FONT_FAMILY = 'DejaVu Sans';

function svg(body: string[]): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="${FONT_FAMILY}, sans-serif">\n<rect width="${W}" height="${H}" fill="#fff"/>\n${body.join('\n')}\n</svg>\n`;
}

function okResults(results: readonly ScanRecord[]): Ok[] {
  return results.filter((r): r is Ok => r.ok && Number.isFinite(r.clsObs));
}

/** Index of the parameters that vary, and the points kept (further parameters at their mode). */
function plane(results: Ok[]): { points: Ok[]; fixed: { index: number; value: number }[] } {
  const nv = Math.min(...results.map((r) => r.values.length));
  const fixed: { index: number; value: number }[] = [];
  let points = results;
  for (let k = 2; k < nv; k++) {
    const counts = new Map<number, number>();
    for (const r of points) counts.set(r.values[k], (counts.get(r.values[k]) ?? 0) + 1);
    const mode = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0][0];
    points = points.filter((r) => r.values[k] === mode);
    fixed.push({ index: k, value: mode });
  }
  return { points, fixed };
}

/**
 * The exclusion plot: the plane of the first two parameters coloured by log10(CLs observed), with the
 * observed (solid) and expected (dashed) CLs = level contours and the expected ±1σ contours (dotted).
 */
export function massPlaneSVG(results: readonly ScanRecord[], opts: ScanPlotOptions = {}): string {
  const level = opts.level ?? 0.05;
  // Results arrive in completion order; sorted, the same scan always draws the same SVG.
  const sorted = okResults(results).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const { points, fixed } = plane(sorted);
  if (points.length < 3)
    throw new ScanError(
      `a mass-plane plot needs at least 3 successful points with two parameters; got ${points.length}`,
      {},
    );
  const labels = opts.labels ?? points[0].values.map((_, i) => `m${i + 1}`);
  const xs = points.map((r) => r.values[0]);
  const ys = points.map((r) => r.values[1]);
  const lg = (c: number) => Math.log10(Math.max(c, 1e-300));
  const [xmin, xmax] = [Math.min(...xs), Math.max(...xs)];
  const [ymin, ymax] = [Math.min(...ys), Math.max(...ys)];
  const padx = (xmax - xmin || 1) * 0.04,
    pady = (ymax - ymin || 1) * 0.04;
  const sx = (v: number) => Number((L + ((v - xmin + padx) / (xmax - xmin + 2 * padx)) * (W - L - R)).toFixed(2));
  const sy = (v: number) => Number((H - B - ((v - ymin + pady) / (ymax - ymin + 2 * pady)) * (H - T - B)).toFixed(2));
  // Colour scale: log10 CLs in half-decade bands from the smallest decade (at most 1e-6, at least
  // 1e-2) up to 1; lower values fall into the lowest band.
  const zlo = Math.floor(Math.max(-6, Math.min(-2, ...points.map((r) => lg(r.clsObs)))));
  const levels: number[] = [];
  for (let z = zlo; z <= 1e-9; z += 0.5) levels.push(z);
  const bandColour = (k: number) => colour((k + 0.5) / (levels.length - 1));
  const title =
    opts.title ??
    `CLs, μ = ${opts.poiTest ?? 1}${fixed.length ? `, ${fixed.map((f) => `${labels[f.index] ?? `m${f.index + 1}`} = ${f.value}`).join(', ')}` : ''}`;
  const s = frame(
    title,
    labels[0] ?? 'm1',
    labels[1] ?? 'm2',
    niceTicks(xmin - padx, xmax + padx),
    niceTicks(ymin - pady, ymax + pady),
    sx,
    sy,
  );
  const tris = delaunay(xs, ys);
  // Filled contours of log10 CLs (interpolated linearly on the triangles, as the contour lines are),
  // so the colour boundaries and the 0.05 lines agree.
  const zobs = points.map((r) => Math.max(lg(r.clsObs), zlo));
  for (const { band, polygon } of contourBands(tris, xs, ys, zobs, levels)) {
    const pts: string[] = [];
    for (let k = 0; k < polygon.length; k += 2) pts.push(`${sx(polygon[k])},${sy(polygon[k + 1])}`);
    // A hairline stroke in the fill colour closes the anti-aliasing seams between pieces.
    s.push(
      `<polygon points="${pts.join(' ')}" fill="${bandColour(band)}" stroke="${bandColour(band)}" stroke-width="1" stroke-linejoin="round"/>`,
    );
  }
  // CLs is close to exponential in the masses, so it is interpolated in log10.
  const lines = (values: number[], cls: string, style: string) =>
    contourSegments(tris, xs, ys, values.map(lg), lg(level)).map(
      (g) => `<line class="${cls}" x1="${sx(g[0])}" y1="${sy(g[1])}" x2="${sx(g[2])}" y2="${sy(g[3])}" ${style}/>`,
    );
  s.push(
    ...lines(
      points.map((r) => r.clsExp[1]),
      'exp-1sigma',
      'stroke="#f0a000" stroke-width="2" stroke-dasharray="2 3"',
    ),
  );
  s.push(
    ...lines(
      points.map((r) => r.clsExp[3]),
      'exp+1sigma',
      'stroke="#f0a000" stroke-width="2" stroke-dasharray="2 3"',
    ),
  );
  s.push(
    ...lines(
      points.map((r) => r.clsExp[2]),
      'exp',
      'stroke="#000" stroke-width="2" stroke-dasharray="7 4"',
    ),
  );
  s.push(
    ...lines(
      points.map((r) => r.clsObs),
      'obs',
      'stroke="#d00000" stroke-width="3"',
    ),
  );
  for (let i = 0; i < points.length; i++)
    s.push(`<circle cx="${sx(xs[i])}" cy="${sy(ys[i])}" r="2" fill="#fff" stroke="#000" stroke-width="0.5"/>`);
  // Colour bar (one box per band) and legend.
  const bx = W - R + 20,
    bh = H - T - B - 120;
  const nb = levels.length - 1;
  for (let k = 0; k < nb; k++)
    s.push(
      `<rect x="${bx}" y="${(T + bh - ((k + 1) / nb) * bh).toFixed(2)}" width="16" height="${(bh / nb).toFixed(2)}" fill="${bandColour(k)}"/>`,
    );
  s.push(`<rect x="${bx}" y="${T}" width="16" height="${bh}" fill="none" stroke="#000" stroke-width="0.5"/>`);
  for (let z = zlo; z <= 0; z++)
    s.push(
      `<text x="${bx + 22}" y="${(T + bh - ((z - zlo) / -zlo) * bh + 4).toFixed(2)}" font-size="11">${z === zlo ? '≤ ' : ''}1e${z}</text>`,
    );
  s.push(`<text x="${bx}" y="${T - 12}" font-size="12">CLs obs</text>`);
  const ly = T + bh + 25;
  const legend: [string, string][] = [
    ['stroke="#d00000" stroke-width="3"', `observed ${level}`],
    ['stroke="#000" stroke-width="2" stroke-dasharray="7 4"', `expected ${level}`],
    ['stroke="#f0a000" stroke-width="2" stroke-dasharray="2 3"', 'expected ±1σ'],
  ];
  legend.forEach(([style, text], i) =>
    s.push(
      `<line x1="${bx - 10}" y1="${ly + i * 20}" x2="${bx + 15}" y2="${ly + i * 20}" ${style}/><text x="${bx + 20}" y="${ly + i * 20 + 4}" font-size="11">${esc(text)}</text>`,
    ),
  );
  return svg(s);
}

/** CLs against the one scanned parameter: observed line, expected median, ±1σ (green) and ±2σ (yellow). */
export function brazilSVG(results: readonly ScanRecord[], opts: ScanPlotOptions = {}): string {
  const level = opts.level ?? 0.05;
  const points = okResults(results).sort((a, b) => a.values[0] - b.values[0]);
  if (points.length < 2)
    throw new ScanError(`a Brazil-band plot needs at least 2 successful points; got ${points.length}`, {});
  const xs = points.map((r) => r.values[0]);
  const lg = (c: number) => Math.log10(Math.max(c, 1e-300));
  const all = points.flatMap((r) => [r.clsObs, ...r.clsExp]).filter((c) => c > 0);
  const ylo = Math.max(-8, Math.floor(Math.min(lg(level), ...all.map(lg))));
  const [xmin, xmax] = [xs[0], xs[xs.length - 1]];
  const sx = (v: number) => Number((L + ((v - xmin) / (xmax - xmin || 1)) * (W - L - R)).toFixed(2));
  const sy = (c: number) => Number((H - B - ((Math.max(lg(c), ylo) - ylo) / -ylo) * (H - T - B)).toFixed(2));
  const yt: number[] = [];
  for (let z = ylo; z <= 0; z++) yt.push(10 ** z);
  const s = frame(
    opts.title ?? `CLs, μ = ${opts.poiTest ?? 1}`,
    opts.labels?.[0] ?? 'm1',
    'CLs',
    niceTicks(xmin, xmax),
    yt,
    sx,
    sy,
    (v) => `1e${Math.round(Math.log10(v))}`,
  );
  const band = (lo: number, hi: number, fill: string) => {
    const up = points.map((r) => `${sx(r.values[0])},${sy(r.clsExp[hi])}`);
    const down = points.map((r) => `${sx(r.values[0])},${sy(r.clsExp[lo])}`).reverse();
    return `<polygon points="${[...up, ...down].join(' ')}" fill="${fill}" stroke="none"/>`;
  };
  s.push(band(0, 4, '#ffe000'), band(1, 3, '#00c000'));
  const line = (vals: number[], style: string) =>
    `<polyline points="${points.map((r, i) => `${sx(r.values[0])},${sy(vals[i])}`).join(' ')}" fill="none" ${style}/>`;
  s.push(
    line(
      points.map((r) => r.clsExp[2]),
      'stroke="#000" stroke-width="2" stroke-dasharray="7 4"',
    ),
  );
  s.push(
    line(
      points.map((r) => r.clsObs),
      'stroke="#000" stroke-width="2"',
    ),
  );
  for (const r of points) s.push(`<circle cx="${sx(r.values[0])}" cy="${sy(r.clsObs)}" r="3" fill="#000"/>`);
  s.push(`<line x1="${L}" y1="${sy(level)}" x2="${W - R}" y2="${sy(level)}" stroke="#d00000" stroke-width="1.5"/>`);
  const bx = W - R + 15;
  const legend: [string, string][] = [
    ['stroke="#000" stroke-width="2"', 'observed'],
    ['stroke="#000" stroke-width="2" stroke-dasharray="7 4"', 'expected'],
    ['stroke="#00c000" stroke-width="8"', 'expected ±1σ'],
    ['stroke="#ffe000" stroke-width="8"', 'expected ±2σ'],
    ['stroke="#d00000" stroke-width="1.5"', `CLs = ${level}`],
  ];
  legend.forEach(([style, text], i) =>
    s.push(
      `<line x1="${bx}" y1="${T + 10 + i * 20}" x2="${bx + 25}" y2="${T + 10 + i * 20}" ${style}/><text x="${bx + 30}" y="${T + 14 + i * 20}" font-size="11">${esc(text)}</text>`,
    ),
  );
  return svg(s);
}

/** The plot that fits the scan: mass plane for two or more parameters, Brazil band for one. */
export function scanPlotSVG(results: readonly ScanRecord[], opts: ScanPlotOptions = {}): string {
  const ok = okResults(results);
  const nv = ok.length ? Math.min(...ok.map((r) => r.values.length)) : 0;
  if (ok.length === 0) throw new ScanError('no patch succeeded', {}, 'fix the failures listed above, then rerun');
  if (nv === 0)
    throw new ScanError(
      'the patches carry no parameter values (masses) to plot against',
      {},
      'name patches like patch.signal_1300_850.json, or give values in the patch set metadata',
    );
  return nv >= 2 ? massPlaneSVG(results, opts) : brazilSVG(results, opts);
}

/**
 * Writes `scan.svg` or `scan.png` into `dir` and returns its path; undefined (with nothing written)
 * when the results cannot make a plot (too few successful points, no parameter values).
 *
 * @example
 * ```ts
 * import { scan, writeScanPlot, uncorrelatedBackground } from 'ristretto/fit';
 * const bkg = uncorrelatedBackground([0], [50], [5], [52]);
 * const patches = [1, 5, 10, 20].map((s) => ({ name: `sig_${s}`, values: [s], patch: [{ op: 'replace' as const, path: '/channels/0/samples/0/data', value: [s] }] }));
 * const { results } = await scan(bkg, patches);
 * await writeScanPlot(results, 'out', 'svg');   // out/scan.svg: a Brazil-band plot
 * ```
 */
export async function writeScanPlot(
  results: readonly ScanRecord[],
  dir: string,
  format: 'svg' | 'png',
  opts: ScanPlotOptions = {},
): Promise<string | undefined> {
  let text: string;
  try {
    text = scanPlotSVG(results, opts);
  } catch (e) {
    if (e instanceof ScanError) {
      opts.onSkipped?.(e.message);
      return undefined;
    }
    throw e;
  }
  const file = join(dir, `scan.${format}`);
  // resvg with the bundled DejaVu Sans: the same pixels on every machine, whatever fonts it has.
  const data = format === 'svg' ? text : (await import('../hist/fonts.ts')).svgToPNGBundled(text);
  writing(file, () => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, data);
  });
  return file;
}
