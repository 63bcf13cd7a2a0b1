/**
 * SVG and PNG plots of histograms through jsroot's painters: 1-D as a line histogram (with error bars
 * for Weight storage), 2-D as a colour map, and a stacked 1-D plot with one layer per category.
 * Axis titles come from the axis labels (or names); ROOT's TLatex syntax in labels (`p_{T}`) renders.
 */
import { isCategory, type Axis } from './axes.ts';
import { UnsupportedHistError } from './errors.ts';
import type { AxisRef, Hist } from './hist.ts';
import {
  create,
  createHistogram,
  createTHStack,
  kNoStats,
  loadPainter,
  type RootHist,
  type RootList,
} from './jsroot.ts';
import { toROOT } from './root.ts';

/** Options of the plot functions. */
export interface PlotOptions {
  width?: number;
  height?: number;
  /** Title above the frame (default: the histogram's label; '' for none). */
  title?: string;
  /** Title of the value axis (default 'Entries'; for 2-D the colour axis). */
  valueTitle?: string;
  /** jsroot draw option, overriding the default ('hist', 'e1' for Weight storage, 'colz' for 2-D). */
  option?: string;
}

/** Options of the stacked plots. */
export interface StackOptions extends PlotOptions {
  /**
   * Categories drawn as data: black points with error bars (√N, or √Σw² for Weight storage) over the
   * stack of the other categories, in the legend as such. Names that are not categories are ignored.
   */
  data?: readonly string[];
}

/** ROOT colour indices of the stack layers, cycled. */
const STACK_COLORS = [38, 46, 30, 42, 40, 28, 33, 49, 8, 9];

function defaultOption(h: Hist): string {
  if (h.ndim === 2) return 'colz';
  return h.storage.kind === 'weight' ? 'hist e1' : 'hist';
}

function rootFor(h: Hist, opts: PlotOptions): RootHist {
  if (h.ndim !== 1 && h.ndim !== 2)
    throw new UnsupportedHistError(
      `plots need a 1-D or 2-D histogram, this one has ${h.ndim} axes`,
      { ndim: h.ndim },
      'project first',
    );
  const r = toROOT(h, { title: opts.title ?? h.label, valueTitle: opts.valueTitle ?? (h.ndim === 1 ? 'Entries' : '') });
  r.fBits |= kNoStats;
  r.fYaxis.fTitleOffset = 1.5; // keep the value-axis title clear of the tick labels
  return r;
}

/**
 * SVG text of a 1-D or 2-D histogram.
 *
 * @example
 * writeFileSync('met.svg', await plotSVG(h, { width: 800, height: 500 }));
 */
export async function plotSVG(h: Hist, opts: PlotOptions = {}): Promise<string> {
  const p = await loadPainter();
  return p.makeSVG({
    object: rootFor(h, opts),
    option: `${opts.option ?? defaultOption(h)};nostat`,
    width: opts.width ?? 800,
    height: opts.height ?? 500,
  });
}

/** PNG bytes of an SVG made by jsroot (rendered by jsroot's resvg path). */
export async function svgToPNG(svg: string): Promise<Uint8Array> {
  const p = await loadPainter();
  // jsroot's PNG path loses non-ASCII text (μ, →, TLatex Greek) to mojibake; numeric character
  // references are plain ASCII and mean the same in SVG.
  const ascii = svg.replace(/[^\x00-\x7f]/gu, (c) => `&#${c.codePointAt(0)};`);
  return p.svgToImage(ascii, 'png', { as_buffer: true });
}

/** PNG bytes of a 1-D or 2-D histogram. */
export async function plotPNG(h: Hist, opts: PlotOptions = {}): Promise<Uint8Array> {
  return svgToPNG(await plotSVG(h, opts));
}

function otherAxis(h: Hist, by: number): Axis {
  return h.axes[by === 0 ? 1 : 0];
}

/**
 * SVG of a stacked 1-D plot: `h` has two axes, a category axis `by` (one layer per category, first at
 * the bottom, with a legend) and the axis to plot. Flow bins of the plotted axis are kept in ROOT's
 * flow cells, not drawn.
 *
 * @example
 * const h = new Hist(new StrCategory([], { name: 'process', growth: true }), new Regular(50, 0, 200, { name: 'mll' }));
 * h.fill('DY', mllDY).fill('ttbar', mllTT);
 * writeFileSync('stack.svg', await stackSVG(h, 'process'));
 */
export async function stackSVG(h: Hist, by: AxisRef, opts: StackOptions = {}): Promise<string> {
  const p = await loadPainter();
  const k = h.axisIndex(by);
  const cat = h.axes[k];
  if (h.ndim !== 2 || !(isCategory(cat) || cat.kind === 'boolean'))
    throw new UnsupportedHistError(
      `stacked plots need a 2-D histogram with a category axis to stack by; axis ${k} is ${cat.kind} and there are ${h.ndim} axes`,
      { ndim: h.ndim, axis: k },
      'project onto (category axis, plotted axis) first',
    );
  const x = otherAxis(h, k);
  const labels = cat.kind === 'boolean' ? ['false', 'true'] : cat.categories.map(String);
  const isData = new Set(opts.data ?? []);
  const slice = (i: number, label: string): RootHist =>
    toROOT(h.select(k, cat.kind === 'boolean' ? i === 1 : i), { name: `${h.name || 'h'}_${i}`, title: label });
  const layers: Array<{ label: string; hist: RootHist }> = [];
  const data: Array<{ label: string; hist: RootHist }> = [];
  labels.forEach((label, i) => {
    const r = slice(i, label);
    if (isData.has(label)) {
      Object.assign(r, { fMarkerStyle: 20, fMarkerSize: 1, fMarkerColor: 1, fLineColor: 1, fLineWidth: 1 });
      data.push({ label, hist: r });
      return;
    }
    const color = STACK_COLORS[layers.length % STACK_COLORS.length];
    Object.assign(r, { fFillColor: color, fFillStyle: 1001, fLineColor: 1 });
    layers.push({ label, hist: r });
  });
  const stack = createTHStack(...layers.map((l) => l.hist));
  stack.fName = `${h.name || 'h'}_stack`;
  stack.fTitle = opts.title ?? h.label;
  // the frame histogram carries the axis titles and turns the statistics box off
  const frame = createHistogram('TH1D', x.size);
  Object.assign(frame.fXaxis, (layers[0] ?? data[0])?.hist.fXaxis ?? {});
  frame.fName = 'frame';
  frame.fTitle = stack.fTitle;
  frame.fYaxis.fTitle = opts.valueTitle ?? 'Entries';
  frame.fYaxis.fTitleOffset = 1.5;
  frame.fBits |= kNoStats;
  // Room for the tallest of stack and data (with its error bar) plus the legend.
  let top = 0;
  for (let b = 1; b <= x.size; b++) {
    let sum = 0;
    for (const l of layers) sum += l.hist.fArray[b] ?? 0;
    top = Math.max(top, sum);
    for (const d of data)
      top = Math.max(top, (d.hist.fArray[b] ?? 0) + Math.sqrt(d.hist.fSumw2?.[b] ?? d.hist.fArray[b] ?? 0));
  }
  if (top > 0) {
    frame.fMaximum = top * 1.3;
    stack.fMaximum = top * 1.3;
  }
  stack.fHistogram = frame;

  const entries = data.length + layers.length;
  const legend = create('TLegend');
  Object.assign(legend, {
    fX1NDC: 0.68,
    fY1NDC: 0.88 - 0.06 * entries,
    fX2NDC: 0.88,
    fY2NDC: 0.88,
    fTextSize: 0.035,
    fTextFont: 42,
    fBorderSize: 0,
  });
  Object.assign(legend, { fX1: legend['fX1NDC'], fY1: legend['fY1NDC'], fX2: legend['fX2NDC'], fY2: legend['fY2NDC'] });
  for (const d of data) {
    const e = create('TLegendEntry');
    Object.assign(e, { fLabel: d.label, fObject: d.hist, fOption: 'lep' });
    (legend['fPrimitives'] as RootList).Add(e);
  }
  for (let i = layers.length - 1; i >= 0; i--) {
    const e = create('TLegendEntry');
    Object.assign(e, { fLabel: layers[i].label, fObject: layers[i].hist, fOption: 'f' });
    (legend['fPrimitives'] as RootList).Add(e);
  }
  const canvas = create('TCanvas');
  const prims = canvas['fPrimitives'] as RootList;
  if (layers.length) prims.Add(stack, opts.option ?? 'hist');
  for (const [i, d] of data.entries()) prims.Add(d.hist, layers.length || i > 0 ? 'e1 p same' : 'e1 p');
  prims.Add(legend, '');
  return p.makeSVG({ object: canvas, width: opts.width ?? 800, height: opts.height ?? 500 });
}

/** PNG bytes of `stackSVG`. */
export async function stackPNG(h: Hist, by: AxisRef, opts: StackOptions = {}): Promise<Uint8Array> {
  return svgToPNG(await stackSVG(h, by, opts));
}
