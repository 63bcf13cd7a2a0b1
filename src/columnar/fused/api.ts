/**
 * The fused columnar API: expressions over the events of a chunk that are built first and run at `compute`,
 * as one generated loop (see compile.ts). Written the way a coffea/awkward analysis reads, with methods in
 * place of Python's operators:
 *
 * ```ts
 * const ev = fused(events);
 * const jets = ev.Jet;
 * compute(jets.pt.where(jets.eta.abs().lt(1)));                        // pt of central jets, flattened
 * compute(ev.MET.pt.where(jets.where(jets.pt.gt(40)).count().ge(2)));  // MET of events with ≥ 2 hard jets
 * ```
 *
 * Nothing runs until `compute`; intermediate values are never stored in arrays.
 */
import { type Collection, isStringColumn, type Jagged, type NumericArray } from '../types.ts';
import { InvalidArgumentError } from '../errors.ts';
import type { ConcatDomain, Domain, ListDomain, Node, ReduceKind, ReduceNode, Var } from './graph.ts';
import { boundVar, constant, eventColumn, field, found, idOf, len, newVar, op, reduce, subst, where } from './graph.ts';
import { run } from './compile.ts';

/** A number or an expression: what every operand slot accepts. */
export type ExprLike = Expr | number;

/** @internal The graph node of an operand (numbers become constants); a typed error for anything else. */
export function nodeOf(x: ExprLike, operation: string): Node {
  if (typeof x === 'number') return constant(x);
  if (x instanceof Expr) return x.node;
  throw new InvalidArgumentError(
    `${operation}: operand must be a number or a fused expression, got ${typeof x}`,
    { operation },
    'Wrap chunk columns with fused(events) first; plain typed arrays are not expressions.',
  );
}

/**
 * A value per event, or per object of one collection, not computed yet. Arithmetic and comparisons return new
 * expressions; `where` filters; `sum`/`count`/`any`/`all`/`min`/`max` reduce an object-level expression to one
 * value per event.
 */
export class Expr {
  /** @internal */
  constructor(readonly node: Node) {}

  private bin(name: Parameters<typeof op>[0], other: ExprLike): Expr {
    return new Expr(op(name, [this.node, nodeOf(other, name)]));
  }
  private un(name: Parameters<typeof op>[0]): Expr {
    return new Expr(op(name, [this.node]));
  }

  add(b: ExprLike): Expr {
    return this.bin('add', b);
  }
  sub(b: ExprLike): Expr {
    return this.bin('sub', b);
  }
  mul(b: ExprLike): Expr {
    return this.bin('mul', b);
  }
  div(b: ExprLike): Expr {
    return this.bin('div', b);
  }
  pow(b: ExprLike): Expr {
    return this.bin('pow', b);
  }
  neg(): Expr {
    return this.un('neg');
  }
  abs(): Expr {
    return this.un('abs');
  }
  sqrt(): Expr {
    return this.un('sqrt');
  }
  exp(): Expr {
    return this.un('exp');
  }
  log(): Expr {
    return this.un('log');
  }
  sin(): Expr {
    return this.un('sin');
  }
  cos(): Expr {
    return this.un('cos');
  }
  sinh(): Expr {
    return this.un('sinh');
  }
  cosh(): Expr {
    return this.un('cosh');
  }
  gt(b: ExprLike): Expr {
    return this.bin('gt', b);
  }
  lt(b: ExprLike): Expr {
    return this.bin('lt', b);
  }
  ge(b: ExprLike): Expr {
    return this.bin('ge', b);
  }
  le(b: ExprLike): Expr {
    return this.bin('le', b);
  }
  eq(b: ExprLike): Expr {
    return this.bin('eq', b);
  }
  ne(b: ExprLike): Expr {
    return this.bin('ne', b);
  }
  /** Logical and; the right side is evaluated only where the left side holds. */
  and(b: ExprLike): Expr {
    return this.bin('and', b);
  }
  or(b: ExprLike): Expr {
    return this.bin('or', b);
  }
  not(): Expr {
    return this.un('not');
  }
  /** `lo ≤ this ≤ hi` (both ends included, as the ADL mass windows are). */
  between(lo: ExprLike, hi: ExprLike): Expr {
    return this.ge(lo).and(this.le(hi));
  }
  /**
   * This value, with `value` where it was filtered out (awkward's `ak.fill_none`): a filtered expression becomes
   * one with an entry for every event (or object) again.
   */
  fillNone(value: ExprLike): Expr {
    const n = this.node;
    if (n.k !== 'where') return this;
    return new Expr(op('select', [n.c, n.x, nodeOf(value, 'fillNone')]));
  }
  /** This value where `cond` holds; elsewhere nothing (reductions skip it, `compute` drops it). */
  where(cond: ExprLike): Expr {
    return new Expr(where(this.node, nodeOf(cond, 'where')));
  }

  private reduceOwn(r: ReduceKind): Expr {
    const v = ownVar(this.node, r);
    return new Expr(reduce(r, [v], r === 'count' ? constant(1) : this.node, r === 'count' ? this.node : undefined));
  }
  /** Sum over the objects of each event (0 for none). */
  sum(): Expr {
    return this.reduceOwn('sum');
  }
  /** Number of objects of each event where this (boolean) expression holds. */
  count(): Expr {
    return this.reduceOwn('count');
  }
  any(): Expr {
    return this.reduceOwn('any');
  }
  all(): Expr {
    return this.reduceOwn('all');
  }
  /**
   * Smallest value per event (NaN values are skipped). An event with no objects (or none passing a filter)
   * gives NaN, as awkward's `ak.min` gives None: `Hist.fill` puts NaN into the overflow bin (boost-histogram
   * does the same), so mask such events when filling: `.where(jets.count().gt(0))` with `jets` the
   * collection. `ristretto draw` skips them and counts them in its summary.
   *
   * @example
   * ```ts
   * const jets = fused(events).Jet;
   * out.leadPt.fill(compute(jets.pt.max().where(jets.count().gt(0)))); // events without jets left out
   * ```
   */
  min(): Expr {
    return this.reduceOwn('min');
  }
  /** Largest value per event; NaN for an event without objects (see {@link Expr.min} for masking). */
  max(): Expr {
    return this.reduceOwn('max');
  }
}

function ownVar(node: Node, operation: string): Var {
  if (node.fv.length !== 1) {
    throw new InvalidArgumentError(
      node.fv.length === 0
        ? `${operation}: the expression already has one value per event`
        : `${operation}: the expression depends on objects of ${node.fv.map((v) => v.dom.name).join(' and ')}; say which to reduce over`,
      { operation },
      'Reduce through the collection instead, e.g. leptons.all((l) => deltaR(jets, l).ge(0.4)).',
    );
  }
  return node.fv[0];
}

/** A four-vector expression in cartesian components (px, py, pz, E), the way the ADL tasks sum objects. */
export class LorentzVector {
  constructor(
    readonly x: Expr,
    readonly y: Expr,
    readonly z: Expr,
    readonly t: Expr,
  ) {}
  add(o: LorentzVector): LorentzVector {
    return new LorentzVector(this.x.add(o.x), this.y.add(o.y), this.z.add(o.z), this.t.add(o.t));
  }
  /** √(E² − p²), 0 where that is negative (rounding of nearly massless sums). */
  get mass(): Expr {
    const m2 = this.t.mul(this.t).sub(this.x.mul(this.x)).sub(this.y.mul(this.y)).sub(this.z.mul(this.z));
    return new Expr(op('select', [m2.gt(0).node, m2.sqrt().node, constant(0)]));
  }
  get pt(): Expr {
    return this.x.mul(this.x).add(this.y.mul(this.y)).sqrt();
  }
}

/** Field access: `muons.pt`. Names of the members below are reserved (use `.field(name)` for such a branch). */
export type Objects = LazyObjects & { readonly [field: string]: Expr };

/**
 * The objects of one collection per event (`fused(events).Muon`), optionally filtered. Fields read as
 * expressions; reductions and combinations take callbacks that receive the objects as `Objects`.
 */
export class LazyObjects {
  /** @internal */
  constructor(
    readonly dom: Domain,
    readonly v: Var,
    readonly cond: Node | undefined,
  ) {}

  /** The expression of a field (`muons.field('pt')` = `muons.pt`). */
  field(name: string): Expr {
    const f = field(this.v, name);
    return new Expr(this.cond ? where(f, this.cond) : f);
  }
  /** Position of each object in its event's list (awkward's `local_index`); for a concatenation, in the concatenation. */
  get index(): Expr {
    return this.field('@index');
  }
  /** Index of each object in the collection's contents (for gathering from the eager columns later). */
  get globalIndex(): Expr {
    return this.field('@global');
  }
  /** Which input of `concat` each object came from (0, 1, …); 0 for a plain collection. */
  get source(): Expr {
    return this.field('@part');
  }
  /** px, py, pz, E from pt, eta, phi, mass. */
  get p4(): LorentzVector {
    const pt = this.field('pt');
    const phi = this.field('phi');
    const x = pt.mul(phi.cos());
    const y = pt.mul(phi.sin());
    const z = pt.mul(this.field('eta').sinh());
    const m = this.field('mass');
    return new LorentzVector(x, y, z, x.mul(x).add(y.mul(y)).add(z.mul(z)).add(m.mul(m)).sqrt());
  }
  /** ΔR = √(Δη² + Δφ²) to another object (Δφ wrapped to [−π, π)), as coffea's `a.delta_r(b)`. */
  deltaR(other: Objects): Expr {
    return deltaR(this as unknown as Objects, other);
  }
  /** φ − φ_other wrapped to [−π, π). */
  deltaPhi(other: Objects): Expr {
    return deltaPhi(this.field('phi'), other.phi);
  }
  /** The objects for which `pred` holds (awkward's `muons[mask]`). */
  where(pred: ExprLike | ((o: Objects) => ExprLike)): Objects {
    const c = nodeOf(typeof pred === 'function' ? pred(this as unknown as Objects) : pred, 'where');
    return objects(this.dom, this.v, this.cond ? op('and', [this.cond, c]) : c);
  }

  private red(r: ReduceKind, f: ((o: Objects) => ExprLike) | undefined): Expr {
    const body = f ? nodeOf(f(this as unknown as Objects), r) : constant(1);
    if (r === 'count' && !f && !this.cond) return new Expr(len(this.dom));
    if (r === 'count' && f)
      return new Expr(reduce('count', [this.v], constant(1), this.cond ? op('and', [this.cond, body]) : body));
    return new Expr(reduce(r, [this.v], body, this.cond));
  }
  /** Objects per event (passing `pred`, if given). */
  count(pred?: (o: Objects) => ExprLike): Expr {
    return this.red('count', pred);
  }
  any(pred: (o: Objects) => ExprLike): Expr {
    return this.red('any', pred);
  }
  /** True where `pred` holds for every object (also for none). */
  all(pred: (o: Objects) => ExprLike): Expr {
    return this.red('all', pred);
  }
  sum(f: (o: Objects) => ExprLike): Expr {
    return this.red('sum', f);
  }
  /** Smallest `f` over the objects of each event; NaN for an event without any (see {@link Expr.min}). */
  min(f: (o: Objects) => ExprLike): Expr {
    return this.red('min', f);
  }
  /** Largest `f` over the objects of each event; NaN for an event without any (see {@link Expr.min}). */
  max(f: (o: Objects) => ExprLike): Expr {
    return this.red('max', f);
  }
  /** The object with the smallest `key` per event (first on ties; none for an empty event). */
  argmin(key: (o: Objects) => ExprLike): Best<[Objects]> {
    return best('argmin', [this as unknown as Objects], key as (...o: Objects[]) => ExprLike);
  }
  argmax(key: (o: Objects) => ExprLike): Best<[Objects]> {
    return best('argmax', [this as unknown as Objects], key as (...o: Objects[]) => ExprLike);
  }
  /** Unordered pairs of distinct objects (i < j), as `ak.combinations(x, 2)`; never materialized. */
  pairs(): Candidates<[Objects, Objects]> {
    return new Candidates(members(this, 2) as [Objects, Objects]);
  }
  /** Unordered triples (i < j < k), as `ak.combinations(x, 3)`. */
  triples(): Candidates<[Objects, Objects, Objects]> {
    return new Candidates(members(this, 3) as [Objects, Objects, Objects]);
  }
}

function objects(dom: Domain, v: Var, cond: Node | undefined): Objects {
  const o = new LazyObjects(dom, v, cond);
  return new Proxy(o, {
    get(target, prop, receiver) {
      if (typeof prop !== 'string' || prop in target) return Reflect.get(target, prop, receiver);
      return target.field(prop);
    },
  }) as Objects;
}

function members(o: LazyObjects, k: number): Objects[] {
  return Array.from({ length: k }, () => {
    const v = newVar(o.dom);
    return objects(o.dom, v, o.cond && subst(o.cond, o.v, v));
  });
}

function best<M extends Objects[]>(r: 'argmin' | 'argmax', ms: M, key: (...o: Objects[]) => ExprLike): Best<M> {
  const conds = ms.map((m) => m.cond).filter((c): c is Node => c !== undefined);
  const cond = conds.length ? conds.reduce((a, b) => op('and', [a, b])) : undefined;
  const red = reduce(
    r,
    ms.map((m) => m.v),
    nodeOf(key(...ms), r),
    cond,
  );
  return new Best<M>(red, ms.map((m, slot) => objects(m.dom, boundVar(red, slot), undefined)) as M);
}

/** Candidates built from one collection (pairs, triples): reductions over them, without building the list. */
export class Candidates<M extends Objects[]> {
  /** @internal */
  constructor(readonly members: M) {}

  private red(r: ReduceKind, f: ((...o: M) => ExprLike) | undefined): Expr {
    const conds = this.members.map((m) => m.cond).filter((c): c is Node => c !== undefined);
    let cond = conds.length ? conds.reduce((a, b) => op('and', [a, b])) : undefined;
    let body = f ? nodeOf(f(...this.members), r) : constant(1);
    if (r === 'count' && f) {
      cond = cond ? op('and', [cond, body]) : body;
      body = constant(1);
    }
    return new Expr(
      reduce(
        r,
        this.members.map((m) => m.v),
        body,
        cond,
      ),
    );
  }
  /** True where some candidate satisfies `pred`; stops at the first one. */
  any(pred: (...o: M) => ExprLike): Expr {
    return this.red('any', pred);
  }
  all(pred: (...o: M) => ExprLike): Expr {
    return this.red('all', pred);
  }
  count(pred?: (...o: M) => ExprLike): Expr {
    return this.red('count', pred);
  }
  sum(f: (...o: M) => ExprLike): Expr {
    return this.red('sum', f);
  }
  /** The candidate with the smallest `key` per event (first on ties); only its indices are kept. */
  argmin(key: (...o: M) => ExprLike): Best<M> {
    return best('argmin', this.members, key as (...o: Objects[]) => ExprLike);
  }
  argmax(key: (...o: M) => ExprLike): Best<M> {
    return best('argmax', this.members, key as (...o: Objects[]) => ExprLike);
  }
  /** Only the candidates for which `pred` holds. */
  where(pred: (...o: M) => ExprLike): Candidates<M> {
    const c = nodeOf(pred(...this.members), 'where');
    const [first, ...rest] = this.members;
    return new Candidates([objects(first.dom, first.v, first.cond ? op('and', [first.cond, c]) : c), ...rest] as M);
  }
}

/** The winner of an argmin/argmax per event: read its objects with `get`; events without one are dropped. */
export class Best<M extends Objects[]> {
  /** @internal */
  constructor(
    readonly red: ReduceNode,
    /** The winning objects (one per slot), for use in further expressions. */
    readonly objects: M,
  ) {}
  /** A value of the winning candidate, filtered to the events that have one. */
  get(f: (...o: M) => ExprLike): Expr {
    return new Expr(where(nodeOf(f(...this.objects), 'get'), found(this.red)));
  }
  /** True where the event has a winner. */
  get exists(): Expr {
    return new Expr(found(this.red));
  }
}

const listDomains = new WeakMap<object, ListDomain>();

function listDomain(
  name: string,
  offsets: Int32Array,
  columns: Readonly<Record<string, NumericArray>>,
  owner: object,
): ListDomain {
  let d = listDomains.get(owner);
  if (!d || d.offsets !== offsets) {
    const id = idOf(owner);
    const dom = { kind: 'list', id, name, offsets, columns } as Omit<ListDomain, 'v'> as ListDomain;
    (dom as { v: Var }).v = newVar(dom);
    listDomains.set(owner, (d = dom));
  }
  return d;
}

/** Objects of a collection (`events.Muon`) or of a jagged column (whose values are the field `value`). */
export function lazyObjects(x: Collection | Jagged, name = 'objects'): Objects {
  if ('fields' in x) {
    const d = listDomain(name, x.offsets, x.fields, x);
    return objects(d, d.v, undefined);
  }
  const d = listDomain(name, x.offsets, { value: x.content }, x);
  return objects(d, d.v, undefined);
}

/** An event-level column (`events.MET.pt`) as an expression. */
export function lazyColumn(x: NumericArray, name = 'column'): Expr {
  return new Expr(eventColumn(x, name));
}

/**
 * Objects of several collections per event, one list after the other (`ak.concatenate([muons, electrons],
 * axis=1)`); `source` tells which input an object came from. Only fields all inputs have can be read.
 */
export function concat(...inputs: Objects[]): Objects {
  const parts = inputs.map((o) => {
    if (o.cond || o.dom.kind !== 'list' || o.v !== o.dom.v) {
      throw new InvalidArgumentError(
        'concat: inputs must be whole collections',
        { operation: 'concat' },
        'Concatenate the collections first, then filter the result with .where().',
      );
    }
    return o.dom;
  });
  const fields = Object.keys(parts[0].columns).filter((f) => parts.every((p) => f in p.columns));
  const dom = { kind: 'concat', id: idOf({}), name: parts.map((p) => p.name).join('+'), parts, fields } as Omit<
    ConcatDomain,
    'v'
  > as ConcatDomain;
  (dom as { v: Var }).v = newVar(dom);
  return objects(dom, dom.v, undefined);
}

/** Events wrapped for fused expressions: collections become `Objects`, event-level columns `Expr`. */
export type FusedEvents = { readonly [name: string]: Objects & Expr & { readonly [field: string]: Expr } };

/**
 * Wraps a chunk's events for fused expressions: `ev.Jet` → Objects, `ev.MET.pt` / `ev.run` → Expr.
 *
 * @example
 * ```ts
 * import { compute, fused } from 'ristretto';
 * const ev = fused(events);
 * const ht = ev.Jet.where(ev.Jet.pt.gt(30)).sum((j) => j.pt);
 * out.ht.fill(compute(ht));
 * ```
 */
export function fused(events: object): FusedEvents {
  const cache = new Map<string, unknown>();
  return new Proxy({} as FusedEvents, {
    get(_, prop) {
      if (typeof prop !== 'string') return undefined;
      let hit = cache.get(prop);
      if (hit === undefined) {
        const x = (events as Record<string, unknown>)[prop];
        hit = wrap(x, prop);
        cache.set(prop, hit);
      }
      return hit;
    },
  });
}

function wrap(x: unknown, name: string): unknown {
  if (isStringColumn(x))
    throw new InvalidArgumentError(
      `${name} is a string branch (one text per event), not numbers`,
      { name },
      `Strings cannot be computed with or histogrammed; in a processor read them as text: stringsOf(events.column('${name}')) from 'ristretto/io'.`,
    );
  if (ArrayBuffer.isView(x)) return lazyColumn(x as NumericArray, name);
  if (typeof x === 'object' && x !== null && 'offsets' in x) {
    if ('fields' in x) return lazyObjects(x as Collection, name);
    if ('content' in x) return lazyObjects(x as Jagged, name).field('value');
  }
  if (typeof x === 'object' && x !== null) {
    // A record of event-level columns (MET): wrap each field on first access, so only the fields read are loaded.
    const rec = x as Record<string, unknown>;
    const cache = new Map<string, Expr>();
    return new Proxy(
      {},
      {
        get(_, prop) {
          if (typeof prop !== 'string') return undefined;
          let e = cache.get(prop);
          if (e === undefined) {
            const col = rec[prop];
            if (!ArrayBuffer.isView(col))
              throw new InvalidArgumentError(
                `fused: ${name}.${prop} is not a column`,
                { name, field: prop },
                'Read a numeric field of the record.',
              );
            cache.set(prop, (e = lazyColumn(col as NumericArray, `${name}.${prop}`)));
          }
          return e;
        },
      },
    );
  }
  throw new InvalidArgumentError(
    `fused: events.${name} is not a column`,
    { name },
    'Read columns, collections or records of columns.',
  );
}

/**
 * Runs expressions as one fused loop. One expression gives one array; an array or record of expressions (all
 * filtered by the same condition, e.g. values of one argmin winner) gives arrays computed in the same pass.
 * Event-level expressions give one entry per event that passes; object-level ones one per object (flattened).
 * Computed numbers come back as Float64Array, a column passed through (`jets.pt.where(...)`) in its own dtype,
 * conditions as Uint8Array (0/1).
 *
 * @example
 * ```ts
 * const jets = fused(events).Jet;
 * const centralPt = compute(jets.pt.where(jets.eta.abs().lt(1)));
 * ```
 */
export function compute(x: Expr): NumericArray;
export function compute(x: readonly Expr[]): NumericArray[];
export function compute<R extends Record<string, Expr>>(x: R): { [K in keyof R]: NumericArray };
export function compute(x: Expr | readonly Expr[] | Record<string, Expr>): unknown {
  if (x instanceof Expr) return run([x.node]).values[0];
  if (Array.isArray(x)) return run(x.map((e) => nodeOf(e, 'compute'))).values;
  const entries = Object.entries(x as Record<string, Expr>);
  const values = run(entries.map(([, e]) => nodeOf(e, 'compute'))).values;
  return Object.fromEntries(entries.map(([k], i) => [k, values[i]]));
}

/** Δφ wrapped to [−π, π). */
export function deltaPhi(a: ExprLike, b: ExprLike): Expr {
  return new Expr(op('wrapPhi', [op('sub', [nodeOf(a, 'deltaPhi'), nodeOf(b, 'deltaPhi')])]));
}

/** ΔR = √(Δη² + Δφ²) of two objects (Δφ wrapped). */
export function deltaR(a: Objects, b: Objects): Expr {
  const deta = a.eta.sub(b.eta);
  const dphi = deltaPhi(a.phi, b.phi);
  return deta.mul(deta).add(dphi.mul(dphi)).sqrt();
}

/** √(2 pt_a pt_b (1 − cos(φ_a − φ_b))), e.g. of the missing momentum and a lepton. */
export function transverseMass(ptA: ExprLike, phiA: ExprLike, ptB: ExprLike, phiB: ExprLike): Expr {
  const a = new Expr(nodeOf(ptA, 'transverseMass'));
  const phi = new Expr(nodeOf(phiA, 'transverseMass'));
  return new Expr(constant(2))
    .mul(a)
    .mul(ptB)
    .mul(new Expr(constant(1)).sub(phi.sub(phiB).cos()))
    .sqrt();
}

/** Largest of several values (NaN if any is NaN). */
export function maximum(first: ExprLike, ...rest: ExprLike[]): Expr {
  return new Expr(rest.reduce<Node>((acc, x) => op('max2', [acc, nodeOf(x, 'maximum')]), nodeOf(first, 'maximum')));
}

/** Smallest of several values (NaN if any is NaN). */
export function minimum(first: ExprLike, ...rest: ExprLike[]): Expr {
  return new Expr(rest.reduce<Node>((acc, x) => op('min2', [acc, nodeOf(x, 'minimum')]), nodeOf(first, 'minimum')));
}
