/**
 * Fetch many byte ranges (baskets) from a source with few requests: ranges that touch or lie within
 * `maxGap` bytes of each other are read as one, then handed out as views.
 */
import { internalError } from '../../errors/index.ts';
import type { ByteSource } from '../source.ts';

export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

/** Largest single merged request, so one read never holds a whole big file. */
const MAX_MERGED = 16 << 20;

interface Group {
  start: number;
  end: number;
  members: ByteRange[];
}

/** `ranges` sorted and merged into reads: neighbours within `maxGap` bytes share one, up to MAX_MERGED. */
function group(ranges: readonly ByteRange[], maxGap: number): Group[] {
  const sorted = [...ranges].sort((a, b) => a.start - b.start);
  const groups: Group[] = [];
  for (const r of sorted) {
    const g = groups[groups.length - 1];
    if (g && r.start - g.end <= maxGap && Math.max(g.end, r.end) - g.start <= MAX_MERGED) {
      g.end = Math.max(g.end, r.end);
      g.members.push(r);
    } else {
      groups.push({ start: r.start, end: r.end, members: [r] });
    }
  }
  return groups;
}

function scatter(g: Group, bytes: Uint8Array, out: Map<number, Uint8Array>): void {
  for (const r of g.members) out.set(r.start, bytes.subarray(r.start - g.start, r.end - g.start));
}

/**
 * Bytes of every range, keyed by its start (ranges must not share a start with different ends). With
 * `releases`, a source that receives into memory it reuses (root://, `ByteSource.readRanges`) is asked
 * that way, and the function handing that memory back is pushed there: the caller calls it once it
 * holds no view of the bytes. A fresh buffer per chunk instead cost root:// runs more garbage
 * collection than the local file, which reads into one reused buffer.
 */
export async function fetchRanges(
  src: ByteSource,
  ranges: readonly ByteRange[],
  maxGap: number,
  releases?: (() => void)[],
): Promise<Map<number, Uint8Array>> {
  const out = new Map<number, Uint8Array>();
  const groups = group(ranges, maxGap);
  if (releases && src.readRanges) {
    const got = await src.readRanges(groups);
    releases.push(got.release);
    groups.forEach((g, i) => scatter(g, got.bytes[i], out));
    return out;
  }
  await Promise.all(groups.map(async (g) => scatter(g, await src.read(g.start, g.end), out)));
  return out;
}

/**
 * `fetchRanges` for a source that reads synchronously (a local file: one read per group; a root:// URL:
 * every group in one vector read); throws when `src` cannot.
 */
export function fetchRangesSync(
  src: ByteSource,
  ranges: readonly ByteRange[],
  maxGap: number,
): Map<number, Uint8Array> {
  const out = new Map<number, Uint8Array>();
  const groups = group(ranges, maxGap);
  if (src.readvSync) {
    const bytes = src.readvSync(groups);
    groups.forEach((g, i) => scatter(g, bytes[i], out));
    return out;
  }
  if (!src.readSync) throw internalError(`${src.name} cannot be read synchronously`, { file: src.name });
  for (const g of groups) scatter(g, src.readSync(g.start, g.end), out);
  return out;
}
