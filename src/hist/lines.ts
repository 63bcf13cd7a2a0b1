/**
 * Line plots (points with error bars joined by lines) on linear or log axes, with optional reference
 * lines such as ideal scaling, and the legend placed in the corner where it covers the least data.
 * The scaling study's makespan/speed-up plots use it.
 */
import {
  axes,
  legend,
  legendSize,
  linearTicks,
  logTicks,
  PALETTE,
  Scale,
  svgDocument,
  text,
  type Frame,
  type LegendEntry,
} from './figure.ts';
import { svgToPNGBundled } from './fonts.ts';
import { UnsupportedHistError } from './errors.ts';

/** One line: points with symmetric y errors (optional). */
export interface LineSeries {
  readonly label: string;
  readonly x: readonly number[];
  readonly y: readonly number[];
  readonly ey?: readonly number[];
  /** Dashed, no markers: a reference such as ideal scaling. */
  readonly reference?: boolean;
}

export interface LinePlotOptions {
  xlabel: string;
  ylabel: string;
  /** Text above the frame, left (e.g. what was measured). */
  title?: string;
  logx?: boolean;
  logy?: boolean;
  width?: number;
  height?: number;
  fontSize?: number;
}

function range(vals: number[], log: boolean): [number, number] {
  const v = log ? vals.filter((x) => x > 0) : vals;
  if (!v.length) return log ? [1, 10] : [0, 1];
  let lo = Math.min(...v);
  const hi = Math.max(...v);
  if (log) {
    // a little margin in log space, so end points do not sit on the frame
    const pad = Math.max(0.05, (Math.log10(hi) - Math.log10(lo)) * 0.06);
    return [10 ** (Math.log10(lo) - pad), 10 ** (Math.log10(hi) + pad)];
  }
  if (lo === hi) return [lo - 1, hi + 1];
  const pad = (hi - lo) * 0.06;
  lo = lo >= 0 && lo - pad < 0 ? 0 : lo - pad;
  return [lo, hi + pad];
}

/**
 * SVG of line series. The legend goes to whichever corner of the frame holds the fewest points and
 * line samples, so it never hides a curve when a free corner exists.
 *
 * @example
 * const svg = linePlotSVG(
 *   [{ label: 'measured', x: [1, 2, 4, 8], y: [100, 52, 27, 15], ey: [2, 1, 1, 1] },
 *    { label: 'ideal', x: [1, 8], y: [100, 12.5], reference: true }],
 *   { xlabel: 'workers', ylabel: 'makespan [s]', logx: true, logy: true },
 * );
 */
export function linePlotSVG(series: readonly LineSeries[], o: LinePlotOptions): string {
  if (!series.length || series.every((s) => !s.x.length))
    throw new UnsupportedHistError(
      'a line plot needs at least one series with points',
      {},
      'give series with x and y values',
    );
  const size = o.fontSize ?? 15;
  const width = o.width ?? 640;
  const height = o.height ?? 480;
  const f: Frame = { x0: 92, x1: width - 22, y0: o.title ? 40 : 16, y1: height - 66 };
  const xsAll = series.flatMap((s) => [...s.x]);
  const ysAll = series.flatMap((s) => s.y.flatMap((y, i) => [y + (s.ey?.[i] ?? 0), y - (s.ey?.[i] ?? 0)]));
  const [xlo, xhi] = range(xsAll, Boolean(o.logx));
  const [ylo, yhi] = range(ysAll, Boolean(o.logy));
  const xs = new Scale(xlo, xhi, f.x0, f.x1, Boolean(o.logx));
  const ys = new Scale(ylo, yhi, f.y1, f.y0, Boolean(o.logy));
  const xTicks = o.logx ? logTicks(xlo, xhi) : linearTicks(xlo, xhi, 7);
  const yTicks = o.logy ? logTicks(ylo, yhi) : linearTicks(ylo, yhi, 6);
  // powers of two as x ticks for worker counts on a log axis (1, 2, 4, 8 reads better than 1, 10)
  if (o.logx && xsAll.every((x) => x > 0 && Number.isInteger(Math.log2(x)))) {
    xTicks.major = [...new Set(xsAll)].sort((a, b) => a - b);
    xTicks.minor = [];
  }
  const body: string[] = [
    `<clipPath id="frame"><rect x="${f.x0}" y="${f.y0}" width="${f.x1 - f.x0}" height="${f.y1 - f.y0}"/></clipPath>`,
  ];
  const entries: LegendEntry[] = [];
  const samples: Array<[number, number]> = [];
  let ci = 0;
  for (const s of series) {
    const color = s.reference ? '#555' : PALETTE[ci++ % PALETTE.length];
    const pts = s.x.map((x, i) => [xs.px(x), ys.px(s.y[i])] as [number, number]);
    const d = pts.map(([px, py], i) => `${i ? 'L' : 'M'}${px.toFixed(1)},${py.toFixed(1)}`).join('');
    let g = `<path d="${d}" fill="none" stroke="${color}" stroke-width="2"${s.reference ? ' stroke-dasharray="6 4"' : ''}/>`;
    if (!s.reference) {
      let bars = '';
      s.x.forEach((x, i) => {
        const e = s.ey?.[i] ?? 0;
        if (e > 0)
          bars += `M${xs.px(x).toFixed(1)},${ys.px(s.y[i] + e).toFixed(1)}V${ys.px(Math.max(s.y[i] - e, o.logy ? ylo : -Infinity)).toFixed(1)}`;
      });
      g += `<path d="${bars}" stroke="${color}" stroke-width="1.5"/>`;
      g += pts
        .map(([px, py]) => `<circle cx="${px.toFixed(1)}" cy="${py.toFixed(1)}" r="4" fill="${color}"/>`)
        .join('');
    }
    body.push(`<g class="series" clip-path="url(#frame)">${g}</g>`);
    entries.push({
      label: s.label,
      kind: s.reference ? 'line' : 'points',
      color,
      ...(s.reference ? { dash: '6 4' } : {}),
    });
    // sample the polyline densely: the legend must avoid lines as well as markers
    for (let i = 0; i < pts.length; i++) {
      samples.push(pts[i]);
      if (i + 1 < pts.length)
        for (let t = 1; t < 20; t++)
          samples.push([
            pts[i][0] + ((pts[i + 1][0] - pts[i][0]) * t) / 20,
            pts[i][1] + ((pts[i + 1][1] - pts[i][1]) * t) / 20,
          ]);
    }
  }
  body.push(axes(f, { xScale: xs, yScale: ys, xTicks, yTicks, xTitle: o.xlabel, yTitle: o.ylabel, size }));
  const ls = legendSize(entries, size);
  const pad = 12;
  const corners: Array<[number, number]> = [
    [f.x1 - ls.w - pad, f.y0 + pad],
    [f.x0 + pad + 8, f.y0 + pad],
    [f.x1 - ls.w - pad, f.y1 - ls.h - pad],
    [f.x0 + pad + 8, f.y1 - ls.h - pad],
  ];
  const cover = ([x, y]: [number, number]) =>
    samples.filter(([px, py]) => px >= x - 6 && px <= x + ls.w + 6 && py >= y - 6 && py <= y + ls.h + 6).length;
  const best = corners.reduce((a, b) => (cover(b) < cover(a) ? b : a));
  body.push(`<g class="legend">${legend(entries, best[0], best[1], size)}</g>`);
  if (o.title)
    body.push(text(f.x0, f.y0 - 10, o.title.replace(/&/g, '&amp;').replace(/</g, '&lt;'), { size: size * 1.1 }));
  return svgDocument(width, height, body.join('\n'));
}

/** PNG bytes of `linePlotSVG` with the bundled fonts. */
export function linePlotPNG(series: readonly LineSeries[], o: LinePlotOptions & { scale?: number }): Uint8Array {
  return svgToPNGBundled(linePlotSVG(series, o), { scale: o.scale });
}
