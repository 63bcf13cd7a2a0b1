/**
 * Arrow output keeps the declared types: int64 / uint64 / bool columns (flat and List) are written as
 * Arrow Int64 / Uint64 / Bool, checked by reading the file back with apache-arrow itself, and still read
 * back into Ristretto's in-memory form (Float64Array, one byte per bool).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromIPC, Type, type DataType, type Field } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { openArrow, writeArrowIPC } from '../../src/io/arrow/index.ts';
import { convert } from '../../src/io/convert.ts';
import { openRoot } from '../../src/io/root/index.ts';
import type { Column } from '../../src/io/reader.ts';
import { columnEvents as events } from '../helpers/columns.ts';
import { tempDir } from '../helpers/files.ts';
import { sharedPath } from '../shared.ts';

const dir = tempDir('arrow-types');

/** `int64`, `uint8`, `bool`, `float32`, ... for an Arrow type as pyarrow would print it (list<...> for lists). */
function typeName(t: DataType): string {
  switch (t.typeId) {
    case Type.Bool:
      return 'bool';
    case Type.Int: {
      const { bitWidth, isSigned } = t as unknown as { bitWidth: number; isSigned: boolean };
      return `${isSigned ? '' : 'u'}int${bitWidth}`;
    }
    case Type.Float:
      return ['float16', 'float32', 'float64'][(t as unknown as { precision: number }).precision];
    case Type.List:
      return `list<${typeName(t.children[0].type as DataType)}>`;
    default:
      return String(t);
  }
}

function arrowTypes(path: string): Record<string, string> {
  const table = tableFromIPC(readFileSync(path));
  return Object.fromEntries(table.schema.fields.map((f: Field) => [f.name, typeName(f.type)]));
}

describe('Arrow output types', () => {
  it('writes int64, uint64 and bool as Arrow Int64, Uint64 and Bool (flat and list), values intact', async () => {
    const path = join(dir, 'types.arrow');
    const big = 2 ** 53 - 1;
    const cols: Record<string, Column> = {
      event: Float64Array.from([0, 1, big, 123456789012]),
      delta: Float64Array.from([-big, -1, 0, 7]),
      pass: Uint8Array.from([1, 0, 0, 1]),
      Muon_id: { offsets: Int32Array.from([0, 2, 2, 3, 5]), content: Float64Array.from([-5, 6, 2 ** 40, 0, -1]) },
      Muon_tight: { offsets: Int32Array.from([0, 2, 2, 3, 5]), content: Uint8Array.from([1, 0, 1, 1, 0]) },
      Muon_pt: { offsets: Int32Array.from([0, 2, 2, 3, 5]), content: Float32Array.from([10, 20, 30, 40, 50]) },
    };
    await writeArrowIPC(cols, path, {
      dtypes: {
        event: 'uint64',
        delta: 'int64',
        pass: 'bool',
        Muon_id: 'int64',
        Muon_tight: 'bool',
        Muon_pt: 'float32',
      },
    });

    expect(arrowTypes(path)).toEqual({
      event: 'uint64',
      delta: 'int64',
      pass: 'bool',
      Muon_id: 'list<int64>',
      Muon_tight: 'list<bool>',
      Muon_pt: 'list<float32>',
    });
    // values as apache-arrow decodes them
    const t = tableFromIPC(readFileSync(path));
    expect(Array.from(t.getChild('event')!.toArray() as BigUint64Array)).toEqual([0n, 1n, BigInt(big), 123456789012n]);
    expect(Array.from(t.getChild('delta')!.toArray() as BigInt64Array)).toEqual([BigInt(-big), -1n, 0n, 7n]);
    expect(t.getChild('pass')!.toArray().length).toBe(4);
    expect([...t.getChild('pass')!].map(Boolean)).toEqual([true, false, false, true]);
    expect([...t.getChild('Muon_tight')!].map((l) => [...(l as Iterable<boolean>)])).toEqual([
      [true, false],
      [],
      [true],
      [true, false],
    ]);

    // and back into Ristretto's in-memory form
    const r = await openArrow(path);
    expect(r.branches().map((b) => [b.name, b.dtype, b.kind])).toEqual([
      ['event', 'uint64', 'flat'],
      ['delta', 'int64', 'flat'],
      ['pass', 'bool', 'flat'],
      ['Muon_id', 'int64', 'jagged'],
      ['Muon_tight', 'bool', 'jagged'],
      ['Muon_pt', 'float32', 'jagged'],
    ]);
    const back = await r.read(Object.keys(cols), 0, 4);
    for (const [name, col] of Object.entries(cols)) expect(events(back[name]), name).toEqual(events(col));
    expect(back.event).toBeInstanceOf(Float64Array);
    expect(back.pass).toBeInstanceOf(Uint8Array);
    // a sub-range that does not start on a byte boundary of the bit-packed booleans
    const part = await r.read(['pass', 'Muon_tight'], 1, 4);
    expect(Array.from(part.pass as Uint8Array)).toEqual([0, 0, 1]);
    expect(events(part.Muon_tight)).toEqual([[], [1], [1, 0]]);
  });

  it('refuses a value an int64 column cannot hold, naming column and entry', async () => {
    await expect(
      writeArrowIPC({ n: Float64Array.from([1, 2.5]) }, join(dir, 'bad.arrow'), { dtypes: { n: 'int64' } }),
    ).rejects.toThrow(/column n is declared int64 but entry 1 holds 2\.5/);
    await expect(
      writeArrowIPC({ n: Float64Array.from([-1]) }, join(dir, 'bad2.arrow'), { dtypes: { n: 'uint64' } }),
    ).rejects.toThrow(/uint64 but entry 0 holds -1/);
  });

  it('converting a NanoAOD ROOT file keeps uint64 event, uint32 run, bool triggers and bool lists', async () => {
    const r = await openRoot(sharedPath('data', 'Run2012B_SingleMu_10000.root'));
    const out = join(dir, 'singlemu.arrow');
    const names = ['run', 'event', 'HLT_IsoMu24', 'Muon_tightId', 'Muon_pt', 'PV_npvs'];
    await convert(r, out, { branches: names, entryStop: 3000, chunkSize: 1000 });
    const types = arrowTypes(out);
    expect(types).toMatchObject({
      run: 'int32',
      event: 'uint64',
      HLT_IsoMu24: 'bool',
      nMuon: 'uint32',
      Muon_tightId: 'list<bool>',
      Muon_pt: 'list<float32>',
      PV_npvs: 'int32',
    });
    const want = await r.read(names, 0, 3000);
    const a = await openArrow(out);
    const got = await a.read(names, 0, 3000);
    for (const n of names) expect(events(got[n]), n).toEqual(events(want[n]));
    // event numbers as apache-arrow reads them equal the ROOT values
    const t = tableFromIPC(readFileSync(out));
    const ev = t.getChild('event')!.toArray() as BigUint64Array;
    expect(ev.length).toBe(3000);
    const wantEv = want.event as Float64Array;
    for (let i = 0; i < 3000; i += 97) expect(ev[i]).toBe(BigInt(wantEv[i]));
    await r.close();
  });
});

describe('type ids the reader uses without loading apache-arrow', () => {
  it("equal apache-arrow's own Type enum (the Arrow format's Schema.fbs ids)", async () => {
    const { TYPE_BOOL, TYPE_FLOAT, TYPE_INT, TYPE_LIST } = await import('../../src/io/arrow/dtype.ts');
    expect([TYPE_INT, TYPE_FLOAT, TYPE_BOOL, TYPE_LIST]).toEqual([Type.Int, Type.Float, Type.Bool, Type.List]);
  });
});
