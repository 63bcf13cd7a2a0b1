/**
 * Makespan plots of a scaling study: one line per series (mean ± standard deviation over repeats) on
 * log-log axes, the ideal as a dashed line, the legend in the corner that covers the fewest points.
 * Drawn by ristretto/plot's line plots (bundled fonts, so the PNGs look the same on every machine).
 */
import { linePlotSVG, svgToPNGBundled, type LineSeries } from '../../src/hist/render.ts';

/** One line of a plot: points with symmetric y errors. A series labelled `ideal` is drawn dashed. */
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
  /** Logarithmic axes (default both: worker counts double, makespans halve). */
  logX?: boolean;
  logY?: boolean;
  /**
   * Add the ideal when no series is labelled `ideal`, from the first point of the first series:
   * `strong` makespan ∝ 1 / x, `weak` constant makespan.
   */
  ideal?: 'strong' | 'weak';
}

/** SVG text of the series as lines with error bars. */
export async function seriesSVG(series: readonly Series[], o: GraphPlotOptions): Promise<string> {
  const lines: LineSeries[] = series.map((s) => ({
    label: s.label,
    x: s.x,
    y: s.y,
    ey: s.ey,
    reference: /^ideal/i.test(s.label),
  }));
  const first = series.find((s) => s.x.length && !/^ideal/i.test(s.label));
  if (o.ideal && first && !lines.some((l) => l.reference)) {
    const xs = [...new Set(series.flatMap((s) => [...s.x]))].sort((a, b) => a - b);
    const [x0, y0] = [first.x[0], first.y[0]];
    lines.push({
      label: 'ideal',
      x: xs,
      y: xs.map((x) => (o.ideal === 'strong' ? (y0 * x0) / x : y0)),
      reference: true,
    });
  }
  return linePlotSVG(lines, {
    xlabel: o.xTitle,
    ylabel: o.yTitle,
    title: o.title,
    logx: o.logX ?? true,
    logy: o.logY ?? true,
    width: o.width ?? 700,
    height: o.height ?? 480,
  });
}

/** PNG bytes of a plot's SVG (resvg with the bundled fonts). */
export async function svgPNG(svg: string): Promise<Uint8Array> {
  return svgToPNGBundled(svg);
}
