/**
 * `RootReader.readSync` on local files: the columns a processor touches before they are known are read
 * on the spot with fs.readSync, through the same basket decoding as the async `read`. Checked against
 * jsroot's independent per-entry reading (every branch of the CMS open-data file) and bit for bit
 * against `read` on every branch of every shared ROOT file (every codec, leaf lists, vectors, count-branch
 * sizes); errors are the async path's typed errors; remote files have no readSync.
 */
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnyColumn, Column } from '../../../src/io/reader.ts';
import {
  BasketReadError,
  EntryRangeError,
  openRoot,
  RootFileError,
  type RootReader,
} from '../../../src/io/root/index.ts';
import { ensureSyncReads } from '../../../src/io/sync-read.ts';
import { columnEvents } from '../../helpers/columns.ts';
import { serveDirectory, type TestServer } from '../../helpers/http-server.ts';
import { sharedDir, sharedPath } from '../../shared.ts';
import { expectSameEntries } from './compare.ts';
import { jsrootTrees } from './corpus-reference.ts';
import { jsrootRead } from './jsroot-reference.ts';

const RUN2012 = sharedPath('data', 'Run2012B_SingleMu_10000.root');
const DATA = join(sharedDir, 'data');
const CORPUS = join(DATA, 'root-corpus');

/** A column reduced to its array types and raw bytes: equal only when bit-identical (NaN payloads, -0 included). */
function bits(c: AnyColumn): unknown {
  if (ArrayBuffer.isView(c)) {
    const a = c as ArrayBufferView;
    return [a.constructor.name, Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64')];
  }
  return { offsets: bits(c.offsets), content: bits(c.content as AnyColumn) };
}

function syncOf(r: RootReader): NonNullable<RootReader['readSync']> {
  expect(r.readSync, `${r.path} should read synchronously`).toBeTypeOf('function');
  return r.readSync!;
}

/** Count branches first: jsroot refuses a jagged branch whose counter it has not configured yet. */
function countsFirst(r: RootReader): string[] {
  const infos = r.branches();
  const counts = new Set(infos.flatMap((b) => (b.countBranch ? [b.countBranch] : [])));
  return [...infos.filter((b) => counts.has(b.name)), ...infos.filter((b) => !counts.has(b.name))].map((b) => b.name);
}

describe('Run2012B_SingleMu_10000.root read synchronously', () => {
  let reader: RootReader;
  beforeAll(async () => {
    reader = await openRoot(RUN2012);
  });
  afterAll(() => reader.close());

  for (const [a, b] of [
    [0, 10000],
    [1234, 5678],
    [9999, 10000],
  ] as const) {
    it(`every branch equals jsroot's TSelector in [${a}, ${b})`, async () => {
      const names = countsFirst(reader);
      expect(names).toHaveLength(86);
      const want = await jsrootRead(RUN2012, 'Events', names, a, b);
      const got = syncOf(reader)(names, a, b);
      for (const n of names) expectSameEntries(columnEvents(got[n] as Column), want[n], `${n} [${a}, ${b})`);
    });
  }

  it('every branch is bit-identical to the async read, one branch at a time and all at once', async () => {
    const names = reader.branches().map((b) => b.name);
    const all = syncOf(reader)(names, 321, 9876);
    for (const n of names) {
      const want = bits((await reader.read([n], 321, 9876))[n]);
      expect(bits(syncOf(reader)([n], 321, 9876)[n]), n).toEqual(want);
      expect(bits(all[n]), n).toEqual(want);
    }
  });

  it('counts the same bytes as the async read', async () => {
    let before = reader.bytesRead;
    await reader.read(['MET_pt', 'Jet_pt'], 100, 2000);
    const asyncBytes = reader.bytesRead - before;
    before = reader.bytesRead;
    syncOf(reader)(['MET_pt', 'Jet_pt'], 100, 2000);
    expect(reader.bytesRead - before).toBe(asyncBytes);
    expect(asyncBytes).toBeGreaterThan(0);
  });

  it('count-branch sizes (a second read for the counter, inside the same call) agree', async () => {
    const counted = await openRoot(RUN2012, { jaggedOffsets: 'count-branch' });
    try {
      const jagged = counted
        .branches()
        .filter((b) => b.kind === 'jagged')
        .map((b) => b.name);
      const got = syncOf(counted)(jagged, 321, 9876);
      const want = await reader.read(jagged, 321, 9876);
      for (const n of jagged) expect(bits(got[n]), n).toEqual(bits(want[n]));
    } finally {
      await counted.close();
    }
  });

  it('is the reader itself for the runner: no helper thread wraps a local ROOT file', () => {
    expect(ensureSyncReads(reader)).toBe(reader);
  });

  it('refuses a bad range and an unknown branch with the async path’s typed errors', () => {
    expect(() => syncOf(reader)(['MET_pt'], 0, 10001)).toThrow(EntryRangeError);
    expect(() => syncOf(reader)(['MET_ptt'], 0, 10)).toThrow(/no branch 'MET_ptt'.*closest: MET_pt/);
  });
});

describe('every shared ROOT file: readSync bit-identical to read', () => {
  const files = [...readdirSync(CORPUS).map((f) => join(CORPUS, f)), ...readdirSync(DATA).map((f) => join(DATA, f))]
    .filter((f) => f.endsWith('.root'))
    .sort();

  it('covers the codecs and layouts of the corpus', () => {
    const names = files.map((f) => f.split('/').pop());
    for (const n of ['uproot-HZZ-lzma.root', 'uproot-HZZ-lz4.root', 'uproot-HZZ-zstd.root', 'uproot-HZZ-zlib.root'])
      expect(names).toContain(n);
    expect(names).toContain('uproot-small-dy-nooffsets.root');
  });

  for (const file of files) {
    const base = file.split('/').pop()!;
    it(base, async () => {
      let compared = 0;
      for (const treeName of (await jsrootTrees(file)).keys()) {
        for (const jaggedOffsets of ['basket', 'count-branch'] as const) {
          const reader = await openRoot(file, { treeName, warnDuplicates: false, jaggedOffsets });
          try {
            const names = reader.branches().map((b) => b.name);
            const n = reader.numEntries;
            for (const [a, b] of [
              [0, n],
              [Math.min(3, n), Math.max(Math.min(3, n), n - 2)],
            ]) {
              const all = syncOf(reader)(names, a, b);
              for (const name of names) {
                const want = bits((await reader.read([name], a, b))[name]);
                expect(bits(all[name]), `${base}:${treeName}:${name} [${a}, ${b}) ${jaggedOffsets}`).toEqual(want);
                compared++;
              }
            }
            // Branches it cannot decode are refused with the same typed error either way.
            for (const d of reader.describe().filter((x) => !x.info && !x.shadowed)) {
              const want = await reader.read([d.name], 0, n).then(
                () => 'read',
                (e: Error) => e.constructor.name,
              );
              let got = 'read';
              try {
                syncOf(reader)([d.name], 0, n);
              } catch (e) {
                got = (e as Error).constructor.name;
              }
              expect(got, `${base}:${treeName}:${d.name}`).toBe(want);
              expect(got).not.toBe('read');
              compared++;
            }
          } finally {
            await reader.close();
          }
        }
      }
      // The RNTuple file holds no TTree; every other file has branches.
      if (!base.includes('rntuple')) expect(compared, base).toBeGreaterThan(0);
    });
  }
});

describe('errors of synchronous reads', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ristretto-readsync-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a file truncated after opening: BasketReadError naming the file, as from the async read', async () => {
    const copy = join(dir, 'truncated.root');
    copyFileSync(RUN2012, copy);
    const reader = await openRoot(copy);
    try {
      // Baskets of the whole tree now lie (partly) past the end of the shortened file.
      truncateSync(copy, 200_000);
      const names = reader.branches().map((b) => b.name);
      const e = (() => {
        try {
          syncOf(reader)(names, 0, reader.numEntries);
        } catch (x) {
          return x as Error;
        }
        throw new Error('expected a throw');
      })();
      expect(e).toBeInstanceOf(BasketReadError);
      expect(e.message).toContain(copy);
      expect(e.message).toMatch(/unexpected end of file/);
      await expect(reader.read(names, 0, reader.numEntries)).rejects.toBeInstanceOf(BasketReadError);
    } finally {
      await reader.close();
    }
  });

  it('a closed reader: RootFileError', async () => {
    const reader = await openRoot(RUN2012);
    const sync = syncOf(reader);
    await reader.close();
    expect(() => sync(['MET_pt'], 0, 10)).toThrow(RootFileError);
  });
});

describe('remote files', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await serveDirectory(sharedDir);
  });
  afterAll(() => server.close());

  it('have no readSync: their misses go through the sync-read helper', async () => {
    expect(existsSync(RUN2012)).toBe(true);
    const remote = await openRoot(`${server.url}/data/Run2012B_SingleMu_10000.root`);
    try {
      expect(remote.readSync).toBeUndefined();
      expect(ensureSyncReads(remote, 'v1')).not.toBe(remote);
      expect(ensureSyncReads(remote, 'v1').readSync).toBeTypeOf('function');
    } finally {
      await remote.close();
    }
  });
});
