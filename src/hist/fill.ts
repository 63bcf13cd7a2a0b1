/**
 * Filling a histogram: argument checks, the choice of kernel (fused 1-D and 2-D paths for Regular and Integer
 * axes, the generic index-then-apply path otherwise), growth of category axes, and the flush of the fused
 * kernels' private bins into the storage. `Hist.fill` parses its arguments and hands them here, so the Hist
 * class stays a thin facade over axes + storage + bins (as boost-histogram keeps its Python class).
 *
 * Inputs are converted chunk by chunk into module-level Float64 scratch arrays, so a fill allocates nothing
 * per entry and the hot loops only see typed arrays.
 */
import type { NumericArray } from '../columnar/types.ts';
import { binMerger, type Arrays } from './accumulators.ts';
import type { Axis, IntCategory, StrCategory } from './axes.ts';
import { brokenInvariant } from '../errors/index.ts';
import { FillError } from './errors.ts';
import {
  applyCount,
  applyMean,
  applySumw2,
  applyWeighted,
  applyWeightedMean,
  firstNonInteger,
  regular1DCount,
  regular1DSumw2,
  regular1DWeighted,
  regular2DWeighted,
} from './fill-kernels.ts';
import { describeFillArg, fillArgAdvice, flattenJaggedFill } from './fill-jagged.ts';
import type { FillOptions, FillValue, FillWeights } from './hist.ts';
import { identityMap, remap, sizeOf, stridesOf } from './layout.ts';
import { isMeanKind, type Storage } from './storage.ts';

/** What filling reads and updates of a histogram; `axes` and `arrays` are replaced when a category axis grows. */
export interface FillTarget {
  axes: readonly Axis[];
  readonly storage: Storage;
  arrays: Arrays;
  /** Set to false when weights go into a Double or Int64 storage. */
  varianceKnown: boolean;
}

const extentsOf = (t: FillTarget): number[] => t.axes.map((a) => a.extent);

/** Entries converted and binned per step; small enough that the scratch arrays stay in L1/L2. */
const CHUNK = 8192;
/** The fused 1-D kernels keep a private n+2 (×2) bin copy; beyond this size they would thrash the cache. */
const FUSED_MAX_BINS = 1 << 16;

const scratchValues = new Float64Array(CHUNK);
const scratchWeights = new Float64Array(CHUNK);
const scratchSamples = new Float64Array(CHUNK);
const scratchIdx = new Int32Array(CHUNK);
const ones = new Float64Array(CHUNK).fill(1);

/** Arrays and typed arrays (one entry per element); everything else broadcasts or is refused. */
function isArrayInput(v: unknown): v is ArrayLike<unknown> {
  return Array.isArray(v) || ArrayBuffer.isView(v);
}

/** Copy entries [start, start+len) of a fill input into `out` as float64; scalars broadcast. */
function load(v: FillValue | FillWeights, start: number, len: number, out: Float64Array): void {
  if (typeof v === 'number') out.fill(v, 0, len);
  else if (typeof v === 'boolean') out.fill(v ? 1 : 0, 0, len);
  else if (ArrayBuffer.isView(v)) out.set((v as NumericArray).subarray(start, start + len));
  else {
    const a = v as readonly (number | boolean)[];
    for (let i = 0; i < len; i++) out[i] = +a[start + i];
  }
}

/** `axis 1 'pt'`: how fill and axis errors name an axis. */
export function describeAxis(a: Axis, i: number): string {
  return `axis ${i}${a.name ? ` '${a.name}'` : ''}`;
}

/**
 * Fill `values` (one per axis, possibly jagged) with `opts` into `t`; returns the number of entries filled.
 * Throws FillError, naming the argument, for inputs of the wrong kind or length.
 */
export function fillEntries(t: FillTarget, values0: FillValue[], opts0: FillOptions): number {
  if (values0.length !== t.axes.length) checkFill(t, values0, opts0); // throws, describing the arguments as passed
  const { values, opts } = flattenJaggedFill(values0, opts0, (i) =>
    i < t.axes.length ? describeAxis(t.axes[i], i) : `argument ${i}`,
  );
  const n = checkFill(t, values, opts);
  const kind = t.storage.kind;
  if (opts.weight !== undefined && (kind === 'double' || kind === 'int64')) t.varianceKnown = false;

  // the fused 1-D path: 'count' (unweighted, two interleaved copies), 'weighted' (Σw), 'sumw2' (Σw, Σw²)
  const fused = fusedPlan(t);
  const mode = opts.weight === undefined ? 'count' : kind === 'weight' ? 'sumw2' : 'weighted';
  let tmp: Float64Array | undefined;
  let tmp2: Float64Array | undefined;
  if (fused) {
    const e = fused.n + 2;
    tmp = new Float64Array(mode === 'count' ? 2 * e : e);
    if (mode === 'sumw2') tmp2 = new Float64Array(e);
  }

  const fused2 = fused2DPlan(t);

  for (let start = 0; start < n; start += CHUNK) {
    const len = Math.min(CHUNK, n - start);
    const w = opts.weight === undefined ? ones : scratchWeights;
    if (opts.weight !== undefined) {
      load(opts.weight, start, len, scratchWeights);
      if (kind === 'int64') {
        const bad = firstNonInteger(scratchWeights, len);
        if (bad >= 0)
          throw new FillError(
            `Int64 storage takes integer weights; entry ${start + bad} has weight ${scratchWeights[bad]}`,
            { entry: start + bad },
            'use Double or Weight storage for fractional weights',
          );
      }
    }
    if (fused && tmp) {
      load(values[0], start, len, scratchValues);
      if (mode === 'count') regular1DCount(scratchValues, len, tmp, fused.lo, fused.scale, fused.width, fused.n);
      else if (mode === 'sumw2')
        regular1DSumw2(
          scratchValues,
          w,
          len,
          tmp,
          tmp2 ?? brokenInvariant('sumw2 fill without its second buffer'),
          fused.lo,
          fused.scale,
          fused.width,
          fused.n,
        );
      else regular1DWeighted(scratchValues, w, len, tmp, fused.lo, fused.scale, fused.width, fused.n);
      continue;
    }
    if (fused2) {
      load(values[0], start, len, scratchValues);
      load(values[1], start, len, scratchSamples);
      const [x, y] = fused2.axes;
      regular2DWeighted(
        scratchValues,
        scratchSamples,
        opts.weight === undefined && !fused2.sumw2 ? null : w,
        len,
        fused2.sumw,
        fused2.sumw2,
        x.lo,
        x.scale,
        x.width,
        x.n,
        y.lo,
        y.scale,
        y.width,
        y.n,
      );
      continue;
    }
    growFor(t, values, start, len);
    binChunk(t, values, start, len);
    const a = t.arrays;
    switch (kind) {
      case 'double':
      case 'int64':
        if (opts.weight === undefined) applyCount(scratchIdx, len, a[0]);
        else applyWeighted(scratchIdx, len, w, a[0]);
        break;
      case 'weight':
        applySumw2(scratchIdx, len, w, a[0], a[1]);
        break;
      case 'mean':
        load(opts.sample ?? brokenInvariant('mean fill without a sample (checkFill)'), start, len, scratchSamples);
        applyMean(scratchIdx, len, w, scratchSamples, a[0], a[1], a[2]);
        break;
      case 'weighted_mean':
        load(opts.sample ?? brokenInvariant('mean fill without a sample (checkFill)'), start, len, scratchSamples);
        applyWeightedMean(scratchIdx, len, w, scratchSamples, a[0], a[1], a[2], a[3]);
        break;
    }
  }
  if (fused && tmp) flushFused(t, fused.n, tmp, tmp2, mode === 'count');
  fused2?.flush?.();
  return n;
}

/** Validates the fill arguments once per batch and returns the number of entries. */
function checkFill(t: FillTarget, values: FillValue[], opts: FillOptions): number {
  const axes = t.axes;
  if (values.length !== axes.length) {
    const names = axes.map((a, i) => (a.name ? `'${a.name}'` : `#${i}`)).join(', ');
    const passed = values.map(describeFillArg).join(', ');
    const advice = values.map(fillArgAdvice).find((x) => x !== undefined);
    throw new FillError(
      `fill got ${values.length} value argument${values.length === 1 ? '' : 's'}${passed ? ` (${passed})` : ''} for ${axes.length} ax${axes.length === 1 ? 'is' : 'es'} (${names || 'none'})`,
      { got: values.length, axes: axes.length, passed: values.map(describeFillArg) },
      advice ?? 'pass one value or array per axis, in axis order, then an optional { weight, sample } object',
    );
  }
  let n = -1;
  let lengthFrom = '';
  const take = (len: number, what: string): void => {
    if (n < 0) {
      n = len;
      lengthFrom = what;
    } else if (len !== n)
      throw new FillError(
        `${what} has ${len} entries but ${lengthFrom} has ${n}`,
        { [what]: len, [lengthFrom]: n },
        'fill arrays of one length, or scalars',
      );
  };
  values.forEach((v, i) => {
    const a = axes[i];
    const where = describeAxis(a, i);
    const isStr = typeof v === 'string' || (Array.isArray(v) && v.length > 0 && typeof v[0] === 'string');
    if (a.kind === 'str_category') {
      if (!(typeof v === 'string' || Array.isArray(v)) || (Array.isArray(v) && v.length > 0 && !isStr))
        throw new FillError(
          `${where} is a string category axis and takes strings, got ${describeFillArg(v)}`,
          { axis: i, passed: describeFillArg(v) },
          'pass a string or an array of strings',
        );
    } else if (isStr) {
      throw new FillError(
        `${where} (${a.kind}) takes numbers, got strings`,
        { axis: i },
        'use a StrCategory axis for string values',
      );
    } else if (!(typeof v === 'number' || typeof v === 'boolean' || isArrayInput(v))) {
      throw new FillError(
        `${where} got ${describeFillArg(v)}`,
        { axis: i, passed: describeFillArg(v) },
        fillArgAdvice(v) ?? 'pass a number, boolean, array or jagged array',
      );
    }
    if (isArrayInput(v)) take(v.length, where);
  });
  const mean = isMeanKind(t.storage.kind);
  if (mean && opts.sample === undefined)
    throw new FillError(
      `${t.storage.kind} storage needs a sample per entry`,
      { storage: t.storage.kind },
      'call fill(x, { sample: y })',
    );
  if (!mean && opts.sample !== undefined)
    throw new FillError(
      `${t.storage.kind} storage takes no sample`,
      { storage: t.storage.kind },
      'use a Mean or WeightedMean storage to average a sample per bin',
    );
  for (const key of ['weight', 'sample'] as const) {
    const v = opts[key];
    if (v === undefined) continue;
    if (isArrayInput(v)) take(v.length, key);
    else if (typeof v !== 'number')
      throw new FillError(
        `${key} must be a number, numeric array or jagged array, got ${describeFillArg(v)}`,
        { [key]: describeFillArg(v) },
        fillArgAdvice(v),
      );
  }
  return n < 0 ? 1 : n;
}

/** The fused 1-D plan for this histogram, or null when the generic path applies. */
function fusedPlan(t: FillTarget): { lo: number; scale: number; width: number; n: number } | null {
  if (t.axes.length !== 1) return null;
  const a = t.axes[0];
  const kind = t.storage.kind;
  if (kind !== 'double' && kind !== 'int64' && kind !== 'weight') return null;
  if (a.size + 2 > FUSED_MAX_BINS) return null;
  if (a.kind === 'regular' && a.transform === undefined)
    return { lo: a.kernelLower, scale: a.kernelScale, width: a.kernelWidth, n: a.size };
  if (a.kind === 'integer') return { lo: a.lower, scale: 1, width: 0, n: a.size };
  return null;
}

/**
 * The fused 2-D plan (two Regular/Integer axes, Double/Int64/Weight storage): kernel targets and, when an
 * axis lacks a flow bin, a full-flow scratch plus the flush that folds it into the storage layout.
 */
function fused2DPlan(t: FillTarget): {
  axes: [
    { lo: number; scale: number; width: number; n: number },
    { lo: number; scale: number; width: number; n: number },
  ];
  sumw: Float64Array;
  sumw2: Float64Array | null;
  flush: (() => void) | null;
} | null {
  if (t.axes.length !== 2) return null;
  const kind = t.storage.kind;
  if (kind !== 'double' && kind !== 'int64' && kind !== 'weight') return null;
  const lin = (a: Axis): { lo: number; scale: number; width: number; n: number } | null =>
    a.kind === 'regular' && a.transform === undefined
      ? { lo: a.kernelLower, scale: a.kernelScale, width: a.kernelWidth, n: a.size }
      : a.kind === 'integer'
        ? { lo: a.lower, scale: 1, width: 0, n: a.size }
        : null;
  const x = lin(t.axes[0]);
  const y = lin(t.axes[1]);
  if (!x || !y) return null;
  const [v, v2] = t.arrays as [Float64Array, Float64Array | undefined];
  if (t.axes.every((a) => a.underflow && a.overflow)) return { axes: [x, y], sumw: v, sumw2: v2 ?? null, flush: null };
  // some flow bins are missing: bin into the full layout, then drop what the axes do not keep
  const full = [x.n + 2, y.n + 2];
  const sumw = new Float64Array(full[0] * full[1]);
  const sumw2 = v2 ? new Float64Array(sumw.length) : null;
  const flush = (): void => {
    const maps = t.axes.map((a) => {
      const m = new Int32Array(a.size + 2);
      for (let b = 0; b < m.length; b++)
        m[b] =
          b === 0
            ? a.underflow
              ? 0
              : -1
            : b === a.size + 1
              ? a.overflow
                ? a.size + a.offset
                : -1
              : b - 1 + a.offset;
      return m;
    });
    remap(sumw2 ? [sumw, sumw2] : [sumw], full, maps, [0, 1], t.arrays, extentsOf(t), binMerger('double'));
  };
  return { axes: [x, y], sumw, sumw2, flush };
}

/**
 * Adds the fused kernels' full-flow bins into the storage, dropping flow bins the axis lacks. For an
 * unweighted fill into Weight storage the counts are both Σw and Σw² (every weight is 1).
 */
function flushFused(
  t: FillTarget,
  n: number,
  tmp: Float64Array,
  tmp2: Float64Array | undefined,
  twoCopies: boolean,
): void {
  const a = t.axes[0];
  const e = n + 2;
  const off = a.offset;
  const [v, v2] = t.arrays as [Float64Array, Float64Array | undefined];
  for (let b = 0; b < e; b++) {
    const local = b === 0 ? (a.underflow ? 0 : -1) : b === n + 1 ? (a.overflow ? n + off : -1) : b - 1 + off;
    if (local < 0) continue;
    const c = twoCopies ? tmp[b] + tmp[e + b] : tmp[b];
    v[local] += c;
    if (v2) v2[local] += tmp2 ? tmp2[b] : c;
  }
}

/** Lets growing category axes take the chunk's new categories, re-laying out the bins once per growth. */
function growFor(t: FillTarget, values: FillValue[], start: number, len: number): void {
  t.axes.forEach((a, k) => {
    if (!a.growth) return;
    let grown: IntCategory | StrCategory | null = null;
    if (a.kind === 'str_category') grown = a.grow(values[k] as readonly string[] | string, start, len);
    else if (a.kind === 'int_category') {
      load(values[k], start, len, scratchValues);
      grown = a.grow(scratchValues, len);
    }
    if (grown) relayoutAxis(t, k, grown);
  });
}

/** Global bin index of every entry of the chunk into `scratchIdx` (-1 = dropped). */
function binChunk(t: FillTarget, values: FillValue[], start: number, len: number): void {
  scratchIdx.fill(0, 0, len);
  const strides = stridesOf(extentsOf(t));
  t.axes.forEach((a, k) => {
    const v = values[k];
    if (a.kind === 'str_category') {
      a.accumulateStrings(v as readonly string[] | string, start, len, scratchIdx, strides[k]);
      return;
    }
    load(v, start, len, scratchValues);
    a.accumulate(scratchValues, len, scratchIdx, strides[k]);
  });
}

/** Replace axis k by a grown copy (categories appended) and move the bins to the new layout. */
export function relayoutAxis(t: FillTarget, k: number, grown: IntCategory | StrCategory): void {
  const old = t.axes[k];
  const maps = t.axes.map((a) => identityMap(a.extent));
  if (old.overflow) maps[k][old.size] = grown.size; // the "other" bin stays last
  const axes = [...t.axes];
  axes[k] = grown;
  const dst = t.storage.fields.map(() => new Float64Array(sizeOf(axes.map((a) => a.extent))));
  remap(
    t.arrays,
    extentsOf(t),
    maps,
    axes.map((_, i) => i),
    dst,
    axes.map((a) => a.extent),
    binMerger(t.storage.kind),
  );
  t.axes = Object.freeze(axes);
  t.arrays = dst;
}
