/**
 * Slide-ready 2-D colour maps: two continuous axes drawn as coloured cells with a colour bar, in the same
 * kit, font and label line as the 1-D figures (publication.ts), so a folder of plots from one run looks
 * like one set. Empty bins stay white (as ROOT's colz); the colour scale is linear, or logarithmic with
 * `logz`.
 */
import { isContinuous } from './axes.ts';
import { UnsupportedHistError } from './errors.ts';
import {
  axes,
  experimentLabels,
  linearTicks,
  logTicks,
  richText,
  Scale,
  svgDocument,
  text,
  tickLabel,
  type Frame,
} from './figure.ts';
import { textWidth } from './fonts.ts';
import type { Hist } from './hist.ts';

/** Options of the colour maps. */
export interface ColormapOptions {
  /** Pixels (default 640 × 480). */
  width?: number;
  height?: number;
  /** Experiment label, luminosity (fb⁻¹) and √s (TeV) above the frame, as on the 1-D figures. */
  label?: string;
  lumi?: number;
  sqrts?: number;
  /** Axis titles (default: the axis labels); `zlabel` names the colour bar (default "Events"). */
  xlabel?: string;
  ylabel?: string;
  zlabel?: string;
  /** Logarithmic colour scale. */
  logz?: boolean;
  /** Font size of tick labels in px (default 15). */
  fontSize?: number;
}

/** Viridis at nine evenly spaced stops (matplotlib's default map: perceptually uniform, colour-blind safe). */
const VIRIDIS = ['#440154', '#472d7b', '#3b528b', '#2c728e', '#21918c', '#28ae80', '#5ec962', '#addc30', '#fde725'];

/** The colour at `t` in [0, 1], interpolated between the stops. */
export function viridis(t: number): string {
  const u = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(u));
  const f = u - i;
  const a = VIRIDIS[i];
  const b = VIRIDIS[i + 1];
  let out = '#';
  for (let c = 1; c < 7; c += 2) {
    const v = Math.round(parseInt(a.slice(c, c + 2), 16) * (1 - f) + parseInt(b.slice(c, c + 2), 16) * f);
    out += v.toString(16).padStart(2, '0');
  }
  return out;
}

/** Whether `h` is drawn as a colour map: two continuous axes. */
export function isColormap(h: Hist): boolean {
  return h.ndim === 2 && isContinuous(h.axes[0]) && isContinuous(h.axes[1]);
}

/**
 * SVG of a 2-D histogram as a colour map (axis 0 along x, axis 1 along y).
 *
 * @example
 * import { Hist, Regular } from 'ristretto';
 * import { colormapSVG } from 'ristretto/plot';
 * const h = new Hist(new Regular(20, 0, 100, { name: 'pt', label: 'p_{T} [GeV]' }), new Regular(20, -2.5, 2.5, { name: 'eta', label: '#eta' }));
 * h.fill(Float64Array.of(30, 45), Float64Array.of(0.1, -1.2));
 * const svg = colormapSVG(h, { label: 'CMS Open Data', lumi: 11.6, sqrts: 8 });
 */
export function colormapSVG(h: Hist, opts: ColormapOptions = {}): string {
  const [xa, ya] = h.axes;
  if (h.ndim !== 2 || !isContinuous(xa) || !isContinuous(ya))
    throw new UnsupportedHistError(
      `colour maps draw a histogram with two continuous axes; this one has ${h.ndim} (${h.axes.map((a) => a.kind).join(', ')})`,
      { ndim: h.ndim },
      'project onto two Regular, Variable or Integer axes first',
    );
  const xe = xa.edges;
  const ye = ya.edges;
  const nx = xa.size;
  const ny = ya.size;
  const values = h.values(); // row-major, axis 1 fastest
  const size = opts.fontSize ?? 15;
  const width = opts.width ?? 640;
  const height = opts.height ?? 480;
  const top = opts.label || opts.lumi !== undefined || opts.sqrts !== undefined ? 40 : 16;
  // the colour bar, its tick labels and its title take the right-hand 120 px
  const frame: Frame = { x0: 92, x1: width - 130, y0: top, y1: height - 66 };
  const xs = new Scale(xe[0], xe[nx], frame.x0, frame.x1);
  const ys = new Scale(ye[0], ye[ny], frame.y1, frame.y0);

  let zmax = 0;
  let zminPos = Infinity;
  for (const v of values) {
    if (v > zmax) zmax = v;
    if (v > 0 && v < zminPos) zminPos = v;
  }
  if (!(zmax > 0)) zmax = 1;
  if (!Number.isFinite(zminPos)) zminPos = zmax;
  const logz = Boolean(opts.logz);
  const zlo = logz ? 10 ** Math.floor(Math.log10(zminPos)) : 0;
  const zhi = logz ? Math.max(10 ** Math.ceil(Math.log10(zmax)), zlo * 10) : zmax;
  const zt = (v: number) =>
    logz ? (Math.log10(v) - Math.log10(zlo)) / (Math.log10(zhi) - Math.log10(zlo)) : (v - zlo) / (zhi - zlo);

  const cells: string[] = [];
  for (let i = 0; i < nx; i++)
    for (let j = 0; j < ny; j++) {
      const v = values[i * ny + j];
      if (!(v > 0)) continue; // empty (and negative) bins stay white
      const x0 = xs.px(xe[i]);
      const y0 = ys.px(ye[j + 1]);
      cells.push(
        `<rect x="${x0.toFixed(2)}" y="${y0.toFixed(2)}" width="${(xs.px(xe[i + 1]) - x0).toFixed(2)}" height="${(ys.px(ye[j]) - y0).toFixed(2)}" fill="${viridis(zt(v))}" data-value="${+v.toPrecision(10)}"/>`,
      );
    }

  const body: string[] = [
    `<clipPath id="map"><rect x="${frame.x0}" y="${frame.y0}" width="${frame.x1 - frame.x0}" height="${frame.y1 - frame.y0}"/></clipPath>`,
    // crispEdges: no hairline gaps between neighbouring cells
    `<g class="cells" clip-path="url(#map)" shape-rendering="crispEdges">${cells.join('')}</g>`,
    axes(frame, {
      xScale: xs,
      yScale: ys,
      xTicks: linearTicks(xe[0], xe[nx], 7),
      yTicks: linearTicks(ye[0], ye[ny], 6),
      xTitle: opts.xlabel ?? xa.title,
      yTitle: opts.ylabel ?? ya.title,
      size,
    }),
    colourBar(frame, width, zlo, zhi, logz, opts.zlabel ?? 'Events', size),
    experimentLabels(frame, { label: opts.label, lumi: opts.lumi, sqrts: opts.sqrts, size }),
  ];
  return svgDocument(width, height, body.join('\n'));
}

/** The colour bar right of the frame: a gradient with ticks and labels, its title at the figure's edge. */
function colourBar(f: Frame, width: number, lo: number, hi: number, log: boolean, title: string, size: number): string {
  const x0 = f.x1 + 14;
  const x1 = x0 + 18;
  const zs = new Scale(lo || (log ? 1 : 0), hi, f.y1, f.y0, log);
  const stops = Array.from({ length: 17 }, (_, k) => `<stop offset="${k / 16}" stop-color="${viridis(k / 16)}"/>`);
  const ticks = log ? logTicks(lo, hi) : linearTicks(lo, hi, 6);
  let d = '';
  let widest = 0;
  const labels: string[] = [];
  for (const v of ticks.major) {
    if (v < lo - 1e-9 * Math.abs(hi) || v > hi * (1 + 1e-9)) continue;
    const y = zs.px(v);
    d += `M${x0},${y.toFixed(1)}h5M${x1},${y.toFixed(1)}h-5`;
    const label = tickLabel(v, log, size);
    widest = Math.max(widest, textWidth(label.replace(/<[^>]+>/g, ''), size));
    labels.push(text(x1 + 6, y + size * 0.35, label, { size }));
  }
  return [
    `<defs><linearGradient id="zbar" x1="0" y1="1" x2="0" y2="0">${stops.join('')}</linearGradient></defs>`,
    `<rect class="colour-bar" x="${x0}" y="${f.y0}" width="${x1 - x0}" height="${f.y1 - f.y0}" fill="url(#zbar)" stroke="black" stroke-width="1"/>`,
    `<path d="${d}" stroke="black" stroke-width="1"/>`,
    ...labels,
    // rotated, the title's glyphs stand left of its baseline: one em past the widest tick label
    text(Math.min(width - 4, x1 + 12 + widest + size * 1.1), f.y0, richText(title, size * 1.1), {
      size: size * 1.1,
      anchor: 'end',
      rotate: true,
    }),
  ].join('\n');
}
