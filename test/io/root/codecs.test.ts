/**
 * The uproot-HZZ variants hold the same tree under every ROOT codec: each must decode to identical
 * arrays for every branch, and the uncompressed one must match jsroot's TSelector. Muon_* branches have
 * two baskets (split at entry 2231) while NMuon has one, so ranges here cross basket boundaries.
 */
import { describe, expect, it } from 'vitest';
import type { Column } from '../../../src/io/reader.ts';
import { openRoot } from '../../../src/io/root/index.ts';
import { sharedPath } from '../../shared.ts';
import { columnEvents } from '../../helpers/columns.ts';
import { expectSameColumn, expectSameEntries, sliceEntries } from './compare.ts';
import { jsrootBaskets, jsrootRead } from './jsroot-reference.ts';

const VARIANTS = ['uncompressed', 'zlib', 'lz4', 'lzma', 'zstd', 'default'] as const;
const fileOf = (v: (typeof VARIANTS)[number]): string =>
  sharedPath('data', v === 'default' ? 'uproot-HZZ.root' : `uproot-HZZ-${v}.root`);

async function readAll(path: string, start: number, stop: number): Promise<Record<string, Column>> {
  const r = await openRoot(path, { treeName: 'events' });
  try {
    return await r.read(
      r.branches().map((b) => b.name),
      start,
      stop,
    );
  } finally {
    await r.close();
  }
}

describe('uproot-HZZ under every codec', () => {
  it('the uncompressed file matches jsroot for every branch, whole tree and across the basket boundary', async () => {
    const path = fileOf('uncompressed');
    const r = await openRoot(path, { treeName: 'events' });
    try {
      const infos = r.branches();
      expect(infos).toHaveLength(51);
      const counts = new Set(infos.flatMap((b) => (b.countBranch ? [b.countBranch] : [])));
      const names = [...infos.filter((b) => counts.has(b.name)), ...infos.filter((b) => !counts.has(b.name))].map(
        (b) => b.name,
      );
      for (const [a, b] of [
        [0, 2421],
        [2000, 2300],
        [2231, 2232],
        [2230, 2231],
      ] as const) {
        const want = await jsrootRead(path, 'events', names, a, b);
        const got = await r.read(names, a, b);
        for (const n of names) expectSameEntries(columnEvents(got[n]), want[n], `${n} [${a}, ${b})`);
      }
    } finally {
      await r.close();
    }
  });

  for (const v of VARIANTS.filter((x) => x !== 'uncompressed')) {
    it(`${v} decodes to the same arrays as the uncompressed file, every branch`, async () => {
      const want = await readAll(fileOf('uncompressed'), 0, 2421);
      const got = await readAll(fileOf(v), 0, 2421);
      expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
      for (const n of Object.keys(want)) expectSameColumn(got[n], want[n], `${v} ${n}`);
    });
  }

  it('a range cutting through both Muon baskets equals the whole read, sliced (lz4)', async () => {
    const all = await readAll(fileOf('lz4'), 0, 2421);
    const part = await readAll(fileOf('lz4'), 1500, 2400);
    for (const n of Object.keys(all)) expectSameEntries(columnEvents(part[n]), sliceEntries(all[n], 1500, 2400), n);
  });

  it('reads only the second Muon_Px basket for a range inside it', async () => {
    const path = fileOf('zlib');
    const layout = (await jsrootBaskets(path, 'events')).get('Muon_Px')!;
    expect(layout.entries).toEqual([0, 2231, 2421]);
    const r = await openRoot(path, { treeName: 'events' });
    try {
      const before = r.bytesRead;
      await r.read(['Muon_Px'], 2300, 2421);
      expect(r.bytesRead - before).toBe(layout.bytes[1]);
      expect(r.boundaries()).toEqual([0, 2231, 2421]);
    } finally {
      await r.close();
    }
  });

  it('count-branch offsets agree with basket offsets when the count branch has other baskets', async () => {
    const path = fileOf('zstd');
    const a = await openRoot(path, { treeName: 'events' });
    const b = await openRoot(path, { treeName: 'events', jaggedOffsets: 'count-branch' });
    try {
      const jagged = a
        .branches()
        .filter((x) => x.kind === 'jagged')
        .map((x) => x.name);
      const x = await a.read(jagged, 17, 2400);
      const y = await b.read(jagged, 17, 2400);
      for (const n of jagged) expectSameColumn(y[n], x[n], n);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
