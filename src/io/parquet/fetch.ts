/** Byte access for the Parquet reader: hyparquet's AsyncBuffer over a ByteSource, and coalesced range reads. */
import type { AsyncBuffer } from 'hyparquet';
import type { ByteSource } from '../source.ts';

/** Present a ByteSource as hyparquet's AsyncBuffer (used for the footer only). */
export function asAsyncBuffer(source: ByteSource): AsyncBuffer {
  return {
    byteLength: source.size,
    async slice(start: number, end?: number): Promise<ArrayBuffer> {
      const b = await source.read(start, end ?? source.size);
      return b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? (b.buffer as ArrayBuffer) : (b.slice().buffer as ArrayBuffer);
    },
  };
}

/** Ranges closer than this are fetched in one request (cheaper than a second round trip over HTTP). */
const MERGE_GAP = 64 * 1024;

/** Fetch every [start, end) range; nearby ranges share one read. Results are in input order. */
export async function readRanges(source: ByteSource, ranges: readonly (readonly [number, number])[]): Promise<Uint8Array[]> {
  const order = ranges.map((r, i) => ({ r, i })).sort((a, b) => a.r[0] - b.r[0]);
  const groups: { start: number; end: number; members: { r: readonly [number, number]; i: number }[] }[] = [];
  for (const m of order) {
    const g = groups[groups.length - 1];
    if (g && m.r[0] <= g.end + MERGE_GAP) {
      g.end = Math.max(g.end, m.r[1]);
      g.members.push(m);
    } else {
      groups.push({ start: m.r[0], end: m.r[1], members: [m] });
    }
  }
  const out = new Array<Uint8Array>(ranges.length);
  await Promise.all(
    groups.map(async (g) => {
      const bytes = await source.read(g.start, g.end);
      for (const m of g.members) out[m.i] = bytes.subarray(m.r[0] - g.start, m.r[1] - g.start);
    }),
  );
  return out;
}
