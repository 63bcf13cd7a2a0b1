/**
 * `instanceof` that holds across copies of Ristretto's modules. A processor runs from its bundle, which
 * carries its own copy of the library's classes, while the runner decodes and merges results with its
 * copy: without a brand, `acc.mass instanceof Hist` in a user's postprocess is false for the histogram
 * the runner hands over. A branded class marks its prototype with a registry symbol (`Symbol.for`, the
 * same in every copy and thread) and answers `instanceof` by that mark.
 */

const plainInstanceOf = Function.prototype[Symbol.hasInstance];

/**
 * Make `x instanceof cls` true for instances made by any copy of `cls` (same `name`), including those of
 * its subclasses. A subclass that is not branded itself keeps the plain test.
 *
 * @example
 * ```ts
 * class Counter { n = 0; }
 * brandClass(Counter, 'example.Counter');
 * // true also for a Counter built by another bundle's copy of this module
 * new Counter() instanceof Counter;
 * ```
 */
// biome-ignore lint/suspicious/noExplicitAny: any constructor signature, abstract ones included
export function brandClass(cls: abstract new (...args: any[]) => unknown, name: string): void {
  const brand = Symbol.for(`ristretto.brand.${name}`);
  Object.defineProperty(cls.prototype, brand, { value: true });
  Object.defineProperty(cls, Symbol.hasInstance, {
    value(this: unknown, x: unknown): boolean {
      if (this !== cls) return plainInstanceOf.call(this, x); // an unbranded subclass, asked through inheritance
      return (
        (typeof x === 'object' || typeof x === 'function') &&
        x !== null &&
        (x as Record<symbol, unknown>)[brand] === true
      );
    },
  });
}
