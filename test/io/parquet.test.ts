/**
 * Parquet reader against real NanoAOD Parquet files (flat and nested layouts, SNAPPY and ZSTD), a
 * multi-row-group file written here by hyparquet-writer, corrupt copies, and a loopback HTTP server.
 * Expected values come from hyparquet's public row API (an independent decoding path) mapped to
 * NanoAOD-flat names by a naive per-row walk written below, or from the arrays the test itself wrote.
 */
import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join, basename } from 'node:path';
import { parquetMetadata, parquetReadObjects, parquetSchema, type SchemaElement } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  openParquet,
  ParquetColumnNotFoundError,
  ParquetFormatError,
  ParquetRangeError,
} from '../../src/io/parquet/index.ts';
import type { Column, EventReader } from '../../src/io/reader.ts';
import { SourceError } from '../../src/io/source.ts';
import { columnEvents as columnRows } from '../helpers/columns.ts';
import { editedCopy, tempDir } from '../helpers/files.ts';
import { serveDirectory, type TestServer } from '../helpers/http-server.ts';
import { sharedPath } from '../shared.ts';

const FLAT = sharedPath('data', 'Run2012B_SingleMu-1000.parquet');
const NESTED = sharedPath('data', 'Run2012B_SingleMu-restructured-1000.parquet');
const DY = sharedPath('data', 'nano_dy.parquet');
const DIMUON = sharedPath('data', 'nano_dimuon.parquet');

type Row = Record<string, unknown>;

/** Every row of a file through hyparquet's public object API. */
async function referenceRows(path: string): Promise<Row[]> {
  const b = readFileSync(path);
  const file = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
  return (await parquetReadObjects({ file, compressors })) as Row[];
}

/** Branch names expected from a schema walk: top-level fields, struct fields joined by '_', list-of-struct fields plus `n<List>`. */
function expectedBranchNames(path: string): string[] {
  const b = readFileSync(path);
  const md = parquetMetadata(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  const names: string[] = [];
  const top = parquetSchema(md).children;
  for (const f of top) {
    const name = f.element.name;
    if (!f.children.length) names.push(name);
    else if (f.element.converted_type === 'LIST') {
      const elem = f.children[0].children[0];
      if (!elem.children.length) names.push(name);
      else {
        for (const c of elem.children) names.push(`${name}_${c.element.name}`);
        if (!top.some((t) => t.element.name === `n${name}`)) names.push(`n${name}`);
      }
    } else for (const c of f.children) names.push(`${name}_${c.element.name}`);
  }
  return names.sort();
}

function num(v: unknown): number {
  if (v === null || v === undefined) return NaN;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  return v as number;
}

/** The value of branch `name` in one reference row: a number or a list of numbers. */
function branchValue(row: Row, name: string): number | number[] {
  if (name in row) {
    const v = row[name];
    return Array.isArray(v) ? v.map(num) : num(v);
  }
  if (name.startsWith('n') && Array.isArray(row[name.slice(1)] ?? [])) {
    const list = row[name.slice(1)];
    if (list === null || Array.isArray(list)) return list ? list.length : 0;
  }
  const cut = name.indexOf('_');
  const head = row[name.slice(0, cut)];
  const field = name.slice(cut + 1);
  if (head === null || head === undefined) return [];
  if (Array.isArray(head)) return head.map((e) => num((e as Row | null)?.[field]));
  return num((head as Row)[field]);
}

/** First index where two event lists differ (NaN equals NaN), or -1. */
function firstMismatch(a: (number | number[])[], b: (number | number[])[]): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  const same = (x: number, y: number) => x === y || (x !== x && y !== y);
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (Array.isArray(x) !== Array.isArray(y)) return i;
    if (Array.isArray(x)) {
      const yy = y as number[];
      if (x.length !== yy.length || x.some((v, k) => !same(v, yy[k]))) return i;
    } else if (!same(x, y as number)) return i;
  }
  return -1;
}

async function readAll(r: EventReader): Promise<Record<string, Column>> {
  return r.read(
    r.branches().map((b) => b.name),
    0,
    r.numEntries,
  );
}

describe('openParquet on real NanoAOD files', () => {
  for (const path of [FLAT, NESTED, DY, DIMUON]) {
    it(`${basename(path)}: every branch equals hyparquet's row API`, async () => {
      const r = await openParquet(path);
      try {
        expect(
          r
            .branches()
            .map((b) => b.name)
            .sort(),
        ).toEqual(expectedBranchNames(path));
        const rows = await referenceRows(path);
        expect(r.numEntries).toBe(rows.length);
        const cols = await readAll(r);
        const bad: string[] = [];
        for (const b of r.branches()) {
          const got = columnRows(cols[b.name]);
          const want = rows.map((row) => branchValue(row, b.name));
          const at = firstMismatch(got, want);
          if (at >= 0) bad.push(`${b.name}@${at}: ${JSON.stringify(got[at])} vs ${JSON.stringify(want[at])}`);
          expect(Array.isArray(got[0] ?? [])).toBe(b.kind === 'jagged');
        }
        expect(bad).toEqual([]);
      } finally {
        await r.close();
      }
    });
  }

  it('flat and nested layouts give identical first 1000 events for every common branch', async () => {
    const flat = await openParquet(FLAT);
    const nested = await openParquet(NESTED);
    const common = flat
      .branches()
      .map((b) => b.name)
      .filter((n) => nested.branches().some((b) => b.name === n));
    expect(common.length).toBeGreaterThan(80);
    const a = await flat.read(common, 0, 1000);
    const b = await nested.read(common, 0, 1000);
    for (const n of common) expect(firstMismatch(columnRows(a[n]), columnRows(b[n])), n).toBe(-1);
    // dtypes agree except the counts: int64 stored in the flat file, int32 synthesized in the nested one
    for (const info of flat.branches()) {
      const other = nested.branches().find((x) => x.name === info.name)!;
      if (/^n[A-Z]/.test(info.name)) expect([info.dtype, other.dtype]).toEqual(['int64', 'int32']);
      else expect(other.dtype, info.name).toBe(info.dtype);
      expect(other.kind).toBe(info.kind);
      expect(other.countBranch).toBe(info.countBranch);
    }
    await flat.close();
    await nested.close();
  });

  it('jagged branches of one collection share one offsets array', async () => {
    for (const path of [FLAT, NESTED]) {
      const r = await openParquet(path);
      const c = await r.read(['Jet_pt', 'Jet_eta', 'nJet'], 10, 500);
      const pt = c.Jet_pt as { offsets: Int32Array };
      expect((c.Jet_eta as { offsets: Int32Array }).offsets).toBe(pt.offsets);
      const n = c.nJet as ArrayLike<number>;
      for (let i = 0; i < 490; i++) expect(pt.offsets[i + 1] - pt.offsets[i]).toBe(n[i]);
      await r.close();
    }
  });

  it('reads only the requested column chunk: bytesRead grows by its compressed size', async () => {
    const r = await openParquet(FLAT);
    const md = parquetMetadata(new Uint8Array(readFileSync(FLAT)).buffer);
    const chunk = md.row_groups[0].columns.find((c) => c.meta_data!.path_in_schema.join('.') === 'MET_pt')!;
    const before = r.bytesRead;
    await r.read(['MET_pt'], 0, 1000);
    expect(r.bytesRead - before).toBe(Number(chunk.meta_data!.total_compressed_size));
    await r.close();
  });
});

// A file with several row groups, written by hyparquet-writer (data page v2, dictionaries, nulls).
describe('entry ranges across row groups', () => {
  const dir = tempDir('pq');
  const file = join(dir, 'groups.parquet');
  const N = 1000;
  const GROUP = 128;
  let seed = 12345;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const metPt = Array.from({ length: N }, () => Math.fround(rand() * 100));
  const jets = Array.from({ length: N }, () =>
    Array.from({ length: Math.floor(rand() * 5) }, () => Math.fround(rand() * 50)),
  );
  const mus = Array.from({ length: N }, (_, i) =>
    i % 17 === 0
      ? null
      : Array.from({ length: Math.floor(rand() * 3) }, () => ({
          pt: Math.fround(rand() * 30),
          id: Math.floor(rand() * 4),
        })),
  );
  const weight = Array.from({ length: N }, (_, i) => (i % 7 === 0 ? null : rand()));
  const flag = Array.from({ length: N }, () => rand() < 0.3);
  const cat = Array.from({ length: N }, () => Math.floor(rand() * 3));
  const big = Array.from({ length: N }, (_, i) => BigInt(i) * 1000003n);
  const schema: SchemaElement[] = [
    { name: 'root', num_children: 8 },
    { name: 'MET_pt', type: 'FLOAT', repetition_type: 'REQUIRED' },
    { name: 'nJet', type: 'INT32', repetition_type: 'REQUIRED' },
    { name: 'Jet_pt', repetition_type: 'REQUIRED', converted_type: 'LIST', num_children: 1 },
    { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
    { name: 'element', type: 'FLOAT', repetition_type: 'REQUIRED' },
    { name: 'Mu', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
    { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
    { name: 'element', repetition_type: 'OPTIONAL', num_children: 2 },
    { name: 'pt', type: 'FLOAT', repetition_type: 'OPTIONAL' },
    { name: 'id', type: 'INT32', repetition_type: 'OPTIONAL' },
    { name: 'weight', type: 'DOUBLE', repetition_type: 'OPTIONAL' },
    { name: 'flag', type: 'BOOLEAN', repetition_type: 'REQUIRED' },
    { name: 'cat', type: 'INT32', repetition_type: 'REQUIRED' },
    { name: 'big', type: 'INT64', repetition_type: 'REQUIRED' },
  ];
  const expected: Record<string, (number | number[])[]> = {
    MET_pt: metPt,
    nJet: jets.map((j) => j.length),
    Jet_pt: jets,
    Mu_pt: mus.map((m) => (m ?? []).map((x) => x.pt)),
    Mu_id: mus.map((m) => (m ?? []).map((x) => x.id)),
    nMu: mus.map((m) => (m ?? []).length),
    weight: weight.map((w) => w ?? NaN),
    flag: flag.map((f) => (f ? 1 : 0)),
    cat,
    big: big.map(Number),
  };
  let r: EventReader;

  beforeAll(async () => {
    const buf = parquetWriteBuffer({
      schema,
      rowGroupSize: GROUP,
      columnData: [
        { name: 'MET_pt', data: Float32Array.from(metPt) },
        { name: 'nJet', data: Int32Array.from(jets.map((j) => j.length)) },
        { name: 'Jet_pt', data: jets },
        { name: 'Mu', data: mus },
        { name: 'weight', data: weight },
        { name: 'flag', data: flag },
        { name: 'cat', data: Int32Array.from(cat) },
        { name: 'big', data: BigInt64Array.from(big) },
      ],
    });
    writeFileSync(file, new Uint8Array(buf));
    r = await openParquet(file);
  });
  afterAll(async () => {
    await r.close();
  });

  it('boundaries are the row-group starts', () => {
    const want = [];
    for (let s = 0; s < N; s += GROUP) want.push(s);
    want.push(N);
    expect(r.boundaries()).toEqual(want);
  });

  for (const [a, b] of [
    [0, N],
    [100, 700],
    [127, 129],
    [128, 256],
    [999, 1000],
    [500, 500],
  ] as const) {
    it(`[${a}, ${b}) equals the written arrays`, async () => {
      const names = Object.keys(expected);
      const cols = await r.read(names, a, b);
      for (const n of names) expect(firstMismatch(columnRows(cols[n]), expected[n].slice(a, b)), n).toBe(-1);
      expect(r.branches().find((x) => x.name === 'Mu_pt')!.countBranch).toBe('nMu');
    });
  }

  // readSync: the same decoding with synchronous reads of the local file (no helper thread).
  for (const [a, b] of [
    [0, N],
    [100, 700],
    [127, 129],
    [500, 500],
  ] as const) {
    it(`readSync [${a}, ${b}) equals the written arrays`, () => {
      const names = Object.keys(expected);
      const cols = r.readSync!(names, a, b);
      for (const n of names) expect(firstMismatch(columnRows(cols[n]), expected[n].slice(a, b)), n).toBe(-1);
    });
  }

  it('readSync counts its bytes: exactly the compressed size of the chunks it needed', async () => {
    const own = await openParquet(file);
    const md = parquetMetadata(new Uint8Array(readFileSync(file)).buffer);
    let want = 0;
    for (const rg of md.row_groups.slice(0, 2)) {
      want += Number(
        rg.columns.find((c) => c.meta_data!.path_in_schema.join('.') === 'MET_pt')!.meta_data!.total_compressed_size,
      );
    }
    const before = own.bytesRead;
    own.readSync!(['MET_pt'], 0, 2 * GROUP);
    expect(own.bytesRead - before).toBe(want);
    await own.close();
  });

  it('readSync on a file truncated after opening → SourceError naming it', async () => {
    const copy = join(dir, 'shrinks.parquet');
    writeFileSync(copy, readFileSync(file));
    const own = await openParquet(copy);
    truncateSync(copy, 64);
    let err: unknown;
    try {
      own.readSync!(['Jet_pt'], 0, N);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SourceError);
    expect((err as Error).message).toContain(copy);
    await own.close();
  });

  it('readSync rejects entry ranges outside the file', () => {
    expect(() => r.readSync!(['MET_pt'], 0, N + 1)).toThrow(ParquetRangeError);
  });

  it('rejects entry ranges outside the file', async () => {
    await expect(r.read(['MET_pt'], -1, 5)).rejects.toBeInstanceOf(ParquetRangeError);
    await expect(r.read(['MET_pt'], 0, N + 1)).rejects.toBeInstanceOf(ParquetRangeError);
    await expect(r.read(['MET_pt'], 5, 4)).rejects.toBeInstanceOf(ParquetRangeError);
  });
});

// INT64 → float64 goes through two 32-bit halves; the expected numbers come from Number(BigInt) here.
describe('INT64 and UINT64 columns at the edges of the double range', () => {
  const dir = tempDir('pq64');
  const signed = [
    0n,
    -1n,
    1n,
    2n ** 53n + 1n,
    -(2n ** 53n) - 1n,
    2n ** 63n - 1n,
    -(2n ** 63n),
    123456789012345n,
    -987654321098765n,
    2n ** 32n,
    -(2n ** 32n) - 1n,
  ];
  const unsigned = [
    0n,
    1n,
    2n ** 64n - 1n,
    2n ** 63n,
    2n ** 53n + 3n,
    2n ** 32n - 1n,
    2n ** 32n,
    4242n,
    2n ** 62n + 2n ** 11n + 1n,
    7n,
    99n,
  ];

  it('every value equals Number() of the BigInt that was written', async () => {
    const file = join(dir, 'int64.parquet');
    const buf = parquetWriteBuffer({
      schema: [
        { name: 'root', num_children: 2 },
        { name: 's', type: 'INT64', repetition_type: 'REQUIRED' },
        { name: 'u', type: 'INT64', repetition_type: 'REQUIRED', converted_type: 'UINT_64' },
      ],
      columnData: [
        { name: 's', data: BigInt64Array.from(signed) },
        { name: 'u', data: BigUint64Array.from(unsigned) },
      ],
    });
    writeFileSync(file, new Uint8Array(buf));
    const r = await openParquet(file);
    const cols = await r.read(['s', 'u'], 0, signed.length);
    expect(Array.from(cols.s as Float64Array)).toEqual(signed.map(Number));
    expect(Array.from(cols.u as Float64Array)).toEqual(unsigned.map(Number));
    await r.close();
  });
});

describe('errors carry the file and column', () => {
  const dir = tempDir('pqbad');

  it('missing file → SourceError naming it', async () => {
    const p = join(dir, 'nope.parquet');
    const e = await openParquet(p).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(SourceError);
    expect((e as SourceError).context.file).toBe(p);
  });

  it('missing branch → ParquetColumnNotFoundError with the closest names', async () => {
    const r = await openParquet(FLAT);
    const e = await r.read(['Jet_pT'], 0, 10).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ParquetColumnNotFoundError);
    const err = e as ParquetColumnNotFoundError;
    expect(err.context).toMatchObject({ file: FLAT, branch: 'Jet_pT' });
    expect((err.context.closest as string[])[0]).toBe('Jet_pt');
    expect(err.message).toContain('Jet_pt');
    await r.close();
  });

  it('truncated copy → ParquetFormatError naming the file', async () => {
    const p = editedCopy(FLAT, join(dir, 'truncated.parquet'), (b) => b.subarray(0, Math.floor(b.length / 2)));
    const e = await openParquet(p).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ParquetFormatError);
    expect((e as ParquetFormatError).context.file).toBe(p);
  });

  it('corrupt page header → ParquetFormatError naming file, column and row group', async () => {
    const p = editedCopy(FLAT, join(dir, 'flipped.parquet'), (b) => {
      const bytes = new Uint8Array(b);
      const md = parquetMetadata(bytes.slice().buffer);
      const meta = md.row_groups[0].columns.find((c) => c.meta_data!.path_in_schema[0] === 'Jet_pt')!.meta_data!;
      const at = Number(meta.data_page_offset);
      for (let i = 0; i < 12; i++) bytes[at + i] = 0xff - bytes[at + i];
      return bytes;
    });
    const r = await openParquet(p);
    const e = await r.read(['Jet_pt'], 0, 1000).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ParquetFormatError);
    expect((e as ParquetFormatError).context).toMatchObject({ file: p, column: 'Jet_pt', rowGroup: 0 });
    // other columns of the same file still read
    expect(((await r.read(['MET_pt'], 0, 3)).MET_pt as Float32Array).length).toBe(3);
    await r.close();
  });

  it('footer with an impossible metadata length → ParquetFormatError', async () => {
    const p = editedCopy(FLAT, join(dir, 'footer.parquet'), (b) => {
      const bytes = new Uint8Array(b);
      new DataView(bytes.buffer).setUint32(bytes.length - 8, bytes.length * 4, true);
      return bytes;
    });
    await expect(openParquet(p)).rejects.toBeInstanceOf(ParquetFormatError);
  });
});

describe('remote Parquet over HTTP range requests', () => {
  let server: TestServer;
  let base: string;
  beforeAll(async () => {
    server = await serveDirectory(sharedPath('data'));
    base = server.url;
  });
  afterAll(() => server.close());

  it('reads the same columns as the local file, counting bytes', async () => {
    const names = ['nJet', 'Jet_pt', 'Jet_eta', 'MET_pt', 'event', 'HLT_IsoMu24', 'Muon_charge'];
    const local = await openParquet(FLAT);
    const remote = await openParquet(`${base}/${basename(FLAT)}`);
    expect(remote.numEntries).toBe(1000);
    const before = server.requests;
    const a = await local.read(names, 0, 1000);
    const b = await remote.read(names, 0, 1000);
    expect(server.requests).toBeGreaterThan(before);
    for (const n of names) expect(firstMismatch(columnRows(a[n]), columnRows(b[n])), n).toBe(-1);
    expect(remote.bytesRead).toBeGreaterThan(0);
    expect(remote.bytesRead).toBeLessThan(readFileSync(FLAT).length);
    // Only local files read synchronously; a remote one goes through the sync-read helper thread.
    expect(local.readSync).toBeTypeOf('function');
    expect(remote.readSync).toBeUndefined();
    await local.close();
    await remote.close();
  });

  it('a missing remote file → SourceError', async () => {
    await expect(openParquet(`${base}/missing.parquet`, { retries: 0 })).rejects.toBeInstanceOf(SourceError);
  });
});
