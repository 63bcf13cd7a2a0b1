/**
 * Expressions written as text (`'sum(Jet.pt[Jet.pt > 30])'`), parsed with mathjs and built into the same graph
 * as the method API, so a string and the equivalent method chain compile to the same loop. This is the
 * groundwork of `events.define(name, text)` (RDataFrame's `Define`).
 *
 * Grammar (mathjs syntax): numbers; names of the events' entries (`Jet`, `MET`); `.field`; NanoAOD branch
 * names as TTree::Draw writes them (`Jet_pt` is `Jet.pt`, `MET_pt` is `MET.pt`); `x[condition]` (a filter);
 * `x[k]` with an integer k: the k-th object's value (0-based, as in TTree::Draw; events with fewer objects
 * are dropped); `+ - * / ^`, unary `-`; `< <= > >= == !=`; `and or not`; and the functions `sum count any all min
 * max` (over a collection's objects), `abs sqrt exp log sin cos sinh cosh`, `deltaPhi(a, b)`. TTree::Draw's `&&`,
 * `||` and `!` are read as and, or, not.
 */
import { createRequire } from 'node:module';
import type { MathNode } from 'mathjs';
import { InvalidArgumentError } from '../errors.ts';
import { constant } from './graph.ts';
import { deltaPhi, Expr, type ExprLike, type FusedEvents, LazyObjects, type Objects } from './api.ts';

/**
 * mathjs is required on the first parse, not imported: modules that merely can reach this one (the events view
 * behind `events.define`, the bundled thread-worker runtime) do not pay its load time (seconds on a busy machine)
 * unless an expression is actually parsed. Resolved like a bare import, from the installing project's node_modules.
 */
let mathjsParse: ((text: string) => MathNode) | undefined;
function parse(text: string): MathNode {
  mathjsParse ??= (createRequire(import.meta.url)('mathjs') as typeof import('mathjs')).parse;
  return mathjsParse(text);
}

type Value = Expr | Objects | number | Readonly<Record<string, unknown>>;

const BINARY: Record<string, (a: Expr, b: ExprLike) => Expr> = {
  add: (a, b) => a.add(b),
  subtract: (a, b) => a.sub(b),
  multiply: (a, b) => a.mul(b),
  divide: (a, b) => a.div(b),
  pow: (a, b) => a.pow(b),
  larger: (a, b) => a.gt(b),
  smaller: (a, b) => a.lt(b),
  largerEq: (a, b) => a.ge(b),
  smallerEq: (a, b) => a.le(b),
  equal: (a, b) => a.eq(b),
  unequal: (a, b) => a.ne(b),
  and: (a, b) => a.and(b),
  or: (a, b) => a.or(b),
};
const UNARY = ['abs', 'sqrt', 'exp', 'log', 'sin', 'cos', 'sinh', 'cosh'] as const;
const REDUCTIONS = ['sum', 'count', 'any', 'all', 'min', 'max'] as const;

/**
 * TTree::Draw's C operators as mathjs words: `&&` → and, `||` → or, `!x` → not x (`!=` stays). Returns the
 * translated text and, per offset in it, the offset in the original, so parse errors point into what was typed.
 */
function fromCOperators(text: string, verbatim: readonly string[] = []): { text: string; origin: number[] } {
  let out = '';
  const origin: number[] = [];
  for (let i = 0; i < text.length; ) {
    const two = text.slice(i, i + 2);
    const k = verbatim.findIndex(
      (n) => text.startsWith(n, i) && !/[\w.]/.test(text[i - 1] ?? ' ') && !/\w/.test(text[i + n.length] ?? ' '),
    );
    const [word, len] =
      k >= 0
        ? [`${VERBATIM}${k}`, verbatim[k].length]
        : two === '&&'
          ? [' and ', 2]
          : two === '||'
            ? [' or ', 2]
            : text[i] === '!' && text[i + 1] !== '='
              ? [' not ', 1]
              : [text[i], 1];
    for (const c of word) {
      out += c;
      origin.push(i);
    }
    i += len;
  }
  origin.push(text.length);
  return { text: out, origin };
}

/** Prefix of the stand-in symbol for a branch name mathjs cannot read as one (`P3.Px`, `ArrayI16[10]`). */
const VERBATIM = 'RistrettoVerbatimName';

/** Options of {@link parseExpr}. */
export interface ParseOptions {
  /**
   * Branch names to read as written although they are not identifiers (`P3.Px`, `ArrayI16[10]`, as
   * `ristretto ls` lists them), e.g. every name of the reader's `branches()`; the others are ignored.
   */
  names?: readonly string[];
}

/**
 * Thrown for text that does not parse or names something the events do not have. `position` is the 0-based
 * offset of the offending token in `text` when it is known (for a caret under it).
 */
export class ExpressionError extends InvalidArgumentError {
  readonly text: string;
  readonly position: number | undefined;
  constructor(message: string, text: string, hint: string, position?: number, cause?: unknown) {
    super(message, { text, position }, hint);
    this.text = text;
    this.position = position;
    if (cause !== undefined) (this as { cause?: unknown }).cause = cause;
  }
}

/** The text with a caret line under offset `position` (for error messages of one-line expressions). */
export function caretLine(text: string, position: number): string {
  return `  ${text}\n  ${' '.repeat(Math.max(0, Math.min(position, text.length)))}^`;
}

/** Offset of the first whole-word occurrence of `name` in `text` (-1 if absent). */
function tokenAt(text: string, name: string): number {
  const re = new RegExp(`(?<![\\w.])${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?!\\w)`);
  const m = re.exec(text);
  return m ? m.index : -1;
}

/** Where the fields of a collection came from, so `Muon_pt[0]` can pick the first muon's pt. */
const fieldOrigin = new WeakMap<Expr, { objects: Objects; field: string }>();

/**
 * Builds the expression `text` over the events `ev` (from `fused(events)`).
 *
 * @example
 * ```ts
 * const ev = fused(events);
 * const ht = parseExpr('sum(Jet.pt[Jet.pt > 30])', ev);   // same loop as ev.Jet.where((j) => j.pt.gt(30)).sum((j) => j.pt)
 * out.ht.fill(compute(ht));
 * ```
 */
export function parseExpr(text: string, ev: FusedEvents, opts: ParseOptions = {}): Expr {
  let tree: MathNode;
  // longest first, so `P3.Px` is not read as `P3` followed by `.Px`
  const verbatim = (opts.names ?? [])
    .filter((n) => !/^[A-Za-z_]\w*$/.test(n) && text.includes(n))
    .sort((a, b) => b.length - a.length);
  const c = fromCOperators(text, verbatim);
  try {
    tree = parse(c.text);
  } catch (e) {
    // mathjs reports the offset as "(char N)", 1-based, in the translated text.
    const m = /\(char (\d+)\)/.exec((e as Error).message);
    const position = m ? c.origin[Math.min(c.origin.length - 1, Math.max(0, Number(m[1]) - 1))] : undefined;
    const why = (e as Error).message.replace(/\s*\(char \d+\)/, position !== undefined ? ` at offset ${position}` : '');
    throw new ExpressionError(
      `cannot parse '${text}': ${why}`,
      text,
      'Write mathjs syntax, e.g. sum(Jet.pt[Jet.pt > 30]) (and/or/not or &&/||/!).',
      position,
      e,
    );
  }
  const v = build(tree, text, verbatim.length ? verbatimEvents(ev, verbatim) : ev);
  if (v instanceof Expr) return v;
  if (typeof v === 'number')
    throw new ExpressionError(`'${text}' is a constant`, text, 'Refer to at least one column.');
  throw new ExpressionError(
    `'${text}' is a collection or record, not a value`,
    text,
    'Pick a field (Jet.pt) or reduce it (count(Jet)).',
  );
}

/** `ev` where the stand-in symbols read the verbatim names they stand for. */
function verbatimEvents(ev: FusedEvents, names: readonly string[]): FusedEvents {
  return new Proxy(ev, {
    get(target, prop, receiver) {
      if (typeof prop === 'string' && prop.startsWith(VERBATIM)) {
        const name = names[Number(prop.slice(VERBATIM.length))];
        if (name !== undefined) return Reflect.get(target, name, receiver);
      }
      return Reflect.get(target, prop, receiver);
    },
  });
}

function fail(text: string, what: string, token?: string): never {
  const at = token === undefined ? -1 : tokenAt(text, token);
  throw new ExpressionError(
    `in '${text}': ${what}`,
    text,
    'Known: entries of the events, .field, Collection_field, x[cond], x[k], + - * / ^, comparisons, and/or/not, sum count any all min max, abs sqrt exp log sin cos sinh cosh, deltaPhi.',
    at >= 0 ? at : undefined,
  );
}

/** `ev[name]`, or for a NanoAOD branch name `Jet_pt` the field `pt` of `ev.Jet`; the first lookup's error otherwise. */
function resolveName(name: string, text: string, ev: FusedEvents): Value {
  let first: unknown;
  try {
    const v = (ev as Record<string, unknown>)[name];
    if (v !== undefined) return v as Value;
  } catch (e) {
    first = e;
  }
  const cut = name.indexOf('_');
  if (cut > 0 && cut < name.length - 1) {
    const head = name.slice(0, cut);
    const field = name.slice(cut + 1);
    try {
      const parent = (ev as Record<string, unknown>)[head];
      if (parent instanceof LazyObjects) {
        const x = (parent as Objects).field(field);
        fieldOrigin.set(x, { objects: parent as Objects, field });
        return x;
      }
      if (typeof parent === 'object' && parent !== null && !(parent instanceof Expr)) {
        const x = (parent as Record<string, Value>)[field];
        if (x !== undefined) return x;
      }
    } catch {
      // fall through to the error of the whole name, which lists the closest branch names
    }
  }
  const at = tokenAt(text, name);
  const detail = first instanceof Error ? first.message : `no entry '${name}' in the events`;
  // an error that already says what to do (closest names, a string branch) keeps its own hint only
  const hinted = typeof (first as { hint?: unknown } | undefined)?.hint === 'string';
  throw new ExpressionError(
    `in '${text}': ${detail}`,
    text,
    hinted ? '' : 'Use a branch name (MET_pt, Jet_pt) or an entry and field (Jet.pt).',
    at >= 0 ? at : undefined,
    first,
  );
}

function asExpr(v: Value, text: string): ExprLike {
  if (v instanceof Expr || typeof v === 'number') return v;
  return fail(text, 'a collection is used where a value is needed');
}

function build(node: MathNode, text: string, ev: FusedEvents): Value {
  const n = node as MathNode & Record<string, unknown>;
  switch (node.type) {
    case 'ConstantNode': {
      const value = n.value;
      if (typeof value !== 'number') fail(text, `constant ${String(value)} is not a number`);
      return value;
    }
    case 'ParenthesisNode':
      return build(n.content as MathNode, text, ev);
    case 'SymbolNode': {
      return resolveName(n.name as string, text, ev);
    }
    case 'AccessorNode': {
      const object = build(n.object as MathNode, text, ev);
      const index = n.index as MathNode & { dotNotation: boolean; dimensions: MathNode[] };
      if (index.dotNotation) {
        const name = (index.dimensions[0] as MathNode & { value: unknown }).value as string;
        if (object instanceof LazyObjects) {
          let x: Expr;
          try {
            x = (object as Objects).field(name);
          } catch (e) {
            const at = tokenAt(text, name);
            throw new ExpressionError(
              `in '${text}': ${(e as Error).message}`,
              text,
              'Use a field the collection has.',
              at >= 0 ? at : undefined,
              e,
            );
          }
          fieldOrigin.set(x, { objects: object as Objects, field: name });
          return x;
        }
        if (typeof object === 'object' && object !== null && !(object instanceof Expr)) {
          const x = (object as Record<string, Value>)[name];
          if (x === undefined) fail(text, `no field '${name}'`, name);
          return x;
        }
        return fail(text, `.${name} of something that has no fields`, name);
      }
      if (index.dimensions.length !== 1) fail(text, 'a filter takes one condition: x[cond]');
      const dim = index.dimensions[0] as MathNode & { value?: unknown };
      if (dim.type === 'ConstantNode' && typeof dim.value === 'number') {
        // x[k]: the k-th object's value (0-based, as TTree::Draw); events with fewer objects give nothing.
        const k = dim.value;
        const origin = object instanceof Expr ? fieldOrigin.get(object) : undefined;
        if (!origin || !Number.isInteger(k) || k < 0)
          return fail(text, `[${String(k)}]: an index needs a collection's field (Muon_pt[0]) and an integer ≥ 0`);
        const { objects, field } = origin;
        return objects
          .where((o) => o.index.eq(k))
          .argmin((o) => o.index)
          .get((o) => o.field(field));
      }
      const cond = asExpr(build(index.dimensions[0], text, ev), text);
      if (object instanceof LazyObjects) return (object as Objects).where(cond);
      if (object instanceof Expr) return object.where(cond);
      return fail(text, 'only collections and values can be filtered');
    }
    case 'OperatorNode': {
      const fn = n.fn as string;
      const args = (n.args as MathNode[]).map((a) => build(a, text, ev));
      if (args.length === 1) {
        const a = args[0];
        if (fn === 'unaryMinus') return typeof a === 'number' ? -a : (asExpr(a, text) as Expr).neg();
        if (fn === 'unaryPlus') return a;
        if (fn === 'not' && a instanceof Expr) return a.not();
        return fail(text, `operator ${n.op as string} on this operand`);
      }
      const f = BINARY[fn];
      if (!f || args.length !== 2) return fail(text, `operator ${n.op as string}`);
      const a = asExpr(args[0], text);
      const b = asExpr(args[1], text);
      if (typeof a === 'number' && typeof b === 'number') fail(text, 'an operation on two constants');
      // A constant on the left stays on the left (2 - x is not -x + 2 in floating point).
      return f(typeof a === 'number' ? new Expr(constant(a)) : a, b);
    }
    case 'FunctionNode': {
      const name = (n.fn as MathNode & { name: string }).name;
      const args = (n.args as MathNode[]).map((a) => build(a, text, ev));
      if ((REDUCTIONS as readonly string[]).includes(name)) {
        if (args.length !== 1) fail(text, `${name}() takes one argument`);
        const x = args[0];
        if (x instanceof LazyObjects) {
          if (name === 'count') return (x as Objects).count();
          return fail(text, `${name}() of a collection: pick a field, e.g. ${name}(Jet.pt)`);
        }
        if (x instanceof Expr) return x[name as (typeof REDUCTIONS)[number]]();
        return fail(text, `${name}() of a constant`);
      }
      if ((UNARY as readonly string[]).includes(name)) {
        if (args.length !== 1) fail(text, `${name}() takes one argument`);
        const x = asExpr(args[0], text);
        if (typeof x === 'number') return fail(text, `${name}() of a constant`);
        return x[name as (typeof UNARY)[number]]();
      }
      if (name === 'deltaPhi' && args.length === 2) return deltaPhi(asExpr(args[0], text), asExpr(args[1], text));
      return fail(text, `unknown function ${name}()`, name);
    }
    default:
      return fail(text, `unsupported syntax (${node.type})`);
  }
}
