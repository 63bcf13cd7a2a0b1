/**
 * Named event selections packed as bits: one bit per selection per event, so combining any subset of
 * up to 64 cuts is one masked compare per event instead of one pass per mask.
 */
import { closestNames } from '../errors/suggest.ts';
import { SelectionError } from './errors.ts';
import { brandClass } from './brand.ts';

/** Result of {@link PackedSelection.cutflow}: counts after each cut alone and after the cuts in sequence. */
export interface Cutflow {
  /** `initial`, then the cut names in the order given. */
  readonly labels: string[];
  /** `onecut[0]` is the number of events; `onecut[i]` passes cut i alone. */
  readonly onecut: number[];
  /** `cutflow[0]` is the number of events; `cutflow[i]` passes cuts 1..i. */
  readonly cutflow: number[];
}

/** Options of {@link PackedSelection.cutflow}. */
export interface CutflowOptions {
  /** One weight per event: the cutflow then holds sums of weights instead of counts. */
  readonly weight?: ArrayLike<number>;
}

/** Result of {@link PackedSelection.nminusone}. */
export interface NMinusOne {
  /** `initial`, `N - <name>` for each cut, then `N`. */
  readonly labels: string[];
  /** Number of events, then events passing all cuts but that one, then events passing all. */
  readonly counts: number[];
}

/**
 * Boolean event masks stored by name, packed into one (≤32 selections) or two (≤64) 32-bit words per
 * event. The packed words are also readable as a BigUint64Array when 64 selections are enabled.
 *
 * @example
 * ```ts
 * const sel = new PackedSelection();
 * sel.add('twoMuons', nMuon2);           // Uint8Array, one 0/1 per event
 * sel.add('oppositeSign', os);
 * const mask = sel.all('twoMuons', 'oppositeSign');
 * sel.require({ twoMuons: true, oppositeSign: false }); // same-sign dimuons
 * sel.cutflow('twoMuons', 'oppositeSign').cutflow;       // [events, after cut 1, after cut 2]
 * ```
 */
export class PackedSelection {
  private readonly names: string[] = [];
  private readonly index = new Map<string, number>();
  private words: Uint32Array = new Uint32Array(0);
  private nevents = -1;
  /** 32-bit words per event: 1 for up to 32 selections, 2 for up to 64. */
  readonly wordsPerEvent: 1 | 2;

  /**
   * @param capacity maximum number of selections, 32 (default) or 64.
   */
  constructor(capacity: 32 | 64 = 32) {
    if (capacity !== 32 && capacity !== 64) {
      throw new SelectionError(
        `PackedSelection capacity must be 32 or 64, got ${String(capacity)}`,
        { capacity },
        'pass 32 or 64',
      );
    }
    this.wordsPerEvent = capacity === 64 ? 2 : 1;
  }

  /** Maximum number of selections. */
  get capacity(): number {
    return this.wordsPerEvent * 32;
  }

  /** Selection names in the order they were added. */
  get selections(): readonly string[] {
    return this.names;
  }

  /** Number of events (0 before the first `add`). */
  get length(): number {
    return Math.max(this.nevents, 0);
  }

  /** The packed bits: a Uint32Array per event (capacity 32) or a BigUint64Array per event (capacity 64). */
  get packed(): Uint32Array | BigUint64Array {
    return this.wordsPerEvent === 1
      ? this.words
      : new BigUint64Array(this.words.buffer, this.words.byteOffset, this.length);
  }

  /** True if a selection of that name was added. */
  has(name: string): boolean {
    return this.index.has(name);
  }

  /** Add a selection: `mask[i]` non-zero means event i passes. All masks must have the same length. */
  add(name: string, mask: Uint8Array): this {
    if (this.index.has(name)) {
      throw new SelectionError(
        `selection "${name}" was already added`,
        { name },
        'use a distinct name for each selection',
      );
    }
    if (this.names.length >= this.capacity) {
      throw new SelectionError(
        `cannot add selection "${name}": this PackedSelection holds at most ${this.capacity}`,
        { name, capacity: this.capacity },
        this.capacity === 32
          ? 'construct it with new PackedSelection(64)'
          : 'split the selections over two PackedSelection objects',
      );
    }
    if (!(mask instanceof Uint8Array)) {
      throw new SelectionError(
        `selection "${name}" must be a Uint8Array mask`,
        { name },
        'convert booleans to a Uint8Array of 0/1',
      );
    }
    if (this.nevents < 0) {
      this.nevents = mask.length;
      this.words = new Uint32Array(mask.length * this.wordsPerEvent);
    } else if (mask.length !== this.nevents) {
      throw new SelectionError(
        `selection "${name}" has ${mask.length} entries but earlier selections have ${this.nevents}`,
        { name, got: mask.length, expected: this.nevents },
        'every mask must have one entry per event of the same chunk',
      );
    }
    const bit = this.names.length;
    this.names.push(name);
    this.index.set(name, bit);
    const w = this.words;
    const stride = this.wordsPerEvent;
    const word = bit >>> 5;
    const flag = (1 << (bit & 31)) >>> 0;
    const n = mask.length;
    for (let i = 0, j = word; i < n; i++, j += stride) if (mask[i] !== 0) w[j] = (w[j] | flag) >>> 0;
    return this;
  }

  /** Events passing every named selection (all events when no names are given). */
  all(...names: string[]): Uint8Array {
    const r: Record<string, boolean> = {};
    for (const n of names) r[n] = true;
    return this.require(r);
  }

  /** Events passing at least one named selection (no events when no names are given). */
  any(...names: string[]): Uint8Array {
    const [m0, m1] = this.bits(names);
    const out = new Uint8Array(this.length);
    const w = this.words;
    if (this.wordsPerEvent === 1) {
      for (let i = 0; i < out.length; i++) out[i] = (w[i] & m0) !== 0 ? 1 : 0;
    } else {
      for (let i = 0, j = 0; i < out.length; i++, j += 2) out[i] = (w[j] & m0) !== 0 || (w[j + 1] & m1) !== 0 ? 1 : 0;
    }
    return out;
  }

  /** Events where each named selection has the required value (`true` = passes, `false` = fails). */
  require(requirements: Readonly<Record<string, boolean>>): Uint8Array {
    const names = Object.keys(requirements);
    const [m0, m1] = this.bits(names);
    const [v0, v1] = this.bits(names.filter((n) => requirements[n]));
    const out = new Uint8Array(this.length);
    const w = this.words;
    if (this.wordsPerEvent === 1) {
      for (let i = 0; i < out.length; i++) out[i] = (w[i] & m0) >>> 0 === v0 ? 1 : 0;
    } else {
      for (let i = 0, j = 0; i < out.length; i++, j += 2) {
        out[i] = (w[j] & m0) >>> 0 === v0 && (w[j + 1] & m1) >>> 0 === v1 ? 1 : 0;
      }
    }
    return out;
  }

  /**
   * Event counts after each cut alone and after the cuts applied in the given order; with a trailing
   * `{ weight }` (one weight per event) the sums of weights instead, as coffea's `cutflow(..., weights=)`.
   *
   * @example
   * ```ts
   * sel.cutflow('trigger', 'twoMuons').cutflow;                     // [events, after trigger, after both]
   * sel.cutflow('trigger', 'twoMuons', { weight: w }).cutflow;      // the same as Σw
   * ```
   */
  cutflow(...args: [...names: string[], options: CutflowOptions] | string[]): Cutflow {
    const last = args[args.length - 1];
    const options = typeof last === 'object' && last !== null ? (last as CutflowOptions) : undefined;
    const names = (options ? args.slice(0, -1) : args) as string[];
    const bits = this.bitIndices(names);
    const weight = options?.weight;
    if (weight !== undefined && weight.length !== this.length) {
      throw new SelectionError(
        `cutflow weight has ${weight.length} entries for ${this.length} events`,
        { expected: this.length, got: weight.length },
        'pass one weight per event (e.g. weights.weight())',
      );
    }
    const k = bits.length;
    const onecut = new Float64Array(k + 1);
    // passedLeading[j]: weight of events whose first failing cut is j (k = passed all); cutflow is its suffix sum.
    const passedLeading = new Float64Array(k + 1);
    const w = this.words;
    const stride = this.wordsPerEvent;
    const wordOf = Int32Array.from(bits, (b) => b >>> 5);
    const flagOf = Uint32Array.from(bits, (b) => (1 << (b & 31)) >>> 0);
    const n = this.length;
    let total = 0;
    for (let i = 0, base = 0; i < n; i++, base += stride) {
      const wi = weight === undefined ? 1 : weight[i];
      total += wi;
      let lead = k;
      for (let c = 0; c < k; c++) {
        if ((w[base + wordOf[c]] & flagOf[c]) !== 0) onecut[c + 1] += wi;
        else if (lead === k) lead = c;
      }
      passedLeading[lead] += wi;
    }
    onecut[0] = total;
    const cutflow = new Array<number>(k + 1);
    let running = 0;
    for (let c = k; c >= 1; c--) {
      running += passedLeading[c];
      cutflow[c] = running;
    }
    cutflow[0] = total;
    return { labels: ['initial', ...names], onecut: Array.from(onecut), cutflow };
  }

  /** Event counts passing all named cuts except one, for each cut, plus the totals before and after all. */
  nminusone(...names: string[]): NMinusOne {
    const bits = this.bitIndices(names);
    const k = bits.length;
    const allButOne = new Float64Array(k);
    let passAll = 0;
    const w = this.words;
    const stride = this.wordsPerEvent;
    const wordOf = Int32Array.from(bits, (b) => b >>> 5);
    const flagOf = Uint32Array.from(bits, (b) => (1 << (b & 31)) >>> 0);
    const n = this.length;
    for (let i = 0, base = 0; i < n; i++, base += stride) {
      let failed = 0;
      let which = -1;
      for (let c = 0; c < k && failed < 2; c++) {
        if ((w[base + wordOf[c]] & flagOf[c]) === 0) {
          failed++;
          which = c;
        }
      }
      if (failed === 0) {
        passAll++;
      } else if (failed === 1) {
        allButOne[which]++;
      }
    }
    // An event passing all cuts also passes every "all but one" combination.
    const counts = [n, ...Array.from(allButOne, (x) => x + passAll), passAll];
    return { labels: ['initial', ...names.map((x) => `N - ${x}`), 'N'], counts };
  }

  private bitIndices(names: readonly string[], unique = true): number[] {
    const seen = new Set<string>();
    return names.map((name) => {
      const b = this.index.get(name);
      if (b === undefined) {
        throw new SelectionError(
          `no selection named "${name}"`,
          { name, known: [...this.names] },
          `add it first; closest: ${closestNames(name, this.names, 3).join(', ') || 'no selections added yet'}`,
        );
      }
      if (unique && seen.has(name))
        throw new SelectionError(`selection "${name}" is named twice`, { name }, 'name each selection once');
      seen.add(name);
      return b;
    });
  }

  /** Per-word masks of the named bits. */
  private bits(names: readonly string[]): [number, number] {
    let m0 = 0;
    let m1 = 0;
    for (const b of this.bitIndices(names, false)) {
      if (b < 32) m0 |= 1 << b;
      else m1 |= 1 << (b - 32);
    }
    return [m0 >>> 0, m1 >>> 0];
  }
}

// `instanceof` across copies of Ristretto (a processor bundle carries its own): see brand.ts.
brandClass(PackedSelection, 'PackedSelection');
