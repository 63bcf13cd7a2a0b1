/**
 * How many finished chunks a run would lose if it ended now: those whose results came in since the last
 * checkpoint was written (or since the checkpoint it resumed from). The CLI says so when a second Ctrl-C
 * quits without waiting for the checkpoint.
 */
import type { RunHooks } from './run.ts';

/** A run's hooks that also count the chunks finished since the last checkpoint. */
export interface UnsavedChunks<H extends RunHooks> {
  /** `hooks`, unchanged in what they do, with the counting added. */
  readonly hooks: H;
  /** Finished chunks not in a written checkpoint yet (0 before the run reports any progress). */
  unsaved(): number;
}

/**
 * Wrap `hooks` to count finished chunks that no checkpoint holds.
 *
 * @example
 * ```ts
 * import { countUnsavedChunks } from './unsaved-chunks.ts';
 * const tally = countUnsavedChunks(progressReporter({}));
 * runAnalysis({ …, hooks: tally.hooks });
 * // later: `${tally.unsaved()} finished chunks will run again`
 * ```
 */
export function countUnsavedChunks<H extends RunHooks>(hooks: H): UnsavedChunks<H> {
  let finished = 0;
  let saved = 0;
  let started = false;
  const wrapped = new Proxy(hooks, {
    get(target, prop) {
      if (prop === 'onProgress')
        return (p: Parameters<NonNullable<RunHooks['onProgress']>>[0]) => {
          // The first report carries what a resumed checkpoint held: those chunks are saved.
          if (!started) saved = p.resumed;
          started = true;
          finished = p.done;
          target.onProgress?.(p);
        };
      if (prop === 'onCheckpoint')
        return (done: number, total: number) => {
          saved = done;
          target.onCheckpoint?.(done, total);
        };
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  return { hooks: wrapped, unsaved: () => Math.max(0, finished - saved) };
}
