/** Turning NanoAOD per-event local indices (`Jet_muonIdx1`) into indices usable on a whole chunk. */
import type { Jagged, NumericArray } from '../columnar/types.ts';
import { LengthMismatchError } from '../columnar/errors.ts';

/**
 * Convert local indices into global indices of the target collection's content.
 *
 * `local` is a jagged index field of collection X (e.g. `Jet_muonIdx1`: for each jet, the position of its
 * muon within the same event's muons, −1 for none). `targetOffsets` are the offsets of collection Y (Muon)
 * over the same events. The result has one entry per element of `local.content`: the index into Y's
 * content (so `Muon_pt.content[g]` is the matched muon's pt), or −1 when the local index is negative or
 * not below the event's Y count (NanoAOD writes such stale indices after object cleaning).
 */
export function globalIndex(local: Jagged, targetOffsets: Int32Array): Int32Array {
  const off = local.offsets;
  const n = off.length - 1;
  if (targetOffsets.length - 1 !== n) {
    throw new LengthMismatchError(
      'globalIndex',
      'the target collection (events)',
      n,
      targetOffsets.length - 1,
      'the index field and its target collection must come from the same chunk of events',
    );
  }
  const idx: NumericArray = local.content;
  const out = new Int32Array(idx.length);
  if (n < 0) return out;
  // Elements outside [off[0], off[n]) belong to no event of this range; they must not look like matches.
  if (off[0] > 0 || off[n] < idx.length) out.fill(-1);
  for (let i = 0; i < n; i++) {
    const base = targetOffsets[i];
    const count = targetOffsets[i + 1] - base;
    const stop = off[i + 1];
    for (let j = off[i]; j < stop; j++) {
      const k = idx[j];
      out[j] = k >= 0 && k < count ? base + k : -1;
    }
  }
  return out;
}

/** Offsets (n+1, starting at 0) from per-event counts of any numeric type. */
export function offsetsFromCounts(counts: NumericArray): Int32Array {
  const out = new Int32Array(counts.length + 1);
  let acc = 0;
  for (let i = 0; i < counts.length; i++) {
    acc += counts[i];
    out[i + 1] = acc;
  }
  return out;
}

/** Per-event counts (Int32Array, n) from offsets (n+1). */
export function countsFromOffsets(offsets: Int32Array): Int32Array {
  const n = offsets.length - 1;
  const out = new Int32Array(Math.max(n, 0));
  for (let i = 0; i < n; i++) out[i] = offsets[i + 1] - offsets[i];
  return out;
}
