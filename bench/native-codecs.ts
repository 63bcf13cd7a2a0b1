/**
 * Native (N-API) decoders against Ristretto's JS/wasm ones, on real pages and baskets (issue 15):
 * - Parquet SNAPPY and ZSTD pages (values only for v2 pages, as the reader decodes them),
 * - ROOT L4 (LZ4) and ZL (zlib) blocks of the first baskets of a few branches.
 * Each decoder writes the page into a reused array of its exact size (a native decoder that returns a
 * fresh Buffer pays the copy into place, as the reader would). Interleaved rounds, CPU time of this
 * process, best round per decoder; every decoder's bytes are checked against the current one's first.
 * Per-call overhead: the same decoders on a 64-byte page, in µs per call.
 *
 * Candidates are loaded from a folder where they were installed (`npm install snappy lz4-napi
 * @toondepauw/node-zstd` in a scratch folder), so the bench runs whether or not Ristretto depends on
 * them; `src/io/codecs/lz4.ts` (what the reader calls: wasm unless RISTRETTO_CODECS=js) is measured too.
 *
 *     npx tsx bench/native-codecs.ts --modules /tmp/c-codecs \
 *       --parquet D/adl-20M-snappy.parquet,D/adl-20M-zstd.parquet --root D/adl-20M-lz4.root,D/adl-20M-zlib.root
 *       [--branches Jet_pt,MET_pt,Muon_pt,Muon_eta,nJet] [--groups 0,1,2,3,50,51,52,53] [--rounds 7]
 */
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { lz4DecompressInto, lz4Decoder } from '../src/io/codecs/lz4.ts';
import { loadZstd, zstdDecompressInto } from '../src/io/codecs/zstd.ts';
import { snappyDecompressInto } from '../src/io/parquet/snappy.ts';
import { lz4DecodeBlock } from '../src/io/root/lz4.ts';
import { benchArgs, int, ints, text, words } from './lib.ts';
import { type Frame, parquetPages, rootBlocks } from './pages.ts';

type Codec = 'SNAPPY' | 'ZSTD' | 'L4' | 'ZL';
type Decode = (f: Frame, out: Uint8Array) => void;

const opts = benchArgs('Native (N-API) decoders against the JS/wasm ones on real Parquet pages and ROOT baskets.', {
  rounds: int('rounds per decoder', 7, 1),
  groups: ints('Parquet row groups to take pages from', [0, 1, 2, 3, 50, 51, 52, 53]),
  modules: text('folder whose node_modules holds the candidates', process.cwd(), '<dir>'),
  parquet: words<string>('Parquet files (SNAPPY or ZSTD pages)', []),
  root: words<string>('ROOT files (LZ4 or zlib baskets)', []),
  branches: words<string>('ROOT branches to take baskets from', ['Jet_pt', 'MET_pt', 'Muon_pt', 'Muon_eta', 'nJet']),
});
const { rounds, groups } = opts;
const req = createRequire(join(opts.modules, 'package.json'));

/** Page bodies of one codec in the chosen row groups (columns whose path starts with one of `prefixes`). */
function parquetFrames(file: string, prefixes: string[]): [Codec, Frame[]] {
  const pages = parquetPages(file, groups, prefixes);
  const codec = pages[pages.length - 1]?.codec ?? '';
  if (codec !== 'SNAPPY' && codec !== 'ZSTD') throw new Error(`${file}: codec ${codec}, not SNAPPY or ZSTD`);
  return [codec, pages.filter((p) => p.codec === codec)];
}

/** L4 or ZL blocks (LZ4: without ROOT's 8-byte checksum) of the first baskets of some branches. */
async function rootFrames(file: string, branches: string[]): Promise<[Codec, Frame[]]> {
  const blocks = (await rootBlocks(file, branches)).filter((b) => b.tag === 'L4' || b.tag === 'ZL');
  const codec = blocks[blocks.length - 1]?.tag as Codec | undefined;
  if (!codec) throw new Error(`${file}: no L4 or ZL blocks`);
  return [
    codec,
    blocks.filter((b) => b.tag === codec).map((b) => (b.tag === 'L4' ? { body: b.body.subarray(8), size: b.size } : b)),
  ];
}

/** Load a candidate, or undefined with the reason printed. */
function load<T>(name: string): T | undefined {
  try {
    return req(name) as T;
  } catch (e) {
    console.log(`(${name} not loaded: ${(e as Error).message.split('\n')[0]})`);
    return undefined;
  }
}

interface SnappyNative {
  uncompressSync(src: Uint8Array, o: { asBuffer: true }): Buffer;
}
interface Lz4Native {
  uncompressSync(src: Uint8Array): Buffer;
}
interface ZstdNative {
  Decoder: new () => { decodeSync(src: Uint8Array): Buffer };
}
const snappy = load<SnappyNative>('snappy');
const lz4 = load<Lz4Native>('lz4-napi');
const zstdN = load<ZstdNative>('@toondepauw/node-zstd');
const zstdDecoder = zstdN ? new zstdN.Decoder() : undefined;
let sized = new Uint8Array(1 << 20);

/** The decoders per codec: the current one first (the reference for the bytes). */
function decoders(codec: Codec): [string, Decode][] {
  const list: [string, Decode][] = [];
  if (codec === 'SNAPPY') {
    list.push(['src/io/parquet/snappy.ts (JS, into place)', (f, out) => snappyDecompressInto(f.body, out, 0, f.size)]);
    if (snappy)
      list.push([
        'snappy 7 (napi-rs) uncompressSync + copy',
        (f, out) => out.set(snappy.uncompressSync(f.body, { asBuffer: true })),
      ]);
  } else if (codec === 'ZSTD') {
    list.push(['src/io/codecs/zstd.ts (libzstd wasm)', (f, out) => zstdDecompressInto(f.body, out)]);
    if (zstdDecoder)
      list.push(['@toondepauw/node-zstd decodeSync + copy', (f, out) => out.set(zstdDecoder.decodeSync(f.body))]);
  } else if (codec === 'L4') {
    list.push([
      `src/io/codecs/lz4.ts lz4DecompressInto (${lz4Decoder()}, into place: the reader now)`,
      (f, out) => void lz4DecompressInto(f.body, out, 0),
    ]);
    list.push(['src/io/root/lz4.ts (JS, into place)', (f, out) => void lz4DecodeBlock(f.body, out, 0)]);
    if (lz4) {
      const napi = (f: Frame): Uint8Array => {
        if (sized.length < f.body.length + 4) sized = new Uint8Array(2 * (f.body.length + 4));
        new DataView(sized.buffer).setUint32(0, f.size, true);
        sized.set(f.body, 4);
        return lz4.uncompressSync(sized.subarray(0, f.body.length + 4));
      };
      // Session 14's reader kept lz4-napi's own Buffer per basket (the copy here only feeds the check).
      list.push(['lz4-napi uncompressSync (size-prefixed copy of the input) + copy', (f, out) => out.set(napi(f))]);
    }
  } else {
    list.push([
      'node:zlib inflateSync (as compression.ts)',
      (f, out) => out.set(inflateSync(f.body, { chunkSize: f.size + 64 })),
    ]);
  }
  return list;
}

function run(label: string, codec: Codec, frames: Frame[]): void {
  if (!frames.length) return;
  const ds = decoders(codec);
  const out = new Uint8Array(Math.max(...frames.map((f) => f.size)));
  const want = new Uint8Array(out.length);
  const bytes = frames.reduce((n, f) => n + f.size, 0);
  for (const f of frames) {
    ds[0][1](f, want.subarray(0, f.size));
    for (const [name, d] of ds.slice(1)) {
      out.fill(0);
      d(f, out.subarray(0, f.size));
      if (!Buffer.from(want.subarray(0, f.size)).equals(out.subarray(0, f.size))) throw new Error(`${name} disagrees`);
    }
  }
  const best = ds.map(() => Infinity);
  const bestWall = ds.map(() => Infinity);
  for (let r = 0; r < rounds; r++) {
    ds.forEach(([, d], i) => {
      const w0 = performance.now();
      const t0 = process.cpuUsage();
      for (const f of frames) d(f, out.subarray(0, f.size));
      const c = process.cpuUsage(t0);
      best[i] = Math.min(best[i], (c.user + c.system) / 1e6);
      bestWall[i] = Math.min(bestWall[i], (performance.now() - w0) / 1e3);
    });
  }
  const ratio = bytes / frames.reduce((n, f) => n + f.body.length, 0);
  console.log(
    `\n${label} (${codec}): ${frames.length} pages, ${(bytes / 1e6).toFixed(1)} MB decoded (mean ${(bytes / frames.length / 1024).toFixed(0)} KiB, ratio ${ratio.toFixed(2)}); best of ${rounds} interleaved rounds, CPU`,
  );
  console.log(
    '| decoder | MB/s (output, CPU) | CPU ms | vs current | MB/s (wall) | wall vs current |\n| --- | ---: | ---: | ---: | ---: | ---: |',
  );
  ds.forEach(([name], i) =>
    console.log(
      `| ${name} | ${(bytes / best[i] / 1e6).toFixed(0)} | ${(best[i] * 1000).toFixed(0)} | ${(best[0] / best[i]).toFixed(2)}× | ${(bytes / bestWall[i] / 1e6).toFixed(0)} | ${(bestWall[0] / bestWall[i]).toFixed(2)}× |`,
    ),
  );
  // Per-call overhead: a small page of this codec (the first page cut to ≤ 64 decoded bytes is not
  // valid, so decode the smallest page instead, many times).
  const small = frames.reduce((a, f) => (f.size < a.size ? f : a));
  const n = Math.max(200, Math.floor(2e6 / Math.max(1, small.size)));
  const line = ds.map(([name, d]) => {
    const t0 = process.cpuUsage();
    for (let i = 0; i < n; i++) d(small, out.subarray(0, small.size));
    const c = process.cpuUsage(t0);
    return `${name.split(' ')[0]} ${(((c.user + c.system) / n) | 0).toString()} µs`;
  });
  console.log(`smallest page (${small.size} B decoded), per call: ${line.join(', ')}`);
}

await loadZstd();
const stamp = (): string =>
  `${new Date().toISOString().slice(11, 19)} UTC, load ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}`;
console.log(`start ${stamp()}`);
const cols = ['MET.pt', 'Jet.list.element', 'Muon.list', 'MET_pt', 'Jet_', 'Muon_'];
for (const pq of opts.parquet) {
  const [codec, frames] = parquetFrames(pq, cols);
  run(pq.split('/').pop() ?? pq, codec, frames);
}
for (const root of opts.root) {
  const [codec, frames] = await rootFrames(root, opts.branches);
  run(root.split('/').pop() ?? root, codec, frames);
}
console.log(`end ${stamp()}`);
