/**
 * The processor contract. A processor module default-exports an object (or a class with a no-argument
 * constructor) built with `defineProcessor`, so that a wrong shape is a compile error:
 *
 * @example
 * ```ts
 * import { defineProcessor, Hist, Regular } from 'ristretto';
 *
 * export default defineProcessor({
 *   accumulator: () => ({ met: new Hist(new Regular(50, 0, 200, { name: 'met' })), n: 0 }),
 *   process(events, ctx) {
 *     const out = this.accumulator();
 *     out.met.fill(events.MET.pt);
 *     out.n += events.numEvents;
 *     return out;
 *   },
 * });
 * ```
 *
 * `process` runs exactly once per chunk and returns that chunk's accumulator (start from
 * `this.accumulator()`); Ristretto merges them. Printing, counting and other side effects are fine.
 */
import type { Events } from '../events/index.ts';

/** Where the events of one call come from. */
export interface ProcessContext {
  readonly dataset: string;
  /** Absolute path or URL. */
  readonly file: string;
  readonly tree: string;
  readonly entryStart: number;
  readonly entryStop: number;
  /** The dataset's `metadata` object from the dataset JSON (empty when none was given). */
  readonly metadata: Readonly<Record<string, unknown>>;
}

/** A processor over accumulators of type `A` (anything `accumulate` can merge: numbers, objects, Maps, Hist...). */
export interface Processor<A> {
  /** A fresh, empty accumulator; the run starts from it and merges every chunk's result into it. */
  accumulator(): A;
  /** Process one chunk of events and return its accumulator. */
  process(events: Events, ctx: ProcessContext): A | Promise<A>;
  /** Optional final step on the merged accumulator (scaling, derived quantities); return a replacement or mutate in place. */
  // biome-ignore lint/suspicious/noConfusingVoidType: a postprocess that mutates in place and returns nothing must type-check
  postprocess?(acc: A): A | void | Promise<A | void>;
}

/**
 * What `defineProcessor` accepts: a Processor whose accumulator type is inferred from `accumulator()`
 * alone (NoInfer elsewhere), so `process` returning another shape is reported at `process`.
 */
export interface ProcessorDefinition<A> {
  accumulator(): A;
  process(events: Events, ctx: ProcessContext): NoInfer<A> | Promise<NoInfer<A>>;
  // biome-ignore lint/suspicious/noConfusingVoidType: as in Processor, a mutate-in-place postprocess returns nothing
  postprocess?(acc: NoInfer<A>): NoInfer<A> | void | Promise<NoInfer<A> | void>;
}

/** Identity helper whose only job is type checking: `A` is inferred from `accumulator()`. */
export function defineProcessor<A>(p: ProcessorDefinition<A> & ThisType<Processor<A>>): Processor<A> {
  return p;
}
