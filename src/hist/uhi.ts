/**
 * JSON in the UHI histogram serialization format (scikit-hep/uhi `histogram.schema.json`), as
 * boost-histogram / hist write and read it: dense storages carry every bin including the flow bins of the
 * axes that have them, nested one array level per axis (first axis outermost).
 *
 * A UHI document maps names to histograms; `toUHI` gives one histogram object, `uhiDocument` the file
 * form. Profile variances can be NaN or ±Infinity (empty bins); `stringifyUHI` writes them as the bare
 * `NaN` / `Infinity` tokens Python's json module reads, and `parseUHI` accepts them.
 */
import { sampleVariancesOf } from './accumulators.ts';
import { axisFromUHI, axisToUHI, type UHIAxis, type UHIMetadata, type UHIWriterInfo } from './axis-spec.ts';
import { HistFormatError, UnsupportedHistError } from './errors.ts';
import { Hist } from './hist.ts';
import { sizeOf, stridesOf } from './layout.ts';
import { storageOf, type StorageKind } from './storage.ts';

/** Nested number arrays, one level per axis. */
export type NDArray = (number | NDArray)[];

/** The storage part of a UHI histogram. */
export type UHIStorage =
  | { type: 'int' | 'double'; values?: NDArray; index?: number[][] }
  | { type: 'weighted'; values?: NDArray; variances?: NDArray; index?: number[][] }
  | { type: 'mean'; counts?: NDArray; values?: NDArray; variances?: NDArray; index?: number[][] }
  | {
      type: 'weighted_mean';
      sum_of_weights?: NDArray;
      sum_of_weights_squared?: NDArray;
      values?: NDArray;
      variances?: NDArray;
      index?: number[][];
    };

/** One histogram in UHI form. */
export interface UHIHistogram {
  uhi_schema: 1;
  writer_info?: UHIWriterInfo;
  metadata?: UHIMetadata;
  axes: UHIAxis[];
  storage: UHIStorage;
}

export type { UHIAxis, UHIMetadata, UHIWriterInfo } from './axis-spec.ts';

const WRITER = 'ristretto';
const VERSION = '0.1.0';

function nest(flat: Float64Array, shape: readonly number[]): NDArray {
  if (shape.length === 0) return [flat[0]];
  const strides = stridesOf(shape);
  const build = (k: number, base: number): NDArray => {
    const out: NDArray = new Array(shape[k]);
    for (let i = 0; i < shape[k]; i++) {
      const at = base + i * strides[k];
      out[i] = k === shape.length - 1 ? flat[at] : build(k + 1, at);
    }
    return out;
  };
  return build(0, 0);
}

function flatten(nd: unknown, shape: readonly number[], field: string): Float64Array {
  const n = sizeOf(shape);
  const out = new Float64Array(n);
  let pos = 0;
  const walk = (x: unknown, depth: number): void => {
    if (Array.isArray(x)) {
      if (depth < shape.length && x.length !== shape[depth])
        throw new HistFormatError(
          `storage '${field}': axis ${depth} has ${x.length} entries, expected ${shape[depth]} (flow bins included)`,
          {
            field,
            depth,
          },
        );
      for (const y of x) walk(y, depth + 1);
    } else if (typeof x === 'number' || x === null) {
      if (pos >= n) throw new HistFormatError(`storage '${field}' has more than ${n} bins`, { field });
      out[pos++] = x === null ? NaN : x; // JSON.stringify turns NaN into null
    } else throw new HistFormatError(`storage '${field}' holds a ${typeof x}, expected numbers`, { field });
  };
  if (typeof nd === 'string')
    throw new UnsupportedHistError(
      `storage '${field}' is a path (${nd}); external bin data is not supported`,
      { field },
      'inline the arrays',
    );
  walk(nd, 0);
  if (pos !== n)
    throw new HistFormatError(`storage '${field}' has ${pos} bins, expected ${n}`, { field, got: pos, expected: n });
  return out;
}

/** Options of `toUHI` / `uhiDocument`. */
export interface UHIOptions {
  /**
   * `python` (default): labels written in ROOT's TLatex (`m_{#mu#mu} [GeV]`) become matplotlib
   * mathtext (`$m_{\mu\mu}$ [GeV]`), as hist / mplhep draw them; see `tlatexToMathtext`.
   * `keep`: labels as they are.
   */
  labels?: 'python' | 'keep';
}

const TLATEX_FONTS: Record<string, string> = { it: 'mathit', bf: 'mathbf', rm: 'mathrm' };

/**
 * A ROOT TLatex label in matplotlib mathtext, for Python readers of UHI files (hist, mplhep):
 * each run of TLatex (a word with `#`, `_{` or `^{`) becomes `$...$` with `#cmd` → `\cmd`
 * (`#it`/`#bf`/`#rm` → `\mathit`/`\mathbf`/`\mathrm`; `#font[..]`, `#color[..]`, `#kern[..]` dropped),
 * multi-letter words in sub/superscripts set upright (`E_{T}^{miss}` → `$E_{T}^{\mathrm{miss}}$`),
 * plain words stay plain text. Labels already holding `$` or no TLatex are returned unchanged.
 *
 * @example
 * tlatexToMathtext('m_{#mu#mu} [GeV]');     // '$m_{\mu\mu}$ [GeV]'
 * tlatexToMathtext('#Delta#phi(j, #mu)');   // '$\Delta\phi(j,\ \mu)$'
 * tlatexToMathtext('MET [GeV]');            // unchanged
 */
export function tlatexToMathtext(label: string): string {
  if (label.includes('$') || !/#[A-Za-z]|[_^]\{/.test(label)) return label;
  // split at whitespace outside braces and brackets, keeping the separators
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of label) {
    if (ch === '{' || ch === '(' || ch === '[') depth++;
    else if ((ch === '}' || ch === ')' || ch === ']') && depth > 0) depth--;
    if (/\s/.test(ch) && depth === 0) {
      if (cur) parts.push(cur);
      parts.push(ch);
      cur = '';
    } else cur += ch;
  }
  if (cur) parts.push(cur);
  const isMath = (w: string) => /#[A-Za-z]|[_^]\{/.test(w);
  const out: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    const w = parts[i];
    if (!isMath(w)) {
      out.push(w);
      continue;
    }
    // join math words separated only by spaces into one $...$ (a space is kept as `\ `)
    let j = i;
    const words = [w];
    while (j + 2 < parts.length && /^\s$/.test(parts[j + 1]) && isMath(parts[j + 2])) {
      words.push(parts[j + 2]);
      j += 2;
    }
    i = j;
    out.push(`$${words.map(mathOf).join('\\ ')}$`);
  }
  return out.join('');
}

function mathOf(w: string): string {
  return w
    .replace(/#(font|color|kern|lower|scale)\[[^\]]*\]/g, '')
    .replace(/#([A-Za-z]+)/g, (_m, cmd: string) => `\\${TLATEX_FONTS[cmd] ?? cmd}`)
    .replace(/([_^])\{([A-Za-z]{2,})\}/g, '$1{\\mathrm{$2}}')
    .replace(/ /g, '\\ ');
}

function withPythonLabels(meta: UHIMetadata | undefined): UHIMetadata | undefined {
  if (!meta || typeof meta['label'] !== 'string') return meta;
  const label = tlatexToMathtext(meta['label']);
  return label === meta['label'] ? meta : { ...meta, label };
}

/**
 * The UHI object of one histogram. Name and label of axes and histogram go to `metadata` (the `hist`
 * package's convention), `_variance_known` too (boost-histogram's), and the fill count to
 * `writer_info.ristretto.entries`. Labels are converted from TLatex to mathtext unless
 * `{ labels: 'keep' }` (ROOT outputs keep TLatex).
 *
 * @example
 * const doc = uhiDocument({ met: h });          // { met: {...} }, valid against histogram.schema.json
 * writeFileSync('met.json', stringifyUHI(doc)); // readable by Python: uhi.io.json / boost_histogram
 */
export function toUHI(h: Hist, opts: UHIOptions = {}): UHIHistogram {
  const python = (opts.labels ?? 'python') === 'python';
  const shape = h.shape({ flow: true });
  const f = (name: string): NDArray => nest(h.field(name), shape);
  let storage: UHIStorage;
  switch (h.storage.kind) {
    case 'double':
    case 'int64':
      storage = { type: h.storage.kind === 'double' ? 'double' : 'int', values: f('value') };
      break;
    case 'weight':
      storage = { type: 'weighted', values: f('sum_of_weights'), variances: f('sum_of_weights_squared') };
      break;
    case 'mean':
      storage = {
        type: 'mean',
        counts: f('count'),
        values: f('value'),
        variances: nest(
          sampleVariancesOf(
            'mean',
            h.storage.fields.map((x) => h.field(x)),
          ),
          shape,
        ),
      };
      break;
    case 'weighted_mean':
      storage = {
        type: 'weighted_mean',
        sum_of_weights: f('sum_of_weights'),
        sum_of_weights_squared: f('sum_of_weights_squared'),
        values: f('value'),
        variances: nest(
          sampleVariancesOf(
            'weighted_mean',
            h.storage.fields.map((x) => h.field(x)),
          ),
          shape,
        ),
      };
      break;
  }
  const metadata: UHIMetadata = { ...h.metadata, _variance_known: h.varianceKnown };
  if (h.name) metadata['name'] = h.name;
  if (h.label) metadata['label'] = python ? tlatexToMathtext(h.label) : h.label;
  const axes = h.axes.map(axisToUHI);
  return {
    uhi_schema: 1,
    writer_info: { [WRITER]: { version: VERSION, entries: h.entries } },
    axes: python ? axes.map((a) => (a.metadata ? { ...a, metadata: withPythonLabels(a.metadata) } : a)) : axes,
    storage,
    metadata,
  };
}

/** A UHI document (the JSON file form, valid against `histogram.schema.json`): histogram name → histogram. */
export function uhiDocument(hists: Record<string, Hist>, opts: UHIOptions = {}): Record<string, UHIHistogram> {
  const out: Record<string, UHIHistogram> = {};
  for (const [k, h] of Object.entries(hists)) out[k] = toUHI(h, opts);
  return out;
}

const STORAGE_FROM_UHI: Record<string, StorageKind> = {
  int: 'int64',
  double: 'double',
  weighted: 'weight',
  mean: 'mean',
  weighted_mean: 'weighted_mean',
};

/** Fields of each UHI storage type, in the order of the Ristretto storage's arrays. */
const UHI_FIELDS: Record<StorageKind, string[]> = {
  int64: ['values'],
  double: ['values'],
  weight: ['values', 'variances'],
  mean: ['counts', 'values', 'variances'],
  weighted_mean: ['sum_of_weights', 'sum_of_weights_squared', 'values', 'variances'],
};

/**
 * Rebuild a histogram from its UHI object (as written by `toUHI`, boost-histogram or hist). Dense and
 * sparse storages are read; a storage with only `type` gives an empty histogram. Profile sums of squared
 * deltas are rebuilt from the variances, so they round-trip up to rounding (exactly in binary form).
 */
export function fromUHI(raw: unknown): Hist {
  if (typeof raw !== 'object' || raw === null || !Array.isArray((raw as UHIHistogram).axes))
    throw new HistFormatError(
      'not a UHI histogram: expected an object with "axes" and "storage"',
      {},
      'for a whole document ({name: histogram}) use fromUHIDocument',
    );
  const d = raw as UHIHistogram;
  const st = d.storage as Record<string, unknown> | undefined;
  const kind = st ? STORAGE_FROM_UHI[String(st['type'])] : undefined;
  if (!st || !kind)
    throw new HistFormatError(
      `unknown UHI storage type ${JSON.stringify(st?.['type'])}`,
      {},
      'expected int, double, weighted, mean or weighted_mean',
    );
  const axes = d.axes.map((a, i) => axisFromUHI(a, `axis ${i}`));
  const meta: UHIMetadata = { ...(d.metadata ?? {}) };
  const varianceKnown = meta['_variance_known'] !== false;
  const name = typeof meta['name'] === 'string' ? meta['name'] : '';
  const label = typeof meta['label'] === 'string' ? meta['label'] : '';
  delete meta['_variance_known'];
  delete meta['name'];
  delete meta['label'];
  const storage = storageOf(kind);
  const empty = Hist.fromArrays(
    axes,
    { storage, name, label, metadata: meta, varianceKnown },
    storage.fields.map(() => new Float64Array(sizeOf(axes.map((a) => a.extent)))),
  );
  const fields = UHI_FIELDS[kind];
  if (!fields.some((f) => f in st)) return withEntries(empty, d);
  const shape = axes.map((a) => a.extent);
  let cols: Float64Array[];
  if (st['index'] !== undefined) cols = sparseToDense(st, fields, shape);
  else cols = fields.map((f) => flatten(st[f], shape, f));
  // UHI profiles carry variances; the storage keeps the sum of squared deltas
  if (kind === 'mean') cols[2] = deltasFromVariance(cols[2], cols[0], (c) => c - 1);
  if (kind === 'weighted_mean') cols[3] = deltasFromVariance(cols[3], cols[0], (w, i) => w - cols[1][i] / w);
  return withEntries(Hist.fromArrays(axes, { storage, name, label, metadata: meta, varianceKnown }, cols), d);
}

function deltasFromVariance(v: Float64Array, n: Float64Array, dof: (x: number, i: number) => number): Float64Array {
  const out = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const s = v[i] * dof(n[i], i);
    out[i] = Number.isFinite(s) ? s : 0; // NaN/Inf variance: at most one entry, no spread
  }
  return out;
}

function sparseToDense(st: Record<string, unknown>, fields: string[], shape: number[]): Float64Array[] {
  const index = st['index'];
  if (!Array.isArray(index) || index.length !== shape.length)
    throw new HistFormatError(`sparse storage: 'index' needs one row per axis (${shape.length})`, {});
  const strides = stridesOf(shape);
  const cols = fields.map(() => new Float64Array(sizeOf(shape)));
  fields.forEach((f, c) => {
    const vals = st[f];
    if (!Array.isArray(vals))
      throw new HistFormatError(`sparse storage: '${f}' must be a flat number array`, { field: f });
    vals.forEach((v, j) => {
      let at = 0;
      for (let k = 0; k < shape.length; k++) {
        const b = (index[k] as number[])[j];
        if (!(b >= 0 && b < shape[k]))
          throw new HistFormatError(`sparse storage: index ${b} out of range on axis ${k}`, { axis: k });
        at += b * strides[k];
      }
      cols[c][at] = v === null ? NaN : (v as number);
    });
  });
  return cols;
}

function withEntries(h: Hist, d: UHIHistogram): Hist {
  const e = d.writer_info?.[WRITER]?.['entries'];
  if (typeof e === 'number') h.entries = e;
  else {
    // written elsewhere: ROOT-like entries from the (effective) counts
    let s = 0;
    for (const c of h.counts({ flow: true })) s += c;
    h.entries = Math.round(s);
  }
  return h;
}

/** Every histogram of a UHI document. */
export function fromUHIDocument(doc: unknown): Record<string, Hist> {
  if (typeof doc !== 'object' || doc === null)
    throw new HistFormatError('a UHI document is an object of name → histogram', {});
  const out: Record<string, Hist> = {};
  for (const [k, v] of Object.entries(doc)) out[k] = fromUHI(v);
  return out;
}

const NAN = '\u0000NaN\u0000';
const INF = '\u0000Infinity\u0000';
const NINF = '\u0000-Infinity\u0000';

/** JSON text of a UHI object or document, with NaN and ±Infinity as Python's json module writes them. */
export function stringifyUHI(value: unknown, space?: number): string {
  const text = JSON.stringify(
    value,
    (_k, v: unknown) =>
      typeof v === 'number' && !Number.isFinite(v) ? (Number.isNaN(v) ? NAN : v > 0 ? INF : NINF) : v,
    space,
  );
  return text
    .replaceAll(JSON.stringify(NAN), 'NaN')
    .replaceAll(JSON.stringify(INF), 'Infinity')
    .replaceAll(JSON.stringify(NINF), '-Infinity');
}

/** Parse JSON text that may hold Python-style NaN / Infinity / -Infinity tokens (as boost-histogram writes). */
export function parseUHI(text: string): unknown {
  let out = '';
  let i = 0;
  let from = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '"') {
      i++;
      while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
      i++;
      continue;
    }
    let matched = false;
    if (ch === 'N' || ch === 'I' || ch === '-')
      for (const [tok, rep] of [
        ['-Infinity', NINF],
        ['Infinity', INF],
        ['NaN', NAN],
      ] as const) {
        if (text.startsWith(tok, i)) {
          out += text.slice(from, i) + JSON.stringify(rep);
          i += tok.length;
          from = i;
          matched = true;
          break;
        }
      }
    if (!matched) i++;
  }
  out += text.slice(from);
  return JSON.parse(out, (_k, v: unknown) => (v === NAN ? NaN : v === INF ? Infinity : v === NINF ? -Infinity : v));
}
