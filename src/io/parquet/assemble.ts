/** Trimming and concatenation of per-row-group pieces into one column; views where no copy is needed. */
import { brokenInvariant } from '../../errors/index.ts';
import type { NumericArray } from '../../columnar/types.ts';
import type { Column } from '../reader.ts';
import type { DecodedChunk } from './chunk.ts';

/** Rows [a, b) of a decoded chunk; flat values are views, jagged offsets are rebased to start at 0. */
export function trimChunk(c: DecodedChunk, a: number, b: number): DecodedChunk {
  if (!c.offsets) return { values: c.values.subarray(a, b) };
  const o = c.offsets;
  const base = o[a];
  if (a === 0 && b === o.length - 1) return c;
  const offsets = new Int32Array(b - a + 1);
  for (let i = 0; i <= b - a; i++) offsets[i] = o[a + i] - base;
  // Content may be empty when only levels were decoded.
  const values = c.values.length ? c.values.subarray(base, o[b]) : c.values;
  return { offsets, values };
}

/** Join row-group pieces of one column. A single piece is returned as is. */
export function concatChunks(pieces: readonly DecodedChunk[], make: new (n: number) => NumericArray): DecodedChunk {
  if (pieces.length === 1) return pieces[0];
  let nValues = 0;
  let nRows = 0;
  for (const p of pieces) {
    nValues += p.values.length;
    nRows += p.offsets ? p.offsets.length - 1 : p.values.length;
  }
  const values = new make(nValues);
  let v = 0;
  for (const p of pieces) {
    values.set(p.values, v);
    v += p.values.length;
  }
  if (!pieces[0].offsets) return { values };
  const offsets = new Int32Array(nRows + 1);
  let r = 0;
  let base = 0;
  for (const p of pieces) {
    const o = p.offsets ?? brokenInvariant('a flat piece among the pieces of a jagged column');
    const first = o[0];
    for (let i = 0; i < o.length - 1; i++) offsets[r++] = o[i] - first + base;
    base += o[o.length - 1] - first;
  }
  offsets[nRows] = base;
  return { offsets, values };
}

/** Counts (Int32Array) from offsets. */
export function countsOf(offsets: Int32Array): Int32Array {
  const n = offsets.length - 1;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = offsets[i + 1] - offsets[i];
  return out;
}

export function sameOffsets(a: Int32Array, b: Int32Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The public column for a decoded chunk. */
export function toColumn(c: DecodedChunk): Column {
  return c.offsets ? { offsets: c.offsets, content: c.values } : c.values;
}
