/**
 * Binned lookup tables in fused expressions, like coffea's `dense_lookup`: scale factors, efficiencies and
 * other corrections given per bin of one or more variables (|η| × pt, …), read per event or per object inside
 * the generated loop (a binary search per dimension, no intermediate arrays).
 *
 * @example
 * ```ts
 * import { BinnedLookup, compute, fused } from 'ristretto';
 *
 * // rows: |η| bins [0, 0.9), [0.9, 2.4); columns: pt bins [15, 40), [40, ∞)
 * const muonSF = new BinnedLookup([[0.98, 0.99], [0.97, 0.98]], [[0, 0.9, 2.4], [15, 40, Infinity]], 'muonSF');
 * const mu = fused(events).Muon;
 * const sf = compute(muonSF.at(mu.eta.abs(), mu.pt)); // one value per muon
 * ```
 */
import { InvalidArgumentError } from '../errors.ts';
import { Expr, type ExprLike, nodeOf } from './api.ts';
import { binIndex } from './bins.ts';
import type { Table } from './graph.ts';
import { lookup } from './graph.ts';

/** Values nested one array level per dimension: `number[]` for 1-D, `number[][]` for 2-D, … */
export type NestedNumbers = number | readonly NestedNumbers[];

/**
 * A table of values over bins of one or more variables. Values outside the edges take the first or last bin
 * (as coffea's dense_lookup); a NaN argument gives NaN.
 */
export class BinnedLookup {
  /** @internal */
  readonly table: Table;

  /**
   * @param values nested arrays, one level per dimension, `edges[d].length − 1` entries at level d
   * @param edges increasing bin edges per dimension (at least two each; ±Infinity allowed)
   * @param name used in error messages
   */
  constructor(values: NestedNumbers, edges: readonly (readonly number[])[], name = 'lookup') {
    const fail = (what: string, hint: string): never => {
      throw new InvalidArgumentError(`BinnedLookup '${name}': ${what}`, { operation: 'BinnedLookup', name }, hint);
    };
    if (edges.length === 0)
      fail('no dimensions', 'Pass one array of bin edges per dimension, e.g. [[0, 1.2, 2.4], [15, 40, Infinity]].');
    const e = edges.map((d, i) => {
      if (d.length < 2)
        fail(`dimension ${i} has ${d.length} edge(s)`, 'Each dimension needs at least two edges (one bin).');
      for (let j = 1; j < d.length; j++) {
        if (!(d[j] > d[j - 1]))
          fail(
            `edges of dimension ${i} are not increasing at position ${j} (${d[j - 1]} then ${d[j]})`,
            'Give strictly increasing edges without NaN.',
          );
      }
      return Float64Array.from(d);
    });
    const flat: number[] = [];
    const walk = (v: NestedNumbers, d: number, at: string): void => {
      if (d === e.length) {
        if (typeof v !== 'number')
          fail(
            `values${at} is an array, expected a number (${e.length} dimension(s))`,
            'Nest the values one level per dimension.',
          );
        flat.push(v as number);
        return;
      }
      const bins = e[d].length - 1;
      if (!Array.isArray(v) || v.length !== bins) {
        fail(
          `values${at} has ${Array.isArray(v) ? v.length : 'no'} entries, dimension ${d} has ${bins} bin(s)`,
          'Give one value per bin: edges[d].length − 1 entries at nesting level d.',
        );
      }
      (v as readonly NestedNumbers[]).forEach((x, i) => walk(x, d + 1, `${at}[${i}]`));
    };
    walk(values, 0, '');
    this.table = { name, edges: e, values: Float64Array.from(flat) };
  }

  /** Number of variables the table takes. */
  get dimensions(): number {
    return this.table.edges.length;
  }

  /** The table's value at the bins of `xs` (one expression or number per dimension), as a fused expression. */
  at(...xs: ExprLike[]): Expr {
    this.arity(xs.length);
    return new Expr(
      lookup(
        this.table,
        xs.map((x) => nodeOf(x, `${this.table.name}.at`)),
      ),
    );
  }

  /** The value for plain numbers (for checks and scalar use). */
  value(...xs: number[]): number {
    this.arity(xs.length);
    let flat = 0;
    for (let d = 0; d < xs.length; d++) {
      const b = binIndex(this.table.edges[d], xs[d]);
      if (b < 0) return NaN;
      flat = flat * (this.table.edges[d].length - 1) + b;
    }
    return this.table.values[flat];
  }

  private arity(n: number): void {
    if (n !== this.dimensions) {
      throw new InvalidArgumentError(
        `BinnedLookup '${this.table.name}': ${n} argument(s) for ${this.dimensions} dimension(s)`,
        { operation: 'BinnedLookup.at', name: this.table.name },
        'Pass one value per dimension, in the order of the edges.',
      );
    }
  }
}
