/**
 * `ristretto draw`: TTree::Draw for quick looks. An expression (mathjs text, NanoAOD branch names or dotted
 * names) is parsed into the fused graph (columnar/fused/parse.ts) and runs as one generated loop per chunk;
 * the chunks come from the events layer (`runOnEvents`), so only the branches the expression names are read.
 *
 * @example
 * ```ts
 * import { draw } from './draw.ts';
 * const r = await draw('data.parquet', 'sum(Jet_pt[Jet_pt > 30])', { cut: 'count(Muon_pt > 20) >= 1', bins: [50, 0, 500] });
 * console.log(r.hist.values(), r.entries, r.mean);
 * ```
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, resolve } from 'node:path';
import type { Command } from 'commander';
import { compute, fused } from '../columnar/fused/api.ts';
import { caretLine, ExpressionError, parseExpr } from '../columnar/fused/parse.ts';
import { loadFileset } from '../dataset/fileset.ts';
import { runOnEvents } from '../events/run.ts';
import { MissingBranchError } from '../events/errors.ts';
import { RistrettoError } from '../errors/index.ts';
import { InvalidArgumentError } from '../columnar/errors.ts';
import { Hist } from '../hist/hist.ts';
import { Regular } from '../hist/axes.ts';
import { Weight } from '../hist/storage.ts';
import { stringifyUHI, uhiDocument } from '../hist/uhi.ts';
import { figurePNG, figureSVG } from '../hist/publication.ts';
import { openReader } from '../io/open.ts';
import { assertOutputFile } from '../io/output-path.ts';
import type { NumericArray } from '../columnar/types.ts';
import { NO_PDF, pdfFromSVG } from '../runner/output.ts';
import type { EventReader } from '../io/reader.ts';

/** Bad command-line input to `draw` (bins, entry range, output type). */
export class DrawError extends RistrettoError {}

export interface DrawOptions {
  /** Event selection, e.g. `count(Jet_pt > 40) >= 2`. */
  cut?: string;
  /** Weight per entry, e.g. `genWeight`. */
  weight?: string;
  /** `[bins, lo, hi]`; default: 100 bins over the range of the first chunk of each of the first 16 files. */
  bins?: [number, number, number];
  /** ROOT tree name (default `Events`). */
  treename?: string;
  /** Global entry range `[start, stop)` over the files in order. */
  entries?: [number, number];
  /** Entries per chunk (default 100,000). */
  chunksize?: number;
}

export interface DrawResult {
  hist: Hist;
  /** Values filled (incl. under/overflow). */
  entries: number;
  /** Weighted mean and standard deviation of all values filled (incl. under/overflow). */
  mean: number;
  std: number;
  underflow: number;
  overflow: number;
  /** True when the binning was chosen from the range of first chunks (see `sampledFiles`). */
  autoBins: boolean;
  /** With `autoBins`: how many files' first chunks the range was taken from (up to 16). */
  sampledFiles?: number;
  events: number;
  /**
   * Values that were NaN and were left out (not filled, not in the mean): events without a value, e.g.
   * `max(Jet_pt)` of an event without jets, as `Jet_pt[0]` skips them; also NaN from `log(-1)` and the like.
   */
  skippedNaN: number;
  /** Set when `--entries A:B` reached past the input's end: the range actually read and the input's size. */
  entriesCut?: { requested: [number, number]; read: [number, number]; available: number };
}

/** Files of a dataset JSON (all datasets, in order), or the one file given. */
async function inputsOf(input: string, treename: string | undefined): Promise<{ path: string; tree?: string }[]> {
  if (input.toLowerCase().endsWith('.json')) {
    const ds = await loadFileset(input);
    return ds.flatMap((d) => d.files.map((f) => ({ path: f.path, tree: treename ?? f.tree })));
  }
  return [{ path: input, tree: treename }];
}

/** Wraps an expression error with the expression and a caret under the offending token. */
function explain(e: unknown, what: string): never {
  if (e instanceof ExpressionError) {
    const where = e.position !== undefined ? `\n${caretLine(e.text, e.position)}` : '';
    throw new ExpressionError(`${what}: ${e.message}${where}`, e.text, '', e.position, e);
  }
  throw e;
}

/** A branch missing from the file, with a caret under the expression token that named it. */
function pointAtBranch(e: MissingBranchError, texts: readonly (string | undefined)[]): never {
  const dot = e.branch.indexOf('_');
  const tokens = [e.branch, dot > 0 ? `${e.branch.slice(0, dot)}.${e.branch.slice(dot + 1)}` : e.branch];
  for (const text of texts) {
    if (text === undefined) continue;
    for (const t of tokens) {
      const m = new RegExp(`(?<![\\w.])${t.replace(/\./g, '\\.')}(?!\\w)`).exec(text);
      if (m) throw new ExpressionError(`${e.message}\n${caretLine(text, m.index)}`, text, '', m.index, e);
    }
  }
  throw e;
}

/**
 * The compiler's "objects of Muon and Jet at once" in draw's terms: which expression, a caret under the
 * second collection's first name in it, and what to write instead.
 */
function mixedCollections(e: Error, names: readonly string[], texts: readonly (string | undefined)[]): never {
  const [a, b] = names;
  const labels = ['expression', '--cut', '--weight'];
  const find = (n: string) => {
    for (const [i, text] of texts.entries()) {
      const m = text === undefined ? null : new RegExp(`(?<![\\w.])${n}[_.]`).exec(text);
      if (m && text !== undefined) return { i, text, pos: m.index };
    }
    return undefined;
  };
  const fa = find(a);
  const fb = find(b);
  // point at the collection named second (in the same text: the later one)
  const at = fa && fb && fa.i === fb.i && fa.pos > fb.pos ? fa : (fb ?? fa);
  const what = fa && fb && fa.i !== fb.i ? `${labels[fa.i]} and ${labels[fb.i]}` : labels[at?.i ?? 0];
  const other = at === fa ? a : b;
  const message =
    `${what}: ${at ? `'${at.text}' ` : ''}combines objects of ${a} and ${b}, whose numbers per event differ — ` +
    `reduce one of them to one value per event first, e.g. ${other}_pt[0], max(${other}_pt), ` +
    `sum(${other}_pt[${other}_pt > 30]) or count(${other}_pt > 30)`;
  throw new ExpressionError(at ? `${message}\n${caretLine(at.text, at.pos)}` : message, at?.text ?? '', '', at?.pos, e);
}

/** Smallest and largest finite value of `values`, widening `into` (`[Infinity, -Infinity]` when empty). */
function widenRange(values: NumericArray, into: [number, number]): void {
  for (let i = 0; i < values.length; i++) {
    const v = Number(values[i]);
    if (!Number.isFinite(v)) continue;
    if (v < into[0]) into[0] = v;
    if (v > into[1]) into[1] = v;
  }
}

/** `[lo, hi)` covering the range `[min, max]` so that the largest value lands in the last bin, not in the overflow. */
function binRange([lo, hi]: [number, number]): [number, number] {
  if (lo > hi) return [0, 1];
  if (lo === hi) return [lo - 0.5, hi + 0.5];
  return [lo, hi + (hi - lo) * 1e-3];
}

/**
 * Files whose first chunk sets the default binning: one file's first chunk was a poor sample of a
 * dataset JSON (a small first file left a third of the entries in the flow bins, outside probe F20).
 * Bounded, so that a dataset of many remote files is not opened twice over.
 */
const AUTO_BIN_SAMPLE_FILES = 16;

/** Share of the entries in the under/overflow bins above which the summary suggests --bins. */
const FLOW_WARNING = 0.05;

/** Values (and weights) of the expression for one chunk, and the branches it read. */
interface ChunkValues {
  x: NumericArray;
  w: NumericArray | undefined;
  columnsRead: string[];
}

/**
 * Histogram `expr` over a file or a dataset JSON, TTree::Draw style.
 *
 * @example
 * ```ts
 * const { hist, entries } = await draw('data.root', 'MET_pt', { cut: 'count(Jet_pt > 40) >= 2', bins: [100, 0, 2000] });
 * ```
 */
export async function draw(input: string, expr: string, opts: DrawOptions = {}): Promise<DrawResult> {
  const chunksize = opts.chunksize ?? 100_000;
  if (!Number.isInteger(chunksize) || chunksize <= 0)
    throw new DrawError(
      `draw: chunksize ${chunksize} is not a positive integer`,
      { chunksize },
      'Pass a whole number of entries.',
    );
  const files = await inputsOf(input, opts.treename);
  const [start, stop] = opts.entries ?? [0, Infinity];
  let prefetch: string[] | undefined;

  /** The expression's values over entries [lo, hi) of `reader`. */
  const valuesOf = async (reader: EventReader, names: readonly string[], lo: number, hi: number) => {
    const { result, columnsRead } = await runOnEvents(
      reader,
      lo,
      hi,
      (ev) => {
        const fe = fused(ev);
        let x;
        try {
          x = parseExpr(expr, fe, { names });
        } catch (e) {
          explain(e, 'expression');
        }
        let c;
        if (opts.cut !== undefined) {
          try {
            c = parseExpr(opts.cut, fe, { names });
          } catch (e) {
            explain(e, '--cut');
          }
          x = x.where(c);
        }
        if (opts.weight === undefined) return { x: compute(x), w: undefined };
        let w;
        try {
          w = parseExpr(opts.weight, fe, { names });
        } catch (e) {
          explain(e, '--weight');
        }
        const out = compute({ x, w: c ? w.where(c) : w });
        return { x: out.x, w: out.w };
      },
      prefetch ? { prefetch } : {},
    ).catch((e: unknown) => {
      if (e instanceof MissingBranchError) pointAtBranch(e, [expr, opts.cut, opts.weight]);
      if (e instanceof InvalidArgumentError && Array.isArray(e.context['collections']))
        mixedCollections(e, e.context['collections'] as string[], [expr, opts.cut, opts.weight]);
      throw e;
    });
    prefetch ??= columnsRead;
    return { x: result.x as NumericArray, w: result.w as NumericArray | undefined, columnsRead };
  };

  /**
   * Each file in order with the part of the global entry range that falls in it (`[a, b)`, maybe empty);
   * `visit` returns false to stop early. Readers of files for which `keep` says so stay open in `kept`
   * for the next pass (reopening the sampled files cost ~10 ms of CPU each); only those, so that a long
   * dataset skipped over by --entries does not hold a descriptor per file. Returns the entries visited.
   */
  const kept = new Map<number, EventReader>();
  const eachFile = async (
    visit: (k: number, reader: EventReader, names: readonly string[], a: number, b: number) => Promise<boolean>,
    keep: (k: number) => boolean = () => false,
  ): Promise<number> => {
    let offset = 0; // global entry number of the current file's first entry
    for (const [k, f] of files.entries()) {
      const reader = kept.get(k) ?? (await openReader(f.path, f.tree ? { treeName: f.tree } : {}));
      kept.delete(k);
      let more: boolean;
      try {
        // names `ristretto ls` lists that are not identifiers (P3.Px, ArrayI16[10]) are read as written
        const names = reader.branches().map((b) => b.name);
        more = await visit(k, reader, names, Math.max(0, start - offset), Math.min(reader.numEntries, stop - offset));
        offset += reader.numEntries;
      } catch (e) {
        await reader.close();
        throw e;
      }
      if (keep(k)) kept.set(k, reader);
      else await reader.close();
      if (!more || offset >= stop) break;
    }
    return offset;
  };

  try {
    // Default binning: the range of the first chunk of each of the first files, those chunks kept for the fill.
    const sampled = new Map<number, ChunkValues>();
    const range: [number, number] = [Infinity, -Infinity];
    if (!opts.bins) {
      await eachFile(
        async (k, reader, names, a, b) => {
          if (a >= b) return true;
          const v = await valuesOf(reader, names, a, Math.min(b, a + chunksize));
          sampled.set(k, v);
          widenRange(v.x, range);
          return sampled.size < AUTO_BIN_SAMPLE_FILES;
        },
        (k) => sampled.has(k),
      );
    }
    const [nb, blo, bhi] = opts.bins ?? [100, ...binRange(range)];
    const hist = new Hist(
      new Regular(nb, blo, bhi, { name: 'x', label: expr }),
      opts.weight !== undefined ? { storage: new Weight() } : {},
    );

    let sw = 0;
    let swx = 0;
    let swxx = 0;
    let n = 0;
    let events = 0;
    let skippedNaN = 0;
    const offset = await eachFile(async (k, reader, names, a, b) => {
      for (let lo = a; lo < b; lo += chunksize) {
        const hi = Math.min(b, lo + chunksize);
        const chunk = (lo === a ? sampled.get(k) : undefined) ?? (await valuesOf(reader, names, lo, hi));
        events += hi - lo;
        // NaN is "no value here" (max/min of an empty collection): left out like the events x[0] skips,
        // and counted for the summary; filled, it would land in the overflow bin and poison the mean.
        const { x, w, nan } = dropNaN(chunk.x, chunk.w);
        skippedNaN += nan;
        if (w) hist.fill(x, { weight: w });
        else hist.fill(x);
        for (let i = 0; i < x.length; i++) {
          const v = Number(x[i]);
          const wt = w ? Number(w[i]) : 1;
          sw += wt;
          swx += wt * v;
          swxx += wt * v * v;
        }
        n += x.length;
      }
      return true;
    });
    const flow = hist.values({ flow: true });
    const mean = sw > 0 ? swx / sw : NaN;
    const std = sw > 0 ? Math.sqrt(Math.max(0, swxx / sw - mean * mean)) : NaN;
    const result: DrawResult = {
      hist,
      entries: n,
      mean,
      std,
      underflow: flow[0],
      overflow: flow[flow.length - 1],
      autoBins: !opts.bins,
      ...(opts.bins ? {} : { sampledFiles: sampled.size }),
      events,
      skippedNaN,
    };
    // a range past the end is read as far as the input goes, and the summary says so (offset: entries seen)
    if (opts.entries && stop > offset && (stop !== Infinity || start > offset))
      result.entriesCut = {
        requested: [start, stop],
        read: [Math.min(start, offset), offset],
        available: offset,
      };
    return result;
  } finally {
    for (const r of kept.values()) await r.close();
  }
}

/** `x` (and its weights) without the NaN values of `x`; copies only when there are some. */
function dropNaN(x: NumericArray, w: NumericArray | undefined): { x: NumericArray; w?: NumericArray; nan: number } {
  let nan = 0;
  for (let i = 0; i < x.length; i++) if (x[i] !== x[i]) nan++;
  if (nan === 0) return { x, w, nan };
  const keepX = new Float64Array(x.length - nan);
  const keepW = w ? new Float64Array(x.length - nan) : undefined;
  for (let i = 0, k = 0; i < x.length; i++) {
    if (x[i] !== x[i]) continue;
    keepX[k] = x[i];
    if (keepW && w) keepW[k] = w[i];
    k++;
  }
  return { x: keepX, w: keepW, nan };
}

/** `N,LO,HI` → `[N, LO, HI]`. */
export function parseBins(text: string): [number, number, number] {
  const p = text.split(',').map((s) => Number(s.trim()));
  if (
    p.length !== 3 ||
    !Number.isInteger(p[0]) ||
    p[0] <= 0 ||
    !Number.isFinite(p[1]) ||
    !Number.isFinite(p[2]) ||
    p[2] <= p[1]
  ) {
    throw new DrawError(
      `--bins '${text}' is not N,LO,HI`,
      { bins: text },
      'Write e.g. --bins 100,0,200 (N a positive integer, LO < HI).',
    );
  }
  return p as [number, number, number];
}

/** `A:B` → `[A, B)`; either side may be empty. */
export function parseEntries(text: string): [number, number] {
  const m = /^\s*(\d*)\s*:\s*(\d*)\s*$/.exec(text);
  const a = m?.[1] ? Number(m[1]) : 0;
  const b = m?.[2] ? Number(m[2]) : Infinity;
  if (!m || b < a)
    throw new DrawError(
      `--entries '${text}' is not A:B`,
      { entries: text },
      'Write e.g. --entries 0:10000 (A ≤ B; either may be left out).',
    );
  return [a, b];
}

/** The text summary `ristretto draw` prints. */
export function summary(expr: string, r: DrawResult): string {
  const ax = r.hist.axes[0] as Regular;
  const fmt = (v: number) => (Number.isFinite(v) ? Number(v.toPrecision(6)).toString() : String(v));
  const lines = [
    `${expr}: ${r.entries} entries from ${r.events} events`,
    `  mean ${fmt(r.mean)}  std ${fmt(r.std)}  underflow ${fmt(r.underflow)}  overflow ${fmt(r.overflow)}`,
    `  bins ${ax.size},${fmt(ax.edges[0])},${fmt(ax.edges[ax.size])}${r.autoBins ? ` (chosen from the range of ${(r.sampledFiles ?? 1) > 1 ? `the first chunk of ${r.sampledFiles} files` : 'the first chunk'}; pass --bins N,LO,HI to fix them)` : ''}`,
  ];
  // Later chunks can still reach beyond the sampled range: say so when it matters.
  const all = r.hist.values({ flow: true }).reduce((a, v) => a + v, 0);
  const outside = r.underflow + r.overflow;
  if (r.autoBins && all > 0 && outside / all > FLOW_WARNING)
    lines.push(
      `  warning: ${Number(((100 * outside) / all).toPrecision(3))} % of the entries are in the under/overflow bins — the first chunks did not span the range; pass --bins N,LO,HI`,
    );
  if (r.skippedNaN > 0)
    lines.push(
      `  skipped ${r.skippedNaN} NaN values: events without a value (max/min of no objects), left out as x[0] leaves them out`,
    );
  if (r.entriesCut) {
    const { requested, read, available } = r.entriesCut;
    const range = (a: number, b: number) => `${a}:${Number.isFinite(b) ? b : ''}`;
    lines.push(`  --entries ${range(...requested)} cut to ${range(...read)}: the input has ${available} entries`);
  }
  return lines.join('\n');
}

/** Registers `ristretto draw`. */
export function registerDrawCommand(program: Command): void {
  program
    .command('draw <input> <expr>')
    .description(
      'histogram an expression over a file or dataset JSON, like TTree::Draw (e.g. "sum(Jet_pt[Jet_pt > 30])")',
    )
    .option('--cut <expr>', 'event/object selection, e.g. "count(Jet_pt > 40) >= 2"')
    .option('--weight <expr>', 'weight per entry, e.g. genWeight')
    .option(
      '--bins <N,LO,HI>',
      'binning (default: 100 bins over the range of the first chunk of each of the first 16 files)',
    )
    .option('--treename <name>', 'ROOT tree name (default Events)')
    .option('--entries <A:B>', 'global entry range over the input files')
    .option('--chunksize <n>', 'entries per chunk', '100000')
    .option(
      '--out <file>',
      'write .json (a UHI document { "<file name>": histogram }), .svg or .png; default: print a summary only',
    )
    .action(
      async (
        input: string,
        expr: string,
        o: {
          cut?: string;
          weight?: string;
          bins?: string;
          treename?: string;
          entries?: string;
          chunksize: string;
          out?: string;
        },
      ) => {
        const out = o.out;
        const ext = out?.toLowerCase().split('.').pop();
        if (out !== undefined && ext !== 'json' && ext !== 'svg' && ext !== 'png') {
          const svg = `${out.slice(0, -'.pdf'.length)}.svg`;
          throw new DrawError(
            `--out ${out}: ${ext === 'pdf' ? NO_PDF : 'unknown output type'}`,
            { out },
            ext === 'pdf'
              ? `write --out ${svg} (vector, for slides) and convert it, e.g. ${pdfFromSVG(svg)}; or .png`
              : 'Use a .json (UHI), .svg or .png file name.',
          );
        }
        if (out !== undefined) assertOutputFile(out, '--out', { makeFolder: true });
        const r = await draw(input, expr, {
          cut: o.cut,
          weight: o.weight,
          bins: o.bins !== undefined ? parseBins(o.bins) : undefined,
          treename: o.treename,
          entries: o.entries !== undefined ? parseEntries(o.entries) : undefined,
          chunksize: Number(o.chunksize),
        });
        process.stdout.write(`${summary(expr, r)}\n`);
        if (out === undefined) return;
        // Figure titles are TLatex, where `_` subscripts: show branch names' underscores as a look-alike (ˍ).
        const xlabel = (o.cut ? `${expr} {${o.cut}}` : expr).replace(/_/g, '\u02cd');
        await mkdir(dirname(resolve(out)), { recursive: true });
        // A UHI document named after the file, as run-analysis writes one per histogram: one loader reads both.
        if (ext === 'json')
          await writeFile(out, stringifyUHI(uhiDocument({ [basename(out, extname(out))]: r.hist }), 1));
        else if (ext === 'svg') await writeFile(out, figureSVG(r.hist, { xlabel }));
        else await writeFile(out, figurePNG(r.hist, { xlabel }));
        process.stdout.write(`wrote ${out}\n`);
      },
    );
}
