/**
 * Merge groups: consecutive work items whose chunk results are summed together before the sum is added
 * to the run's total. They fix the order of every floating-point sum, so a weighted histogram comes out
 * bit for bit the same on every executor and worker count: the runner sums a group's chunk results
 * itself, a thread-pool worker sums the same items in the same order before sending one result (one
 * message, one encode and one decode per group instead of per chunk).
 *
 * The groups depend only on the list of work items (never on the executor, the worker count or timing),
 * so a resumed run cuts the rest of the list exactly as the first run did. Sizes follow guided
 * scheduling: large while much is left (few messages), shrinking to single items at the tail (workers
 * finish together). A group never spans two files: a file skipped with `--skipbadfiles` is dropped whole.
 */
import type { WorkItem } from '../dataset/chunking.ts';

/** At most this many items in one group: bounds the work one failure repeats, and the progress step. */
export const GROUP_MAX_ITEMS = 16;
/** A group takes at most 1/GROUP_SHARE of the items still left, so the tail holds many small groups. */
export const GROUP_SHARE = 8;

/**
 * The merge groups of `items` from `start` on, as `[first, end)` index pairs covering `[start, items.length)`
 * in order. The cuts are those of the whole list: a `start` inside a group (a checkpoint written before
 * groups existed) begins with the rest of that group.
 *
 * @example
 * ```ts
 * const groups = mergeGroups(plan.items);        // e.g. [[0, 16], [16, 32], …, [198, 199], [199, 200]]
 * const rest = mergeGroups(plan.items, done);    // after a checkpoint: the same cuts from `done` on
 * ```
 */
export function mergeGroups(items: readonly WorkItem[], start = 0): Array<readonly [number, number]> {
  const n = items.length;
  const out: Array<readonly [number, number]> = [];
  let i = 0;
  while (i < n) {
    let end = i + Math.max(1, Math.min(GROUP_MAX_ITEMS, Math.floor((n - i) / GROUP_SHARE)));
    if (end > n) end = n;
    // Stop at the first item of another file.
    for (let j = i + 1; j < end; j++) {
      if (!sameFile(items[j], items[i])) {
        end = j;
        break;
      }
    }
    if (end > start) out.push([Math.max(i, start), end]);
    i = end;
  }
  return out;
}

function sameFile(a: WorkItem, b: WorkItem): boolean {
  return a.dataset === b.dataset && a.file === b.file && a.tree === b.tree && a.fileId === b.fileId;
}

/**
 * Whether the group `[first, end)` of `total` items goes to an executor of `concurrency` slots as one batch,
 * or item by item. A batch saves a message and a codec round trip per item, but one worker runs all of it:
 * a group larger than half of a slot's share of the items still left would leave slots idle (64 sleep
 * chunks on 8 workers ran in 2.25 s instead of 1.6 with every group batched; bench/scaling/full.json).
 * Either way the sum has the same order, so results do not depend on this choice.
 *
 * @example
 * batchGroup(0, 16, 200, 2);   // true: 16 ≤ 200 / 4
 * batchGroup(0, 8, 64, 8);     // false: 8 > 64 / 16, run item by item
 */
export function batchGroup(first: number, end: number, total: number, concurrency: number): boolean {
  return end - first > 1 && end - first <= (total - first) / (2 * Math.max(1, concurrency));
}
