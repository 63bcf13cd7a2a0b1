/**
 * A small SVG plotting kit for slide-ready figures in the style mplhep users know: ticks inside on all
 * four sides with minor ticks, no title band, the experiment label and luminosity above the frame,
 * DejaVu Sans throughout. Pure string building (no DOM), so plots are fast and testable; PNGs come
 * from fonts.ts. Used by publication.ts (histograms) and the scaling study (line plots).
 */
import { FONT_FAMILY, textWidth } from './fonts.ts';

/** Colours of stacked processes and lines (the colour-blind-safe 10-colour set of mplhep's CMS style). */
export const PALETTE = [
  '#3f90da',
  '#ffa90e',
  '#bd1f01',
  '#94a4a2',
  '#832db6',
  '#a96b59',
  '#e76300',
  '#b9ac70',
  '#717581',
  '#92dadd',
];

/** A numeric axis mapping data to pixels. */
export class Scale {
  constructor(
    readonly lo: number,
    readonly hi: number,
    readonly p0: number,
    readonly p1: number,
    readonly log = false,
  ) {}
  /** Pixel of a data value (log scales clamp values ≤ 0 to far below the frame). */
  px(v: number): number {
    if (this.log) {
      const l = v > 0 ? Math.log10(v) : Math.log10(this.lo) - 10;
      return this.p0 + ((l - Math.log10(this.lo)) / (Math.log10(this.hi) - Math.log10(this.lo))) * (this.p1 - this.p0);
    }
    return this.p0 + ((v - this.lo) / (this.hi - this.lo)) * (this.p1 - this.p0);
  }
}

/** Major and minor tick values of a range. */
export interface Ticks {
  major: number[];
  minor: number[];
}

/**
 * "Nice" ticks (1, 2, 2.5, 5 × 10^k steps), about `target` of them. With `integer`, steps are whole
 * numbers, so counts of a few events never get ticks at 0.5.
 */
export function linearTicks(lo: number, hi: number, target = 6, integer = false): Ticks {
  const span = hi - lo;
  if (!(span > 0)) return { major: [lo], minor: [] };
  const raw = span / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  // the first of 1, 2, 2.5, 5, 10 × 10^k at least `raw` (10 × mag always is)
  let step = [1, 2, 2.5, 5].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  if (integer) step = Math.max(1, Math.round(step));
  const minorStep =
    integer && step === 1 ? 0 : step / (String(step / mag).startsWith('2.5') ? 5 : step / mag === 2 ? 4 : 5);
  const major: number[] = [];
  const first = Math.ceil(lo / step - 1e-9) * step;
  for (let v = first; v <= hi + step * 1e-9; v += step) major.push(Math.abs(v) < step * 1e-9 ? 0 : +v.toPrecision(12));
  const minor: number[] = [];
  if (minorStep > 0)
    for (let v = Math.ceil(lo / minorStep - 1e-9) * minorStep; v <= hi + minorStep * 1e-9; v += minorStep)
      if (!major.some((m) => Math.abs(m - v) < minorStep * 1e-6)) minor.push(+v.toPrecision(12));
  return { major, minor };
}

/** Decades as major ticks and 2..9 × 10^k as minor ticks (only decades when the range spans many). */
export function logTicks(lo: number, hi: number): Ticks {
  const a = Math.floor(Math.log10(lo) + 1e-9);
  const b = Math.ceil(Math.log10(hi) - 1e-9);
  const every = Math.max(1, Math.ceil((b - a) / 8));
  const major: number[] = [];
  const minor: number[] = [];
  for (let k = a; k <= b; k++) {
    const d = 10 ** k;
    if (d >= lo * (1 - 1e-9) && d <= hi * (1 + 1e-9) && (k - a) % every === 0) major.push(d);
    if (every === 1) for (let m = 2; m <= 9; m++) if (m * d >= lo && m * d <= hi) minor.push(m * d);
  }
  // less than a decade in view: nice linear values as labelled ticks (3.2, 3.4 ... rather than none)
  if (major.length < 2) return { major: linearTicks(lo, hi, 4).major.filter((v) => v > 0), minor: [] };
  return { major, minor };
}

const GREEK: Record<string, string> = {
  alpha: 'α',
  beta: 'β',
  gamma: 'γ',
  delta: 'δ',
  epsilon: 'ε',
  eta: 'η',
  theta: 'θ',
  lambda: 'λ',
  mu: 'μ',
  nu: 'ν',
  pi: 'π',
  rho: 'ρ',
  sigma: 'σ',
  tau: 'τ',
  phi: 'φ',
  chi: 'χ',
  psi: 'ψ',
  omega: 'ω',
  Delta: 'Δ',
  Gamma: 'Γ',
  Sigma: 'Σ',
  Omega: 'Ω',
  Phi: 'Φ',
  ell: 'ℓ',
  pm: '±',
  to: '→',
  rightarrow: '→',
  times: '×',
  sqrt: '√',
  gamma_: 'γ',
  infty: '∞',
  geq: '≥',
  leq: '≤',
};

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** `#bar{t}` → t with a combining overline (t̄), as ROOT draws it. */
function bars(s: string): string {
  return s.replace(/[#\\](?:bar|overline)\{([^}]*)\}/g, (_, b: string) => [...b].map((c) => `${c}\u0305`).join(''));
}

/** Plain text of a TLatex / mathtext label (Greek letters as characters, no sub/superscript markup). */
export function plainLabel(label: string): string {
  return bars(label)
    .replace(/\$/g, '')
    .replace(/[#\\]([A-Za-z]+)/g, (m, w: string) => GREEK[w] ?? m)
    .replace(/[_^]\{([^}]*)\}/g, '$1')
    .replace(/[_^](\S)/g, '$1');
}

/**
 * SVG tspans of a label in ROOT's TLatex (`p_{T}^{#mu} [GeV]`) or mathtext (`$p_T$`) syntax:
 * Greek letters become characters, `_{}`/`^{}` become smaller shifted text.
 */
export function richText(label: string, size: number): string {
  const s = bars(label)
    .replace(/\$/g, '')
    .replace(/[#\\]([A-Za-z]+)/g, (m, w: string) => GREEK[w] ?? m);
  let out = '';
  let i = 0;
  let shift = 0; // current baseline offset, to return to it
  while (i < s.length) {
    const c = s[i];
    if ((c === '_' || c === '^') && i + 1 < s.length) {
      let body: string;
      if (s[i + 1] === '{') {
        const end = s.indexOf('}', i + 2);
        body = s.slice(i + 2, end < 0 ? s.length : end);
        i = end < 0 ? s.length : end + 1;
      } else {
        body = s[i + 1];
        i += 2;
      }
      const dy = c === '_' ? size * 0.3 : -size * 0.4;
      out += `<tspan dy="${(dy - shift).toFixed(1)}" font-size="${(size * 0.7).toFixed(1)}">${esc(body)}</tspan>`;
      shift = dy;
      continue;
    }
    let j = i;
    while (j < s.length && s[j] !== '_' && s[j] !== '^') j++;
    out += shift ? `<tspan dy="${(-shift).toFixed(1)}">${esc(s.slice(i, j))}</tspan>` : esc(s.slice(i, j));
    shift = 0;
    i = j;
  }
  return out;
}

/** Approximate rendered width of a rich label. */
export function richWidth(label: string, size: number): number {
  return textWidth(plainLabel(label), size);
}

/** A tick label: plain numbers, no trailing zeros; 10^k for log decades. */
export function tickLabel(v: number, log: boolean, size: number): string {
  const k = Math.round(Math.log10(Math.abs(v)));
  if (log && Math.abs(v - 10 ** k) <= 1e-9 * 10 ** k) {
    if (k >= -1 && k <= 3) return esc(String(10 ** k >= 1 ? 10 ** k : (10 ** k).toFixed(1)));
    return `10<tspan dy="${(-size * 0.4).toFixed(1)}" font-size="${(size * 0.7).toFixed(1)}">${k}</tspan>`;
  }
  return esc(String(+v.toPrecision(10)).replace('-', '−'));
}

/** Text element. */
export function text(
  x: number,
  y: number,
  body: string,
  o: {
    size?: number;
    anchor?: 'start' | 'middle' | 'end';
    weight?: string;
    style?: string;
    rotate?: boolean;
    fill?: string;
  } = {},
): string {
  const size = o.size ?? 14;
  const attrs = [
    `x="${x.toFixed(1)}"`,
    `y="${y.toFixed(1)}"`,
    `font-size="${size}"`,
    o.anchor && o.anchor !== 'start' ? `text-anchor="${o.anchor}"` : '',
    o.weight ? `font-weight="${o.weight}"` : '',
    o.style ? `font-style="${o.style}"` : '',
    o.fill ? `fill="${o.fill}"` : '',
    o.rotate ? `transform="rotate(-90 ${x.toFixed(1)} ${y.toFixed(1)})"` : '',
  ].filter(Boolean);
  return `<text ${attrs.join(' ')}>${body}</text>`;
}

/** Frame box in pixels. */
export interface Frame {
  x0: number;
  x1: number;
  y0: number; // top
  y1: number; // bottom
}

export interface AxesOptions {
  xScale: Scale;
  yScale: Scale;
  xTicks: Ticks;
  yTicks: Ticks;
  /** Draw x tick labels (off for the main panel above a ratio panel). */
  xLabels?: boolean;
  xTitle?: string;
  yTitle?: string;
  size?: number;
  /** Format y tick labels divided by 10^k with "×10^k" above the axis (large counts). */
  yExponent?: number;
}

/** Frame with inward ticks on all four sides, tick labels and axis titles (mplhep's look). */
export function axes(f: Frame, o: AxesOptions): string {
  const size = o.size ?? 14;
  const parts: string[] = [
    `<rect x="${f.x0}" y="${f.y0}" width="${f.x1 - f.x0}" height="${f.y1 - f.y0}" fill="none" stroke="black" stroke-width="1.2"/>`,
  ];
  const tick = (x1: number, y1: number, x2: number, y2: number) =>
    `M${x1.toFixed(1)},${y1.toFixed(1)}L${x2.toFixed(1)},${y2.toFixed(1)}`;
  let d = '';
  const inX = (v: number) =>
    v >= Math.min(o.xScale.lo, o.xScale.hi) - 1e-12 && v <= Math.max(o.xScale.lo, o.xScale.hi) + 1e-12;
  const inY = (v: number) => v >= o.yScale.lo * (1 - 1e-12) - 1e-12 && v <= o.yScale.hi * (1 + 1e-12) + 1e-12;
  for (const [vals, len] of [
    [o.xTicks.major, 8],
    [o.xTicks.minor, 4],
  ] as const)
    for (const v of vals)
      if (inX(v)) {
        const x = o.xScale.px(v);
        d += tick(x, f.y1, x, f.y1 - len) + tick(x, f.y0, x, f.y0 + len);
      }
  for (const [vals, len] of [
    [o.yTicks.major, 8],
    [o.yTicks.minor, 4],
  ] as const)
    for (const v of vals)
      if (inY(v)) {
        const y = o.yScale.px(v);
        d += tick(f.x0, y, f.x0 + len, y) + tick(f.x1, y, f.x1 - len, y);
      }
  parts.push(`<path d="${d}" stroke="black" stroke-width="1"/>`);
  if (o.xLabels !== false)
    for (const v of o.xTicks.major)
      if (inX(v))
        parts.push(text(o.xScale.px(v), f.y1 + size + 4, tickLabel(v, o.xScale.log, size), { size, anchor: 'middle' }));
  const div = 10 ** (o.yExponent ?? 0);
  let widest = 0;
  for (const v of o.yTicks.major)
    if (inY(v)) {
      const label = tickLabel(v / div, o.yScale.log, size);
      widest = Math.max(widest, textWidth(label.replace(/<[^>]+>/g, ''), size));
      parts.push(text(f.x0 - 6, o.yScale.px(v) + size * 0.35, label, { size, anchor: 'end' }));
    }
  // the multiplier sits in the left margin, above the tick labels: the frame's top-left corner above the frame
  // belongs to the experiment label ("CMS Open Data"), which it would overlap
  if (o.yExponent)
    parts.push(
      text(
        f.x0 - 4,
        f.y0 - 8,
        `×10<tspan dy="${(-size * 0.4).toFixed(1)}" font-size="${(size * 0.7).toFixed(1)}">${o.yExponent}</tspan>`,
        { size: size * 0.9, anchor: 'end' },
      ),
    );
  if (o.xTitle && o.xLabels !== false)
    parts.push(text(f.x1, f.y1 + 2 * size + 12, richText(o.xTitle, size * 1.1), { size: size * 1.1, anchor: 'end' }));
  if (o.yTitle)
    parts.push(
      text(f.x0 - widest - 16, f.y0, richText(o.yTitle, size * 1.1), { size: size * 1.1, anchor: 'end', rotate: true }),
    );
  return parts.join('\n');
}

/** A legend entry: how to draw its key. */
export interface LegendEntry {
  label: string;
  kind: 'fill' | 'line' | 'points' | 'band';
  color: string;
  dash?: string;
}

/** Size of a legend in px. */
export function legendSize(entries: readonly LegendEntry[], size: number): { w: number; h: number } {
  const w = 30 + Math.max(0, ...entries.map((e) => richWidth(e.label, size)));
  return { w, h: entries.length * size * 1.45 };
}

/** A legend at (x, y) = its top-left corner, no box (mplhep's default). */
export function legend(entries: readonly LegendEntry[], x: number, y: number, size: number): string {
  const row = size * 1.45;
  return entries
    .map((e, i) => {
      const cy = y + row * i + row / 2;
      let key: string;
      if (e.kind === 'fill')
        key = `<rect x="${x}" y="${(cy - size * 0.4).toFixed(1)}" width="22" height="${(size * 0.8).toFixed(1)}" fill="${e.color}" stroke="none"/>`;
      else if (e.kind === 'band')
        key = `<rect x="${x}" y="${(cy - size * 0.4).toFixed(1)}" width="22" height="${(size * 0.8).toFixed(1)}" fill="url(#hatch)" stroke="none"/>`;
      else if (e.kind === 'line')
        key = `<path d="M${x},${cy.toFixed(1)}h22" stroke="${e.color}" stroke-width="2"${e.dash ? ` stroke-dasharray="${e.dash}"` : ''}/>`;
      else
        key = `<path d="M${x + 11},${(cy - size * 0.45).toFixed(1)}v${(size * 0.9).toFixed(1)}" stroke="black" stroke-width="1.2"/><circle cx="${x + 11}" cy="${cy.toFixed(1)}" r="3.2" fill="${e.color}"/>`;
      return key + text(x + 30, cy + size * 0.35, richText(e.label, size), { size });
    })
    .join('\n');
}

/** `CMS Open Data` → bold first word + italic rest above the frame's left; lumi and √s at its right. */
export function experimentLabels(
  f: Frame,
  o: { label?: string; lumi?: number; sqrts?: number; size?: number },
): string {
  const size = o.size ?? 14;
  const out: string[] = [];
  if (o.label) {
    const [first, ...rest] = o.label.split(' ');
    out.push(
      text(
        f.x0,
        f.y0 - 8,
        `<tspan font-weight="bold">${esc(first)}</tspan>${rest.length ? `<tspan font-style="italic" font-size="${(size * 1.1).toFixed(1)}"> ${esc(rest.join(' '))}</tspan>` : ''}`,
        { size: size * 1.4 },
      ),
    );
  }
  const right: string[] = [];
  if (o.lumi !== undefined)
    right.push(
      `${+o.lumi.toPrecision(4)} fb<tspan dy="${(-size * 0.4).toFixed(1)}" font-size="${(size * 0.7).toFixed(1)}">−1</tspan><tspan dy="${(size * 0.4).toFixed(1)}"> </tspan>`,
    );
  if (o.sqrts !== undefined) right.push(`(${+o.sqrts.toPrecision(4)} TeV)`);
  if (right.length) out.push(text(f.x1, f.y0 - 8, right.join(''), { size: size * 1.1, anchor: 'end' }));
  return out.join('\n');
}

/** The SVG document around the parts. */
export function svgDocument(width: number, height: number, body: string): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT_FAMILY}">`,
    '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><path d="M0,0v6" stroke="#555" stroke-width="1.2"/></pattern></defs>',
    `<rect width="${width}" height="${height}" fill="white"/>`,
    body,
    '</svg>',
  ].join('\n');
}
