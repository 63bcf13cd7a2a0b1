/**
 * Writing a run's results: every histogram in the accumulator to `<out>/<key path>.json` (a UHI
 * document `{ "<key>": histogram }` that validates against the UHI schema as a whole, flow bins
 * included, labels in mathtext; nested keys become folders), optionally `<key path>.root.json` (ROOT JSON, as
 * jsroot's toJSON writes it), `.svg` and `.png` beside it, with `root` all histograms in one
 * `<out>/histograms.root` (TH1D/TH2D/TH3D, a TDirectory per key level and per category), the
 * remaining leaves (counters, cutflows, arrays) to `<out>/accumulator.json`, the datasets (names, isData, metadata) to `<out>/datasets.meta.json` when
 * given, and `<out>/metrics.json` last.
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { RistrettoError } from '../errors/index.ts';
import { datasetLegend } from '../dataset/fileset.ts';
import { isCategory, stringifyUHI, toUHI, type Hist } from '../hist/index.ts';
import { figureSVG, plotSVG, svgToPNG, svgToPNGBundled, toROOTJSON } from '../hist/render.ts';
import { isColormap } from '../hist/colormap.ts';
import { writeHistogramsROOT } from '../io/root-write/hist.ts';
import type { RunMetrics } from './metrics.ts';

export const OUTPUT_FORMATS = ['json', 'root-json', 'root', 'svg', 'png'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

const EXTENSIONS: Record<Exclude<OutputFormat, 'root'>, string> = {
  json: '.json',
  'root-json': '.root.json',
  svg: '.svg',
  png: '.png',
};

export class OutputError extends RistrettoError {}

export interface WrittenOutputs {
  /** Histogram key paths (`muon/pt`). */
  readonly histograms: string[];
  /** Files written, relative to the output folder. */
  readonly files: string[];
  /** Histogram/format pairs that could not be written (e.g. a 3-D histogram has no plot), with the reason. */
  readonly warnings: string[];
}

/** Why no PDF is written (run-analysis --format pdf, draw --out x.pdf): the same words from both commands. */
export const NO_PDF = 'PDF is not written (no PDF renderer is bundled)';

/** How to make a PDF from figure `svg` instead: README's advice, with the file names filled in. */
export function pdfFromSVG(svg: string): string {
  return `rsvg-convert -f pdf ${svg} > ${svg.replace(/\.svg$/i, '')}.pdf`;
}

/** Parse `json,svg` into formats; an unknown name lists the known ones, and pdf says how to get one. */
export function parseFormats(list: string): OutputFormat[] {
  const out: OutputFormat[] = [];
  for (const raw of list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    if (raw.toLowerCase() === 'pdf')
      throw new OutputError(
        `--format pdf: ${NO_PDF}`,
        { format: raw },
        `use --format svg (vector, for slides) and convert each figure, e.g. ${pdfFromSVG('out/mass.svg')}; or --format png`,
      );
    if (!(OUTPUT_FORMATS as readonly string[]).includes(raw)) {
      throw new OutputError(
        `unknown output format "${raw}"`,
        { format: raw },
        `choose from: ${OUTPUT_FORMATS.join(', ')}`,
      );
    }
    if (!out.includes(raw as OutputFormat)) out.push(raw as OutputFormat);
  }
  return out;
}

/** True for a Ristretto histogram (by its binary tag, so copies of the class loaded from a bundle count too). */
export function isHist(v: unknown): v is Hist {
  return typeof v === 'object' && v !== null && (v as { binaryTag?: unknown }).binaryTag === 'ristretto.Hist';
}

/** Histograms of an accumulator by key path, and the rest as a JSON-able tree (undefined when nothing is left). */
export function splitAccumulator(acc: unknown): { hists: Map<string, Hist>; rest: unknown } {
  const hists = new Map<string, Hist>();
  const walk = (v: unknown, path: string[]): unknown => {
    if (isHist(v)) {
      hists.set(path.length ? path.map(safeSegment).join('/') : 'histogram', v);
      return undefined;
    }
    if (v instanceof Map) v = Object.fromEntries([...v].map(([k, x]) => [String(k), x]));
    if (isPlainObject(v)) {
      const o: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        const r = walk(x, [...path, k]);
        if (r !== undefined) o[k] = r;
      }
      return Object.keys(o).length ? o : undefined;
    }
    return toJSONValue(v);
  };
  const rest = walk(acc, []);
  return { hists, rest };
}

export interface WriteOptions {
  /**
   * Datasets that are collision data (`"isData": true` in the dataset JSON). A 2-D histogram with a
   * category axis named `dataset` is plotted as these (points with error bars) over the other
   * datasets stacked, instead of as a colour map.
   */
  dataDatasets?: readonly string[];
  /** Style of the svg/png figures: experiment label, luminosity (fb⁻¹), √s (TeV), log-y. */
  plot?: { label?: string; lumi?: number; sqrts?: number; logy?: boolean };
  /**
   * The run's datasets: written to `<out>/datasets.meta.json` (name → `{ isData, files, metadata }`), so
   * `ristretto view OUTDIR` knows which ones are data without being told.
   */
  datasets?: ReadonlyArray<{
    readonly name: string;
    readonly files: readonly unknown[];
    readonly metadata: Readonly<Record<string, unknown>>;
  }>;
}

/** `<out>/datasets.meta.json`: what `ristretto view` reads to draw data as points. */
export const DATASETS_FILE = 'datasets.meta.json';

/** Write histograms, leftover leaves and metrics into `outDir`. */
export async function writeOutputs(
  acc: unknown,
  metrics: RunMetrics,
  outDir: string,
  formats: readonly OutputFormat[] = ['json'],
  opts: WriteOptions = {},
): Promise<WrittenOutputs> {
  const { hists, rest } = splitAccumulator(acc);
  const files: string[] = [];
  const warnings: string[] = [];
  const put = async (rel: string, data: string | Uint8Array) => {
    await atomicWrite(join(outDir, rel), data);
    files.push(rel);
  };
  for (const [name, h] of hists) {
    for (const f of formats) {
      if (f === 'root') continue; // one file for all histograms, below
      if (f === 'json') {
        // A UHI document (name → histogram, the form histogram.schema.json validates), keyed by the
        // histogram's own key in the accumulator; labels in mathtext for Python readers.
        await put(`${name}.json`, stringifyUHI({ [name.slice(name.lastIndexOf('/') + 1)]: toUHI(h) }, 1));
        continue;
      }
      // The other formats have limits (plots are 1-D/2-D only); one histogram must not lose the rest.
      let data: string | Uint8Array;
      try {
        if (f === 'root-json') data = toROOTJSON(h);
        else {
          // 1-D, (dataset × axis) and two continuous axes (a colour map): the slide-ready figure (bundled
          // fonts, the --label line); other 2-D (category axes): jsroot's colour map
          if (h.ndim === 1 || byDataset(h) || isColormap(h)) {
            const svg = figureSVG(h, {
              ...opts.plot,
              data: opts.dataDatasets ?? [],
              ...(byDataset(h) ? { by: 'dataset', legend: datasetLegend(opts.datasets) } : {}),
            });
            data = f === 'svg' ? svg : svgToPNGBundled(svg);
          } else {
            const svg = await plotSVG(h);
            data = f === 'svg' ? svg : await svgToPNG(svg);
          }
        }
      } catch (e) {
        warnings.push(`${name}: no ${f} output: ${(e as Error).message}`);
        continue;
      }
      await put(`${name}${EXTENSIONS[f]}`, data);
    }
  }
  if (formats.includes('root') && hists.size) {
    await mkdir(outDir, { recursive: true });
    writeHistogramsROOT(join(outDir, 'histograms.root'), hists, {
      onSkip: (name, e) => warnings.push(`${name}: no root output: ${e.message}`),
    });
    files.push('histograms.root');
  }
  if (rest !== undefined) await put('accumulator.json', JSON.stringify(rest, null, 1));
  if (opts.datasets) {
    const entries = opts.datasets.map((d) => [
      d.name,
      { isData: d.metadata['isData'] === true, files: d.files.length, metadata: d.metadata },
    ]);
    await put(DATASETS_FILE, JSON.stringify(Object.fromEntries(entries), null, 1));
  }
  // last: `ristretto view` reloads an output folder when metrics.json changes
  await put('metrics.json', JSON.stringify(metrics, null, 1));
  return { histograms: [...hists.keys()], files, warnings };
}

/** A (dataset category × continuous axis) histogram: drawn as datasets stacked, data on top. */
function byDataset(h: Hist): boolean {
  if (h.ndim !== 2) return false;
  const k = h.axes.findIndex((a) => a.name === 'dataset');
  return k >= 0 && isCategory(h.axes[k]) && !isCategory(h.axes[1 - k]) && h.axes[1 - k].kind !== 'boolean';
}

/**
 * Write `file` whole or not at all. A failure here is the output folder's (a folder where a histogram's
 * file goes, a full disk), checked by nobody before the run: an OutputError naming the file, not a raw
 * `EISDIR` reported as a bug in Ristretto.
 */
async function atomicWrite(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(tmp, data);
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw new OutputError(
      `cannot write ${file}: ${(e as Error).message}`,
      { file, code: (e as NodeJS.ErrnoException).code },
      'make room for the output (remove or rename what is in the way, free disk space), or choose another --out',
      { cause: e },
    );
  }
}

/** A key as a safe path segment: no separators, no `..`, no control characters. */
function safeSegment(k: string): string {
  const s = k.replace(/[\\/:*?"<>|\u0000-\u001f]/g, '_');
  return s === '' || s === '.' || s === '..' ? `_${s}` : s;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const p = Object.getPrototypeOf(v);
  return p === Object.prototype || p === null;
}

/** Leaves as JSON: typed arrays → arrays, Sets → arrays, bigints → strings, non-finite numbers → strings. */
function toJSONValue(v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (v === undefined || v === null || typeof v !== 'object') return v;
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number | bigint>, toJSONValue);
  if (Array.isArray(v)) return v.map((x) => (isHist(x) ? toUHI(x) : toJSONValue(x)));
  if (v instanceof Set) return [...v].map(toJSONValue);
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), toJSONValue(x)]));
  if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return (v as { toJSON(): unknown }).toJSON();
  const o: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) o[k] = toJSONValue(x);
  return o;
}
