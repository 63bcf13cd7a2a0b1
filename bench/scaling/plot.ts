/// <reference path="../../src/types/jsroot-vendor.d.ts" />
/**
 * Makespan plots of a scaling study through jsroot: one TGraphErrors per series (mean ± standard
 * deviation over repeats) in a TMultiGraph with a legend, written as SVG and PNG.
 */
import * as core from '#jsroot/core';
import { loadPainter } from '../../src/hist/jsroot.ts';

/** One line of a plot: points with symmetric y errors. */
export interface Series {
  readonly label: string;
  readonly x: readonly number[];
  readonly y: readonly number[];
  readonly ey: readonly number[];
}

export interface GraphPlotOptions {
  title: string;
  xTitle: string;
  yTitle: string;
  width?: number;
  height?: number;
  /** Logarithmic x axis (worker counts doubling). */
  logX?: boolean;
}

const COLORS = [4, 2, 8, 6, 9, 46];
const MARKERS = [20, 21, 22, 23, 33, 34];

type RootObj = Record<string, any>; // jsroot objects are untyped

/** SVG text of the series as lines with error bars. */
export async function seriesSVG(series: readonly Series[], o: GraphPlotOptions): Promise<string> {
  const painter = await loadPainter();
  const graphs = series.map((s, i) => {
    const g: RootObj = core.createTGraph(s.x.length, [...s.x], [...s.y]);
    Object.assign(g, {
      _typename: 'TGraphErrors',
      fEX: s.x.map(() => 0),
      fEY: [...s.ey],
      fName: `g${i}`,
      fTitle: s.label,
      fLineColor: COLORS[i % COLORS.length],
      fLineWidth: 2,
      fMarkerColor: COLORS[i % COLORS.length],
      fMarkerStyle: MARKERS[i % MARKERS.length],
      fMarkerSize: 1.2,
    });
    return g;
  });
  const mg: RootObj = core.createTMultiGraph(...graphs);
  mg.fTitle = `${o.title};${o.xTitle};${o.yTitle}`;
  mg.fMinimum = 0; // makespans compare against zero, not against each other
  // Headroom above the highest error bar: jsroot's automatic range can clip the top point's bar.
  let top = 0;
  for (const s of series) for (let i = 0; i < s.y.length; i++) top = Math.max(top, s.y[i]! + (s.ey[i] ?? 0));
  if (top > 0) mg.fMaximum = top * 1.08;
  const legend: RootObj = core.create('TLegend');
  // Bottom left: makespan curves start high on the left (strong) or stay high (weak).
  const bottom = 0.16;
  Object.assign(legend, { fX1NDC: 0.16, fY1NDC: bottom, fX2NDC: 0.42, fY2NDC: bottom + 0.06 * series.length, fTextSize: 0.035, fTextFont: 42, fBorderSize: 0 });
  Object.assign(legend, { fX1: legend.fX1NDC, fY1: legend.fY1NDC, fX2: legend.fX2NDC, fY2: legend.fY2NDC });
  for (const g of graphs) {
    const e: RootObj = core.create('TLegendEntry');
    Object.assign(e, { fLabel: g.fTitle, fObject: g, fOption: 'lp' });
    legend.fPrimitives.Add(e);
  }
  const canvas: RootObj = core.create('TCanvas');
  if (o.logX) canvas.fLogx = 1;
  canvas.fPrimitives.Add(mg, 'apl');
  canvas.fPrimitives.Add(legend, '');
  return painter.makeSVG({ object: canvas, width: o.width ?? 700, height: o.height ?? 450 });
}

/** PNG bytes of an SVG made by jsroot. */
export async function svgPNG(svg: string): Promise<Uint8Array> {
  return (await loadPainter()).svgToImage(svg, 'png', { as_buffer: true });
}
