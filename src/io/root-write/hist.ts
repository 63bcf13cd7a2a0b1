/**
 * Histograms into one ROOT file: each histogram becomes a TH1D / TH2D / TH3D (sum of weights² in
 * fSumw2 for Weight storage, variable edges, axis titles), key paths (`muon/pt`) become TDirectories.
 * Category axes become axes with labelled bins (a dataset × mass histogram is a TH2D whose x bins are
 * named DY, ttbar, …), as uproot and hist read them back; `categories: 'split'` instead writes a
 * TDirectory per category (`pt/DY`, `pt/DY/signal` for two), so every sample is a plain TH1 a ROOT user
 * can draw. A histogram with more than three axes is split over its category axes until three are left.
 * Written to a temporary file and renamed, so the output is whole or absent.
 */
import { renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { binLabels, isCategory, type CategoryAxisType } from '../../hist/axes.ts';
import type { Hist } from '../../hist/hist.ts';
import { toROOT } from '../../hist/root.ts';
import type { Compression } from './compress.ts';
import { RootFileWriter, RootWriteError, type RootDirectory } from './file.ts';
import { streamObject } from './streamers.ts';

export interface WriteHistogramsOptions {
  /** Compression (default zlib level 1). For zstd, `await prepareCompression(c)` first. */
  compression?: Compression;
  /**
   * Called for a histogram that has no TH1/TH2/TH3 form (mean storage, too many axes), which is then
   * left out; without it such a histogram throws before anything is written.
   */
  onSkip?: (key: string, error: Error) => void;
  /**
   * Category axes as labelled bins of the histogram (`'labels'`, default; split only as far as needed to
   * get down to three axes) or as one TDirectory per category holding plain histograms (`'split'`).
   */
  categories?: 'labels' | 'split';
}

export interface WrittenHistogram {
  /** Key path inside the file (`muon/pt/DY`). */
  readonly path: string;
  readonly className: 'TH1D' | 'TH2D' | 'TH3D';
}

/** A key name ROOT tools handle: no '/', no control characters, not empty. */
function keyName(s: string): string {
  const t = s.replace(/[/\\\u0000-\u001f;]/g, '_');
  return t === '' ? '_' : t;
}

/**
 * Write histograms (key path → Hist, paths `a/b/name` make directories) into the ROOT file `path`.
 * Mean storages and histograms with more than three non-category axes cannot be TH1/TH2/TH3: these
 * throw UnsupportedHistError before anything is written.
 *
 * @example
 * const h = new Hist(new Regular(10, 0, 100, { name: 'pt' }), { storage: new Weight() });
 * h.fill([12, 55], { weight: [0.5, 2] });
 * writeHistogramsROOT('out.root', new Map([['muon/pt', h]]));
 * // jsroot: (await openFile('out.root')).readObject('muon/pt') → TH1D with fSumw2
 */
export function writeHistogramsROOT(
  path: string,
  hists: ReadonlyMap<string, Hist>,
  opts: WriteHistogramsOptions = {},
): WrittenHistogram[] {
  // Everything is converted first: a histogram that cannot be written fails the call before any byte.
  const plan: { dir: string[]; name: string; obj: ReturnType<typeof toROOT> }[] = [];
  for (const [key, h] of hists) {
    const parts = key.split('/').map(keyName);
    const name = parts.pop() ?? ''; // split always gives at least one part
    try {
      const pieces = splitCategories(h, name, '', opts.categories === 'split' ? 1 : 3).map((piece) => {
        const obj = toROOT(piece.hist, { name: piece.name, ...(piece.title ? { title: piece.title } : {}) });
        if (piece.dirs.length) obj.fEntries = entriesOf(obj); // the whole histogram's count would be wrong
        return { dir: [...parts, ...piece.dirs], name: piece.name, obj };
      });
      plan.push(...pieces);
    } catch (e) {
      if (!opts.onSkip) throw e;
      opts.onSkip(key, e as Error);
    }
  }
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now().toString(36)}.partial`);
  const f = new RootFileWriter(tmp, opts.compression ? { compression: opts.compression } : {}, basename(path));
  const out: WrittenHistogram[] = [];
  const classes = new Set<string>();
  try {
    for (const p of plan) {
      let d: RootDirectory = f.root;
      for (const seg of p.dir) d = f.mkdir(d, seg);
      const cls = p.obj._typename;
      f.writeObject(d, p.name, p.obj.fTitle, cls, (b) =>
        streamObject(b, cls, p.obj as unknown as Record<string, unknown>),
      );
      classes.add(cls);
      out.push({ path: [...p.dir, p.name].join('/'), className: cls });
    }
    f.close([...classes, 'THashList', 'TObjString', 'TList']);
    renameSync(tmp, path);
  } catch (e) {
    f.abort();
    rmSync(tmp, { force: true });
    if (e instanceof RootWriteError) throw e;
    throw new RootWriteError(`cannot write histograms to ${path}: ${(e as Error).message}`, { file: path }, undefined, {
      cause: e,
    });
  }
  return out;
}

/**
 * The pieces of a histogram as ROOT objects: itself when it has at most `keepAxes` axes, no category
 * axis, or nothing but category axes; else one histogram per category of its first category axis, under
 * a directory level (the histogram's name, then the category labels), split further as needed.
 * `keepAxes` 1 splits every category axis off a histogram that has other axes.
 */
export function splitCategories(
  h: Hist,
  name: string,
  title = '',
  keepAxes = 1,
): { dirs: string[]; name: string; title: string; hist: Hist }[] {
  const k = h.axes.findIndex((a) => isCategory(a));
  if (k < 0 || h.axes.every((a) => isCategory(a))) return [{ dirs: [], name, title, hist: h }];
  if (keepAxes > 1 && h.axes.length <= keepAxes) return [{ dirs: [], name, title, hist: h }];
  const a = h.axes[k] as CategoryAxisType;
  if (a.size === 0) return [{ dirs: [], name, title, hist: h }]; // nothing to split over: keep the (empty) axis
  const labels = binLabels(a);
  const out: { dirs: string[]; name: string; title: string; hist: Hist }[] = [];
  const base = title || h.label || h.name || name;
  (a.categories as readonly (string | number)[]).forEach((c, i) => {
    const sub = h.select(k, c);
    const t = `${base}, ${a.name || `axis ${k}`} = ${labels[i]}`;
    for (const p of splitCategories(sub, keyName(labels[i]), t, keepAxes))
      out.push({ dirs: [name, ...p.dirs], name: p.name, title: p.title, hist: p.hist });
  });
  return out;
}

/**
 * Entries of one category's histogram, which the accumulator does not keep per category: the sum of
 * all cells for counts, the effective entries (Σw)²/Σw² (ROOT's GetEffectiveEntries) with weights.
 */
function entriesOf(obj: ReturnType<typeof toROOT>): number {
  let w = 0;
  let w2 = 0;
  for (let i = 0; i < obj.fArray.length; i++) w += obj.fArray[i];
  if (obj.fSumw2.length === 0) return w;
  for (let i = 0; i < obj.fSumw2.length; i++) w2 += obj.fSumw2[i];
  return w2 > 0 ? (w * w) / w2 : 0;
}
