/**
 * Errors raised by the accumulate module. Each carries the key path or byte position where it happened,
 * so a failed merge of a deeply nested output can be traced to the one mismatched entry.
 */
import { RistrettoError } from '../errors/index.ts';

/** Base of every error raised under `src/accumulate`. */
export class AccumulateError extends RistrettoError {}

/** Two accumulators could not be merged (mismatched types, unequal strings, an Addable's own failure). */
export class MergeError extends AccumulateError {}

/** A value could not be encoded, or bytes could not be decoded, by the binary accumulator codec. */
export class CodecError extends AccumulateError {}

/** A binary type tag has no registered decoder on this side. */
export class UnknownBinaryTypeError extends CodecError {}

/** Misuse of `PackedSelection` (unknown name, wrong mask length, too many selections). */
export class SelectionError extends AccumulateError {}

/** Misuse of `Weights` (unknown variation, wrong array length, duplicate name). */
export class WeightsError extends AccumulateError {}

/** Render a key path the way error messages show it: `"muons/pt"`, or `top level` for the root. */
export function formatPath(path: readonly (string | number)[]): string {
  return path.length === 0 ? 'top level' : JSON.stringify(path.join('/'));
}

/** The names in `known` closest to `name` (edit distance), best first, for "not found" messages. */
export function closestNames(name: string, known: Iterable<string>, limit = 3): string[] {
  const scored: { n: string; d: number }[] = [];
  for (const n of known) scored.push({ n, d: editDistance(name.toLowerCase(), n.toLowerCase()) });
  scored.sort((x, y) => x.d - y.d || (x.n < y.n ? -1 : 1));
  return scored.slice(0, limit).map((s) => s.n);
}

function editDistance(a: string, b: string): number {
  let prev = new Array<number>(b.length + 1);
  let cur = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1;
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[b.length]!;
}
