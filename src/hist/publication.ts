/**
 * Slide-ready histogram plots: a 1-D histogram as a step line with error bars, or a (category × axis)
 * histogram as the simulated categories stacked with the data categories as points on top, a hatched
 * band for the simulation's statistical uncertainty, a data/simulation ratio panel, the experiment
 * label with luminosity and √s, "Events / 5 GeV"-style value labels, integer ticks for counts.
 *
 * Error bars: √N for unweighted counts, √Σw² for Weight storage (the histogram's variances).
 * Variable-width bins are drawn as densities (per unit of x) so their heights compare.
 * Two continuous axes make a colour map (colormap.ts) with the same label line and font.
 */
import { isCategory, isContinuous, type Axis } from './axes.ts';
import { colormapSVG, isColormap } from './colormap.ts';
import { UnsupportedHistError } from './errors.ts';
import {
  axes,
  esc,
  experimentLabels,
  legend,
  legendSize,
  linearTicks,
  logTicks,
  PALETTE,
  Scale,
  svgDocument,
  type Frame,
  type LegendEntry,
} from './figure.ts';
import { svgToPNGBundled } from './fonts.ts';
import type { AxisRef, Hist } from './hist.ts';

/** Options of the histogram figures. */
export interface FigureOptions {
  /** Pixels (default 640 × 480, or 640 × 600 with a ratio panel). */
  width?: number;
  height?: number;
  /** Logarithmic value axis (the colour scale of a colour map). */
  logy?: boolean;
  /** Experiment label above the frame: the first word bold, the rest italic (`CMS Open Data`). */
  label?: string;
  /** Integrated luminosity in fb⁻¹, written above the frame's right end. */
  lumi?: number;
  /** Centre-of-mass energy in TeV. */
  sqrts?: number;
  /** Axis titles (default: the axis label; the value axis "Events / <bin width> <unit>"). */
  xlabel?: string;
  ylabel?: string;
  /** Categories drawn as data points (summed when several); the other categories are stacked. */
  data?: readonly string[];
  /** Legend text (TLatex) per category, e.g. a dataset's `metadata.label`; default: the category itself. */
  legend?: Readonly<Record<string, string>>;
  /** Data/simulation ratio panel (default: when there are both). */
  ratio?: boolean;
  /** Values per unit of x (default: for variable-width bins only). */
  density?: boolean;
  /** Category axis to stack by (default: the histogram's category axis, if any). */
  by?: AxisRef;
  /** Font size of tick labels in px (default 15). */
  fontSize?: number;
}

interface Series {
  label: string;
  values: Float64Array;
  variances: Float64Array;
}

/** The unit in a label's trailing brackets: `p_{T} [GeV]` → GeV. */
function unitOf(label: string): string | undefined {
  return /\[([^\]]+)\]\s*$/.exec(label)?.[1];
}

function seriesOf(h: Hist, label: string): Series {
  const values = h.values();
  // Poisson √N for counts; the storage's Σw² for weighted fills
  const variances = h.variances() ?? values;
  return { label, values: Float64Array.from(values), variances: Float64Array.from(variances) };
}

function sum(a: readonly Series[], n: number): Series {
  const s: Series = {
    label: a.map((x) => x.label).join(' + '),
    values: new Float64Array(n),
    variances: new Float64Array(n),
  };
  for (const x of a)
    for (let i = 0; i < n; i++) {
      s.values[i] += x.values[i];
      s.variances[i] += x.variances[i];
    }
  return s;
}

/** What to draw: the x axis, the stacked series, the data series. */
function decompose(
  h: Hist,
  opts: FigureOptions,
): { x: Axis; stack: Series[]; data: Series | undefined; single: Series | undefined } {
  if (h.ndim === 1) {
    const x = h.axes[0];
    return { x, stack: [], data: undefined, single: seriesOf(h, h.label || h.name || 'histogram') };
  }
  const k =
    opts.by !== undefined ? h.axisIndex(opts.by) : h.axes.findIndex((a) => isCategory(a) || a.kind === 'boolean');
  if (h.ndim !== 2 || k < 0 || !(isCategory(h.axes[k]) || h.axes[k].kind === 'boolean'))
    throw new UnsupportedHistError(
      `figures draw a 1-D histogram, a (category × axis) one or a colour map of two continuous axes; this one has ${h.ndim} axes (${h.axes.map((a) => a.kind).join(', ')})`,
      { ndim: h.ndim },
      'project onto one axis, onto (category, axis), or onto two continuous axes (a colour map) first',
    );
  const cat = h.axes[k];
  const x = h.axes[1 - k];
  const labels =
    cat.kind === 'boolean'
      ? ['false', 'true']
      : (cat as { categories: ReadonlyArray<string | number> }).categories.map(String);
  const isData = new Set(opts.data ?? []);
  const stack: Series[] = [];
  const data: Series[] = [];
  labels.forEach((label, i) => {
    const s = seriesOf(h.select(k, cat.kind === 'boolean' ? i === 1 : i), opts.legend?.[label] ?? label);
    (isData.has(label) ? data : stack).push(s);
  });
  return { x, stack, data: data.length ? sum(data, x.size) : undefined, single: undefined };
}

/**
 * SVG of a histogram figure.
 *
 * @example
 * import { Hist, Regular, StrCategory } from 'ristretto';
 * import { figureSVG } from 'ristretto/plot';
 * const h = new Hist(new StrCategory([], { name: 'dataset', growth: true }), new Regular(30, 60, 120, { name: 'mll', label: 'm_{#mu#mu} [GeV]' }));
 * h.fill('DY', Float64Array.of(91, 90.5, 92)).fill('data', Float64Array.of(91.2, 89));
 * const svg = figureSVG(h, { data: ['data'], label: 'CMS Open Data', lumi: 11.6, sqrts: 8 });
 */
export function figureSVG(h: Hist, opts: FigureOptions = {}): string {
  // two continuous axes: a colour map in the same style (label line, font), `logy` as a log colour scale
  if (isColormap(h))
    return colormapSVG(h, {
      width: opts.width,
      height: opts.height,
      label: opts.label,
      lumi: opts.lumi,
      sqrts: opts.sqrts,
      xlabel: opts.xlabel,
      ylabel: opts.ylabel,
      logz: opts.logy,
      fontSize: opts.fontSize,
    });
  const { x, stack, data, single } = decompose(h, opts);
  if (!isContinuous(x))
    throw new UnsupportedHistError(
      `the plotted axis "${x.name}" is ${x.kind}; figures need a continuous axis`,
      { axis: x.name },
      'plot a Regular, Variable or Integer axis',
    );
  const n = x.size;
  const edges = x.edges;
  const widths = Float64Array.from({ length: n }, (_, i) => edges[i + 1] - edges[i]);
  const uniform = widths.every((w) => Math.abs(w - widths[0]) <= 1e-9 * Math.abs(widths[0]));
  const density = opts.density ?? !uniform;
  function scaleSeries(s: Series): Series;
  function scaleSeries(s: Series | undefined): Series | undefined;
  function scaleSeries(s: Series | undefined): Series | undefined {
    if (!s || !density) return s;
    return {
      label: s.label,
      values: s.values.map((v, i) => v / widths[i]),
      variances: s.variances.map((v, i) => v / (widths[i] * widths[i])),
    };
  }
  const st = stack.map((s) => scaleSeries(s));
  const dt = scaleSeries(data);
  const one = scaleSeries(single);
  const total = st.length ? sum(st, n) : undefined;
  const ratio = (opts.ratio ?? true) && Boolean(dt && total);
  const counts = h.storage.kind === 'double' || h.storage.kind === 'int64';

  const size = opts.fontSize ?? 15;
  const width = opts.width ?? 640;
  const height = opts.height ?? (ratio ? 600 : 480);
  const labelled = opts.label || opts.lumi !== undefined || opts.sqrts !== undefined;

  // legend entries and size decide the headroom
  const entries: LegendEntry[] = [];
  if (dt) entries.push({ label: dt.label, kind: 'points', color: 'black' });
  for (let i = st.length - 1; i >= 0; i--)
    entries.push({ label: st[i].label, kind: 'fill', color: PALETTE[i % PALETTE.length] });
  if (total && st.length) entries.push({ label: 'Stat. unc.', kind: 'band', color: '#555' });
  const lsize = legendSize(entries, size);

  // value range: tallest of stack (with band), data (with error bar), single (with error bar)
  let ymax = 0;
  let yminPos = Infinity;
  const scan = (s: Series | undefined, withErr: boolean) => {
    if (!s) return;
    for (let i = 0; i < n; i++) {
      const v = s.values[i];
      ymax = Math.max(ymax, v + (withErr ? Math.sqrt(s.variances[i]) : 0));
      if (v > 0) yminPos = Math.min(yminPos, v);
    }
  };
  scan(total, true);
  scan(dt, true);
  scan(one, true);
  for (const s of st) for (const v of s.values) if (v > 0) yminPos = Math.min(yminPos, v);
  if (!(ymax > 0)) ymax = 1;
  if (!Number.isFinite(yminPos)) yminPos = ymax / 10;
  const integer = counts && !density && !opts.logy;

  /** Frames and value axis for a top margin (the value range depends on the frame's height via the legend). */
  const layout = (top: number) => {
    const frame: Frame = { x0: 92, x1: width - 22, y0: top, y1: height - 66 };
    const main: Frame = ratio ? { ...frame, y1: frame.y0 + (frame.y1 - frame.y0) * 0.72 } : frame;
    const lower: Frame | undefined = ratio ? { ...frame, y0: main.y1 } : undefined;
    // data stays below the legend: it fills the frame's top `legendFrac`
    // a figure split by category always names its categories, even when there is one (data only)
    const legendFrac = entries.length > 0 || opts.label ? (lsize.h + 16) / (main.y1 - main.y0) : 0.06;
    const usable = Math.max(0.4, 1 - legendFrac - 0.04);
    let ylo: number;
    let yhi: number;
    if (opts.logy) {
      ylo = 10 ** Math.floor(Math.log10(yminPos * 0.5));
      const span = (Math.log10(ymax) - Math.log10(ylo)) / usable;
      yhi = 10 ** (Math.log10(ylo) + span);
    } else {
      ylo = 0;
      yhi = ymax / usable;
    }
    const yTicks = opts.logy ? logTicks(ylo, yhi) : linearTicks(ylo, yhi, 6, integer);
    const maxTick = Math.max(...yTicks.major);
    const yExponent = !opts.logy && maxTick >= 1e5 ? Math.floor(Math.log10(maxTick)) : 0;
    return { frame, main, lower, ylo, yhi, yTicks, yExponent };
  };
  let lay = layout(labelled ? 40 : 16);
  // The "×10^k" multiplier sits 8 px above the frame with a raised exponent: without a label line the
  // 16 px margin cuts its top off. A taller frame top only widens the range, so the exponent stays.
  const multiplierTop = Math.ceil(12 + 1.1 * size);
  if (lay.yExponent && lay.frame.y0 < multiplierTop) lay = layout(multiplierTop);
  const { frame, main, lower, ylo, yhi, yTicks, yExponent } = lay;
  const xs = new Scale(edges[0], edges[n], main.x0, main.x1);
  const ys = new Scale(ylo, yhi, main.y1, main.y0, Boolean(opts.logy));
  const xTicks =
    x.kind === 'integer' && n <= 20
      ? { major: Array.from({ length: n + 1 }, (_, i) => edges[i]).filter((_, i) => n <= 10 || i % 2 === 0), minor: [] }
      : linearTicks(edges[0], edges[n], 7);

  const xTitle = opts.xlabel ?? x.title;
  const unit = unitOf(xTitle);
  const w0 = +widths[0].toPrecision(3);
  const yTitle =
    opts.ylabel ??
    (density ? (unit ? `Events / ${unit}` : 'Events / bin width') : unit ? `Events / ${w0} ${unit}` : 'Events');

  const body: string[] = [];
  body.push(
    `<clipPath id="main"><rect x="${main.x0}" y="${main.y0}" width="${main.x1 - main.x0}" height="${main.y1 - main.y0}"/></clipPath>`,
  );
  const plot: string[] = [];
  const yBottom = opts.logy ? ylo : 0;
  // stacked simulation: each layer a filled band between the running sums
  const below = new Float64Array(n);
  st.forEach((s, li) => {
    let top = '';
    let bottom = '';
    for (let i = 0; i < n; i++) {
      const y = ys.px(below[i] + s.values[i]);
      top += `${i ? 'L' : 'M'}${xs.px(edges[i]).toFixed(1)},${y.toFixed(1)}L${xs.px(edges[i + 1]).toFixed(1)},${y.toFixed(1)}`;
    }
    for (let i = n - 1; i >= 0; i--) {
      const y = ys.px(li === 0 ? yBottom : below[i]);
      bottom += `L${xs.px(edges[i + 1]).toFixed(1)},${y.toFixed(1)}L${xs.px(edges[i]).toFixed(1)},${y.toFixed(1)}`;
    }
    plot.push(`<path d="${top}${bottom}Z" fill="${PALETTE[li % PALETTE.length]}" stroke="none"/>`);
    for (let i = 0; i < n; i++) below[i] += s.values[i];
  });
  if (total) {
    let d = '';
    for (let i = 0; i < n; i++) {
      const e = Math.sqrt(total.variances[i]);
      if (!(e > 0)) continue;
      const y0 = ys.px(total.values[i] + e);
      const y1 = ys.px(Math.max(total.values[i] - e, opts.logy ? ylo : 0));
      d += `M${xs.px(edges[i]).toFixed(1)},${y0.toFixed(1)}H${xs.px(edges[i + 1]).toFixed(1)}V${y1.toFixed(1)}H${xs.px(edges[i]).toFixed(1)}Z`;
    }
    plot.push(`<path class="stat-band" d="${d}" fill="url(#hatch)" stroke="none"/>`);
  }
  if (one) {
    let d = '';
    for (let i = 0; i < n; i++) {
      const y = ys.px(one.values[i]);
      d += `${i ? 'L' : `M${xs.px(edges[0]).toFixed(1)},${ys.px(yBottom).toFixed(1)}L`}${xs.px(edges[i]).toFixed(1)},${y.toFixed(1)}L${xs.px(edges[i + 1]).toFixed(1)},${y.toFixed(1)}`;
    }
    d += `L${xs.px(edges[n]).toFixed(1)},${ys.px(yBottom).toFixed(1)}`;
    plot.push(`<path class="hist" d="${d}" fill="none" stroke="${PALETTE[0]}" stroke-width="2"/>`);
    plot.push(errorBars(one, edges, xs, ys, PALETTE[0], false));
  }
  if (dt) plot.push(errorBars(dt, edges, xs, ys, 'black', true));
  body.push(`<g clip-path="url(#main)">${plot.join('\n')}</g>`);
  body.push(axes(main, { xScale: xs, yScale: ys, xTicks, yTicks, xLabels: !ratio, xTitle, yTitle, size, yExponent }));
  if (entries.length > 0) body.push(legend(entries, main.x1 - lsize.w - 14, main.y0 + 10, size));
  body.push(experimentLabels(frame, { label: opts.label, lumi: opts.lumi, sqrts: opts.sqrts, size }));

  if (ratio && lower && dt && total) {
    const r: Series = { label: 'ratio', values: new Float64Array(n), variances: new Float64Array(n) };
    let lo = 0.5;
    let hi = 1.5;
    for (let i = 0; i < n; i++) {
      const m = total.values[i];
      if (!(m > 0) || !(dt.values[i] > 0)) continue;
      r.values[i] = dt.values[i] / m;
      r.variances[i] = dt.variances[i] / (m * m);
      const e = Math.sqrt(r.variances[i]);
      lo = Math.min(lo, r.values[i] - e);
      hi = Math.max(hi, r.values[i] + e);
    }
    lo = Math.max(0, Math.floor(lo * 4) / 4);
    hi = Math.min(3, Math.ceil(hi * 4) / 4);
    const rs = new Scale(lo, hi, lower.y1, lower.y0);
    const rxs = new Scale(edges[0], edges[n], lower.x0, lower.x1);
    const rTicks = linearTicks(lo, hi, 3);
    // keep the top tick label from touching the main panel's bottom label
    rTicks.major = rTicks.major.filter((v) => v < hi - 1e-9 || hi - lo < 0.3);
    const rp: string[] = [
      `<clipPath id="lower"><rect x="${lower.x0}" y="${lower.y0}" width="${lower.x1 - lower.x0}" height="${lower.y1 - lower.y0}"/></clipPath>`,
    ];
    let band = '';
    for (let i = 0; i < n; i++) {
      const m = total.values[i];
      if (!(m > 0)) continue;
      const e = Math.sqrt(total.variances[i]) / m;
      band += `M${rxs.px(edges[i]).toFixed(1)},${rs.px(1 + e).toFixed(1)}H${rxs.px(edges[i + 1]).toFixed(1)}V${rs.px(1 - e).toFixed(1)}H${rxs.px(edges[i]).toFixed(1)}Z`;
    }
    rp.push(
      `<g clip-path="url(#lower)"><path class="ratio-band" d="${band}" fill="url(#hatch)" stroke="none"/><path d="M${lower.x0},${rs.px(1).toFixed(1)}H${lower.x1}" stroke="#666" stroke-dasharray="4 3"/>${errorBars(r, edges, rxs, rs, 'black', true, 'ratio')}</g>`,
    );
    rp.push(axes(lower, { xScale: rxs, yScale: rs, xTicks, yTicks: rTicks, xTitle, yTitle: 'Data / Sim.', size }));
    body.push(rp.join('\n'));
  }
  return svgDocument(width, height, body.join('\n'));
}

/** Points with vertical error bars (and half-bin horizontal bars for data); empty bins are left out. */
function errorBars(
  s: Series,
  edges: Float64Array,
  xs: Scale,
  ys: Scale,
  color: string,
  points: boolean,
  cls = points ? 'data' : 'errors',
): string {
  let bars = '';
  let dots = '';
  for (let i = 0; i < s.values.length; i++) {
    const v = s.values[i];
    if (!(v > 0)) continue;
    const e = Math.sqrt(s.variances[i]);
    const cx = xs.px(0.5 * (edges[i] + edges[i + 1]));
    const lo = ys.log ? Math.max(v - e, ys.lo) : v - e;
    bars += `M${cx.toFixed(1)},${ys.px(v + e).toFixed(1)}V${ys.px(lo).toFixed(1)}`;
    if (points) {
      bars += `M${xs.px(edges[i]).toFixed(1)},${ys.px(v).toFixed(1)}H${xs.px(edges[i + 1]).toFixed(1)}`;
      dots += `<circle cx="${cx.toFixed(1)}" cy="${ys.px(v).toFixed(1)}" r="3.2"/>`;
    }
  }
  return `<g class="${esc(cls)}" fill="${color}"><path d="${bars}" stroke="${color}" stroke-width="1.2"/>${dots}</g>`;
}

/** PNG bytes of `figureSVG`, rendered with the bundled fonts (`scale` 2 for sharp slides). */
export function figurePNG(h: Hist, opts: FigureOptions & { scale?: number } = {}): Uint8Array {
  return svgToPNGBundled(figureSVG(h, opts), { scale: opts.scale });
}
