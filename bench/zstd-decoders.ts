/**
 * ZSTD decoders on real pages: the ZSTD pages of a Parquet file's column chunks (values only for v2
 * pages, as the reader decodes them) and the ZS blocks of a ROOT file's baskets, decoded by
 * - fzstd (pure JS; what Ristretto used before, through hyparquet-compressors and the ROOT reader),
 * - @bokuweb/zstd-wasm's own `decompress` (copies in, allocates the output, copies out),
 * - Ristretto's src/io/codecs/zstd.ts (the same libzstd wasm, reused wasm buffers, one copy into the
 *   caller's array),
 * - and the copies alone (into and out of a reused buffer), to show their share.
 * Interleaved rounds, CPU time of this process, best round per decoder; every decoder's bytes are
 * checked against fzstd's first.
 *
 *     npx tsx bench/zstd-decoders.ts --parquet /data/adl-20M-zstd.parquet --root /tmp/adl-1M-zstd.root
 *
 * (make the ROOT file with `ristretto convert adl-1M-snappy.parquet adl-1M-zstd.root --compression zstd`).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { loadavg } from 'node:os';
import { decompress as bokuwebDecompress, init as bokuwebInit } from '@bokuweb/zstd-wasm';
import { decompress as fzstd } from 'fzstd';
import { parquetMetadata } from 'hyparquet';
import { parquetHeader } from 'hyparquet/src/column.js';
import { loadZstd, zstdDecompressInto } from '../src/io/codecs/zstd.ts';
import { openRoot } from '../src/io/root/index.ts';
import { benchArgs, int, ints, text } from './lib.ts';

interface Frame {
  body: Uint8Array;
  size: number;
}

const {
  rounds,
  groups,
  parquet: pq,
  root,
} = benchArgs('ZSTD decoders on real Parquet pages and ROOT baskets.', {
  rounds: int('rounds per decoder', 7, 1),
  groups: ints('Parquet row groups to take pages from', [0, 1, 2, 3, 50, 51, 52, 53]),
  parquet: text('a Parquet file with ZSTD pages', undefined, '<file>'),
  root: text('a ROOT file with ZS baskets', undefined, '<file>'),
});

/** ZSTD page bodies of the chosen row groups (all columns whose path starts with one of `prefixes`). */
function parquetFrames(file: string, prefixes: string[]): Frame[] {
  const fd = openSync(file, 'r');
  const len = fstatSync(fd).size;
  const tail = Buffer.alloc(8);
  readSync(fd, tail, 0, 8, len - 8);
  const flen = tail.readUInt32LE(0);
  const foot = Buffer.alloc(flen + 8);
  readSync(fd, foot, 0, flen + 8, len - 8 - flen);
  const md = parquetMetadata(foot.buffer.slice(foot.byteOffset, foot.byteOffset + foot.length));
  const out: Frame[] = [];
  for (const g of groups) {
    for (const c of md.row_groups[g]?.columns ?? []) {
      const m = c.meta_data!;
      if (m.codec !== 'ZSTD' || !prefixes.some((p) => m.path_in_schema.join('.').startsWith(p))) continue;
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
        out.push({ body: raw.subarray(levels), size: h.uncompressed_page_size - levels });
      }
    }
  }
  closeSync(fd);
  return out;
}

/** ZS blocks of the first baskets of some branches of a ROOT file. */
async function rootFrames(file: string, branches: string[]): Promise<Frame[]> {
  const r = await openRoot(file);
  const fd = openSync(file, 'r');
  const out: Frame[] = [];
  for (const br of branches) {
    for (const b of r.branchMeta(br).baskets.slice(0, 40)) {
      const raw = new Uint8Array(b.bytes);
      readSync(fd, raw, 0, b.bytes, b.seek);
      const dv = new DataView(raw.buffer);
      const keylen = dv.getInt16(14);
      if (dv.getInt32(6) === b.bytes - keylen) continue; // stored uncompressed
      for (let s = keylen; s < raw.length; ) {
        const csize = raw[s + 3] | (raw[s + 4] << 8) | (raw[s + 5] << 16);
        const usize = raw[s + 6] | (raw[s + 7] << 8) | (raw[s + 8] << 16);
        if (raw[s] === 0x5a && raw[s + 1] === 0x53) out.push({ body: raw.subarray(s + 9, s + 9 + csize), size: usize });
        s += 9 + csize;
      }
    }
  }
  closeSync(fd);
  await r.close();
  return out;
}

let scratch = new Uint8Array(1 << 20);
const decoders: [string, (f: Frame, out: Uint8Array) => Uint8Array][] = [
  ['fzstd decompress (allocates; before)', (f) => fzstd(f.body)],
  ['@bokuweb/zstd-wasm decompress (package API)', (f) => bokuwebDecompress(f.body)],
  [
    'src/io/codecs/zstd.ts into a reused array',
    (f, out) => {
      zstdDecompressInto(f.body, out);
      return out;
    },
  ],
  [
    'copy in + copy out only',
    (f, out) => {
      if (scratch.length < Math.max(f.body.length, out.length)) scratch = new Uint8Array(2 * out.length);
      scratch.set(f.body);
      out.set(scratch.subarray(0, out.length));
      return out;
    },
  ],
];

function run(label: string, frames: Frame[]): void {
  if (!frames.length) return;
  const out = new Uint8Array(Math.max(...frames.map((f) => f.size)));
  const bytes = frames.reduce((n, f) => n + f.size, 0);
  for (const f of frames) {
    const want = Buffer.from(fzstd(f.body));
    for (const [name, d] of decoders.slice(0, 3))
      if (!want.equals(Buffer.from(d(f, out.subarray(0, f.size)).subarray(0, f.size))))
        throw new Error(`${name} disagrees with fzstd`);
  }
  const best = decoders.map(() => Infinity);
  for (let r = 0; r < rounds; r++) {
    decoders.forEach(([, d], i) => {
      const t0 = process.cpuUsage();
      for (const f of frames) d(f, out.subarray(0, f.size));
      const c = process.cpuUsage(t0);
      best[i] = Math.min(best[i], (c.user + c.system) / 1e6);
    });
  }
  const ratio = bytes / frames.reduce((n, f) => n + f.body.length, 0);
  console.log(
    `\n${label}: ${frames.length} frames, ${(bytes / 1e6).toFixed(1)} MB decoded (mean ${(bytes / frames.length / 1024).toFixed(0)} KiB, ratio ${ratio.toFixed(2)}); best of ${rounds} interleaved rounds, CPU`,
  );
  console.log('| decoder | MB/s (output) | CPU ms | vs fzstd |\n| --- | ---: | ---: | ---: |');
  decoders.forEach(([name], i) =>
    console.log(
      `| ${name} | ${(bytes / best[i] / 1e6).toFixed(0)} | ${(best[i] * 1000).toFixed(0)} | ${(best[0] / best[i]).toFixed(2)}× |`,
    ),
  );
}

await bokuwebInit();
await loadZstd();
console.log(
  `load ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}`,
);
if (pq)
  run(
    `Parquet ZSTD pages of ${pq}`,
    parquetFrames(pq, ['MET.pt', 'Jet.list.element', 'Muon.list', 'MET_pt', 'Jet_', 'Muon_']),
  );
if (root) run(`ROOT ZS blocks of ${root}`, await rootFrames(root, ['Jet_pt', 'MET_pt', 'Muon_pt', 'Muon_eta', 'nJet']));
console.log(
  `load ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}`,
);
