/**
 * The histogram: axes + a storage tag + the bin arrays (row-major, flow bins included). `fill` parses its
 * arguments and hands them to ./fill.ts (checks, kernel choice, category growth, flushing); operations
 * (merge, project, slice, rebin) go through one re-layout routine.
 */
import type { NumericArray } from '../columnar/types.ts';
import { registerBinaryType, type Addable, type BinarySerializable } from '../accumulate/protocol.ts';
import {
  binMerger,
  countsOf,
  mergeArrays,
  sampleVariancesOf,
  scaleArrays,
  valuesOf,
  variancesOf,
  type Arrays,
  type BinMerger,
} from './accumulators.ts';
import {
  BooleanAxis,
  IntCategory,
  Integer,
  Regular,
  StrCategory,
  Variable,
  isCategory,
  type Axis,
  type Metadata,
} from './axes.ts';
import { axisFromUHI, axisToUHI, type UHIAxis } from './axis-spec.ts';
import {
  AxisNotFoundError,
  HistFormatError,
  IncompatibleHistogramsError,
  UnsupportedHistError,
  closest,
} from './errors.ts';
import { describeAxis, fillEntries, relayoutAxis, type FillTarget } from './fill.ts';
import { isFillOptions, type JaggedInput } from './fill-jagged.ts';
import { identityMap, remap, sizeOf } from './layout.ts';
import { Double, STORAGE_KINDS, storageOf, type Storage, type StorageKind } from './storage.ts';
import { brandClass } from '../accumulate/brand.ts';

/**
 * A value or array of values for one axis; scalars broadcast. Strings only for StrCategory axes.
 * A jagged array (`{ offsets, content }`, e.g. `events.Muon.pt`) is flattened: see `Hist.fill`.
 */
export type FillValue =
  | number
  | boolean
  | string
  | NumericArray
  | readonly number[]
  | readonly boolean[]
  | readonly string[]
  | JaggedInput;

/** Per-entry weights or profile samples: a scalar (broadcast), one value per entry, or jagged (see `Hist.fill`). */
export type FillWeights = number | NumericArray | readonly number[] | JaggedInput;

/** Options of `fill`. */
export interface FillOptions {
  /** Weight per entry (or one for all). Int64 storage takes integer weights only. */
  weight?: FillWeights;
  /** The quantity averaged per bin; required by Mean and WeightedMean storages, refused by the others. */
  sample?: FillWeights;
}

/** Options of the Hist constructor. */
export interface HistOptions {
  /** Storage tag; default `new Double()`. */
  storage?: Storage;
  name?: string;
  label?: string;
  metadata?: Metadata;
}

/** An axis by position or name. */
export type AxisRef = number | string;

/** Options of the bin accessors. */
export interface FlowOption {
  /** Include the flow bins of the axes that have them (default false). */
  flow?: boolean;
}

/** Result of `sum`: the merged accumulator of the selected bins. */
export interface BinSum {
  /** Sum of weights, or the pooled mean for profiles. */
  value: number;
  /** Variance of `value` as `variances()` defines it; null when unknown (weighted fill into Double). */
  variance: number | null;
  /** Entries (effective entries for Weight / WeightedMean, the count for Mean). */
  count: number;
}

/** Header of the binary form (`toBinaryParts`). */
interface BinaryHeader {
  format: 1;
  axes: UHIAxis[];
  storage: StorageKind;
  name: string;
  label: string;
  metadata: Metadata;
  entries: number;
  varianceKnown: boolean;
}

function isStorageKind(x: unknown): x is StorageKind {
  return STORAGE_KINDS.includes(x as StorageKind);
}

function isAxis(x: unknown): x is Axis {
  return (
    x instanceof Regular ||
    x instanceof Variable ||
    x instanceof Integer ||
    x instanceof IntCategory ||
    x instanceof StrCategory ||
    x instanceof BooleanAxis
  );
}

/**
 * A histogram over any number of axes with a chosen storage.
 *
 * @example
 * import { Hist, Regular, Weight } from './src/hist/index.ts';
 * const h = new Hist(new Regular(100, 0, 200, { name: 'pt', label: 'p_{T} [GeV]' }), { storage: new Weight() });
 * h.fill(jetPt, { weight: genWeight });       // Float32Array / Float64Array / number[] / scalars
 * const y = h.values();                        // Float64Array, 100 bins (flow: true → 102)
 * const merged = h.add(otherChunkHist);        // new histogram; h and other unchanged
 */
export class Hist implements Addable<Hist>, BinarySerializable {
  readonly binaryTag = 'ristretto.Hist';
  /** The axes, in storage order (the last axis varies fastest). Replaced, never mutated, when a category axis grows. */
  axes: readonly Axis[];
  readonly storage: Storage;
  readonly name: string;
  readonly label: string;
  readonly metadata: Metadata;
  /** Entries passed to `fill` (like ROOT's fEntries), including those outside axes without flow bins. */
  entries = 0;
  /** False once weights went into a Double or Int64 storage, or after scaling one: variances are then unknown. */
  varianceKnown = true;
  /** Bin contents, one array per storage field (see the storage tag's `fields`), flow bins included. */
  private arrays: Arrays;

  constructor(...args: [...Axis[], HistOptions] | Axis[]) {
    const last = args[args.length - 1];
    const opts: HistOptions = last !== undefined && !isAxis(last) ? (last as HistOptions) : {};
    const axes = (last !== undefined && !isAxis(last) ? args.slice(0, -1) : args) as Axis[];
    axes.forEach((a, i) => {
      if (!isAxis(a))
        throw new UnsupportedHistError(
          `argument ${i} is not an axis`,
          { index: i },
          'pass axes first and the options object last',
        );
    });
    this.axes = Object.freeze([...axes]);
    this.storage = opts.storage ?? new Double();
    if (!STORAGE_KINDS.includes(this.storage.kind))
      throw new UnsupportedHistError(
        `unknown storage ${JSON.stringify(this.storage)}`,
        {},
        'use Double, Int64, Weight, Mean or WeightedMean',
      );
    this.name = opts.name ?? '';
    this.label = opts.label ?? '';
    this.metadata = { ...(opts.metadata ?? {}) };
    const n = sizeOf(this.extents());
    this.arrays = this.storage.fields.map(() => new Float64Array(n));
  }

  /** Per-axis storage lengths (flow bins included). */
  extents(): number[] {
    return this.axes.map((a) => a.extent);
  }

  /** Number of dimensions. */
  get ndim(): number {
    return this.axes.length;
  }

  /** Shape of `values()` etc.: bins per axis, with flow bins when `flow`. */
  shape(opts: FlowOption = {}): number[] {
    return this.axes.map((a) => (opts.flow ? a.extent : a.size));
  }

  /** Position of an axis given by position or name; unknown names list the closest ones. */
  axisIndex(ref: AxisRef): number {
    if (typeof ref === 'number') {
      if (Number.isInteger(ref) && ref >= 0 && ref < this.axes.length) return ref;
      throw new AxisNotFoundError(`no axis ${ref}: the histogram has ${this.axes.length}`, {
        axis: ref,
        ndim: this.axes.length,
      });
    }
    const i = this.axes.findIndex((a) => a.name === ref);
    if (i >= 0) return i;
    const names = this.axes.map((a) => a.name).filter((n) => n);
    throw new AxisNotFoundError(
      `no axis named '${ref}'`,
      { axis: ref, available: names },
      names.length
        ? `closest: ${closest(ref, names)
            .map((n) => `'${n}'`)
            .join(', ')}`
        : 'the axes have no names; refer to them by position',
    );
  }

  /** The axis at a position or with a name. */
  axis(ref: AxisRef): Axis {
    return this.axes[this.axisIndex(ref)];
  }

  /** The raw array of one storage field (e.g. 'sum_of_weights_squared'), flow bins included; a live view. */
  field(name: string): Float64Array {
    const i = (this.storage.fields as readonly string[]).indexOf(name);
    if (i < 0)
      throw new UnsupportedHistError(
        `storage '${this.storage.kind}' has no field '${name}'`,
        { field: name },
        `fields: ${this.storage.fields.join(', ')}`,
      );
    return this.arrays[i];
  }

  // ---------------------------------------------------------------- fill

  /**
   * Fill one value (or array of values) per axis, then optionally `{ weight, sample }`.
   * Arrays must share one length; numbers, booleans and strings broadcast. NaN lands in overflow.
   *
   * **Jagged arrays** (`{ offsets, content }`, one list per event such as `events.Muon.pt`) are
   * flattened: every element is one fill entry, as boost-histogram / hist users get with
   * `ak.flatten`. The other arguments of the call follow the elements:
   * - a jagged weight, sample or second axis value must have the same number of elements in every
   *   event (same collection); element k pairs with element k;
   * - a flat array must hold one entry **per event** and is repeated for each element of its event (a
   *   per-event `genWeight`, a per-event category), like `ak.broadcast_arrays(weight, pt)`;
   *   an array of another length is an error, and one with an entry per element (already flattened)
   *   is refused with the advice to flatten the values too (pass `.content`);
   * - scalars broadcast.
   * `entries` grows by the number of elements. To fill one value per event instead, reduce first
   * (e.g. the leading muon's pt, or `count` of the collection).
   *
   * @example
   * h2.fill(jetPt, jetEta, { weight: 0.5 });
   * byDataset.fill('DY', muonPt);   // StrCategory axis first
   * h.fill(events.Muon.pt, { weight: events.genWeight }); // every muon, weighted by its event's weight
   */
  fill(...args: [...FillValue[], FillOptions] | FillValue[]): this {
    const last = args[args.length - 1];
    const hasOpts = isFillOptions(last);
    const opts = (hasOpts ? last : {}) as FillOptions;
    const values = (hasOpts ? args.slice(0, -1) : args) as FillValue[];
    const target: FillTarget = {
      axes: this.axes,
      storage: this.storage,
      arrays: this.arrays,
      varianceKnown: this.varianceKnown,
    };
    try {
      this.entries += fillEntries(target, values, opts);
    } finally {
      // a growing category axis may have replaced the axes and arrays, even if a later chunk failed
      this.axes = target.axes;
      this.arrays = target.arrays;
      this.varianceKnown = target.varianceKnown;
    }
    return this;
  }

  // ---------------------------------------------------------------- merge and arithmetic

  /** Empty histogram with the same axes, storage and metadata. */
  empty(): Hist {
    return new Hist(...this.axes, {
      storage: this.storage,
      name: this.name,
      label: this.label,
      metadata: { ...this.metadata },
    });
  }

  /** Deep copy. */
  clone(): Hist {
    const h = this.empty();
    h.arrays = this.arrays.map((a) => a.slice());
    h.entries = this.entries;
    h.varianceKnown = this.varianceKnown;
    return h;
  }

  /**
   * Why `other` cannot be merged into this histogram, or null. Growing category axes with different
   * categories are compatible (they merge into the union).
   */
  incompatibility(other: Hist): string | null {
    if (other.storage.kind !== this.storage.kind)
      return `storages differ (${this.storage.kind} vs ${other.storage.kind})`;
    if (other.axes.length !== this.axes.length)
      return `axis counts differ (${this.axes.length} vs ${other.axes.length})`;
    for (let i = 0; i < this.axes.length; i++) {
      const a = this.axes[i];
      const b = other.axes[i];
      if (a.growth && b.growth && a.kind === b.kind && isCategory(a)) {
        const d = (a as StrCategory).difference((b as StrCategory).withCategories((a as StrCategory).categories));
        if (d) return `${describeAxis(a, i)}: ${d}`;
        continue;
      }
      const d = a.difference(b);
      if (d) return `${describeAxis(a, i)}: ${d}`;
    }
    if (other.name !== this.name) return `names differ ('${this.name}' vs '${other.name}')`;
    return null;
  }

  /** Return a new histogram with the sum of this and `other`; neither input changes. */
  add(other: Hist): Hist {
    return this.clone().iadd(other);
  }

  /** Add `other` into this histogram in place (bounded-memory merging); returns this. */
  iadd(other: Hist): this {
    const why = this.incompatibility(other);
    if (why)
      throw new IncompatibleHistogramsError(
        `cannot merge histograms: ${why}`,
        { left: this.name, right: other.name },
        'fill every chunk with identically built histograms (same axes, names, storage)',
      );
    let src = other.arrays;
    this.axes.forEach((a, k) => {
      const b = other.axes[k];
      if (!a.growth || !isCategory(a)) return;
      const mine = a.categories as readonly (string | number)[];
      const theirs = (b as typeof a).categories as readonly (string | number)[];
      const extra = theirs.filter((c) => !mine.includes(c));
      if (!extra.length) return;
      const t: FillTarget = {
        axes: this.axes,
        storage: this.storage,
        arrays: this.arrays,
        varianceKnown: this.varianceKnown,
      };
      relayoutAxis(t, k, (a as StrCategory).withCategories([...mine, ...extra] as string[]));
      this.axes = t.axes;
      this.arrays = t.arrays;
    });
    if (this.axes.some((a, k) => a.extent !== other.axes[k].extent || (isCategory(a) && a.growth))) {
      // bring `other` into this layout: its categories may be in another order or a subset
      const maps = other.axes.map((b, k) => {
        const a = this.axes[k];
        if (!isCategory(a)) return identityMap(b.extent);
        const m = new Int32Array(b.extent);
        const bc = (b as typeof a).categories as readonly (string | number)[];
        const ac = a.categories as readonly (string | number)[];
        for (let i = 0; i < bc.length; i++) m[i] = ac.indexOf(bc[i]);
        if (b.overflow) m[bc.length] = a.size;
        return m;
      });
      const dst = this.storage.fields.map(() => new Float64Array(this.arrays[0].length));
      remap(
        other.arrays,
        other.extents(),
        maps,
        maps.map((_, i) => i),
        dst,
        this.extents(),
        binMerger(this.storage.kind),
      );
      src = dst;
    }
    mergeArrays(this.storage.kind, this.arrays, src);
    this.entries += other.entries;
    this.varianceKnown = this.varianceKnown && other.varianceKnown;
    return this;
  }

  /** A new histogram with every bin multiplied by `factor` (weights × f, squared weights × f²). */
  scale(factor: number): Hist {
    if (!Number.isFinite(factor))
      throw new UnsupportedHistError(`scale factor must be finite, got ${factor}`, { factor });
    if (this.storage.kind === 'int64' && !Number.isInteger(factor))
      throw new UnsupportedHistError(
        `Int64 storage can only be scaled by integers, got ${factor}`,
        { factor },
        'build the histogram with Double or Weight storage',
      );
    const h = this.clone();
    scaleArrays(this.storage.kind, h.arrays, factor);
    if ((this.storage.kind === 'double' || this.storage.kind === 'int64') && factor !== 1) h.varianceKnown = false;
    return h;
  }

  // ---------------------------------------------------------------- reductions

  /** Keep only the given axes (in the given order); every other axis is summed over, flow bins included. */
  project(...refs: AxisRef[]): Hist {
    const keep = refs.map((r) => this.axisIndex(r));
    if (new Set(keep).size !== keep.length)
      throw new UnsupportedHistError(`project got an axis twice (${refs.join(', ')})`, { axes: refs });
    const target = this.axes.map((_, k) => keep.indexOf(k));
    const axes = keep.map((k) => this.axes[k]);
    return this.rebuilt(
      axes,
      this.axes.map((a) => identityMap(a.extent)),
      target,
    );
  }

  /** Sum over the given axes, keeping the others in order. */
  sumOver(...refs: AxisRef[]): Hist {
    const drop = new Set(refs.map((r) => this.axisIndex(r)));
    return this.project(...this.axes.map((_, k) => k).filter((k) => !drop.has(k)));
  }

  /**
   * Keep bins [start, stop) of one axis (bin numbers, or values with `by: 'value'` as boost-histogram's
   * `loc`). Removed bins are added to the flow bins of the new axis (when it has them) unless `crop`.
   */
  slice(ref: AxisRef, start?: number, stop?: number, opts: { by?: 'bin' | 'value'; crop?: boolean } = {}): Hist {
    const k = this.axisIndex(ref);
    const a = this.axes[k];
    if (a.kind === 'boolean')
      throw new UnsupportedHistError(
        `${describeAxis(a, k)} is boolean and cannot be sliced`,
        { axis: k },
        'use project or sumOver',
      );
    let lo = start ?? 0;
    let hi = stop ?? a.size;
    if (opts.by === 'value') {
      if (isCategory(a))
        throw new UnsupportedHistError(
          `slicing ${describeAxis(a, k)} by value is not supported`,
          { axis: k },
          'slice categories by bin number',
        );
      lo = start === undefined ? 0 : a.bin(start);
      hi = stop === undefined ? a.size : a.bin(stop);
    }
    lo = Math.max(0, Math.min(a.size, Math.trunc(lo)));
    hi = Math.max(lo, Math.min(a.size, Math.trunc(hi)));
    if (hi === lo)
      throw new UnsupportedHistError(`slice [${start}, ${stop}) of ${describeAxis(a, k)} keeps no bins`, {
        axis: k,
        start,
        stop,
      });
    let na: Axis;
    switch (a.kind) {
      case 'regular':
        na = new Regular(hi - lo, a.edges[lo], a.edges[hi], {
          ...this.axisOptions(a),
          underflow: a.underflow,
          overflow: a.overflow,
          ...(a.transform ? { transform: a.transform } : {}),
        });
        break;
      case 'integer':
        na = new Integer(a.lower + lo, a.lower + hi, {
          ...this.axisOptions(a),
          underflow: a.underflow,
          overflow: a.overflow,
        });
        break;
      case 'variable':
        na = new Variable(a.edges.subarray(lo, hi + 1), {
          ...this.axisOptions(a),
          underflow: a.underflow,
          overflow: a.overflow,
        });
        break;
      case 'int_category':
        na = a.withCategories(a.categories.slice(lo, hi));
        break;
      case 'str_category':
        na = a.withCategories(a.categories.slice(lo, hi));
        break;
    }
    const m = new Int32Array(a.extent).fill(-1);
    const off = a.offset;
    const nUnder = na.underflow && !opts.crop ? 0 : -1;
    const nOver = na.overflow && !opts.crop ? na.size + na.offset : -1;
    if (a.underflow) m[0] = na.underflow && !opts.crop ? 0 : -1;
    if (a.overflow) m[a.size + off] = nOver;
    for (let b = 0; b < a.size; b++) {
      if (b < lo) m[b + off] = isCategory(a) ? nOver : nUnder;
      else if (b >= hi) m[b + off] = nOver;
      else m[b + off] = b - lo + na.offset;
    }
    return this.withAxis(k, na, m);
  }

  /**
   * Keep one bin of an axis and remove that axis (boost-histogram's integer indexing). `bin` is a bin
   * number; for category axes a category value (`h.select('dataset', 'DY')`; numbers are values on
   * IntCategory, bin numbers on StrCategory); for Boolean axes true/false.
   */
  select(ref: AxisRef, bin: number | string | boolean): Hist {
    const k = this.axisIndex(ref);
    const a = this.axes[k];
    let local: number;
    if ((a.kind === 'str_category' && typeof bin === 'string') || a.kind === 'int_category') {
      local = (a.categories as readonly (string | number)[]).indexOf(bin as string | number);
      if (local < 0)
        throw new AxisNotFoundError(
          `${describeAxis(a, k)} has no category ${JSON.stringify(bin)}`,
          { axis: k, category: bin },
          a.size
            ? `closest: ${closest(String(bin), a.categories.map(String)).join(', ')}`
            : 'the axis has no categories yet',
        );
    } else if (a.kind === 'boolean') local = bin === true || bin === 1 ? 1 : 0;
    else local = Number(bin) + a.offset;
    if (!(local >= 0 && local < a.extent))
      throw new AxisNotFoundError(
        `${describeAxis(a, k)} has no bin ${String(bin)}`,
        { axis: k, bin },
        `bins are 0..${a.size - 1}`,
      );
    const m = new Int32Array(a.extent).fill(-1);
    m[local] = 0;
    const maps = this.axes.map((x, i) => (i === k ? m : identityMap(x.extent)));
    const target = this.axes.map((_, i) => (i === k ? -1 : i < k ? i : i - 1));
    return this.rebuilt(
      this.axes.filter((_, i) => i !== k),
      maps,
      target,
    );
  }

  /** Merge every `factor` adjacent bins of a continuous axis; the bin count must divide (slice first). */
  rebin(ref: AxisRef, factor: number): Hist {
    const k = this.axisIndex(ref);
    const a = this.axes[k];
    if (a.kind !== 'regular' && a.kind !== 'variable' && a.kind !== 'integer')
      throw new UnsupportedHistError(`${describeAxis(a, k)} is ${a.kind}; only continuous axes can be rebinned`, {
        axis: k,
      });
    if (!Number.isInteger(factor) || factor < 1 || a.size % factor !== 0)
      throw new UnsupportedHistError(
        `${describeAxis(a, k)} has ${a.size} bins, not divisible by rebin factor ${factor}`,
        { axis: k, bins: a.size, factor },
        'slice the axis to a multiple of the factor first',
      );
    const m = a.size / factor;
    const flow = { underflow: a.underflow, overflow: a.overflow };
    const na: Axis =
      a.kind === 'variable'
        ? new Variable(
            Array.from({ length: m + 1 }, (_, i) => a.edges[i * factor]),
            { ...this.axisOptions(a), ...flow },
          )
        : new Regular(m, a.lower, a.upper, {
            ...this.axisOptions(a),
            ...flow,
            ...(a.kind === 'regular' && a.transform ? { transform: a.transform } : {}),
          });
    const map = new Int32Array(a.extent);
    if (a.underflow) map[0] = 0;
    for (let b = 0; b < a.size; b++) map[b + a.offset] = Math.floor(b / factor) + na.offset;
    if (a.overflow) map[a.size + a.offset] = m + na.offset;
    return this.withAxis(k, na, map);
  }

  /** The merged accumulator over all bins (flow bins too when `flow`). */
  sum(opts: FlowOption = {}): BinSum {
    const maps = this.axes.map((a) => this.flowMap(a, opts.flow ?? false));
    const dst = this.storage.fields.map(() => new Float64Array(1));
    remap(
      this.arrays,
      this.extents(),
      maps,
      this.axes.map(() => -1),
      dst,
      [],
      binMerger(this.storage.kind),
    );
    const kind = this.storage.kind;
    const variance =
      kind === 'double' || kind === 'int64' ? (this.varianceKnown ? dst[0][0] : null) : variancesOf(kind, dst)[0];
    return { value: valuesOf(kind, dst)[0], variance, count: countsOf(kind, dst)[0] };
  }

  // ---------------------------------------------------------------- views

  /** Bin values (sums of weights, or means for profiles), row-major with the last axis fastest. */
  values(opts: FlowOption = {}): Float64Array {
    return this.inner(valuesOf(this.storage.kind, this.arrays), opts.flow ?? false);
  }

  /** Variances of the values; null for Double/Int64 storage after weighted fills or scaling. */
  variances(opts: FlowOption = {}): Float64Array | null {
    const k = this.storage.kind;
    if ((k === 'double' || k === 'int64') && !this.varianceKnown) return null;
    return this.inner(variancesOf(k, this.arrays), opts.flow ?? false);
  }

  /** Entries per bin (effective entries (Σw)²/Σw² for Weight and WeightedMean). */
  counts(opts: FlowOption = {}): Float64Array {
    return this.inner(countsOf(this.storage.kind, this.arrays), opts.flow ?? false);
  }

  /** For Mean / WeightedMean storage: the sample variance of the sample in each bin. */
  sampleVariances(opts: FlowOption = {}): Float64Array {
    const k = this.storage.kind;
    if (k !== 'mean' && k !== 'weighted_mean')
      throw new UnsupportedHistError(
        `sampleVariances needs a Mean or WeightedMean storage, not ${k}`,
        { storage: k },
        'use variances()',
      );
    return this.inner(sampleVariancesOf(k, this.arrays), opts.flow ?? false);
  }

  // ---------------------------------------------------------------- binary form

  /** JSON header (axes as UHI dictionaries, storage, metadata) + the storage arrays, for exact transport. */
  toBinaryParts(): { header: unknown; buffers: ArrayBufferView[] } {
    const header: BinaryHeader = {
      format: 1,
      axes: this.axes.map(axisToUHI),
      storage: this.storage.kind,
      name: this.name,
      label: this.label,
      metadata: this.metadata,
      entries: this.entries,
      varianceKnown: this.varianceKnown,
    };
    return { header, buffers: this.arrays };
  }

  /** Rebuild from `toBinaryParts` output (also registered as the 'ristretto.Hist' binary decoder). */
  static fromBinaryParts(header: unknown, buffers: ArrayBufferView[]): Hist {
    const h = header as Partial<BinaryHeader>;
    if (typeof h !== 'object' || h === null || h.format !== 1 || !Array.isArray(h.axes) || !isStorageKind(h.storage))
      throw new HistFormatError('not a ristretto.Hist binary header (format 1)', {
        header: JSON.stringify(header)?.slice(0, 200),
      });
    const storage = storageOf(h.storage);
    const hist = new Hist(...h.axes.map((a, i) => axisFromUHI(a, `axis ${i}`)), {
      storage,
      name: h.name ?? '',
      label: h.label ?? '',
      metadata: h.metadata ?? {},
    });
    if (buffers.length !== storage.fields.length)
      throw new HistFormatError(
        `expected ${storage.fields.length} buffers for ${storage.kind} storage, got ${buffers.length}`,
        { storage: storage.kind },
      );
    const n = hist.arrays[0].length;
    buffers.forEach((b, i) => {
      if (b.byteLength !== n * 8)
        throw new HistFormatError(`buffer ${i} has ${b.byteLength} bytes, expected ${n * 8} (${n} bins)`, {
          buffer: i,
        });
      // copied into the arrays the constructor allocated: the transport's buffer may be shared or unaligned
      new Uint8Array(hist.arrays[i].buffer).set(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
    });
    hist.entries = h.entries ?? 0;
    hist.varianceKnown = h.varianceKnown ?? true;
    return hist;
  }

  /** Build a histogram from axes and raw field arrays (flow bins included, row-major); the arrays are adopted. */
  static fromArrays(
    axes: readonly Axis[],
    opts: HistOptions & { entries?: number; varianceKnown?: boolean },
    arrays: Float64Array[],
  ): Hist {
    const h = new Hist(...axes, opts);
    if (arrays.length !== h.arrays.length || arrays.some((a) => a.length !== h.arrays[0].length))
      throw new HistFormatError(
        `expected ${h.arrays.length} arrays of ${h.arrays[0].length} bins for ${h.storage.kind} storage`,
        { storage: h.storage.kind },
      );
    h.arrays = arrays;
    h.entries = opts.entries ?? 0;
    h.varianceKnown = opts.varianceKnown ?? true;
    return h;
  }

  // ---------------------------------------------------------------- helpers

  private axisOptions(a: Axis): { name: string; label: string; metadata: Metadata } {
    return { name: a.name, label: a.label, metadata: { ...a.metadata } };
  }

  /** This histogram with axis `k` replaced by `na`; `map` sends each old bin of it to a new one (-1 drops it). */
  private withAxis(k: number, na: Axis, map: Int32Array): Hist {
    const maps = this.axes.map((x, i) => (i === k ? map : identityMap(x.extent)));
    const axes = [...this.axes];
    axes[k] = na;
    return this.rebuilt(
      axes,
      maps,
      axes.map((_, i) => i),
    );
  }

  /** New histogram from a re-layout of this one's bins. */
  private rebuilt(axes: Axis[], maps: Int32Array[], target: number[]): Hist {
    const h = new Hist(...axes, {
      storage: this.storage,
      name: this.name,
      label: this.label,
      metadata: { ...this.metadata },
    });
    remap(this.arrays, this.extents(), maps, target, h.arrays, h.extents(), binMerger(this.storage.kind));
    h.entries = this.entries;
    h.varianceKnown = this.varianceKnown;
    return h;
  }

  /** Map of an axis that keeps every bin, or drops the flow bins. */
  private flowMap(a: Axis, flow: boolean): Int32Array {
    const m = identityMap(a.extent);
    if (!flow) {
      if (a.underflow) m[0] = -1;
      if (a.overflow) m[a.extent - 1] = -1;
    }
    return m;
  }

  /** `full` (one value per storage bin) as a row-major array, without flow bins unless `flow`. */
  private inner(full: Float64Array, flow: boolean): Float64Array {
    if (flow || this.axes.every((a) => !a.underflow && !a.overflow)) return full;
    const maps = this.axes.map((a) => {
      const m = this.flowMap(a, false);
      for (let i = 0; i < m.length; i++) if (m[i] >= 0) m[i] = m[i] - a.offset;
      return m;
    });
    const out = new Float64Array(sizeOf(this.shape()));
    const copy: BinMerger = (d, di, s, si) => {
      d[0][di] = s[0][si];
    };
    remap(
      [full],
      this.extents(),
      maps,
      this.axes.map((_, i) => i),
      [out],
      this.shape(),
      copy,
    );
    return out;
  }
}

registerBinaryType('ristretto.Hist', (header, buffers) => Hist.fromBinaryParts(header, buffers));

// `instanceof` across copies of Ristretto (a processor bundle carries its own): see brand.ts.
brandClass(Hist, 'Hist');
