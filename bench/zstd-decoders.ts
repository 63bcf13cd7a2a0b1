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
import { loadavg } from 'node:os';
import { decompress as bokuwebDecompress, init as bokuwebInit } from '@bokuweb/zstd-wasm';
import { decompress as fzstd } from 'fzstd';
import { loadZstd, zstdDecompressInto } from '../src/io/codecs/zstd.ts';
import { benchArgs, int, ints, text } from './lib.ts';
import { type Frame, parquetPages, rootBlocks } from './pages.ts';

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
  return parquetPages(file, groups, prefixes).filter((p) => p.codec === 'ZSTD');
}

/** ZS blocks of the first baskets of some branches of a ROOT file. */
async function rootFrames(file: string, branches: string[]): Promise<Frame[]> {
  return (await rootBlocks(file, branches)).filter((b) => b.tag === 'ZS');
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
