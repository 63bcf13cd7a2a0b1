/**
 * The expression graph of the fused columnar layer: immutable nodes that describe a computation over the events
 * of one chunk without running it. Sinks (`compute`) hand a graph to `compile.ts`, which turns it into one
 * generated loop.
 *
 * Objects are reached through variables: a `Var` ranges over the objects of one event's list (`Domain`). A field
 * node reads a column at its variable's current object; a reduction node loops one or more variables over a
 * domain (several variables over the same domain = combinations i < j < k) and yields one value per enclosing
 * iteration. A variable may also be *bound* to the winner of an argmin/argmax reduction, so the chosen
 * candidate's fields are read by index and nothing per candidate is stored.
 *
 * Filters are `where` nodes (value, condition). They are lifted at construction, so a `where` only ever appears
 * at the top of an expression: arithmetic on a filtered value is filtered by the same condition, a reduction
 * skips the objects that fail it, and a sink drops them.
 */
import type { NumericArray } from '../types.ts';
import { InvalidArgumentError } from '../errors.ts';

let nextId = 1;
const objectIds = new WeakMap<object, number>();

/** A stable number per array/collection object, for node keys. */
export function idOf(o: object): number {
  let id = objectIds.get(o);
  if (id === undefined) {
    id = nextId++;
    objectIds.set(o, id);
  }
  return id;
}

/** The objects of one collection in each event: shared offsets and one content array per field. */
export interface ListDomain {
  readonly kind: 'list';
  readonly id: number;
  readonly name: string;
  readonly offsets: Int32Array;
  readonly columns: Readonly<Record<string, NumericArray>>;
  /** The variable a collection's own expressions (`Jet.pt`) range over. */
  readonly v: Var;
}

/** Several lists read one after the other per event (muons, then electrons): `ak.concatenate(axis=1)`. */
export interface ConcatDomain {
  readonly kind: 'concat';
  readonly id: number;
  readonly name: string;
  readonly parts: readonly ListDomain[];
  /** Field names every part has. */
  readonly fields: readonly string[];
  readonly v: Var;
}

export type Domain = ListDomain | ConcatDomain;

/** A variable over the objects of a domain, or (bound) the winner of an argmin/argmax reduction. */
export interface Var {
  readonly id: number;
  readonly dom: Domain;
  readonly bound?: { readonly red: ReduceNode; readonly slot: number };
}

export type ReduceKind = 'sum' | 'count' | 'any' | 'all' | 'min' | 'max' | 'argmin' | 'argmax';

/** Operations with their JavaScript template ($0, $1, $2 are the operands) and result type. */
export const OPS = {
  add: ['($0 + $1)', 'num'],
  sub: ['($0 - $1)', 'num'],
  mul: ['($0 * $1)', 'num'],
  div: ['($0 / $1)', 'num'],
  pow: ['($0 ** $1)', 'num'],
  neg: ['(-$0)', 'num'],
  abs: ['Math.abs($0)', 'num'],
  sqrt: ['Math.sqrt($0)', 'num'],
  exp: ['Math.exp($0)', 'num'],
  log: ['Math.log($0)', 'num'],
  sin: ['Math.sin($0)', 'num'],
  cos: ['Math.cos($0)', 'num'],
  sinh: ['Math.sinh($0)', 'num'],
  cosh: ['Math.cosh($0)', 'num'],
  atan2: ['Math.atan2($0, $1)', 'num'],
  min2: ['Math.min($0, $1)', 'num'],
  max2: ['Math.max($0, $1)', 'num'],
  wrapPhi: ['wrapPhi($0)', 'num'],
  select: ['($0 ? $1 : $2)', 'num'],
  gt: ['($0 > $1)', 'bool'],
  lt: ['($0 < $1)', 'bool'],
  ge: ['($0 >= $1)', 'bool'],
  le: ['($0 <= $1)', 'bool'],
  eq: ['($0 === $1)', 'bool'],
  ne: ['($0 !== $1)', 'bool'],
  and: ['($0 && $1)', 'bool'],
  or: ['($0 || $1)', 'bool'],
  not: ['(!$0)', 'bool'],
} as const satisfies Record<string, readonly [string, 'num' | 'bool']>;

export type OpName = keyof typeof OPS;

/** Operations whose cost makes a per-object value worth computing once per event before a combinations loop. */
export const COSTLY: ReadonlySet<string> = new Set([
  'sqrt',
  'exp',
  'log',
  'sin',
  'cos',
  'sinh',
  'cosh',
  'atan2',
  'pow',
  'wrapPhi',
]);

interface NodeBase {
  /** Structural identity: equal keys compute equal values in the same context. */
  readonly key: string;
  /** Unbound variables the value depends on (bound ones count as their reduction's). */
  readonly fv: readonly Var[];
  readonly type: 'num' | 'bool';
}
export interface ConstNode extends NodeBase {
  readonly k: 'const';
  readonly value: number;
}
export interface EventNode extends NodeBase {
  readonly k: 'event';
  readonly col: NumericArray;
  readonly name: string;
}
export interface FieldNode extends NodeBase {
  readonly k: 'field';
  /** Column name, or `@index` (position in the event's list) or `@part` (which list of a concatenation). */
  readonly name: string;
  readonly v: Var;
}
export interface LenNode extends NodeBase {
  readonly k: 'len';
  readonly dom: Domain;
}
export interface OpNode extends NodeBase {
  readonly k: 'op';
  readonly op: OpName;
  readonly args: readonly Node[];
}
export interface WhereNode extends NodeBase {
  readonly k: 'where';
  readonly x: Node;
  readonly c: Node;
}
export interface ReduceNode extends NodeBase {
  readonly k: 'reduce';
  readonly r: ReduceKind;
  readonly vars: readonly Var[];
  readonly body: Node;
  readonly cond: Node | undefined;
}
export interface FoundNode extends NodeBase {
  readonly k: 'found';
  readonly red: ReduceNode;
}
/** A binned table (edges per dimension, values in row-major order), read by a `lookup` node. */
export interface Table {
  readonly name: string;
  /** Bin edges per dimension, increasing. */
  readonly edges: readonly Float64Array[];
  /** Values, row-major: the last dimension varies fastest. */
  readonly values: Float64Array;
}
/** The value of a table at the bins of its arguments (one per dimension), clamped to the first and last bin. */
export interface LookupNode extends NodeBase {
  readonly k: 'lookup';
  readonly table: Table;
  readonly args: readonly Node[];
}
export type Node =
  | ConstNode
  | EventNode
  | FieldNode
  | LenNode
  | OpNode
  | WhereNode
  | ReduceNode
  | FoundNode
  | LookupNode;

/**
 * A short structural key: the text (an operation and its operands' keys) hashed to ~106 bits. Keys made by
 * concatenating operand keys grow with every shared subexpression (x·x doubles x's key, a winner's fields embed
 * the whole argmin) and cost milliseconds per chunk; hashed, each key is a few dozen characters.
 */
function hashKey(text: string): string {
  if (text.length <= 40) return text;
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  let h3 = 0x9e3779b9;
  let h4 = 0x85ebca6b;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
    h3 = Math.imul(h3 ^ c, 2246822507);
    h4 = Math.imul(h4 ^ c, 3266489909);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  h3 = Math.imul(h3 ^ (h3 >>> 16), 2654435761) ^ Math.imul(h4 ^ (h4 >>> 13), 1597334677);
  h4 = Math.imul(h4 ^ (h4 >>> 16), 2654435761) ^ Math.imul(h3 ^ (h3 >>> 13), 1597334677);
  return `#${(h1 >>> 0).toString(36)}.${(h2 >>> 0).toString(36)}.${(h3 >>> 0).toString(36)}.${(h4 >>> 0).toString(36)}`;
}

/**
 * Node keys are computed on first use, not at construction: they matter only when a sink's loop is generated
 * (memoization, sibling reductions), which the plan cache skips after the first chunk. Building them eagerly
 * (text plus hash per node) was the largest per-chunk cost of small queries.
 */
abstract class Keyed {
  private cachedKey: string | undefined;
  get key(): string {
    return (this.cachedKey ??= this.makeKey());
  }
  protected abstract makeKey(): string;
}

class ConstImpl extends Keyed implements ConstNode {
  readonly k = 'const';
  readonly fv: readonly Var[] = [];
  readonly type = 'num';
  constructor(readonly value: number) {
    super();
  }
  protected makeKey(): string {
    return `${Object.is(this.value, -0) ? '-0' : this.value}`;
  }
}

class EventImpl extends Keyed implements EventNode {
  readonly k = 'event';
  readonly fv: readonly Var[] = [];
  readonly type = 'num';
  constructor(
    readonly col: NumericArray,
    readonly name: string,
  ) {
    super();
  }
  protected makeKey(): string {
    return `e${idOf(this.col)}`;
  }
}

class FieldImpl extends Keyed implements FieldNode {
  readonly k = 'field';
  readonly type = 'num';
  constructor(
    readonly v: Var,
    readonly name: string,
    readonly fv: readonly Var[],
  ) {
    super();
  }
  protected makeKey(): string {
    return `f${this.v.dom.id}.${this.name}@${varKey(this.v)}`;
  }
}

class LenImpl extends Keyed implements LenNode {
  readonly k = 'len';
  readonly fv: readonly Var[] = [];
  readonly type = 'num';
  constructor(readonly dom: Domain) {
    super();
  }
  protected makeKey(): string {
    return `n${this.dom.id}`;
  }
}

class OpImpl extends Keyed implements OpNode {
  readonly k = 'op';
  constructor(
    readonly op: OpName,
    readonly args: readonly Node[],
    readonly fv: readonly Var[],
    readonly type: 'num' | 'bool',
  ) {
    super();
  }
  protected makeKey(): string {
    return hashKey(`${this.op}(${this.args.map((a) => a.key).join(',')})`);
  }
}

class WhereImpl extends Keyed implements WhereNode {
  readonly k = 'where';
  constructor(
    readonly x: Node,
    readonly c: Node,
    readonly fv: readonly Var[],
    readonly type: 'num' | 'bool',
  ) {
    super();
  }
  protected makeKey(): string {
    return hashKey(`w(${this.x.key};${this.c.key})`);
  }
}

class ReduceImpl extends Keyed implements ReduceNode {
  readonly k = 'reduce';
  constructor(
    readonly r: ReduceKind,
    readonly vars: readonly Var[],
    readonly body: Node,
    readonly cond: Node | undefined,
    readonly fv: readonly Var[],
    readonly type: 'num' | 'bool',
  ) {
    super();
  }
  protected makeKey(): string {
    return hashKey(`${this.r}[${this.vars.map(varKey).join(',')}](${this.body.key};${this.cond ? this.cond.key : ''})`);
  }
}

class FoundImpl extends Keyed implements FoundNode {
  readonly k = 'found';
  readonly type = 'bool';
  constructor(
    readonly red: ReduceNode,
    readonly fv: readonly Var[],
  ) {
    super();
  }
  protected makeKey(): string {
    return hashKey(`found(${this.red.key})`);
  }
}

class LookupImpl extends Keyed implements LookupNode {
  readonly k = 'lookup';
  readonly type = 'num';
  constructor(
    readonly table: Table,
    readonly args: readonly Node[],
    readonly fv: readonly Var[],
  ) {
    super();
  }
  protected makeKey(): string {
    return hashKey(`lookup${idOf(this.table)}(${this.args.map((a) => a.key).join(',')})`);
  }
}

function union(...lists: (readonly Var[])[]): readonly Var[] {
  const out: Var[] = [];
  for (const l of lists) for (const v of l) if (!out.includes(v)) out.push(v);
  return out;
}

function varKey(v: Var): string {
  return v.bound ? `b${v.bound.slot}<${v.bound.red.key}>` : `v${v.id}`;
}

export function newVar(dom: Domain): Var {
  return { id: nextId++, dom };
}

const boundVars = new WeakMap<ReduceNode, Var[]>();

/** The variable standing for slot `slot` of the winner of an argmin/argmax reduction. */
export function boundVar(red: ReduceNode, slot: number): Var {
  let list = boundVars.get(red);
  if (!list) boundVars.set(red, (list = []));
  return (list[slot] ??= { id: nextId++, dom: red.vars[slot].dom, bound: { red, slot } });
}

export function constant(value: number): ConstNode {
  return new ConstImpl(value);
}

export function eventColumn(col: NumericArray, name: string): EventNode {
  return new EventImpl(col, name);
}

export function field(v: Var, name: string): FieldNode {
  const fv = v.bound ? v.bound.red.fv : [v];
  return new FieldImpl(v, name, fv);
}

export function len(dom: Domain): LenNode {
  return new LenImpl(dom);
}

/** Boolean view of a (possibly filtered) node: a filtered condition holds only where its filter does. */
function asCondition(n: Node): Node {
  return n.k === 'where' ? op('and', [asCondition(n.c), n.x]) : n;
}

/**
 * Conjunction of conditions, each conjunct once, in order (a filtered operand repeats its filter per field).
 * Repeats are found by identity (filters propagate as the same node); a structurally equal copy stays and costs
 * one memoized test in the loop, where comparing keys here would compute every key on every chunk.
 */
export function allOf(conds: readonly Node[]): Node {
  const parts: Node[] = [];
  const add = (c: Node): void => {
    if (c.k === 'op' && c.op === 'and') c.args.forEach(add);
    else if (!parts.includes(c)) parts.push(c);
  };
  conds.forEach((c) => add(asCondition(c)));
  return parts.reduce((a, b) => andNode(a, b));
}

function andNode(a: Node, b: Node): Node {
  return new OpImpl('and', [a, b], union(a.fv, b.fv), 'bool');
}

export function where(x: Node, c: Node): Node {
  const cond = allOf([c]);
  if (x.k === 'where') return where(x.x, allOf([cond, x.c]));
  return new WhereImpl(x, cond, union(x.fv, cond.fv), x.type);
}

export function op(name: OpName, args: readonly Node[]): Node {
  if (name === 'and' || name === 'or' || name === 'not') args = args.map(asCondition);
  const conds = args.filter((a): a is WhereNode => a.k === 'where');
  if (conds.length > 0) {
    const inner = op(
      name,
      args.map((a) => (a.k === 'where' ? a.x : a)),
    );
    return where(inner, allOf(conds.map((w) => w.c)));
  }
  const type = OPS[name][1];
  return new OpImpl(name, args, union(...args.map((a) => a.fv)), type);
}

export function reduce(r: ReduceKind, vars: readonly Var[], body: Node, cond: Node | undefined): ReduceNode {
  if (body.k === 'where') {
    cond = cond ? allOf([cond, body.c]) : body.c;
    body = body.x;
  }
  if (cond) cond = allOf([cond]);
  const inner = union(body.fv, cond ? cond.fv : []);
  const fv = inner.filter((v) => !vars.includes(v));
  const type = r === 'any' || r === 'all' ? 'bool' : 'num';
  return new ReduceImpl(r, vars, body, cond, fv, type);
}

/** A table lookup; filtered arguments filter the result, as for operations. */
export function lookup(table: Table, args: readonly Node[]): Node {
  const conds = args.filter((a): a is WhereNode => a.k === 'where');
  if (conds.length > 0)
    return where(
      lookup(
        table,
        args.map((a) => (a.k === 'where' ? a.x : a)),
      ),
      allOf(conds.map((w) => w.c)),
    );
  return new LookupImpl(table, args, union(...args.map((a) => a.fv)));
}

const founds = new WeakMap<ReduceNode, FoundNode>();

/** Whether an argmin/argmax has a winner; one node per reduction, so filters on it compare by identity. */
export function found(red: ReduceNode): FoundNode {
  let f = founds.get(red);
  if (!f) founds.set(red, (f = new FoundImpl(red, red.fv)));
  return f;
}

/** `node` with variable `from` replaced by `to` (used to give combination members their own variables). */
export function subst(node: Node, from: Var, to: Var, memo = new Map<Node, Node>()): Node {
  const hit = memo.get(node);
  if (hit) return hit;
  let out: Node;
  switch (node.k) {
    case 'const':
    case 'event':
    case 'len':
      out = node;
      break;
    case 'field': {
      const v = substVar(node.v, from, to, memo);
      out = v === node.v ? node : field(v, node.name);
      break;
    }
    case 'op': {
      const args = node.args.map((a) => subst(a, from, to, memo));
      out = args.every((a, i) => a === node.args[i]) ? node : op(node.op, args);
      break;
    }
    case 'where': {
      const x = subst(node.x, from, to, memo);
      const c = subst(node.c, from, to, memo);
      out = x === node.x && c === node.c ? node : where(x, c);
      break;
    }
    case 'reduce': {
      if (node.vars.includes(from)) {
        out = node; // shadowed
        break;
      }
      const body = subst(node.body, from, to, memo);
      const cond = node.cond && subst(node.cond, from, to, memo);
      out = body === node.body && cond === node.cond ? node : reduce(node.r, node.vars, body, cond);
      break;
    }
    case 'lookup': {
      const args = node.args.map((a) => subst(a, from, to, memo));
      out = args.every((a, i) => a === node.args[i]) ? node : lookup(node.table, args);
      break;
    }
    case 'found': {
      const red = subst(node.red, from, to, memo) as ReduceNode;
      out = red === node.red ? node : found(red);
      break;
    }
  }
  memo.set(node, out);
  return out;
}

function substVar(v: Var, from: Var, to: Var, memo: Map<Node, Node>): Var {
  if (v === from) return to;
  if (!v.bound) return v;
  const red = subst(v.bound.red, from, to, memo) as ReduceNode;
  return red === v.bound.red ? v : boundVar(red, v.bound.slot);
}

/** Columns a field of `dom` reads, one per part; throws a typed error naming the close names. */
export function columnsOf(dom: Domain, name: string): NumericArray[] {
  const parts = dom.kind === 'list' ? [dom] : dom.parts;
  return parts.map((p) => {
    const c = p.columns[name];
    if (c === undefined) {
      throw new InvalidArgumentError(
        `${p.name} has no field '${name}'`,
        { collection: p.name, field: name, available: Object.keys(p.columns) },
        `Available fields: ${Object.keys(p.columns).join(', ') || '(none)'}.`,
      );
    }
    return c;
  });
}
