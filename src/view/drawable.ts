/**
 * The ROOT object the page hands to JSROOT for one histogram: a TCanvas holding a TH1D (line, error
 * bars for weighted fills), a TH2D as a colour map, or for a (category × axis) histogram the categories
 * overlaid or stacked with a legend. Built here rather than in the browser so the page stays small and
 * the same composition is testable without a browser.
 */
import { isCategory } from '../hist/axes.ts';
import type { Hist } from '../hist/hist.ts';
import { create, createTHStack, kNoStats, type RootHist, type RootList, type RootObject } from '../hist/jsroot.ts';
import { toROOT } from '../hist/root.ts';
import { ViewError } from './errors.ts';
import { mathtextToTLatex } from './labels.ts';

/** How to draw: `auto` picks `hist` (1-D), `overlay` (category × axis) or `colz` (other 2-D). */
export const DRAW_MODES = ['auto', 'hist', 'colz', 'overlay', 'stack'] as const;
export type DrawMode = (typeof DRAW_MODES)[number];

export interface DrawableOptions {
  mode?: DrawMode;
  /** Logarithmic value axis (y for 1-D and overlays, z for colour maps). */
  log?: boolean;
  /** Categories drawn as data points over the stack (`isData` datasets). */
  data?: readonly string[];
  /** Legend text (TLatex) per category, e.g. a dataset's `metadata.label`; default: the category itself. */
  legend?: Readonly<Record<string, string>>;
}

/** Axis titles in TLatex: a mathtext label (outputs read back) would make JSROOT fetch MathJax from a CDN. */
function tlatexTitles(r: RootHist): RootHist {
  r.fTitle = mathtextToTLatex(r.fTitle);
  for (const a of [r.fXaxis, r.fYaxis, r.fZaxis]) if (a) a.fTitle = mathtextToTLatex(a.fTitle);
  return r;
}

/** The value axis of a weighted fill holds Σw, not entries. */
function valueTitle(h: Hist): string {
  return h.storage.kind === 'weight' || h.storage.kind === 'weighted_mean' ? 'Sum of weights' : 'Entries';
}

/** Line/fill colours of the overlay and stack layers (ROOT palette indices), cycled. */
const COLORS = [4, 2, 8, 6, 7, 28, 9, 46, 30, 38];

function categoryIndex(h: Hist): number {
  if (h.ndim !== 2) return -1;
  const k = h.axes.findIndex((a) => isCategory(a) || a.kind === 'boolean');
  if (k < 0) return -1;
  const o = h.axes[1 - k];
  return isCategory(o) || o.kind === 'boolean' ? -1 : k;
}

function canvas(log: boolean, logz: boolean): RootObject & { fPrimitives: RootList } {
  const c = create('TCanvas') as RootObject & { fPrimitives: RootList };
  Object.assign(c, {
    fLogy: log ? 1 : 0,
    fLogz: logz ? 1 : 0,
    fLeftMargin: 0.13,
    fRightMargin: logz ? 0.13 : 0.05,
    fTopMargin: 0.06,
  });
  return c;
}

/** Pad geometry of `canvas()` in NDC: the frame's top (1 − fTopMargin) and bottom (ROOT's default margin). */
const FRAME_TOP = 0.94;
const FRAME_BOTTOM = 0.1;

/** Value of bin `b` (1-based, as in fArray) and its error: √Σw² when weights were tracked, else √N. */
function binError(r: RootHist, b: number): number {
  const w2 = r.fSumw2.length ? r.fSumw2[b] : Math.abs(r.fArray[b]);
  return Math.sqrt(w2 ?? 0);
}

/**
 * The value range of an overlay or a stack: up to the tallest of the stack's sum (or the tallest line)
 * and every data point with its error bar, with the headroom the offline figures leave (the data stay
 * below the legend, which covers the frame's top down to `legendBottom`). JSROOT's own range follows
 * the stack only, so a data point above it was clipped at the frame's top. Undefined when all is empty.
 */
export function valueRange(
  layers: readonly RootHist[],
  points: readonly RootHist[],
  stacked: boolean,
  log: boolean,
  legendBottom: number,
): { min: number; max: number } | undefined {
  const nx = (layers[0] ?? points[0])?.fXaxis.fNbins ?? 0;
  let top = 0;
  let minPos = Infinity;
  for (let b = 1; b <= nx; b++) {
    let sum = 0;
    for (const l of layers) {
      const v = l.fArray[b] ?? 0;
      sum = stacked ? sum + v : Math.max(sum, v);
      if (v > 0) minPos = Math.min(minPos, stacked ? sum : v);
    }
    top = Math.max(top, sum);
    for (const p of points) {
      const v = p.fArray[b] ?? 0;
      if (v > 0) minPos = Math.min(minPos, v);
      top = Math.max(top, v + binError(p, b));
    }
  }
  if (!(top > 0)) return undefined;
  const legendFrac = (FRAME_TOP - legendBottom) / (FRAME_TOP - FRAME_BOTTOM);
  const usable = Math.max(0.4, 1 - legendFrac - 0.04);
  if (!log) return { min: 0, max: top / usable };
  const lo = 10 ** Math.floor(Math.log10((Number.isFinite(minPos) ? minPos : top / 10) * 0.5));
  return { min: lo, max: 10 ** (Math.log10(lo) + (Math.log10(top) - Math.log10(lo)) / usable) };
}

/** The modes that make sense for a histogram (the page offers these). */
export function modesFor(h: Hist): DrawMode[] {
  if (h.ndim === 1) return ['hist'];
  if (h.ndim !== 2) return [];
  return categoryIndex(h) >= 0 ? ['overlay', 'stack', 'colz'] : ['colz'];
}

/**
 * A TCanvas with the histogram drawn as asked.
 *
 * @example
 * const c = drawable(h, { mode: 'stack', log: true, data: ['SingleMu'] });
 * res.end(toJSON(c)); // the page calls JSROOT.draw(div, parse(text))
 */
export function drawable(h: Hist, opts: DrawableOptions = {}): RootObject {
  const allowed = modesFor(h);
  if (!allowed.length)
    throw new ViewError(
      `the page draws 1-D and 2-D histograms; this one has ${h.ndim} axes`,
      { ndim: h.ndim },
      'download it as JSON instead',
    );
  const mode = !opts.mode || opts.mode === 'auto' ? allowed[0] : opts.mode;
  if (!allowed.includes(mode))
    throw new ViewError(
      `draw mode "${mode}" does not fit this histogram`,
      { mode },
      `use one of: ${allowed.join(', ')}`,
    );
  const log = Boolean(opts.log);
  if (mode === 'hist' || mode === 'colz') {
    // the card's header names the histogram: no title band inside the plot
    const r = tlatexTitles(toROOT(h, { title: '', valueTitle: h.ndim === 1 ? valueTitle(h) : '' }));
    r.fBits |= kNoStats;
    r.fYaxis.fTitleOffset = 1.4;
    const c = canvas(log && mode === 'hist', log && mode === 'colz');
    c.fPrimitives.Add(r, mode === 'colz' ? 'colz' : h.storage.kind === 'weight' ? 'hist e1' : 'hist');
    return c;
  }
  const k = categoryIndex(h);
  const cat = h.axes[k];
  const labels =
    cat.kind === 'boolean'
      ? ['false', 'true']
      : (cat as { categories: ReadonlyArray<string | number> }).categories.map(String);
  // data are points in both modes: over the stack, or beside the overlaid lines of the other categories
  const isData = new Set(opts.data ?? []);
  const layers: RootHist[] = [];
  const points: RootHist[] = [];
  labels.forEach((label, i) => {
    const r = tlatexTitles(
      toROOT(h.select(k, cat.kind === 'boolean' ? i === 1 : i), {
        name: `c${i}`,
        title: opts.legend?.[label] ?? label,
        valueTitle: valueTitle(h),
      }),
    );
    r.fBits |= kNoStats;
    if (isData.has(label)) {
      Object.assign(r, { fMarkerStyle: 20, fMarkerColor: 1, fLineColor: 1 });
      points.push(r);
      return;
    }
    const color = COLORS[layers.length % COLORS.length];
    Object.assign(
      r,
      mode === 'stack' ? { fFillColor: color, fFillStyle: 1001, fLineColor: 1 } : { fLineColor: color, fLineWidth: 2 },
    );
    layers.push(r);
  });
  const c = canvas(log, false);
  const stack = createTHStack(...layers);
  stack.fTitle = '';
  const n = layers.length + points.length;
  const legendBottom = Math.max(0.1, 0.9 - 0.05 * n);
  const range = valueRange(layers, points, mode === 'stack', log, legendBottom);
  if (range) {
    // without layers the first data histogram makes the frame, so it carries the range
    const holder = layers.length ? stack : points[0];
    holder.fMaximum = range.max;
    holder.fMinimum = range.min;
  }
  if (layers.length) c.fPrimitives.Add(stack, mode === 'stack' ? 'hist' : 'nostack hist');
  for (const [i, p] of points.entries()) c.fPrimitives.Add(p, layers.length || i ? 'e1 p same' : 'e1 p');
  const legend = create('TLegend');
  Object.assign(legend, {
    fX1NDC: 0.7,
    fY1NDC: legendBottom,
    fX2NDC: 0.93,
    fY2NDC: 0.9,
    fBorderSize: 0,
    fTextSize: 0.035,
    fFillStyle: 0,
  });
  for (const p of points)
    (legend['fPrimitives'] as RootList).Add(
      Object.assign(create('TLegendEntry'), { fLabel: p.fTitle, fObject: p, fOption: 'lep' }),
    );
  for (let i = layers.length - 1; i >= 0; i--)
    (legend['fPrimitives'] as RootList).Add(
      Object.assign(create('TLegendEntry'), {
        fLabel: layers[i].fTitle,
        fObject: layers[i],
        fOption: mode === 'stack' ? 'f' : 'l',
      }),
    );
  c.fPrimitives.Add(legend, '');
  return c;
}
