/**
 * The ROOT reader reuses memory from one read to the next (decompressed baskets in a per-reader arena,
 * a local file's basket bytes in one buffer): columns a read returned must keep their values after later
 * reads overwrite that memory, for every codec, sync and async; reads running at the same time on one
 * reader (over http, where `read` awaits) must each get their own columns; and a count branch read in
 * the middle of a read (`jaggedOffsets: 'count-branch'`) must not overwrite the baskets still to decode.
 * Values are compared with the uncompressed copy of the same file read whole.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Column } from '../../../src/io/reader.ts';
import { openRoot } from '../../../src/io/root/index.ts';
import { columnEvents } from '../../helpers/columns.ts';
import { serveDirectory, type TestServer } from '../../helpers/http-server.ts';
import { sharedDir, sharedPath } from '../../shared.ts';
import { expectSameColumn, expectSameEntries, sliceEntries } from './compare.ts';

const HZZ = (codec: string): string => sharedPath('data', `uproot-HZZ-${codec}.root`);
const ENTRIES = 2421;

/** A deep copy of a column, taken right after the read that returned it. */
function copyOf(c: Column): Column {
  return 'offsets' in c ? { ...c, offsets: c.offsets.slice(), content: c.content.slice() } : c.slice();
}

/** The whole uncompressed file: what every range of every codec must equal. */
let reference: Record<string, Column>;
let names: string[];
beforeAll(async () => {
  const r = await openRoot(HZZ('uncompressed'), { treeName: 'events' });
  try {
    names = r.branches().map((b) => b.name);
    reference = await r.read(names, 0, ENTRIES);
  } finally {
    await r.close();
  }
});

describe('memory reused between reads', () => {
  for (const codec of ['zlib', 'lz4', 'zstd', 'lzma']) {
    it(`${codec}: columns kept from earlier reads keep their values after later reads`, async () => {
      const r = await openRoot(HZZ(codec), { treeName: 'events' });
      try {
        const kept: { a: number; b: number; cols: Record<string, Column>; copy: Record<string, Column> }[] = [];
        for (let a = 0, k = 0; a < ENTRIES; a += 300, k++) {
          const b = Math.min(ENTRIES, a + 300);
          // Both drivers, in turns (a local file's `read` goes through the synchronous one too).
          const cols = k % 2 && r.readSync ? r.readSync(names, a, b) : await r.read(names, a, b);
          kept.push({ a, b, cols, copy: Object.fromEntries(names.map((n) => [n, copyOf(cols[n])])) });
        }
        expect(kept.length).toBeGreaterThan(5);
        for (const { a, b, cols, copy } of kept) {
          for (const n of names) {
            expectSameColumn(cols[n], copy[n], `${codec} ${n} [${a}, ${b})`);
            expectSameEntries(columnEvents(cols[n]), sliceEntries(reference[n], a, b), `${codec} ${n} [${a}, ${b})`);
          }
        }
      } finally {
        await r.close();
      }
    });
  }

  it('count-branch sizes: the counter read inside a read leaves the other baskets intact', async () => {
    const r = await openRoot(HZZ('zlib'), { treeName: 'events', jaggedOffsets: 'count-branch' });
    try {
      const jagged = r
        .branches()
        .filter((b) => b.kind === 'jagged')
        .map((b) => b.name);
      expect(jagged.length).toBeGreaterThan(3);
      // Flat branches after the jagged ones: their baskets are decoded after the count-branch reads.
      const order = [...jagged, ...names.filter((n) => !jagged.includes(n))];
      for (const [a, b] of [
        [0, ENTRIES],
        [1000, 2300],
      ]) {
        const got = await r.read(order, a, b);
        for (const n of order) expectSameEntries(columnEvents(got[n]), sliceEntries(reference[n], a, b), n);
      }
    } finally {
      await r.close();
    }
  });
});

describe('reads at the same time on one reader', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await serveDirectory(sharedDir);
  });
  afterAll(() => server.close());

  // With count-branch sizes a read awaits in the middle of decoding (the counter's bytes), so another
  // read decodes meanwhile: only one of them may use the reader's arena.
  for (const [codec, jaggedOffsets] of [
    ['zlib', 'basket'],
    ['zlib', 'count-branch'],
    ['lz4', 'count-branch'],
  ] as const) {
    it(`${codec} over http, ${jaggedOffsets} sizes: overlapping reads each get their own values`, async () => {
      const r = await openRoot(`${server.url}/data/uproot-HZZ-${codec}.root`, { treeName: 'events', jaggedOffsets });
      try {
        // Each read its own ranges and branches (the same baskets would decode to the same bytes).
        const reads = Array.from({ length: 8 }, (_, i) => ({
          a: i * 300,
          b: Math.min(ENTRIES, i * 300 + 450),
          branches: names.filter((_, k) => k % 8 === i),
        }));
        expect(new Set(reads.flatMap((x) => x.branches)).size).toBe(names.length);
        // Each read starts once the one before has made its second request (with count-branch sizes:
        // it has decoded baskets and waits for a counter's), so reads overlap in the middle of decoding.
        const pending: Promise<Record<string, Column>>[] = [];
        const requests = jaggedOffsets === 'count-branch' ? 2 : 1;
        for (const { a, b, branches } of reads) {
          const before = server.requests;
          pending.push(r.read(branches, a, b));
          for (let t = 0; server.requests < before + requests && t < 2000; t++)
            await new Promise((ok) => setTimeout(ok, 1));
        }
        const all = await Promise.all(pending);
        // Once more after they all ended: the reader is usable and the earlier columns are unchanged.
        const again = await r.read(names, 0, ENTRIES);
        reads.forEach(({ a, b, branches }, i) => {
          for (const n of branches)
            expectSameEntries(columnEvents(all[i][n]), sliceEntries(reference[n], a, b), `${n} [${a}, ${b})`);
        });
        for (const n of names) expectSameColumn(again[n], reference[n], n);
      } finally {
        await r.close();
      }
    });
  }
});
