/**
 * One error family for "missing branch/column/field" and one for "entry range", whatever raised them: real
 * files through each reader, the events layer and the columnar kernels. Also: every exported error class
 * name ends in `Error`, and accumulator, FaaS frame and compression codecs throw the one CodecError.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CodecError } from '../../src/accumulate/errors.ts';
import * as ak from '../../src/columnar/index.ts';
import { EntryRangeError, MissingColumnError, RistrettoError } from '../../src/errors/index.ts';
import { runOnEvents } from '../../src/events/index.ts';
import { decodeFrame, encodeFrameRaw } from '../../src/faas/codec.ts';
import {
  ArrowColumnNotFoundError,
  ArrowError,
  ArrowRangeError,
  openArrow,
  writeArrowIPC,
} from '../../src/io/arrow/index.ts';
import type { EventReader } from '../../src/io/reader.ts';
import { openParquet } from '../../src/io/parquet/index.ts';
import { ParquetColumnNotFoundError, ParquetError, ParquetRangeError } from '../../src/io/parquet/errors.ts';
import { BranchNotFoundError, RootError } from '../../src/io/root/errors.ts';
import { openReader } from '../../src/io/open.ts';
import { sharedPath } from '../shared.ts';

const ROOT = sharedPath('data', 'Run2012B_SingleMu_10000.root');
const PARQUET = sharedPath('data', 'Run2012B_SingleMu-1000.parquet');

let dir: string;
let arrowPath: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ristretto-families-'));
  arrowPath = join(dir, 'small.arrow');
  await writeArrowIPC({ Mu_pt: Float32Array.of(1, 2, 3, 4) }, arrowPath);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const caught = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

async function withReader(path: string, fn: (r: EventReader) => Promise<void>): Promise<void> {
  const r = path.endsWith('.arrow')
    ? await openArrow(path)
    : path.endsWith('.parquet')
      ? await openParquet(path)
      : await openReader(path);
  try {
    await fn(r);
  } finally {
    await r.close();
  }
}

describe('missing column family', () => {
  it('ROOT, Parquet and Arrow readers: a misspelled column is a MissingColumnError and keeps its own class', async () => {
    const cases: [string, string, abstract new (...a: never[]) => Error, abstract new (...a: never[]) => Error][] = [
      [ROOT, 'MET_ptt', BranchNotFoundError, RootError],
      [PARQUET, 'MET_ptt', ParquetColumnNotFoundError, ParquetError],
      ['arrow', 'Mu_ptt', ArrowColumnNotFoundError, ArrowError],
    ];
    for (const [file, name, own, base] of cases) {
      await withReader(file === 'arrow' ? arrowPath : file, async (r) => {
        const e = await caught(r.read([name], 0, 1));
        expect(e, file).toBeInstanceOf(own);
        expect(e, file).toBeInstanceOf(base);
        expect(e, file).toBeInstanceOf(MissingColumnError);
        expect(e, file).not.toBeInstanceOf(EntryRangeError);
        expect((e as Error).message, file).toContain(name);
      });
    }
  });

  it('the events layer and the columnar kernels join the same family', async () => {
    await withReader(ROOT, async (r) => {
      const e = await caught(runOnEvents(r, 0, 10, (ev) => (ev as unknown as Record<string, unknown>).MET_ptt));
      expect(e).toBeInstanceOf(MissingColumnError);
      expect((e as Error).message).toMatch(/MET_ptt.*closest: MET_pt/);
    });
    const muons = { offsets: Int32Array.of(0, 1), fields: { pt: Float32Array.of(5) } };
    let e: unknown;
    try {
      ak.field(muons as never, 'Pt');
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(ak.FieldNotFoundError);
    expect(e).toBeInstanceOf(MissingColumnError);
  });

  it('other errors are not members', () => {
    expect(new RistrettoError('x')).not.toBeInstanceOf(MissingColumnError);
    expect(new ParquetError('x')).not.toBeInstanceOf(MissingColumnError);
    expect(new Error('x')).not.toBeInstanceOf(MissingColumnError);
    expect(null).not.toBeInstanceOf(MissingColumnError);
    // Membership does not leak into the member classes: a Parquet column error is no Arrow one.
    expect(new ParquetColumnNotFoundError('x')).not.toBeInstanceOf(ArrowColumnNotFoundError);
  });
});

describe('entry range family', () => {
  it('ROOT, Parquet, Arrow and runOnEvents: entries past the end are an EntryRangeError', async () => {
    const cases: [string, abstract new (...a: never[]) => Error][] = [
      [ROOT, EntryRangeError],
      [PARQUET, ParquetRangeError],
      [arrowPath, ArrowRangeError],
    ];
    for (const [file, own] of cases) {
      await withReader(file, async (r) => {
        const col = r.branches()[0].name;
        const e = await caught(r.read([col], 0, r.numEntries + 1));
        expect(e, file).toBeInstanceOf(own);
        expect(e, file).toBeInstanceOf(EntryRangeError);
        expect(e, file).not.toBeInstanceOf(MissingColumnError);
        const ev = await caught(runOnEvents(r, 5, 2, () => 0));
        expect(ev, file).toBeInstanceOf(EntryRangeError);
        expect((ev as Error).message, file).toMatch(/entry range \[5, 2\)/);
      });
    }
  });

  it('every reader (RNTuple too) and runOnEvents refuse the same bad ranges and take the empty ones at both ends', async () => {
    const RNTUPLE = sharedPath('data', 'Run2012BC_DoubleMuParked_Muons_1000evts_rntuple_v1-0-0-0.root');
    for (const file of [ROOT, PARQUET, arrowPath, RNTUPLE]) {
      await withReader(file, async (r) => {
        const col = r.branches()[0].name;
        const n = r.numEntries;
        for (const [a, b] of [
          [-1, 1],
          [2, 1],
          [0.5, 1],
          [0, n + 1],
          [Number.NaN, 1],
          [0, Number.POSITIVE_INFINITY],
        ]) {
          const e = await caught(r.read([col], a, b));
          expect(e, `${file} [${a}, ${b})`).toBeInstanceOf(EntryRangeError);
          expect((e as Error).message, file).toContain(r.path);
          const ev = await caught(runOnEvents(r, a, b, () => 0));
          expect(ev, `events ${file} [${a}, ${b})`).toBeInstanceOf(EntryRangeError);
        }
        for (const at of [0, n]) {
          expect(Object.keys(await r.read([col], at, at)), `${file} [${at}, ${at})`).toEqual([col]);
        }
      });
    }
  });
});

describe('error classes', () => {
  it('the FaaS frame codec throws the accumulate CodecError', () => {
    const frame = encodeFrameRaw('{"a":1}', [Uint8Array.of(1, 2, 3)]);
    let e: unknown;
    try {
      decodeFrame(frame.subarray(0, frame.length - 1));
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(CodecError);
    expect(e).toBeInstanceOf(RistrettoError);
    expect((e as Error).name).toBe('CodecError');
  });

  it('one CodecError: accumulator bytes, FaaS frames and compressed blocks that do not decode throw the same class', async () => {
    const io = await import('../../src/io/index.ts');
    const acc = await import('../../src/accumulate/index.ts');
    const { decode } = await import('../../src/accumulate/codec.ts');
    const { lz4Decompress } = await import('../../src/io/codecs/lz4.ts');
    // Every entry point that exports a CodecError exports this one class.
    expect(acc.CodecError).toBe(io.CodecError);
    expect(CodecError).toBe(io.CodecError);
    const thrown = (f: () => unknown): unknown => {
      try {
        f();
      } catch (e) {
        return e;
      }
      return undefined;
    };
    const frame = encodeFrameRaw('{"a":1}', [Uint8Array.of(1, 2, 3)]);
    const errors = {
      accumulator: thrown(() => decode(Uint8Array.of(0x52, 0x53, 0x41, 0x43, 9, 9, 9))),
      frame: thrown(() => decodeFrame(frame.subarray(0, 5))),
      // An LZ4 block whose only sequence asks for 15+ literals it does not have.
      lz4: thrown(() => lz4Decompress(Uint8Array.of(0xf0, 0xff, 0xff), 64)),
    };
    for (const [what, e] of Object.entries(errors)) {
      expect(e, what).toBeInstanceOf(io.CodecError);
      expect(e, what).toBeInstanceOf(RistrettoError);
    }
  });

  it('every exported error class of the library entry points is named ...Error', async () => {
    const modules = await Promise.all([
      import('../../src/index.ts'),
      import('../../src/io/index.ts'),
      import('../../src/events/index.ts'),
      import('../../src/accumulate/index.ts'),
      import('../../src/errors/index.ts'),
      import('../../src/io/root/errors.ts'),
      import('../../src/io/parquet/errors.ts'),
      import('../../src/io/arrow/index.ts'),
    ]);
    const bad: string[] = [];
    let seen = 0;
    for (const m of modules)
      for (const [key, v] of Object.entries(m)) {
        if (typeof v !== 'function' || !(v.prototype instanceof Error)) continue;
        seen++;
        if (!key.endsWith('Error') || !v.name.endsWith('Error')) bad.push(key);
      }
    expect(seen).toBeGreaterThan(20);
    expect(bad).toEqual([]);
  });
});
