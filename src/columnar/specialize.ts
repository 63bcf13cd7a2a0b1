/**
 * Per-dtype copies of hot loops, so that every loop stays monomorphic.
 *
 * Why: V8 keeps type feedback per function. A loop that has read Float32, Int32, Uint8 and Float64 arrays (as
 * any real process does: readers hand out all of them) turns megamorphic, and every element access then goes
 * through a generic stub: 3–6× slower per element in `bench/kernels.ts`. Each copy made here is compiled anew
 * from the loop's source, so it has its own feedback and only ever sees the dtypes of its key.
 *
 * A loop given to {@link perDtype} must be self-contained: it may use only its parameters and JS globals (Math,
 * NaN), and must not define nested functions (the TypeScript loader wraps those in a helper the copy cannot see).
 * Loops report problems by return value; the caller throws the typed error.
 */

/** The array-like arguments that decide which copy runs; their constructors form the key. */
type KeyPart = ArrayLike<number>;

/**
 * Returns a chooser that hands out one copy of `loop` per combination of the constructors of the arrays it is
 * given (compiled on first use, then cached). Call the chooser once per kernel call, never per element.
 *
 * @example
 * ```ts
 * const copyLoop = perDtype(function copy(src: NumericArray, out: NumericArray, n: number): void { ... });
 * copyLoop(src, out)(src, out, n);
 * ```
 */
export function perDtype<F extends (...args: never[]) => unknown>(loop: F): (...arrays: KeyPart[]) => F {
  const body = loop.toString();
  const copies = new Map<string, F>();
  return (...arrays) => {
    let key = '';
    for (let i = 0; i < arrays.length; i++) key += `${(arrays[i] as object).constructor.name},`;
    let copy = copies.get(key);
    if (copy === undefined) {
      // The key goes into the source: V8 caches compiled code (and its feedback) by source text, so copies
      // compiled from identical strings would share one feedback vector again.
      copy = compile<F>(`"use strict"; /* ${key} */ return (${body});`) ?? loop;
      copies.set(key, copy);
    }
    return copy;
  };
}

function compile<F>(source: string): F | undefined {
  try {
    return new Function(source)() as F;
  } catch {
    // Code generation disallowed (--disallow-code-generation-from-strings): the shared loop is still correct.
    return undefined;
  }
}
