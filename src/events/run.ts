/**
 * Running a processor over a chunk with lazily loaded columns.
 *
 * Processors read columns synchronously (`events.Muon.pt`) while readers are async. `runOnEvents` bridges
 * the two by re-running: it calls the processor, and when the processor touches an unloaded branch the
 * events object throws the `ColumnNotLoaded` signal; the branch is then read and the processor run again
 * from scratch. The branches found this way are returned (`columnsRead`) so a runner can pass them as
 * `prefetch` for the next chunks of the same processor, where one pass suffices.
 */
import type { EventReader } from '../io/reader.ts';
import { InvalidEntryRange, TooManyPasses } from './errors.ts';
import { nanoSchemaOf } from './nanoaod.ts';
import { ColumnStore } from './store.ts';
import type { Events } from './types.ts';
import { createEventsView } from './view.ts';

export interface RunOptions {
  /** Branches to read before the first pass (typically `columnsRead` of an earlier chunk). Names the file lacks are ignored. */
  prefetch?: Iterable<string>;
  /** Give up after this many processor passes (default 64). */
  maxPasses?: number;
}

export interface RunResult<R> {
  /** What the processor returned on its final, complete pass. */
  result: R;
  /** Every branch read for this chunk, sorted (prefetched and discovered). */
  columnsRead: string[];
  /** Branches the final pass actually touched, sorted; a subset of `columnsRead` (a tighter prefetch). */
  columnsAccessed: string[];
  /** Growth of `reader.bytesRead` during the call (shared readers used concurrently inflate it). */
  bytesRead: number;
  /** Number of times the processor was called. */
  passes: number;
}

/** Default cap on processor passes; a processor touching more distinct branches needs `prefetch`. */
export const DEFAULT_MAX_PASSES = 64;

/**
 * Call `fn` on the events of `[entryStart, entryStop)`, loading the columns it touches.
 *
 * `fn` may be called several times on the same chunk, so it must be a pure function of `events`: build
 * and return a fresh accumulator each call, and have no outside side effects (no filling of a shared
 * histogram, no logging you rely on). Do not keep `events` beyond the call and do not catch errors from
 * column access without rethrowing (a swallowed load signal is detected and costs an extra pass).
 * Errors `fn` throws for its own reasons are rethrown untouched.
 */
export async function runOnEvents<R>(
  reader: EventReader,
  entryStart: number,
  entryStop: number,
  fn: (events: Events) => R | Promise<R>,
  opts: RunOptions = {},
): Promise<RunResult<R>> {
  if (!Number.isInteger(entryStart) || !Number.isInteger(entryStop) || entryStart < 0 || entryStop < entryStart || entryStop > reader.numEntries) {
    throw new InvalidEntryRange(entryStart, entryStop, reader.numEntries, reader.path);
  }
  const maxPasses = opts.maxPasses ?? DEFAULT_MAX_PASSES;
  const schema = nanoSchemaOf(reader);
  const store = new ColumnStore(reader, entryStart, entryStop);
  const bytesBefore = reader.bytesRead;

  if (opts.prefetch) await store.load([...opts.prefetch].filter((n) => schema.branches.has(n)));
  const events = createEventsView(schema, store);

  for (let pass = 1; ; pass++) {
    store.beginPass();
    let outcome: { ok: true; value: R } | { ok: false; error: unknown };
    try {
      outcome = { ok: true, value: await fn(events) };
    } catch (error) {
      outcome = { ok: false, error };
    }
    const missing = store.missingThisPass();
    if (missing.length === 0) {
      if (!outcome.ok) throw outcome.error;
      return {
        result: outcome.value,
        columnsRead: store.loadedNames(),
        columnsAccessed: store.accessedThisPass(),
        bytesRead: reader.bytesRead - bytesBefore,
        passes: pass,
      };
    }
    // A pass that hit an unloaded column is void whatever it returned or threw (the processor may have
    // caught the signal, or failed because of it).
    if (pass >= maxPasses) throw new TooManyPasses(pass, reader.path, reader.treeName, store.loadedNames(), missing);
    await store.load(missing);
  }
}
