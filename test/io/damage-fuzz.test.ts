/**
 * Damaged copies of every shared ROOT and Parquet file: seeded random byte flips and truncations.
 * Every readable branch of a damaged copy is read for all entries; the outcome must be a typed error
 * (a RistrettoError naming the file) or values identical to the pristine file's. A plain
 * TypeError/RangeError, an untyped rejection, or (where the damage can be detected) a silently
 * different result fails the test.
 *
 * Where damage CAN be detected, and so where flips are asserted "typed error or identical":
 *  - RNTuple: anywhere (the anchor, envelopes and pages carry xxhash3 checksums).
 *  - ROOT: the file header, the key header of every record (baskets, TTree, streamer infos, directory),
 *    and compressed payloads of codecs that carry a checksum: zlib (adler-32 of the stream), LZ4
 *    (ROOT's xxhash64 of the block), ZSTD frames written with a content checksum, and LZMA (xz block
 *    check); the 9-byte ROOT compression headers are checked by their declared sizes.
 *    NOT asserted: bytes of uncompressed records (uncompressed baskets and, in uncompressed files, the
 *    TTree/streamer objects themselves). A flipped value byte there is a different but perfectly valid
 *    file (another float, another branch title): no reader can tell, so those flips are not made.
 *  - Parquet: the footer (FileMetaData), every page header, the level bytes of DATA_PAGE_V2 pages
 *    (stored uncompressed: our own writer's files), and truncation. These are structure: a change
 *    either is caught (counts, sizes, level ranges, list lengths against the count column, exact value
 *    byte counts) or touches nothing that is read (statistics, key-value metadata, unused magic).
 *    Flips inside compressed page payloads (SNAPPY and ZSTD have no checksum in these files, and
 *    Parquet's page CRC is optional and absent here) may change values silently: for those only
 *    "no untyped error" is asserted.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parquetMetadata, type SchemaElement } from 'hyparquet';
import { parquetWriteFile } from 'hyparquet-writer';
import { parquetHeader } from 'hyparquet/src/column.js';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { RistrettoError } from '../../src/errors/index.ts';
import { openArrow, writeArrowIPC } from '../../src/io/arrow/index.ts';
import { openParquet } from '../../src/io/parquet/index.ts';
import { writeParquet } from '../../src/io/parquet/write.ts';
import type { AnyColumn, Column, EventReader } from '../../src/io/reader.ts';
import type { Jagged } from '../../src/columnar/types.ts';
import { openRoot } from '../../src/io/root/index.ts';
import { sharedPath } from '../shared.ts';
import { rng } from '../helpers/rng.ts';

const COPIES = Number(process.env.RISTRETTO_DAMAGE_COPIES ?? 20);
const tmp = mkdtempSync(join(tmpdir(), 'ristretto-damage-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

type Region = readonly [number, number];
/** Named sets of byte ranges; `structural` ones must give "typed error or identical". */
interface Regions {
  readonly [kind: string]: { readonly ranges: readonly Region[]; readonly structural: boolean };
}

// ---------------------------------------------------------------- ROOT layout

interface RootRecord {
  start: number;
  nbytes: number;
  keylen: number;
  objlen: number;
  className: string;
}

/** Walk the records of a ROOT file from fBEGIN to fEND (free gaps have negative sizes). */
function rootRecords(b: Uint8Array): { begin: number; records: RootRecord[] } {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const version = dv.getInt32(4);
  const begin = dv.getInt32(8);
  const end = version >= 1000000 ? Number(dv.getBigInt64(12)) : dv.getInt32(12);
  const records: RootRecord[] = [];
  let p = begin;
  while (p + 18 < Math.min(end, b.length)) {
    const nbytes = dv.getInt32(p);
    if (nbytes === 0) break;
    if (nbytes < 0) {
      p += -nbytes;
      continue;
    }
    const kv = dv.getInt16(p + 4);
    const objlen = dv.getInt32(p + 6);
    const keylen = dv.getInt16(p + 14);
    const cls = p + 18 + (kv > 1000 ? 16 : 8);
    const className = String.fromCharCode(...b.subarray(cls + 1, cls + 1 + b[cls]));
    records.push({ start: p, nbytes, keylen, objlen, className });
    p += nbytes;
  }
  return { begin, records };
}

/** Whether a ROOT-compressed payload's codec verifies its data (see the header comment). */
function checksummed(payload: Uint8Array): boolean {
  const tag = String.fromCharCode(payload[0], payload[1]);
  if (tag === 'ZL' || tag === 'L4' || tag === 'XZ') return true;
  // ZSTD frame header descriptor after the 4-byte magic: bit 2 = content checksum.
  if (tag === 'ZS') return (payload[9 + 4] & 0x04) !== 0;
  return false;
}

function rootRegions(b: Uint8Array): Regions {
  const { begin, records } = rootRecords(b);
  const keys: Region[] = [];
  const payloads: Region[] = [];
  for (const r of records) {
    keys.push([r.start, r.start + r.keylen]);
    const payload = b.subarray(r.start + r.keylen, r.start + r.nbytes);
    if (r.objlen > r.nbytes - r.keylen && checksummed(payload)) payloads.push([r.start + r.keylen, r.start + r.nbytes]);
  }
  return {
    header: { ranges: [[0, begin]], structural: true },
    keys: { ranges: keys, structural: true },
    compressed: { ranges: payloads, structural: true },
  };
}

// ---------------------------------------------------------------- Parquet layout

function parquetRegions(b: Uint8Array): Regions {
  const ab = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  const md = parquetMetadata(ab);
  const footerLen = new DataView(ab).getUint32(b.length - 8, true);
  const headers: Region[] = [];
  const levels: Region[] = [];
  const payloads: Region[] = [];
  const view = new DataView(ab);
  for (const rg of md.row_groups) {
    for (const c of rg.columns) {
      const m = c.meta_data!;
      const dict =
        m.dictionary_page_offset !== undefined && m.dictionary_page_offset > 0n
          ? Number(m.dictionary_page_offset)
          : Infinity;
      const start = Math.min(dict, Number(m.data_page_offset));
      const end = start + Number(m.total_compressed_size);
      const r = { view, offset: start };
      while (r.offset < end) {
        const h0 = r.offset;
        const h = parquetHeader(r);
        headers.push([h0, r.offset]);
        const v2 = h.data_page_header_v2;
        const lv = v2 ? (v2.repetition_levels_byte_length ?? 0) + (v2.definition_levels_byte_length ?? 0) : 0;
        if (lv) levels.push([r.offset, r.offset + lv]);
        payloads.push([r.offset + lv, r.offset + h.compressed_page_size]);
        r.offset += h.compressed_page_size;
      }
    }
  }
  return {
    footer: { ranges: [[b.length - 8 - footerLen, b.length]], structural: true },
    pageHeaders: { ranges: headers, structural: true },
    levels: { ranges: levels, structural: true },
    payload: { ranges: payloads, structural: false },
  };
}

// ---------------------------------------------------------------- damage and comparison

interface Damage {
  readonly bytes: Uint8Array;
  readonly what: string;
  readonly structural: boolean;
}

function pick(ranges: readonly Region[], r: () => number): number {
  const total = ranges.reduce((s, [a, b]) => s + (b - a), 0);
  let k = Math.floor(r() * total);
  for (const [a, b] of ranges) {
    if (k < b - a) return a + k;
    k -= b - a;
  }
  return ranges[ranges.length - 1][1] - 1;
}

/** Copy `i` of `pristine`: kinds take turns (truncation being one of them), positions are random. */
function damage(pristine: Uint8Array, regions: Regions, i: number, r: () => number): Damage {
  const kinds = Object.entries(regions).filter(([, v]) => v.ranges.some(([a, b]) => b > a));
  const turn = i % (kinds.length + 1);
  if (turn === kinds.length) {
    const at = Math.floor(r() * pristine.length);
    return { bytes: pristine.slice(0, at), what: `truncated to ${at} bytes`, structural: true };
  }
  const [kind, { ranges, structural }] = kinds[turn];
  const bytes = pristine.slice();
  const flips: string[] = [];
  const n = 1 + Math.floor(r() * 3);
  for (let k = 0; k < n; k++) {
    const at = pick(ranges, r);
    const x = 1 + Math.floor(r() * 255);
    bytes[at] ^= x;
    flips.push(`${at}^${x}`);
  }
  return { bytes, what: `${kind} flips ${flips.join(',')}`, structural };
}

function sameArray(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i]) && a[i] !== b[i]) return false;
  return true;
}

function sameColumn(a: AnyColumn, b: AnyColumn): boolean {
  const ja = !ArrayBuffer.isView(a);
  const jb = !ArrayBuffer.isView(b);
  if (ja !== jb) return false;
  if (!ja) return sameArray(a as ArrayLike<number>, b as ArrayLike<number>);
  const x = a as { offsets: Int32Array; content: AnyColumn };
  const y = b as { offsets: Int32Array; content: AnyColumn };
  return sameArray(x.offsets, y.offsets) && sameColumn(x.content, y.content);
}

type Open = (path: string) => Promise<EventReader>;

/** Read `names` in batches; each batch's values or its error. */
async function readBatches(
  reader: EventReader,
  names: readonly string[],
  batch: number,
): Promise<({ columns: Record<string, Column> } | { error: unknown })[]> {
  const out: ({ columns: Record<string, Column> } | { error: unknown })[] = [];
  for (let i = 0; i < names.length; i += batch) {
    const some = names.slice(i, i + batch);
    try {
      out.push({ columns: await reader.read(some, 0, reader.numEntries) });
    } catch (error) {
      out.push({ error });
    }
  }
  return out;
}

interface Tally {
  copies: number;
  typedErrors: number;
  identical: number;
  silent: number;
}
const totals: Record<string, Tally> = {};

function typedFor(e: unknown, file: string): string | undefined {
  if (!(e instanceof RistrettoError))
    return `untyped ${(e as Error)?.name}: ${(e as Error)?.message}\n${(e as Error)?.stack?.split('\n').slice(0, 4).join('\n')}`;
  if (!e.message.includes(basename(file))) return `typed ${e.name} without the file name: ${e.message}`;
  return undefined;
}

async function fuzzFile(
  label: string,
  path: string,
  open: Open,
  regionsOf: (b: Uint8Array) => Regions,
  seed: number,
  batch: number,
): Promise<string[]> {
  const pristine = new Uint8Array(readFileSync(path));
  const reader = await open(path);
  // Readable branches: those the pristine file reads (unsupported types are refused there too).
  const names: string[] = [];
  const ref = new Map<string, Column>();
  for (const [i, res] of (
    await readBatches(
      reader,
      reader
        .branches()
        .filter((b) => !b.duplicate)
        .map((b) => b.name),
      1,
    )
  ).entries()) {
    if ('columns' in res) for (const [k, v] of Object.entries(res.columns)) names.push(k), ref.set(k, v);
    void i;
  }
  const numEntries = reader.numEntries;
  await reader.close();
  const regions = regionsOf(pristine);
  const r = rng(seed);
  const problems: string[] = [];
  const tally: Tally = (totals[label] = { copies: 0, typedErrors: 0, identical: 0, silent: 0 });
  // jsroot reports what it cannot parse on the console; the outcome is judged here, so keep it quiet.
  const quiet = ['log', 'warn', 'error'].map((m) => vi.spyOn(console, m as 'log').mockImplementation(() => undefined));
  try {
    for (let i = 0; i < COPIES; i++) await fuzzCopy(i);
  } finally {
    for (const q of quiet) q.mockRestore();
  }
  return problems;

  async function fuzzCopy(i: number): Promise<void> {
    const d = damage(pristine, regions, i, r);
    const copy = join(tmp, `${i}-${basename(path)}`);
    writeFileSync(copy, d.bytes);
    if (process.env.RISTRETTO_DAMAGE_LOG) process.stderr.write(`${label} #${i} [${d.what}]\n`);
    tally.copies++;
    let damaged: EventReader;
    try {
      damaged = await open(copy);
    } catch (e) {
      const bad = typedFor(e, copy);
      if (bad) problems.push(`${label} [${d.what}] open: ${bad}`);
      else tally.typedErrors++;
      return;
    }
    let anyError = false;
    let different = false;
    try {
      if (damaged.numEntries !== numEntries) different = true;
      else {
        for (const res of await readBatches(damaged, names, batch)) {
          if ('error' in res) {
            anyError = true;
            const bad = typedFor(res.error, copy);
            if (bad) problems.push(`${label} [${d.what}] read: ${bad}`);
            continue;
          }
          for (const [k, v] of Object.entries(res.columns)) if (!sameColumn(v, ref.get(k)!)) different = true;
        }
      }
    } finally {
      await damaged.close();
    }
    if (anyError) tally.typedErrors++;
    if (different) {
      tally.silent++;
      if (d.structural) problems.push(`${label} [${d.what}]: different values without an error`);
    } else if (!anyError) tally.identical++;
  }
}

// ---------------------------------------------------------------- the files

const ROOT_FILES = [
  'nano_dimuon.root',
  'nano_dy.root',
  'Run2012B_SingleMu_10000.root',
  'uproot-HZZ.root',
  'uproot-HZZ-lz4.root',
  'uproot-HZZ-lzma.root',
  'uproot-HZZ-uncompressed.root',
  'uproot-HZZ-zlib.root',
  'uproot-HZZ-zstd.root',
  ...[
    'uproot-leaflist.root',
    'uproot-sample-6.20.04-uncompressed.root',
    'uproot-sample-6.20.04-zlib.root',
    'uproot-small-dy-nooffsets.root',
    'uproot-small-dy-withoffsets.root',
    'uproot-small-evnt-tree-fullsplit.root',
    'uproot-small-evnt-tree-nosplit.root',
    'uproot-stl_containers.root',
    'uproot-vectorVectorDouble.root',
  ].map((f) => `root-corpus/${f}`),
];
const PARQUET_FILES = [
  'Run2012B_SingleMu-1000.parquet',
  'Run2012B_SingleMu-restructured-1000.parquet',
  'nano_dimuon.parquet',
  'nano_dy.parquet',
];

/** Debugging aids: RISTRETTO_DAMAGE_COPIES=n, RISTRETTO_DAMAGE_ONLY=regex of file names, RISTRETTO_DAMAGE_LOG=1. */
const ONLY = process.env.RISTRETTO_DAMAGE_ONLY ? new RegExp(process.env.RISTRETTO_DAMAGE_ONLY) : undefined;
const TIMEOUT = 120_000 * Math.max(1, COPIES / 20);
const openRootQuiet: Open = (p) => openRoot(p, { warnDuplicates: false });

describe('damaged copies of the shared files: typed error or identical result', () => {
  it('ROOT files', { timeout: TIMEOUT }, async () => {
    const problems: string[] = [];
    for (const [k, f] of ROOT_FILES.entries())
      if (!ONLY || ONLY.test(f))
        problems.push(...(await fuzzFile(f, sharedPath('data', f), openRootQuiet, rootRegions, 1000 + k, 200)));
    expect(problems).toEqual([]);
  });

  it('Parquet files, and a copy written by Ristretto (DATA_PAGE_V2: levels stored uncompressed)', {
    timeout: TIMEOUT,
  }, async () => {
    const problems: string[] = [];
    for (const [k, f] of PARQUET_FILES.entries())
      if (!ONLY || ONLY.test(f))
        problems.push(...(await fuzzFile(f, sharedPath('data', f), openParquet, parquetRegions, 2000 + k, 400)));
    // Our writer's pages keep levels outside the compressed data, so level damage can be aimed at.
    const src = await openParquet(sharedPath('data', 'Run2012B_SingleMu-1000.parquet'));
    const cols = await src.read(
      src.branches().map((b) => b.name),
      0,
      src.numEntries,
    );
    const dtypes = Object.fromEntries(src.branches().map((b) => [b.name, b.dtype]));
    await src.close();
    const written = join(tmp, 'written-SingleMu.parquet');
    await writeParquet(cols, written, { dtypes });
    problems.push(...(await fuzzFile('written-SingleMu.parquet', written, openParquet, parquetRegions, 3000, 400)));
    // The nested layout (Jet list<struct>, every field its own levels), written with v2 pages as well.
    const f = (name: string): SchemaElement => ({ name, type: 'FLOAT', repetition_type: 'OPTIONAL' });
    const schema: SchemaElement[] = [
      { name: 'schema', num_children: 2 },
      { name: 'MET', repetition_type: 'REQUIRED', num_children: 2 },
      f('pt'),
      f('phi'),
      { name: 'Jet', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
      { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
      { name: 'element', repetition_type: 'OPTIONAL', num_children: 3 },
      f('pt'),
      f('eta'),
      f('phi'),
    ];
    const jet = (k: string) => cols[`Jet_${k}`] as Jagged;
    const rows = (cols.MET_pt as Float32Array).length;
    const met = Array.from({ length: rows }, (_, i) => ({
      pt: (cols.MET_pt as Float32Array)[i],
      phi: (cols.MET_phi as Float32Array)[i],
    }));
    const jets = Array.from({ length: rows }, (_, i) =>
      Array.from({ length: jet('pt').offsets[i + 1] - jet('pt').offsets[i] }, (_, k) => {
        const d = jet('pt').offsets[i] + k;
        return { pt: jet('pt').content[d], eta: jet('eta').content[d], phi: jet('phi').content[d] };
      }),
    );
    const nested = join(tmp, 'written-nested.parquet');
    parquetWriteFile({
      filename: nested,
      schema,
      columnData: [
        { name: 'MET', data: met },
        { name: 'Jet', data: jets },
      ],
    });
    problems.push(...(await fuzzFile('written-nested.parquet', nested, openParquet, parquetRegions, 3500, 400)));
    expect(problems).toEqual([]);
  });

  it('RNTuple: every byte is covered by a checksum (xxhash3 of envelopes and pages), so flips anywhere are asserted', {
    timeout: TIMEOUT,
  }, async () => {
    const f = 'Run2012BC_DoubleMuParked_Muons_1000evts_rntuple_v1-0-0-0.root';
    const anywhere = (b: Uint8Array): Regions => ({ anywhere: { ranges: [[0, b.length]], structural: true } });
    expect(
      await fuzzFile(f, sharedPath('data', f), (p) => openRoot(p, { rntuple: true }), anywhere, 5000, 400),
    ).toEqual([]);
  });

  it('Arrow IPC (a copy written by Ristretto): truncation is caught, flips anywhere give no untyped error', {
    timeout: TIMEOUT,
  }, async () => {
    // Arrow IPC has no checksums and its buffers may legitimately sit anywhere in a message body, so a
    // flipped value or buffer offset can read as other valid values: only truncation is asserted
    // "typed error or identical"; for flips, the reader's offset and buffer-length checks must turn
    // damage into typed errors rather than RangeErrors or garbage offsets.
    const src = await openParquet(sharedPath('data', 'Run2012B_SingleMu-1000.parquet'));
    const cols = await src.read(
      src.branches().map((b) => b.name),
      0,
      src.numEntries,
    );
    const dtypes = Object.fromEntries(src.branches().map((b) => [b.name, b.dtype]));
    await src.close();
    const written = join(tmp, 'written-SingleMu.arrow');
    await writeArrowIPC(cols, written, { dtypes });
    const anywhere = (b: Uint8Array): Regions => ({ anywhere: { ranges: [[0, b.length]], structural: false } });
    expect(await fuzzFile('written-SingleMu.arrow', written, (p) => openArrow(p), anywhere, 4000, 400)).toEqual([]);
  });

  afterAll(() => {
    console.log('damage fuzz (copies / typed error / identical / silently different):');
    for (const [f, t] of Object.entries(totals))
      console.log(`  ${f}: ${t.copies} / ${t.typedErrors} / ${t.identical} / ${t.silent}`);
  });
});
