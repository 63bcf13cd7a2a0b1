/**
 * Expressions written as text (`'sum(Jet.pt[Jet.pt > 30])'`), parsed with mathjs and built into the same graph
 * as the method API, so a string and the equivalent method chain compile to the same loop. This is the
 * groundwork of `events.define(name, text)` (RDataFrame's `Define`).
 *
 * Grammar (mathjs syntax): numbers; names of the events' entries (`Jet`, `MET`); `.field`; `x[condition]`
 * (a filter); `+ - * / ^`, unary `-`; `< <= > >= == !=`; `and or not`; and the functions `sum count any all min
 * max` (over a collection's objects), `abs sqrt exp log sin cos sinh cosh`, `deltaPhi(a, b)`.
 */
import { parse, type MathNode } from 'mathjs';
import { InvalidArgumentError } from '../errors.ts';
import { constant } from './graph.ts';
import { deltaPhi, Expr, type ExprLike, type FusedEvents, LazyObjects, type Objects } from './api.ts';

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

/** Thrown for text that does not parse or names something the events do not have. */
export class ExpressionError extends InvalidArgumentError {}

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
export function parseExpr(text: string, ev: FusedEvents): Expr {
  let tree: MathNode;
  try {
    tree = parse(text);
  } catch (e) {
    throw new ExpressionError(`cannot parse '${text}': ${(e as Error).message}`, { text }, 'Write mathjs syntax, e.g. sum(Jet.pt[Jet.pt > 30]).');
  }
  const v = build(tree, text, ev);
  if (v instanceof Expr) return v;
  if (typeof v === 'number') throw new ExpressionError(`'${text}' is a constant`, { text }, 'Refer to at least one column.');
  throw new ExpressionError(`'${text}' is a collection or record, not a value`, { text }, 'Pick a field (Jet.pt) or reduce it (count(Jet)).');
}

function fail(text: string, what: string): never {
  throw new ExpressionError(`in '${text}': ${what}`, { text }, 'Known: entries of the events, .field, x[cond], + - * / ^, comparisons, and/or/not, sum count any all min max, abs sqrt exp log sin cos sinh cosh, deltaPhi.');
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
      const name = n.name as string;
      const v = (ev as Record<string, unknown>)[name];
      if (v === undefined) fail(text, `no entry '${name}' in the events`);
      return v as Value;
    }
    case 'AccessorNode': {
      const object = build(n.object as MathNode, text, ev);
      const index = n.index as MathNode & { dotNotation: boolean; dimensions: MathNode[] };
      if (index.dotNotation) {
        const name = (index.dimensions[0] as MathNode & { value: unknown }).value as string;
        if (object instanceof LazyObjects) return (object as Objects).field(name);
        if (typeof object === 'object' && object !== null && !(object instanceof Expr)) return (object as Record<string, Value>)[name]!;
        return fail(text, `.${name} of something that has no fields`);
      }
      if (index.dimensions.length !== 1) fail(text, 'a filter takes one condition: x[cond]');
      const cond = asExpr(build(index.dimensions[0]!, text, ev), text);
      if (object instanceof LazyObjects) return (object as Objects).where(cond);
      if (object instanceof Expr) return object.where(cond);
      return fail(text, 'only collections and values can be filtered');
    }
    case 'OperatorNode': {
      const fn = n.fn as string;
      const args = (n.args as MathNode[]).map((a) => build(a, text, ev));
      if (args.length === 1) {
        const a = args[0]!;
        if (fn === 'unaryMinus') return typeof a === 'number' ? -a : (asExpr(a, text) as Expr).neg();
        if (fn === 'unaryPlus') return a;
        if (fn === 'not' && a instanceof Expr) return a.not();
        return fail(text, `operator ${n.op as string} on this operand`);
      }
      const f = BINARY[fn];
      if (!f || args.length !== 2) return fail(text, `operator ${n.op as string}`);
      const a = asExpr(args[0]!, text);
      const b = asExpr(args[1]!, text);
      if (typeof a === 'number' && typeof b === 'number') fail(text, 'an operation on two constants');
      // A constant on the left stays on the left (2 - x is not -x + 2 in floating point).
      return f(typeof a === 'number' ? new Expr(constant(a)) : a, b);
    }
    case 'FunctionNode': {
      const name = (n.fn as MathNode & { name: string }).name;
      const args = (n.args as MathNode[]).map((a) => build(a, text, ev));
      if ((REDUCTIONS as readonly string[]).includes(name)) {
        if (args.length !== 1) fail(text, `${name}() takes one argument`);
        const x = args[0]!;
        if (x instanceof LazyObjects) {
          if (name === 'count') return (x as Objects).count();
          return fail(text, `${name}() of a collection: pick a field, e.g. ${name}(Jet.pt)`);
        }
        if (x instanceof Expr) return x[name as (typeof REDUCTIONS)[number]]();
        return fail(text, `${name}() of a constant`);
      }
      if ((UNARY as readonly string[]).includes(name)) {
        if (args.length !== 1) fail(text, `${name}() takes one argument`);
        const x = asExpr(args[0]!, text);
        if (typeof x === 'number') return fail(text, `${name}() of a constant`);
        return x[name as (typeof UNARY)[number]]();
      }
      if (name === 'deltaPhi' && args.length === 2) return deltaPhi(asExpr(args[0]!, text), asExpr(args[1]!, text));
      return fail(text, `unknown function ${name}()`);
    }
    default:
      return fail(text, `unsupported syntax (${node.type})`);
  }
}
