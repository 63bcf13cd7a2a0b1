/** Columns as plain per-event JS values, for comparisons written as simple loops (independent of the readers). */
import type { Column } from '../../src/io/reader.ts';

/**
 * One entry per event: a number for a flat column, an array of numbers for a jagged one. Read through
 * the offsets, so views (offsets[0] > 0) and rebased copies compare equal.
 */
export function columnEvents(c: Column): (number | number[])[] {
  if (!('offsets' in c)) return Array.from(c as ArrayLike<number>);
  const out: number[][] = [];
  for (let i = 0; i + 1 < c.offsets.length; i++)
    out.push(Array.from(c.content.subarray(c.offsets[i], c.offsets[i + 1])));
  return out;
}
