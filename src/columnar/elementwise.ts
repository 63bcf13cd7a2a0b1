/**
 * Machinery of the element-wise kernels (math, comparisons, masks): broadcasting rules and loop generation.
 *
 * Broadcasting: an operand is a scalar, a flat column (one value per event) or a jagged column. Two jagged
 * operands must have the same list lengths; a flat operand is repeated over the elements of its event; a scalar
 * over everything. The result is jagged (sharing the jagged operand's offsets) if any operand is jagged.
 *
 * Why loops are generated: a loop that calls `op(a, b)` through a parameter is shared by every operation, so V8
 * sees many targets at that call site and stops inlining (measured ~4× slower per element). Each operation gets
 * its own loops, built once at module load from a fixed expression written in this library (never user input),
 * so every loop has its own type feedback and the operation is inlined. For the same reason each operation
 * compiles its loops again for every combination of operand dtypes it meets (on first use): a loop that has read
 * Float32, Int32 and Float64 arrays turns megamorphic and every element access goes through a generic stub.
 */
import type { Jagged, NumericArray } from './types.ts';
import type { NumericArrayConstructor } from './shape.ts';
import { checkFlat, checkJagged, checkSameOffsets, isFlat, isJagged } from './shape.ts';
import { InvalidArgumentError } from './errors.ts';

/** What an element-wise kernel accepts: a scalar, a flat column or a jagged column. */
export type Operand = number | NumericArray | Jagged;

/** Result shape of a binary kernel: jagged if either operand is jagged, flat otherwise (two scalars: not allowed). */
export type BinaryResult<A, B, T extends NumericArray> = A extends Jagged
  ? Jagged<T>
  : B extends Jagged
    ? Jagged<T>
    : A extends number
      ? B extends number
        ? never
        : T
      : T;

/** Result shape of a unary kernel: same shape as the operand. */
export type UnaryResult<A, T extends NumericArray> = A extends Jagged ? Jagged<T> : T;

/** A binary element-wise kernel with broadcasting. */
export type BinaryKernel<T extends NumericArray> = <A extends Operand, B extends Operand>(
  a: A,
  b: B,
) => BinaryResult<A, B, T>;

/** A unary element-wise kernel. */
export type UnaryKernel<T extends NumericArray> = <A extends NumericArray | Jagged>(a: A) => UnaryResult<A, T>;

type Arr = ArrayLike<number> & { [i: number]: number };

interface BinaryLoops {
  /** Elements `start..end` of two same-shape arrays. */
  vv(A: Arr, B: Arr, out: Arr, start: number, end: number): void;
  vs(A: Arr, b: number, out: Arr, start: number, end: number): void;
  sv(a: number, B: Arr, out: Arr, start: number, end: number): void;
  /** A per element, B per event. */
  jf(offsets: Int32Array, A: Arr, B: Arr, out: Arr, n: number): void;
  /** A per event, B per element. */
  fj(offsets: Int32Array, A: Arr, B: Arr, out: Arr, n: number): void;
}

interface UnaryLoops {
  v(A: Arr, out: Arr, start: number, end: number): void;
}

/** Pure scalar functions an expression may call by name (e.g. a phi wrap), bound once per kernel. */
export type Helpers = Readonly<Record<string, (...args: number[]) => number>>;

function prelude(helpers: Helpers): string {
  return Object.keys(helpers)
    .map((k) => `const ${k} = helpers.${k};`)
    .join('\n');
}

function generateBinaryLoops(name: string, expr: string, helpers: Helpers, key: string): BinaryLoops {
  const src = `"use strict"; /* ${key} */
${prelude(helpers)}
return {
  vv: function ${name}_vv(A, B, out, start, end) { for (let i = start; i < end; i++) { const a = A[i], b = B[i]; out[i] = ${expr}; } },
  vs: function ${name}_vs(A, b, out, start, end) { for (let i = start; i < end; i++) { const a = A[i]; out[i] = ${expr}; } },
  sv: function ${name}_sv(a, B, out, start, end) { for (let i = start; i < end; i++) { const b = B[i]; out[i] = ${expr}; } },
  jf: function ${name}_jf(offsets, A, B, out, n) {
    let lo = offsets[0];
    for (let e = 0; e < n; e++) { const hi = offsets[e + 1], b = B[e]; for (let i = lo; i < hi; i++) { const a = A[i]; out[i] = ${expr}; } lo = hi; }
  },
  fj: function ${name}_fj(offsets, A, B, out, n) {
    let lo = offsets[0];
    for (let e = 0; e < n; e++) { const hi = offsets[e + 1], a = A[e]; for (let i = lo; i < hi; i++) { const b = B[i]; out[i] = ${expr}; } lo = hi; }
  },
};`;
  return new Function('helpers', src)(helpers) as BinaryLoops;
}

function generateUnaryLoops(name: string, expr: string, helpers: Helpers, key: string): UnaryLoops {
  const src = `"use strict"; /* ${key} */
${prelude(helpers)}
return { v: function ${name}_v(A, out, start, end) { for (let i = start; i < end; i++) { const a = A[i]; out[i] = ${expr}; } } };`;
  return new Function('helpers', src)(helpers) as UnaryLoops;
}

/** Loops of one operation, compiled once per combination of operand dtypes (a scalar counts as a dtype). */
function loopsPerDtype<L>(generate: (key: string) => L): (a: unknown, b?: unknown) => L {
  const copies = new Map<string, L>();
  return (a, b) => {
    const key = `${dtypeKey(a)},${dtypeKey(b)}`;
    let loops = copies.get(key);
    if (loops === undefined) {
      // The key is written into the source: V8 caches compiled code (with its feedback) by source text.
      loops = generate(key);
      copies.set(key, loops);
    }
    return loops;
  };
}

function dtypeKey(x: unknown): string {
  return typeof x === 'object' && x !== null ? (x as object).constructor.name : typeof x;
}

function describe(x: unknown): string {
  if (typeof x === 'object' && x !== null && 'fields' in x) return 'a collection (pick one of its fields)';
  if (typeof x === 'object' && x !== null && 'i0' in x) return 'combinations (gather a field with gather() first)';
  return typeof x;
}

function badOperand(operation: string, which: string, x: unknown): InvalidArgumentError {
  return new InvalidArgumentError(
    `${operation}: ${which} operand must be a number, a typed array or a jagged column, got ${describe(x)}`,
    { operation, which },
    'Pass a flat column (typed array), a jagged column ({offsets, content}) or a scalar.',
  );
}

/**
 * Builds a binary kernel from a JS expression in `a` and `b` (a fixed string of this library), writing into a
 * new array of `Out`.
 */
export function binaryKernel<T extends NumericArray>(
  name: string,
  expr: string,
  Out: NumericArrayConstructor<T>,
  helpers: Helpers = {},
): BinaryKernel<T> {
  const loopsFor = loopsPerDtype((key) => generateBinaryLoops(name, expr, helpers, key));
  function kernel(a: Operand, b: Operand): T | Jagged<T> {
    // Keyed by the arrays the loop reads (jagged content or flat column), chosen once per call.
    const loops = loopsFor(isJagged(a) ? a.content : a, isJagged(b) ? b.content : b);
    if (isJagged(a)) {
      const n = checkJagged(name, 'first operand', a);
      const { offsets } = a;
      const lo = offsets[0];
      const hi = offsets[n];
      const out = new Out(hi);
      if (typeof b === 'number') loops.vs(a.content, b, out, lo, hi);
      else if (isJagged(b)) {
        checkSameOffsets(name, offsets, b.offsets);
        checkJagged(name, 'second operand', b);
        loops.vv(a.content, b.content, out, lo, hi);
      } else if (isFlat(b)) {
        checkFlat(name, 'second operand (event-level)', b, n);
        loops.jf(offsets, a.content, b, out, n);
      } else throw badOperand(name, 'second', b);
      return { offsets, content: out };
    }
    if (isFlat(a)) {
      if (typeof b === 'number') {
        const out = new Out(a.length);
        loops.vs(a, b, out, 0, a.length);
        return out;
      }
      if (isJagged(b)) {
        const n = checkJagged(name, 'second operand', b);
        checkFlat(name, 'first operand (event-level)', a, n);
        const out = new Out(b.offsets[n]);
        loops.fj(b.offsets, a, b.content, out, n);
        return { offsets: b.offsets, content: out };
      }
      if (isFlat(b)) {
        checkFlat(name, 'second operand', b, a.length);
        const out = new Out(a.length);
        loops.vv(a, b, out, 0, a.length);
        return out;
      }
      throw badOperand(name, 'second', b);
    }
    if (typeof a === 'number') {
      if (isJagged(b)) {
        const n = checkJagged(name, 'second operand', b);
        const out = new Out(b.offsets[n]);
        loops.sv(a, b.content, out, b.offsets[0], b.offsets[n]);
        return { offsets: b.offsets, content: out };
      }
      if (isFlat(b)) {
        const out = new Out(b.length);
        loops.sv(a, b, out, 0, b.length);
        return out;
      }
      if (typeof b === 'number') {
        throw new InvalidArgumentError(
          `${name}: both operands are scalars`,
          { operation: name },
          'Compute scalar expressions in plain JavaScript; pass at least one column.',
        );
      }
      throw badOperand(name, 'second', b);
    }
    throw badOperand(name, 'first', a);
  }
  Object.defineProperty(kernel, 'name', { value: name });
  return kernel as BinaryKernel<T>;
}

/** Builds a unary kernel from a JS expression in `a` (a fixed string of this library). */
export function unaryKernel<T extends NumericArray>(
  name: string,
  expr: string,
  Out: NumericArrayConstructor<T>,
  helpers: Helpers = {},
): UnaryKernel<T> {
  const loopsFor = loopsPerDtype((key) => generateUnaryLoops(name, expr, helpers, key));
  function kernel(a: NumericArray | Jagged): T | Jagged<T> {
    const loops = loopsFor(isJagged(a) ? a.content : a);
    if (isJagged(a)) {
      const n = checkJagged(name, 'operand', a);
      const out = new Out(a.offsets[n]);
      loops.v(a.content, out, a.offsets[0], a.offsets[n]);
      return { offsets: a.offsets, content: out };
    }
    if (isFlat(a)) {
      const out = new Out(a.length);
      loops.v(a, out, 0, a.length);
      return out;
    }
    throw badOperand(name, 'the', a);
  }
  Object.defineProperty(kernel, 'name', { value: name });
  return kernel as UnaryKernel<T>;
}
