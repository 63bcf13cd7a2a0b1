/**
 * Text for the plots: the bundled DejaVu Sans (vendor/fonts, copied there by scripts/build-vendor.mjs),
 * PNG rendering with resvg from those font files only, so a plot is pixel-for-pixel the same on any
 * machine, and text widths for layout (legends, label placement) from DejaVu Sans' advance widths.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UnsupportedHistError } from './errors.ts';

type ResvgModule = typeof import('@resvg/resvg-js');
/**
 * resvg is loaded on the first PNG, not with this module: loading its native addon (and its C-library
 * probe, `process.report`) cost every run-analysis ~0.1–0.2 CPU-s, also when it wrote no PNG.
 */
let resvg: ResvgModule | undefined;
const loadResvg = (): ResvgModule => (resvg ??= createRequire(import.meta.url)('@resvg/resvg-js') as ResvgModule);

/** The font family written into every plot's SVG. */
export const FONT_FAMILY = 'DejaVu Sans';

const FONT_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'vendor', 'fonts');
const FACES = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf', 'DejaVuSans-Oblique.ttf', 'DejaVuSans-BoldOblique.ttf'];

/** Paths of the bundled font files (throws naming the fix when the vendor folder lacks them). */
export function fontFiles(): string[] {
  const files = FACES.map((f) => join(FONT_DIR, f));
  const missing = files.filter((f) => !existsSync(f));
  if (missing.length)
    throw new UnsupportedHistError(
      `the plot fonts are missing: ${missing.join(', ')}`,
      { missing },
      'run `node scripts/build-vendor.mjs` in the ristretto repository, or reinstall ristretto',
    );
  return files;
}

/**
 * PNG bytes of an SVG, rendered by resvg with the bundled fonts only (system fonts are never loaded).
 *
 * @example
 * writeFileSync('plot.png', svgToPNGBundled(svg, { scale: 2 })); // 2x for slides
 */
export function svgToPNGBundled(svg: string, opts: { scale?: number } = {}): Uint8Array {
  const r = new (loadResvg().Resvg)(svg, {
    font: {
      loadSystemFonts: false,
      fontFiles: fontFiles(),
      defaultFontFamily: FONT_FAMILY,
      sansSerifFamily: FONT_FAMILY,
    },
    fitTo: { mode: 'zoom', value: opts.scale ?? 1 },
    background: 'white',
  });
  return r.render().asPng();
}

// Advance widths of DejaVu Sans in em (2048 units per em), ASCII 32..126; others count as 0.62.
const WIDTHS = [
  0.318, 0.401, 0.46, 0.838, 0.636, 0.95, 0.78, 0.275, 0.39, 0.39, 0.5, 0.838, 0.318, 0.361, 0.318, 0.337, 0.636, 0.636,
  0.636, 0.636, 0.636, 0.636, 0.636, 0.636, 0.636, 0.636, 0.337, 0.337, 0.838, 0.838, 0.838, 0.531, 1.0, 0.684, 0.686,
  0.698, 0.77, 0.632, 0.575, 0.775, 0.752, 0.295, 0.295, 0.656, 0.557, 0.863, 0.748, 0.787, 0.603, 0.787, 0.695, 0.635,
  0.611, 0.732, 0.684, 0.989, 0.685, 0.611, 0.685, 0.39, 0.337, 0.39, 0.838, 0.5, 0.5, 0.613, 0.635, 0.55, 0.635, 0.615,
  0.352, 0.635, 0.634, 0.278, 0.278, 0.579, 0.278, 0.974, 0.634, 0.612, 0.635, 0.635, 0.411, 0.521, 0.392, 0.634, 0.592,
  0.818, 0.592, 0.592, 0.525, 0.636, 0.337, 0.636, 0.838,
];

/** Width in px of plain text at a font size (bold is about 8 % wider). */
export function textWidth(text: string, size: number, bold = false): number {
  let em = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0) ?? 0; // a string iterates in code points: never empty
    em += c >= 32 && c <= 126 ? WIDTHS[c - 32] : 0.62;
  }
  return em * size * (bold ? 1.08 : 1);
}
