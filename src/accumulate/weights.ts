/**
 * Per-event weights as a product of named factors, each with optional up/down variations. Systematic
 * variations are evaluated by swapping one factor for its variation, never by dividing it out (which
 * breaks on zero weights).
 */
import { closestNames } from '../errors/suggest.ts';
import { WeightsError } from './errors.ts';
import { type BinarySerializable, type Copyable, type InPlaceAddable, registerBinaryType } from './protocol.ts';
import { brandClass } from './brand.ts';

/**
 * Sum, sum of squares, minimum, maximum and count of one weight factor. Mergeable: summing chunks adds
 * the sums and counts and keeps the overall extrema, so a per-chunk statistics object can be returned in
 * the processor output and accumulated like any other value.
 *
 * @example
 * ```ts
 * const s = new WeightStatistics().fill(Float64Array.of(0.5, 1.5));
 * s.sum; // 2
 * ```
 */
export class WeightStatistics
  implements InPlaceAddable<WeightStatistics>, Copyable<WeightStatistics>, BinarySerializable
{
  readonly binaryTag = 'ristretto.WeightStatistics';
  sum = 0;
  sumw2 = 0;
  min = Infinity;
  max = -Infinity;
  n = 0;

  /** Add the values of a weight array. */
  fill(w: ArrayLike<number>): this {
    let sum = 0;
    let sumw2 = 0;
    let min = this.min;
    let max = this.max;
    for (let i = 0; i < w.length; i++) {
      const x = w[i];
      sum += x;
      sumw2 += x * x;
      if (x < min) min = x;
      if (x > max) max = x;
    }
    this.sum += sum;
    this.sumw2 += sumw2;
    this.min = min;
    this.max = max;
    this.n += w.length;
    return this;
  }

  /** Merge `other` into this. */
  iadd(other: WeightStatistics): WeightStatistics {
    this.sum += other.sum;
    this.sumw2 += other.sumw2;
    this.min = Math.min(this.min, other.min);
    this.max = Math.max(this.max, other.max);
    this.n += other.n;
    return this;
  }

  /** A new statistics object for both. */
  add(other: WeightStatistics): WeightStatistics {
    return this.copy().iadd(other);
  }

  /** A copy. */
  copy(): WeightStatistics {
    return WeightStatistics.fromArray(this.toArray());
  }

  /** Binary parts: one Float64Array [sum, sumw2, min, max, n] (keeps ±Infinity exact). */
  toBinaryParts(): { header: unknown; buffers: ArrayBufferView[] } {
    return { header: null, buffers: [this.toArray()] };
  }

  private toArray(): Float64Array {
    return Float64Array.of(this.sum, this.sumw2, this.min, this.max, this.n);
  }

  private static fromArray(a: Float64Array): WeightStatistics {
    const s = new WeightStatistics();
    s.sum = a[0];
    s.sumw2 = a[1];
    s.min = a[2];
    s.max = a[3];
    s.n = a[4];
    return s;
  }

  /** Rebuild from `toBinaryParts` (registered as the decoder for "ristretto.WeightStatistics"). */
  static fromBinaryParts(_header: unknown, buffers: ArrayBufferView[]): WeightStatistics {
    const b = buffers[0];
    if (!(b instanceof Float64Array) || b.length !== 5) {
      throw new WeightsError(
        'malformed WeightStatistics binary parts',
        {},
        'the bytes were corrupted or written by an incompatible version',
      );
    }
    return WeightStatistics.fromArray(b);
  }
}
registerBinaryType('ristretto.WeightStatistics', WeightStatistics.fromBinaryParts);

/** Variations of one weight factor: absolute per-event weights replacing the nominal factor. */
export interface WeightVariations {
  up?: ArrayLike<number>;
  down?: ArrayLike<number>;
}

interface Factor {
  nominal: Float64Array;
  up?: Float64Array;
  down?: Float64Array;
}

/**
 * A product of named per-event weight factors with systematic variations.
 *
 * @example
 * ```ts
 * const w = new Weights(nEvents);
 * w.add('genWeight', genWeight);
 * w.add('pileup', pu, { up: puUp, down: puDown });
 * hist.fill({ mass, weight: w.weight() });
 * for (const v of w.variations) hist.fill({ mass, weight: w.weight(v), syst: v }); // 'pileupUp', 'pileupDown'
 * ```
 */
export class Weights {
  private readonly factors = new Map<string, Factor>();
  private readonly stats: Record<string, WeightStatistics> = {};
  private nevents: number;

  /** @param length number of events; when omitted it is taken from the first `add`. */
  constructor(length?: number) {
    this.nevents = length ?? -1;
  }

  /** Number of events (0 before the first `add` when no length was given). */
  get length(): number {
    return Math.max(this.nevents, 0);
  }

  /** Names of the weight factors in the order added. */
  get names(): string[] {
    return [...this.factors.keys()];
  }

  /** Available modifiers for `weight()`: `<name>Up` / `<name>Down` for each factor that has them. */
  get variations(): string[] {
    const out: string[] = [];
    for (const [name, f] of this.factors) {
      if (f.up) out.push(`${name}Up`);
      if (f.down) out.push(`${name}Down`);
    }
    return out;
  }

  /**
   * Statistics of each nominal factor (sum, sumw2, min, max, n), keyed by name. A fresh object of
   * mergeable values: put it in the processor output and `accumulate` combines it across chunks.
   */
  get statistics(): Record<string, WeightStatistics> {
    const out: Record<string, WeightStatistics> = {};
    for (const k of Object.keys(this.stats)) out[k] = this.stats[k].copy();
    return out;
  }

  /** Add a factor (and optionally its absolute up/down variations). Arrays are copied as Float64. */
  add(name: string, weight: ArrayLike<number>, variations: WeightVariations = {}): this {
    if (this.factors.has(name)) {
      throw new WeightsError(
        `weight "${name}" was already added`,
        { name },
        'use a distinct name for each weight factor',
      );
    }
    const nominal = this.column(name, 'weight', weight);
    const f: Factor = { nominal };
    if (variations.up !== undefined) f.up = this.column(name, 'up', variations.up);
    if (variations.down !== undefined) f.down = this.column(name, 'down', variations.down);
    this.factors.set(name, f);
    this.stats[name] = new WeightStatistics().fill(nominal);
    return this;
  }

  /**
   * The per-event product of all nominal factors; with a modifier such as `"pileupUp"`, that factor's
   * variation replaces its nominal value.
   */
  weight(modifier?: string): Float64Array {
    // The factor whose variation replaces its nominal value, and that variation.
    let swap: { name: string; values: Float64Array } | undefined;
    if (modifier !== undefined) {
      const m = /^(.*)(Up|Down)$/.exec(modifier);
      const f = m ? this.factors.get(m[1]) : undefined;
      const values = m && f ? (m[2] === 'Up' ? f.up : f.down) : undefined;
      if (!m || !values) {
        const known = this.variations;
        throw new WeightsError(
          `no weight variation "${modifier}"`,
          { modifier, known },
          `use one of the variations (closest: ${closestNames(modifier, known, 3).join(', ') || 'none defined'})`,
        );
      }
      swap = { name: m[1], values };
    }
    const out = new Float64Array(this.length).fill(1);
    for (const [name, f] of this.factors) {
      const src = swap && name === swap.name ? swap.values : f.nominal;
      for (let i = 0; i < out.length; i++) out[i] *= src[i];
    }
    return out;
  }

  private column(name: string, what: string, values: ArrayLike<number>): Float64Array {
    if (this.nevents < 0) this.nevents = values.length;
    if (values.length !== this.nevents) {
      throw new WeightsError(
        `weight "${name}" (${what}) has ${values.length} entries, expected ${this.nevents}`,
        { name, what, got: values.length, expected: this.nevents },
        'give one weight per event of the chunk',
      );
    }
    const out = new Float64Array(values.length);
    if (ArrayBuffer.isView(values)) out.set(values as unknown as Float64Array);
    else for (let i = 0; i < values.length; i++) out[i] = values[i];
    return out;
  }
}

// `instanceof` across copies of Ristretto (a processor bundle carries its own): see brand.ts.
brandClass(WeightStatistics, 'WeightStatistics');
brandClass(Weights, 'Weights');
