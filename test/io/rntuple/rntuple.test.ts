/**
 * RNTuple v1 reader on the CMS dimuon open-data file (1,000 entries, written by ROOT 6.35 through the
 * RNTupleImporter: an untyped `_collection0` with projected `Muon_*` RVec fields and an `nMuon`
 * cardinality field).
 *
 * What the values are checked against (jsroot's RNTuple reader is known to be wrong on this file and
 * no other file in ../shared/data holds the same events):
 * - per-event counts: sum(nMuon) == length of every Muon_* content; offsets monotone and shared;
 * - an independent decoding of the raw page bytes in this test: file bytes read with fs at the page
 *   offsets of the page list, zstd via fzstd directly, byte-unsplitting by gathering each element's
 *   bytes into a Buffer (readFloatLE / readBigUInt64LE), delta by a BigInt running sum, zigzag by
 *   arithmetic — none of it shares code with src/io/rntuple/columns.ts;
 * - physics invariants: every Muon_mass is the muon mass, charges are ±1, |eta| < 2.7, |phi| <= pi,
 *   pt >= 3 GeV;
 * - the first events as printed in the well-known uproot tutorials on this dataset
 *   (Muon_pt [[10.8, 15.7], [10.5, 16.3], [3.28], ...]).
 */
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decompress as zstd } from 'fzstd';
import { describe, expect, it } from 'vitest';
import { sharedPath } from '../../shared.ts';
import type { Jagged } from '../../../src/columnar/types.ts';
import { BranchNotFoundError, EntryRangeError } from '../../../src/io/root/errors.ts';
import {
  openRNTuple,
  RNTupleChecksumError,
  RNTupleFormatError,
  type RNTupleReader,
} from '../../../src/io/rntuple/index.ts';

const FILE = sharedPath('data', 'Run2012BC_DoubleMuParked_Muons_1000evts_rntuple_v1-0-0-0.root');
const MUON = ['Muon_pt', 'Muon_eta', 'Muon_phi', 'Muon_mass', 'Muon_charge'] as const;

/** Page locations of the single cluster (from the page list envelope; asserted against the reader below). */
const PAGES = {
  index: { offset: 843, nbytes: 380, n: 1000 },
  Muon_pt: { offset: 1231, nbytes: 7808, n: 2372 },
  Muon_eta: { offset: 9047, nbytes: 8449, n: 2372 },
  Muon_phi: { offset: 17504, nbytes: 8482, n: 2372 },
  Muon_mass: { offset: 25994, nbytes: 52, n: 2372 },
  Muon_charge: { offset: 26054, nbytes: 471, n: 2372 },
};

/** Independent page decoding: ROOT's 9-byte ZS block header, then zstd. */
function rawPage(file: Buffer, p: { offset: number; nbytes: number }, size: number): Buffer {
  const blk = file.subarray(p.offset, p.offset + p.nbytes);
  expect(blk.toString('latin1', 0, 2)).toBe('ZS');
  const usize = blk[6] + blk[7] * 256 + blk[8] * 65536;
  expect(usize).toBe(size);
  return Buffer.from(zstd(blk.subarray(9)));
}

/** Element i of a byte-split page: byte k of it lives at k * n + i. */
function gather(page: Buffer, n: number, width: number, i: number): Buffer {
  return Buffer.from(Array.from({ length: width }, (_, k) => page[k * n + i]));
}

function expectedByHand(): { ends: number[]; values: Record<string, number[]> } {
  const file = readFileSync(FILE);
  const idx = rawPage(file, PAGES.index, 8 * 1000);
  let sum = 0n;
  const ends: number[] = [];
  for (let i = 0; i < 1000; i++) {
    sum += gather(idx, 1000, 8, i).readBigUInt64LE(0); // delta encoding: a running sum
    ends.push(Number(sum));
  }
  const values: Record<string, number[]> = {};
  for (const name of MUON) {
    const page = rawPage(file, PAGES[name], 4 * 2372);
    values[name] = Array.from({ length: 2372 }, (_, i) => {
      const b = gather(page, 2372, 4, i);
      if (name !== 'Muon_charge') return b.readFloatLE(0);
      const u = b.readUInt32LE(0); // zigzag: even -> u/2, odd -> -(u+1)/2
      return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
    });
  }
  return { ends, values };
}

async function readAll(r: RNTupleReader, start = 0, stop = r.numEntries) {
  return r.read(['nMuon', ...MUON], start, stop) as Promise<
    Record<string, Jagged | Uint32Array> & { nMuon: Uint32Array }
  >;
}

describe('RNTuple reader on Run2012BC_DoubleMuParked (1000 events)', () => {
  it('opens the anchor, header, footer and page list and lists NanoAOD-flat branches', async () => {
    const r = await openRNTuple(FILE);
    try {
      expect(r.treeName).toBe('Events');
      expect(r.numEntries).toBe(1000);
      expect(r.boundaries()).toEqual([0, 1000]);
      expect(r.header.writer).toMatch(/^ROOT v6\./);
      const infos = Object.fromEntries(r.branches().map((b) => [b.name, b]));
      expect(Object.keys(infos).sort()).toEqual([...MUON, 'nMuon'].sort());
      expect(infos.nMuon).toEqual({ name: 'nMuon', kind: 'flat', dtype: 'uint32' });
      expect(infos.Muon_pt).toEqual({ name: 'Muon_pt', kind: 'jagged', dtype: 'float32', countBranch: 'nMuon' });
      expect(infos.Muon_charge).toEqual({ name: 'Muon_charge', kind: 'jagged', dtype: 'int32', countBranch: 'nMuon' });
      const hidden = r.describe().find((d) => d.name === '_collection0');
      expect(hidden?.hidden).toBe(true);
      expect(r.describe().find((d) => d.name === 'Muon_pt')?.type).toBe(
        'ROOT::VecOps::RVec<float> [SplitIndex64, SplitReal32]',
      );
      // the page list says what the hand decoding below assumes
      const cl = r.clusters[0];
      expect(r.clusters).toHaveLength(1);
      expect(cl.columns[0].pages.map((p) => ({ ...p.locator, n: p.numElements }))).toEqual([PAGES.index]);
      MUON.forEach((name, i) =>
        expect(cl.columns[i + 1].pages.map((p) => ({ ...p.locator, n: p.numElements }))).toEqual([PAGES[name]]),
      );
      expect(cl.columns.every((c) => c.pages.every((p) => p.hasChecksum))).toBe(true);
    } finally {
      await r.close();
    }
  });

  it('per-event counts agree: sum(nMuon) == every Muon_* length, offsets monotone and shared', async () => {
    const r = await openRNTuple(FILE);
    try {
      const c = await readAll(r);
      const n = c.nMuon;
      expect(n).toBeInstanceOf(Uint32Array);
      expect(n.length).toBe(1000);
      const total = n.reduce((s, x) => s + x, 0);
      expect(total).toBe(2372);
      for (const name of MUON) {
        const j = c[name] as Jagged;
        expect(j.offsets.length).toBe(1001);
        expect(j.content.length).toBe(total);
        expect(j.offsets[1000]).toBe(total);
        for (let i = 0; i < 1000; i++) expect(j.offsets[i + 1] - j.offsets[i]).toBe(n[i]);
      }
      expect((c.Muon_pt as Jagged).content).toBeInstanceOf(Float32Array);
      expect((c.Muon_charge as Jagged).content).toBeInstanceOf(Int32Array);
    } finally {
      await r.close();
    }
  });

  it('equals an independent decoding of the raw page bytes, value by value', async () => {
    const want = expectedByHand();
    const r = await openRNTuple(FILE);
    try {
      const c = await readAll(r);
      const offsets = Array.from((c.Muon_pt as Jagged).offsets);
      expect(offsets.slice(1)).toEqual(want.ends);
      for (const name of MUON) expect(Array.from((c[name] as Jagged).content)).toEqual(want.values[name]);
    } finally {
      await r.close();
    }
  });

  it('gives physically sensible values and the known first events', async () => {
    const r = await openRNTuple(FILE);
    try {
      const c = await readAll(r);
      const content = (n: string) => Array.from((c[n] as Jagged).content);
      expect(new Set(content('Muon_mass').map((m) => m.toFixed(5)))).toEqual(new Set(['0.10566']));
      expect(new Set(content('Muon_charge'))).toEqual(new Set([-1, 1]));
      expect(content('Muon_eta').every((e) => Math.abs(e) < 2.7)).toBe(true); // tracker acceptance
      expect(content('Muon_phi').every((p) => Math.abs(p) <= Math.PI + 1e-6)).toBe(true);
      expect(content('Muon_pt').every((p) => p >= 3 && p < 1e4)).toBe(true); // the sample's 3 GeV threshold
      expect(Array.from(c.nMuon.subarray(0, 5))).toEqual([2, 2, 1, 4, 4]);
      expect(
        content('Muon_pt')
          .slice(0, 5)
          .map((p) => +p.toPrecision(3)),
      ).toEqual([10.8, 15.7, 10.5, 16.3, 3.28]);
      expect(content('Muon_charge').slice(0, 2)).toEqual([-1, -1]);
    } finally {
      await r.close();
    }
  });

  it('reads any entry range consistently with the full read', async () => {
    const r = await openRNTuple(FILE);
    try {
      const full = await readAll(r);
      for (const [a, b] of [
        [0, 1],
        [1, 2],
        [337, 338],
        [337, 1000],
        [999, 1000],
        [500, 500],
      ] as const) {
        const part = await readAll(r, a, b);
        expect(Array.from(part.nMuon)).toEqual(Array.from(full.nMuon.subarray(a, b)));
        const fo = (full.Muon_eta as Jagged).offsets;
        const pj = part.Muon_eta as Jagged;
        expect(Array.from(pj.offsets)).toEqual(Array.from(fo.subarray(a, b + 1)).map((o) => o - fo[a]));
        expect(Array.from(pj.content)).toEqual(Array.from((full.Muon_eta as Jagged).content.subarray(fo[a], fo[b])));
      }
    } finally {
      await r.close();
    }
  });

  it('refuses unknown names and bad ranges with typed errors', async () => {
    const r = await openRNTuple(FILE);
    try {
      await expect(r.read(['Muon_ptt'], 0, 10)).rejects.toBeInstanceOf(BranchNotFoundError);
      await expect(r.read(['Muon_pt'], 0, 1001)).rejects.toBeInstanceOf(EntryRangeError);
    } finally {
      await r.close();
    }
  });
});

describe('RNTuple damage gives typed errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rntuple-damage-'));
  const damaged = (name: string, at: number): string => {
    const path = join(dir, name);
    copyFileSync(FILE, path);
    const b = readFileSync(path);
    b[at] = b[at] ^ 0x10;
    writeFileSync(path, b);
    return path;
  };

  it('a flipped byte in a page fails the page checksum on read', async () => {
    const r = await openRNTuple(damaged('page.root', PAGES.Muon_eta.offset + 100));
    try {
      await expect(r.read(['Muon_pt'], 0, 1000)).resolves.toBeDefined(); // other pages are fine
      await expect(r.read(['Muon_eta'], 0, 1000)).rejects.toBeInstanceOf(RNTupleChecksumError);
    } finally {
      await r.close();
    }
  });

  it('a flipped byte in the header, the footer or the anchor is refused at open', async () => {
    await expect(openRNTuple(damaged('header.root', 364 + 200))).rejects.toBeInstanceOf(RNTupleFormatError);
    await expect(openRNTuple(damaged('footer.root', 26754 + 40))).rejects.toBeInstanceOf(RNTupleFormatError);
    await expect(openRNTuple(damaged('anchor.root', 26898 + 30))).rejects.toBeInstanceOf(RNTupleChecksumError);
  });

  it('a truncated file is refused', async () => {
    const path = join(dir, 'truncated.root');
    writeFileSync(path, readFileSync(FILE).subarray(0, 20000));
    await expect(openRNTuple(path)).rejects.toThrow();
  });
});

describe('RNTuple: seeded random damage never changes values silently', () => {
  it('each flipped byte or truncation gives a typed error or the identical result', async () => {
    const { RistrettoError } = await import('../../../src/errors/index.ts');
    const good = readFileSync(FILE);
    const readEverything = async (path: string) => {
      const r = await openRNTuple(path);
      try {
        const c = await readAll(r);
        return JSON.stringify(
          Object.entries(c).map(([k, v]) => [
            k,
            'offsets' in v ? [Array.from(v.offsets), Array.from(v.content)] : Array.from(v),
          ]),
        );
      } finally {
        await r.close();
      }
    };
    const reference = await readEverything(FILE);
    const dir = mkdtempSync(join(tmpdir(), 'rntuple-fuzz-'));
    let seed = 20261206;
    const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    let errors = 0;
    for (let k = 0; k < 60; k++) {
      const bytes = Buffer.from(good);
      let damaged: Buffer = bytes;
      if (k % 10 === 9) damaged = bytes.subarray(0, Math.floor(rand() * bytes.length));
      else {
        const at = Math.floor(rand() * bytes.length);
        bytes[at] = bytes[at] ^ (1 + Math.floor(rand() * 255));
      }
      const path = join(dir, `fuzz-${k}.root`);
      writeFileSync(path, damaged);
      try {
        expect(await readEverything(path)).toBe(reference);
      } catch (e) {
        if (!(e instanceof RistrettoError)) throw new Error(`case ${k}: untyped error ${(e as Error).stack}`);
        errors++;
      }
    }
    expect(errors).toBeGreaterThan(10); // most of the file is pages and envelopes, all checksummed
  });
});
