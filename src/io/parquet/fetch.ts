/** Byte access for the Parquet reader: hyparquet's AsyncBuffer over a ByteSource, and coalesced range reads. */
import { closeSync, openSync, readSync } from 'node:fs';
import type { AsyncBuffer } from 'hyparquet';
import { SourceError, type ByteSource } from '../source.ts';

/** Present a ByteSource as hyparquet's AsyncBuffer (used for the footer only). */
export function asAsyncBuffer(source: ByteSource): AsyncBuffer {
  return {
    byteLength: source.size,
    async slice(start: number, end?: number): Promise<ArrayBuffer> {
      const b = await source.read(start, end ?? source.size);
      return b.byteOffset === 0 && b.byteLength === b.buffer.byteLength
        ? (b.buffer as ArrayBuffer)
        : (b.slice().buffer as ArrayBuffer);
    },
  };
}

/** Ranges closer than this are fetched in one request (cheaper than a second round trip over HTTP). */
const MERGE_GAP = 64 * 1024;

type Span = { start: number; end: number; members: { r: readonly [number, number]; i: number }[] };

/** `ranges` sorted and grouped so that ranges closer than MERGE_GAP share one read. */
function coalesce(ranges: readonly (readonly [number, number])[]): Span[] {
  const order = ranges.map((r, i) => ({ r, i })).sort((a, b) => a.r[0] - b.r[0]);
  const groups: Span[] = [];
  for (const m of order) {
    const g = groups[groups.length - 1];
    if (g && m.r[0] <= g.end + MERGE_GAP) {
      g.end = Math.max(g.end, m.r[1]);
      g.members.push(m);
    } else {
      groups.push({ start: m.r[0], end: m.r[1], members: [m] });
    }
  }
  return groups;
}

function scatter(g: Span, bytes: Uint8Array, out: Uint8Array[]): void {
  for (const m of g.members) out[m.i] = bytes.subarray(m.r[0] - g.start, m.r[1] - g.start);
}

/** Fetch every [start, end) range; nearby ranges share one read. Results are in input order. */
export async function readRanges(
  source: ByteSource,
  ranges: readonly (readonly [number, number])[],
): Promise<Uint8Array[]> {
  const out = new Array<Uint8Array>(ranges.length);
  await Promise.all(coalesce(ranges).map(async (g) => scatter(g, await source.read(g.start, g.end), out)));
  return out;
}

/**
 * A local file read synchronously (its own descriptor, opened once), for `EventReader.readSync`.
 * Bounds were checked against the size the file had when it was opened; a file that shrank since
 * gives a SourceError naming it.
 */
export class SyncFile {
  /** Bytes read so far. */
  bytesRead = 0;
  private constructor(
    readonly path: string,
    private fd: number,
  ) {}

  static open(path: string): SyncFile {
    try {
      return new SyncFile(path, openSync(path, 'r'));
    } catch (e) {
      throw new SourceError(
        `cannot open ${path}: ${(e as Error).message}`,
        { file: path, code: (e as NodeJS.ErrnoException).code },
        'check that the file still exists and is readable',
        { cause: e },
      );
    }
  }

  /** One buffer that `readRanges(…, true)` fills call after call. */
  private scratch = new Uint8Array(0);

  /**
   * Bytes of every [start, end) range, in input order (nearby ranges share one read). With `transient`
   * they are views of one buffer that the next call overwrites: for a caller that has consumed them by
   * then (the reader decodes a row group's column chunks before reading the next), which saves allocating
   * and page-faulting fresh memory for every row group (hundreds of MB over a large file).
   */
  readRanges(ranges: readonly (readonly [number, number])[], transient = false): Uint8Array[] {
    const out = new Array<Uint8Array>(ranges.length);
    const spans = coalesce(ranges);
    let buffer: Uint8Array | undefined;
    if (transient) {
      let total = 0;
      for (const g of spans) total += g.end - g.start;
      if (this.scratch.length < total) this.scratch = new Uint8Array(Math.max(total, this.scratch.length * 2));
      buffer = this.scratch;
    }
    let at = 0;
    for (const g of spans) {
      const into = buffer?.subarray(at, at + g.end - g.start);
      at += g.end - g.start;
      scatter(g, this.read(g.start, g.end, into), out);
    }
    return out;
  }

  private read(start: number, end: number, into?: Uint8Array): Uint8Array {
    if (this.fd < 0) throw new SourceError(`${this.path} was closed`, { file: this.path });
    const out = into ?? new Uint8Array(end - start);
    let done = 0;
    while (done < out.length) {
      const n = readSync(this.fd, out, done, out.length - done, start + done);
      if (n === 0)
        throw new SourceError(
          `unexpected end of file in ${this.path} at byte ${start + done}`,
          { file: this.path },
          'the file was truncated while open; copy it again',
        );
      done += n;
    }
    this.bytesRead += out.length;
    return out;
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}
