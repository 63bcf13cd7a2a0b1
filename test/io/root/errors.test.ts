/**
 * Bad input gives typed errors with context, never a short or silently wrong array: missing and
 * non-ROOT files, wrong tree and branch names, bad entry ranges, truncated and byte-flipped copies
 * (made in a temp dir from the real files).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Column } from '../../../src/io/reader.ts';
import {
  BranchNotFoundError,
  CorruptBasketError,
  EntryRangeError,
  openRoot,
  RootError,
  RootFileError,
  TreeNotFoundError,
} from '../../../src/io/root/index.ts';
import { caught } from '../../helpers/caught.ts';
import { editedCopy, tempDir } from '../../helpers/files.ts';
import { sharedPath } from '../../shared.ts';
import { expectSameColumn } from './compare.ts';
import { jsrootBaskets } from './jsroot-reference.ts';

const RUN2012 = sharedPath('data', 'Run2012B_SingleMu_10000.root');
const HZZ_LZ4 = sharedPath('data', 'uproot-HZZ-lz4.root');
const HZZ_ZLIB = sharedPath('data', 'uproot-HZZ-zlib.root');
const HZZ_RAW = sharedPath('data', 'uproot-HZZ-uncompressed.root');

const dir = tempDir('root-errors');

let copies = 0;
/** A copy of `src` with `edit` applied to its bytes. */
function corruptCopy(src: string, edit: (b: Buffer) => Buffer): string {
  return editedCopy(src, join(dir, `copy-${copies++}.root`), edit);
}

async function readAllBranches(path: string, treeName: string): Promise<Record<string, Column>> {
  const r = await openRoot(path, { treeName });
  try {
    return await r.read(
      r.branches().map((b) => b.name),
      0,
      r.numEntries,
    );
  } finally {
    await r.close();
  }
}

describe('opening', () => {
  it('a missing file names the path', async () => {
    const e = await caught(openRoot(join(dir, 'nope.root')));
    expect(e).toBeInstanceOf(RootFileError);
    expect(e.message).toContain('nope.root');
    expect(e.message).toMatch(/not found/);
    expect((e as RootError).context.file).toBe(join(dir, 'nope.root'));
  });

  it('a file that is not ROOT', async () => {
    const e = await caught(openRoot(sharedPath('data', 'Run2012B_SingleMu-1000.parquet')));
    expect(e).toBeInstanceOf(RootFileError);
    expect(e.message).toContain('Run2012B_SingleMu-1000.parquet');
  });

  it('a wrong tree name lists the trees present', async () => {
    const e = await caught(openRoot(HZZ_ZLIB, { treeName: 'Events' })); // this file has `events`
    expect(e).toBeInstanceOf(TreeNotFoundError);
    expect(e.message).toContain("no tree 'Events'");
    expect(e.message).toContain('events');
    expect((e as RootError).context.available).toEqual(['events']);
    expect((e as RootError).hint).toContain('--treename events');
  });

  it('an RNTuple is not taken for a TTree', async () => {
    const e = await caught(
      openRoot(sharedPath('data', 'Run2012BC_DoubleMuParked_Muons_1000evts_rntuple_v1-0-0-0.root')),
    );
    expect(e).toBeInstanceOf(TreeNotFoundError);
    expect(e.message).toMatch(/RNTuple, not a TTree/);
  });

  for (const keep of [0, 1000, 0.5]) {
    it(`a copy truncated to ${keep < 1 ? `${keep * 100}%` : `${keep} bytes`} fails to open with a typed error`, async () => {
      const path = corruptCopy(RUN2012, (b) => b.subarray(0, keep < 1 ? Math.floor(b.length * keep) : keep));
      const e = await caught(openRoot(path));
      expect(e).toBeInstanceOf(RootFileError);
      expect(e.message).toContain(path);
    });
  }
});

describe('reading', () => {
  it('a missing branch suggests the closest names', async () => {
    const r = await openRoot(RUN2012);
    try {
      for (const [typo, best] of [
        ['Jet_Pt', 'Jet_pt'],
        ['nJets', 'nJet'],
        ['MET_pT', 'MET_pt'],
        ['Muon_ptt', 'Muon_pt'],
      ]) {
        const e = await caught(r.read(['MET_pt', typo], 0, 10));
        expect(e).toBeInstanceOf(BranchNotFoundError);
        expect(e.message).toContain(`'${typo}'`);
        expect((e as RootError).context).toMatchObject({ file: RUN2012, tree: 'Events', branch: typo });
        expect(((e as RootError).context.suggestions as string[])[0]).toBe(best);
      }
    } finally {
      await r.close();
    }
  });

  it('bad entry ranges', async () => {
    const r = await openRoot(RUN2012);
    try {
      for (const [a, b] of [
        [-1, 5],
        [0, 10001],
        [6, 5],
        [0.5, 3],
        [0, NaN],
      ]) {
        const e = await caught(r.read(['MET_pt'], a, b));
        expect(e).toBeInstanceOf(EntryRangeError);
        expect((e as RootError).context).toMatchObject({ tree: 'Events', numEntries: 10000 });
      }
    } finally {
      await r.close();
    }
  });

  it('a flipped byte inside a zlib basket names branch, basket and entries; other branches still read', async () => {
    const seek = (await jsrootBaskets(RUN2012, 'Events')).get('Jet_pt')!.seeks[0];
    const path = corruptCopy(RUN2012, (b) => {
      b[seek + 200] ^= 0x5a; // well inside the compressed payload
      return b;
    });
    const r = await openRoot(path);
    try {
      const e = await caught(r.read(['nJet', 'Jet_pt'], 10, 20));
      expect(e).toBeInstanceOf(CorruptBasketError);
      expect((e as RootError).context).toMatchObject({
        file: path,
        tree: 'Events',
        branch: 'Jet_pt',
        basket: 0,
        entryStart: 0,
        entryStop: 10000,
        seek,
      });
      expect(e.message).toMatch(/zlib/);
      const met = await r.read(['MET_pt'], 0, 10000);
      expect(met.MET_pt).toHaveLength(10000);
    } finally {
      await r.close();
    }
  });

  it("a flipped byte in a basket's key header", async () => {
    const seek = (await jsrootBaskets(RUN2012, 'Events')).get('MET_pt')!.seeks[0];
    const path = corruptCopy(RUN2012, (b) => {
      b[seek + 1] ^= 0x01; // fNbytes
      return b;
    });
    const r = await openRoot(path);
    try {
      const e = await caught(r.read(['MET_pt'], 0, 10));
      expect(e).toBeInstanceOf(CorruptBasketError);
      expect((e as RootError).context).toMatchObject({ branch: 'MET_pt', basket: 0 });
    } finally {
      await r.close();
    }
  });

  it('a flipped byte inside an LZ4 basket fails its checksum', async () => {
    // Basket 0 of Muon_Px is LZ4-compressed; basket 1 is stored raw (ROOT keeps a basket uncompressed
    // when compression does not pay), so flipping there could not be detected.
    const layout = (await jsrootBaskets(HZZ_LZ4, 'events')).get('Muon_Px')!;
    const seek = layout.seeks[0];
    const path = corruptCopy(HZZ_LZ4, (b) => {
      b[seek + layout.bytes[0] - 20] ^= 0x10;
      return b;
    });
    const r = await openRoot(path, { treeName: 'events' });
    try {
      expect((await r.read(['Muon_Px'], 2231, 2421)).Muon_Px).toBeDefined(); // basket 1 is intact
      const e = await caught(r.read(['Muon_Px'], 2000, 2421));
      expect(e).toBeInstanceOf(CorruptBasketError);
      expect((e as RootError).context).toMatchObject({ branch: 'Muon_Px', basket: 0, entryStart: 0, entryStop: 2231 });
      expect(e.message).toMatch(/checksum/);
    } finally {
      await r.close();
    }
  });

  it('a damaged entry-offset table in an uncompressed basket', async () => {
    const layout = (await jsrootBaskets(HZZ_RAW, 'events')).get('Muon_Px')!;
    const [seek, bytes] = [layout.seeks[0], layout.bytes[0]];
    const path = corruptCopy(HZZ_RAW, (b) => {
      // The table sits at the end of the basket: 4-byte length, then one offset per entry.
      b[seek + bytes - 4 * 100] = 0x7f;
      return b;
    });
    const e = await caught(readAllBranches(path, 'events'));
    expect(e).toBeInstanceOf(CorruptBasketError);
    expect((e as RootError).context).toMatchObject({ branch: 'Muon_Px', basket: 0 });
    expect(e.message).toMatch(/offset/);
  });

  for (const [label, file] of [
    ['zlib', HZZ_ZLIB],
    ['lz4', HZZ_LZ4],
  ] as const) {
    it(`any single flipped byte of a compressed ${label} basket is an error or harmless, never wrong data`, async () => {
      const pristine = await readAllBranches(file, 'events');
      const original = readFileSync(file);
      // Only compressed baskets carry a checksum (zlib adler32, LZ4 XXH64); raw ones cannot be checked.
      const isCompressed = (seek: number, bytes: number): boolean =>
        original.readInt32BE(seek + 6) !== bytes - original.readInt16BE(seek + 14);
      const layout = [...(await jsrootBaskets(file, 'events')).values()]
        .flatMap((l) => l.seeks.map((s, i) => [s, l.bytes[i]] as const))
        .filter(([s, n]) => isCompressed(s, n));
      expect(layout.length).toBeGreaterThan(40);
      await fc.assert(
        fc.asyncProperty(
          fc.nat(layout.length - 1),
          fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
          fc.integer({ min: 1, max: 255 }),
          async (k, where, mask) => {
            const [seek, bytes] = layout[k];
            const pos = seek + Math.floor(where * bytes);
            const path = join(dir, `flip-${label}.root`);
            const copy = Buffer.from(original);
            copy[pos] ^= mask;
            writeFileSync(path, copy);
            let got: Record<string, Column>;
            try {
              got = await readAllBranches(path, 'events');
            } catch (e) {
              expect(e, `flip at ${pos}`).toBeInstanceOf(CorruptBasketError);
              return;
            }
            for (const n of Object.keys(pristine)) expectSameColumn(got[n], pristine[n], `${n} after flip at ${pos}`);
          },
        ),
        { numRuns: 60, seed: 20240611 },
      );
    });
  }
});
