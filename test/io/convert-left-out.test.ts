/**
 * `ristretto convert` writes what it can read and says, in one line, what it left out: a converted file
 * that looks complete must be complete. uproot-stl_containers.root has 26 branches; 20 (maps, vectors and
 * sets of strings) cannot be read, and 2 more (lists of lists) cannot be written to ROOT yet.
 * uproot-small-evnt-tree-fullsplit.root has 43 branches: the split objects `evt` and `P3` are read through
 * their members (so nothing of theirs is missing), `StlVecStr` cannot be read. Parquet and Arrow inputs
 * (written here by hyparquet-writer and apache-arrow) with string and list-of-lists columns say it too.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Field, Float64, Int32, List, Table, tableToIPC, Utf8, vectorFromArray } from 'apache-arrow';
import { parquetWriteFile } from 'hyparquet-writer';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/files.ts';
import { repoRoot, sharedPath } from '../shared.ts';

const STL = sharedPath('data', 'root-corpus', 'uproot-stl_containers.root');
const EVNT = sharedPath('data', 'root-corpus', 'uproot-small-evnt-tree-fullsplit.root');
const dir = tempDir('convert-left-out');

// Written out by hand from `ristretto ls` of the file (type column "-").
const STL_UNREADABLE = [
  'vector_string',
  'vector_tstring',
  'vector_vector_string',
  'vector_vector_tstring',
  'vector_set_string',
  'set_string',
  'map_int32_int16',
  'map_int32_vector_int16',
  'map_int32_vector_string',
  'map_int32_set_int16',
  'map_int32_set_string',
  'map_string_int16',
  'map_string_vector_int16',
  'map_string_vector_string',
  'map_string_set_int16',
  'map_string_set_string',
  'map_int32_vector_vector_int16',
  'map_int32_vector_set_int16',
  'map_string_string',
  'map_string_tstring',
];

function convert(args: string[]) {
  const r = spawnSync(process.execPath, [join(repoRoot, 'bin', 'ristretto.mjs'), 'convert', ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, RISTRETTO_DEBUG: '' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('convert names the branches it leaves out', () => {
  for (const [out, written] of [
    ['stl.parquet', 6],
    ['stl.arrow', 6],
    ['stl.root', 4],
  ] as const) {
    it(`to ${out.split('.')[1]}: ${written} of 26 branches written, one line names the rest, exit 0`, () => {
      const r = convert([STL, out]);
      expect(r.code, r.stderr).toBe(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(new RegExp(`^wrote 5 entries × ${written} branches to ${out} `));
      const lists = out.endsWith('.root')
        ? '; and 2 branches (lists of lists) the ROOT writer cannot hold yet: vector_vector_int32, vector_set_int32'
        : '';
      expect(lines[1]).toBe(
        `left out 20 branches Ristretto cannot read: ${STL_UNREADABLE.join(', ')} (\`ristretto ls ${STL}\` says why)${lists}`,
      );
      expect(existsSync(join(dir, out))).toBe(true);
    });
  }

  it('an object split into sub-branches is not "left out": its members are written', () => {
    const r = convert([EVNT, 'evnt.parquet']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^wrote 100 entries × 40 branches to evnt\.parquet /);
    expect(r.stdout.trim().split('\n')[1]).toBe(
      `left out 1 branch Ristretto cannot read: StlVecStr (\`ristretto ls ${EVNT}\` says why)`,
    );
  });

  it('with --branches: a pattern names what it left out; a named branch or a pattern of only those is refused', () => {
    const some = convert([STL, 'vectors.parquet', '--branches', 'vector_*']);
    expect(some.code, some.stderr).toBe(0);
    expect(some.stdout.trim().split('\n')[1]).toBe(
      `left out 5 branches Ristretto cannot read: ${STL_UNREADABLE.slice(0, 5).join(', ')} (\`ristretto ls ${STL}\` says why)`,
    );
    const maps = convert([STL, 'maps.parquet', '--branches', 'map_*']);
    expect(maps.code).toBe(1);
    expect(maps.stderr).toMatch(
      /^ristretto: branch pattern 'map_\*' matches only branches Ristretto cannot read: map_int32_int16, /,
    );
    const named = convert([STL, 'named.parquet', '--branches', 'map_int32_int16']);
    expect(named.code).toBe(1);
    expect(named.stderr).toMatch(/branch 'map_int32_int16' .* cannot be read: objects of type map<int,short>/);
    expect(existsSync(join(dir, 'maps.parquet')) || existsSync(join(dir, 'named.parquet'))).toBe(false);
    // a conversion that writes every branch says nothing more
    const all = convert([STL, 'ints.parquet', '--branches', 'vector_int32,set_int32']);
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout.trim().split('\n')).toHaveLength(1);
  });
});

describe('convert from Parquet and Arrow names the columns it leaves out', () => {
  it('a Parquet string column', () => {
    parquetWriteFile({
      filename: join(dir, 'labels.parquet'),
      columnData: [
        { name: 'pt', data: [1.5, 2.5, 3.5], type: 'DOUBLE' },
        { name: 'label', data: ['a', 'bb', 'ccc'], type: 'STRING' },
      ],
    });
    for (const out of ['labels-out.parquet', 'labels-out.root']) {
      const r = convert(['labels.parquet', out]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim().split('\n')).toEqual([
        expect.stringMatching(new RegExp(`^wrote 3 entries × 1 branches to ${out} `)),
        'left out 1 branch Ristretto cannot read: label (`ristretto ls labels.parquet` says why)',
      ]);
    }
  });

  it('Arrow string and list-of-lists columns', () => {
    const inner = new List(new Field('item', new Int32(), true));
    const table = new Table({
      pt: vectorFromArray([1.5, 2.5, 3.5], new Float64()),
      label: vectorFromArray(['a', 'bb', 'ccc'], new Utf8()),
      hits: vectorFromArray([[[1], [2, 3]], [], [[4]]], new List(new Field('item', inner, true))),
    });
    writeFileSync(join(dir, 'mixed.arrow'), tableToIPC(table, 'file'));
    const r = convert(['mixed.arrow', 'mixed-out.parquet']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([
      expect.stringMatching(/^wrote 3 entries × 1 branches to mixed-out\.parquet /),
      'left out 2 branches Ristretto cannot read: label, hits (`ristretto ls mixed.arrow` says why)',
    ]);
    // only readable columns asked for: nothing more to say
    const some = convert(['mixed.arrow', 'pt.parquet', '--branches', 'pt']);
    expect(some.stdout.trim().split('\n')).toHaveLength(1);
  });
});
