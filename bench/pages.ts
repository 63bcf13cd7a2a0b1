/**
 * Real compressed inputs for the codec benches (native-codecs.ts, zstd-decoders.ts), taken straight from
 * the files' bytes: the page bodies of a Parquet file's column chunks (values only for v2 pages, as the
 * reader decodes them) and the compression blocks of a ROOT file's first baskets.
 *
 * @example
 * ```ts
 * const pages = parquetPages('adl-1M-zstd.parquet', [0, 1], ['MET_pt']).filter((p) => p.codec === 'ZSTD');
 * const blocks = (await rootBlocks('adl-1M-lz4.root', ['Jet_pt'])).filter((b) => b.tag === 'L4');
 * ```
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { parquetMetadata } from 'hyparquet';
import { parquetHeader } from 'hyparquet/src/column.js';
import { openRoot } from '../src/io/root/index.ts';

/** Compressed bytes and the size they decode to. */
export interface Frame {
  body: Uint8Array;
  size: number;
}

/**
 * The compressed page bodies in row groups `groups` of the columns whose dotted path starts with one of
 * `prefixes`, each with its column's codec. Uncompressed v2 pages are left out.
 */
export function parquetPages(
  file: string,
  groups: readonly number[],
  prefixes: readonly string[],
): (Frame & { codec: string })[] {
  const fd = openSync(file, 'r');
  const len = fstatSync(fd).size;
  const tail = Buffer.alloc(8);
  readSync(fd, tail, 0, 8, len - 8);
  const flen = tail.readUInt32LE(0);
  const foot = Buffer.alloc(flen + 8);
  readSync(fd, foot, 0, flen + 8, len - 8 - flen);
  const md = parquetMetadata(foot.buffer.slice(foot.byteOffset, foot.byteOffset + foot.length));
  const out: (Frame & { codec: string })[] = [];
  for (const g of groups) {
    for (const c of md.row_groups[g]?.columns ?? []) {
      const m = c.meta_data!;
      if (!prefixes.some((p) => m.path_in_schema.join('.').startsWith(p))) continue;
      const dict = m.dictionary_page_offset ? Number(m.dictionary_page_offset) : Infinity;
      const start = Math.min(dict, Number(m.data_page_offset));
      const bytes = new Uint8Array(Number(m.total_compressed_size));
      readSync(fd, bytes, 0, bytes.length, start);
      const reader = { view: new DataView(bytes.buffer), offset: 0 };
      while (reader.offset < bytes.length) {
        const h = parquetHeader(reader);
        const raw = bytes.subarray(reader.offset, reader.offset + h.compressed_page_size);
        reader.offset += h.compressed_page_size;
        const v2 = h.data_page_header_v2;
        const levels = v2 ? (v2.repetition_levels_byte_length ?? 0) + (v2.definition_levels_byte_length ?? 0) : 0;
        if (v2?.is_compressed === false) continue;
        out.push({ body: raw.subarray(levels), size: h.uncompressed_page_size - levels, codec: m.codec });
      }
    }
  }
  closeSync(fd);
  return out;
}

/**
 * The ROOT compression blocks of the first `perBranch` baskets of each of `branches`: each block's
 * 2-character tag (`ZL`, `L4`, `ZS`, `XZ`, `CS`) and its bytes after the 9-byte block header (an `L4`
 * block's start with ROOT's 8-byte checksum). Baskets stored uncompressed have no blocks.
 */
export async function rootBlocks(
  file: string,
  branches: readonly string[],
  perBranch = 40,
): Promise<(Frame & { tag: string })[]> {
  const r = await openRoot(file);
  const fd = openSync(file, 'r');
  const out: (Frame & { tag: string })[] = [];
  for (const br of branches) {
    for (const b of r.branchMeta(br).baskets.slice(0, perBranch)) {
      const raw = new Uint8Array(b.bytes);
      readSync(fd, raw, 0, b.bytes, b.seek);
      const dv = new DataView(raw.buffer);
      const keylen = dv.getInt16(14);
      if (dv.getInt32(6) === b.bytes - keylen) continue; // stored uncompressed
      for (let s = keylen; s < raw.length; ) {
        const csize = raw[s + 3] | (raw[s + 4] << 8) | (raw[s + 5] << 16);
        const usize = raw[s + 6] | (raw[s + 7] << 8) | (raw[s + 8] << 16);
        out.push({
          tag: String.fromCharCode(raw[s], raw[s + 1]),
          body: raw.subarray(s + 9, s + 9 + csize),
          size: usize,
        });
        s += 9 + csize;
      }
    }
  }
  closeSync(fd);
  await r.close();
  return out;
}
