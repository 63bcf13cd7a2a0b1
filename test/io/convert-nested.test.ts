/**
 * Strings and lists of lists (ROOT std::string / TString / char*, vector<vector<T>>) converted to
 * Parquet (UTF8, list<list<T>>) and Arrow (Utf8, List<List<T>>), read back by DuckDB and by
 * apache-arrow directly (neither goes through Ristretto), compared entry by entry with the ROOT input
 * as Ristretto's reader gives it (which the corpus tests check against jsroot).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { tableFromIPC } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { convert } from '../../src/io/convert.ts';
import { stringsOf, type Column } from '../../src/io/reader.ts';
import { openRoot } from '../../src/io/root/index.ts';
import { tempDir } from '../helpers/files.ts';
import { sharedPath } from '../shared.ts';
import { plainOfColumn, type Plain } from './root/corpus-reference.ts';

const dir = tempDir('convert-nested');

const CASES = [
  {
    file: 'uproot-stl_containers.root',
    tree: undefined,
    columns: ['string', 'tstring', 'vector_vector_int32', 'vector_set_int32'],
  },
  { file: 'uproot-vectorVectorDouble.root', tree: undefined, columns: ['x'] },
  { file: 'uproot-sample-6.20.04-zlib.root', tree: 'sample', columns: ['str'] },
];

function expected(c: Column, kind: string): Plain[] {
  return kind === 'string' ? stringsOf(c as Extract<Column, { offsets: Int32Array }>) : plainOfColumn(c);
}

/** DuckDB/Arrow values as Plain (bigints to numbers, nested arrays to arrays). */
function plain(v: unknown): Plain {
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number' || typeof v === 'string') return v;
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object' && 'toArray' in v)
    return plain(Array.from((v as { toArray(): ArrayLike<unknown> }).toArray()));
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>);
  throw new Error(`unexpected value ${String(v)}`);
}

describe.each(CASES)('$file: strings and lists of lists to Parquet and Arrow', ({ file, tree, columns }) => {
  it('DuckDB and apache-arrow read the values Ristretto reads from ROOT', async () => {
    const input = await openRoot(sharedPath('data', 'root-corpus', file), tree ? { treeName: tree } : {});
    try {
      const kinds = new Map(input.branches().map((b) => [b.name, b.kind]));
      for (const c of columns) expect(['string', 'jagged2']).toContain(kinds.get(c));
      const want = await input.read(columns, 0, input.numEntries);
      const pq = join(dir, `${file}.parquet`);
      const arrow = join(dir, `${file}.arrow`);
      const res = await convert(input, pq);
      expect(res.skipped).toBeUndefined();
      await convert(input, arrow, { branches: columns });

      const inst = await DuckDBInstance.create(':memory:');
      const conn = await inst.connect();
      try {
        for (const c of columns) {
          const rows = (await conn.runAndReadAll(`SELECT "${c}" FROM '${pq}'`))
            .getRows()
            .map((r) => plain(r[0] && typeof r[0] === 'object' && 'items' in r[0] ? deep(r[0]) : r[0]));
          expect(rows, `${c} via DuckDB`).toEqual(expected(want[c], kinds.get(c)!));
        }
      } finally {
        conn.closeSync();
        inst.closeSync();
      }
      const table = tableFromIPC(readFileSync(arrow));
      for (const c of columns) {
        const vec = table.getChild(c)!;
        const got = Array.from({ length: vec.length }, (_, i) => plain(vec.get(i)));
        expect(got, `${c} via apache-arrow`).toEqual(expected(want[c], kinds.get(c)!));
      }
    } finally {
      await input.close();
    }
  });
});

/** DuckDB's list values ({ items: [...] }) as nested arrays. */
function deep(v: unknown): unknown {
  if (v && typeof v === 'object' && 'items' in v) return (v as { items: unknown[] }).items.map(deep);
  return v;
}
