/**
 * Table-driven check of the ROOT reader on every tree of every shared ROOT file
 * (../shared/data/root-corpus/*.root and ../shared/data/*.root): each column Ristretto lists must equal
 * jsroot's independent per-entry TSelector reading, entry by entry (or, where jsroot cannot read the file
 * itself, jsroot's reading of a twin file with the same content, or a value derived by hand); each
 * column it does not decode must be refused with UnsupportedBranchError — never a "damaged file" error.
 * The per-file tallies are pinned, so a type that stops being read (or starts) shows up here.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CorruptBasketError, openRoot, UnsupportedBranchError } from '../../../src/io/root/index.ts';
import { caught } from '../../helpers/caught.ts';
import { sharedDir } from '../../shared.ts';
import {
  compareBranch,
  jsrootBranch,
  jsrootColumns,
  jsrootTrees,
  plainOfColumn,
  type JsColumn,
  type Plain,
} from './corpus-reference.ts';

const DATA = join(sharedDir, 'data');
const CORPUS = join(DATA, 'root-corpus');
const haveShared = existsSync(CORPUS);
if (!haveShared)
  console.warn(`SKIPPED: ROOT corpus tests need ${CORPUS} (../shared beside the repository); it is missing`);

const files = haveShared
  ? [...readdirSync(CORPUS).map((f) => join(CORPUS, f)), ...readdirSync(DATA).map((f) => join(DATA, f))]
      .filter((f) => f.endsWith('.root'))
      .sort()
  : [];

/** Files jsroot cannot read itself, and a file with the same content it can read. */
const TWINS: Record<string, string> = {
  // jsroot reads no entry of the jagged branches when the baskets lack their offset table.
  'uproot-small-dy-nooffsets.root': join(CORPUS, 'uproot-small-dy-withoffsets.root'),
  // Same events under every codec; the uncompressed copy needs no codec at all.
  'uproot-HZZ-zstd.root': join(DATA, 'uproot-HZZ-uncompressed.root'),
  'uproot-HZZ-lz4.root': join(DATA, 'uproot-HZZ-uncompressed.root'),
  'uproot-HZZ-lzma.root': join(DATA, 'uproot-HZZ-uncompressed.root'),
  'uproot-HZZ-zlib.root': join(DATA, 'uproot-HZZ-uncompressed.root'),
  'uproot-HZZ.root': join(DATA, 'uproot-HZZ-uncompressed.root'),
};

/** Per file: [columns read identically, columns refused]. */
const TALLY: Record<string, [number, number]> = {
  'Run2012B_SingleMu_10000.root': [86, 0],
  'nano_dimuon.root': [1602, 0],
  'nano_dy.root': [1507, 0],
  'uproot-HZZ-lz4.root': [51, 0],
  'uproot-HZZ-lzma.root': [51, 0],
  'uproot-HZZ-uncompressed.root': [51, 0],
  'uproot-HZZ-zlib.root': [51, 0],
  'uproot-HZZ-zstd.root': [51, 0],
  'uproot-HZZ.root': [51, 0],
  'uproot-leaflist.root': [3, 0],
  'uproot-sample-6.20.04-uncompressed.root': [35, 0],
  'uproot-sample-6.20.04-zlib.root': [35, 0],
  'uproot-small-dy-nooffsets.root': [8, 0],
  'uproot-small-dy-withoffsets.root': [8, 0],
  'uproot-small-evnt-tree-fullsplit.root': [40, 3],
  'uproot-small-evnt-tree-nosplit.root': [0, 1],
  'uproot-stl_containers.root': [6, 20],
  'uproot-vectorVectorDouble.root': [1, 0],
  'Run2012BC_DoubleMuParked_Muons_1000evts_rntuple_v1-0-0-0.root': [0, 0],
};

/**
 * jsroot turns a fixed array of 8-bit integers (`ai1[3]/B`) into a C string: the values up to the first
 * 0. Check our values against that by hand: same character codes (as signed or unsigned bytes) up to
 * the string's end, then a 0 (the terminator) when the string is shorter than the array.
 */
function matchesCString(want: Plain[], got: Plain[]): boolean {
  if (!want.every((w) => typeof w === 'string') || want.length !== got.length) return false;
  return want.every((w, i) => {
    const g = got[i];
    if (!Array.isArray(g)) return false;
    const codes = Array.from(w as string, (ch) => ch.charCodeAt(0));
    if (codes.length > g.length || codes.some((c) => c === 0)) return false;
    const ok = codes.every((c, k) => g[k] === c || g[k] === c - 256);
    return ok && (codes.length === g.length || g[codes.length] === 0);
  });
}

const openedByJsroot = new Map<string, ReturnType<typeof jsrootTrees>>();
function treesOf(file: string): ReturnType<typeof jsrootTrees> {
  let t = openedByJsroot.get(file);
  if (!t) openedByJsroot.set(file, (t = jsrootTrees(file)));
  return t;
}

async function reference(file: string, tree: string, col: JsColumn): Promise<Plain[] | Error> {
  const own = await jsrootBranch((await treesOf(file)).get(tree)!, col);
  const twin = TWINS[file.split('/').pop()!];
  if (!(own instanceof Error) || !twin) return own;
  const t2 = (await treesOf(twin)).get(tree)!;
  const col2 = jsrootColumns(t2).find((c) => c.name === col.name);
  return col2 ? jsrootBranch(t2, col2) : own;
}

describe.skipIf(!haveShared)(
  'every branch of every shared ROOT file: jsroot-identical or refused with a typed error',
  () => {
    for (const file of files) {
      const base = file.split('/').pop()!;
      it(base, async () => {
        let identical = 0;
        let refused = 0;
        const problems: string[] = [];
        const trees = await treesOf(file);
        for (const [treeName, tree] of trees) {
          const reader = await openRoot(file, { treeName, warnDuplicates: false });
          try {
            const cols = jsrootColumns(tree);
            const desc = reader.describe();
            expect(
              desc.map((d) => d.name),
              `${base}:${treeName} column order`,
            ).toEqual(cols.map((c) => c.name));
            const readable = new Set(reader.branches().map((b) => b.name));
            for (const [i, col] of cols.entries()) {
              const d = desc[i];
              if (d.shadowed) continue; // a later branch of a repeated name; the first one is checked
              if (!d.info) {
                const e = await caught(reader.read([col.name], 0, reader.numEntries));
                if (!(e instanceof UnsupportedBranchError) || e instanceof CorruptBasketError)
                  problems.push(`${col.name}: refused with ${e.constructor.name}: ${e.message}`);
                else refused++;
                continue;
              }
              expect(readable.has(col.name)).toBe(true);
              const want = await reference(file, treeName, col);
              const o = await compareBranch(reader, col.name, want);
              if (o.kind === 'identical') {
                identical++;
                continue;
              }
              if (o.kind === 'different' && !(want instanceof Error)) {
                const got = (await compareBranch(reader, col.name, new Error('values'))) as { values: Plain[] };
                if (matchesCString(want, got.values)) {
                  identical++;
                  continue;
                }
              }
              problems.push(`${col.name}: ${o.kind}: ${o.message}`);
            }
          } finally {
            await reader.close();
          }
        }
        expect(problems, base).toEqual([]);
        expect([identical, refused], `${base}: [identical, refused]`).toEqual(TALLY[base] ?? [-1, -1]);
      });
    }
  },
);

describe.skipIf(!haveShared)('baskets without the offset table their metadata announces', () => {
  it('read through the count branch, equal to the copy written with offsets, in every range', async () => {
    const no = await openRoot(join(CORPUS, 'uproot-small-dy-nooffsets.root'), { treeName: 'tree' });
    const yes = await openRoot(join(CORPUS, 'uproot-small-dy-withoffsets.root'), { treeName: 'tree' });
    try {
      const names = yes.branches().map((b) => b.name);
      expect(no.branches().map((b) => b.name)).toEqual(names);
      for (const [a, b] of [
        [0, 501],
        [0, 1],
        [199, 201],
        [137, 480],
        [500, 501],
      ] as const) {
        const got = await no.read(names, a, b);
        const want = await yes.read(names, a, b);
        for (const n of names) expect(got[n], `${n} [${a}, ${b})`).toEqual(want[n]);
      }
    } finally {
      await no.close();
      await yes.close();
    }
  });
});

describe.skipIf(!haveShared)('sizes from the count branch instead of the offset tables', () => {
  for (const base of [
    'uproot-sample-6.20.04-zlib.root',
    'uproot-small-evnt-tree-fullsplit.root',
    'uproot-small-dy-withoffsets.root',
  ]) {
    it(`${base}: every readable branch reads the same either way`, async () => {
      const file = join(CORPUS, base);
      const a = await openRoot(file, { treeName: base.includes('sample') ? 'sample' : 'tree' });
      const b = await openRoot(file, { treeName: a.treeName, jaggedOffsets: 'count-branch' });
      try {
        const names = a.branches().map((x) => x.name);
        for (const [s, e] of [
          [0, a.numEntries],
          [3, a.numEntries - 2],
        ] as const) {
          const x = await a.read(names, s, e);
          const y = await b.read(names, s, e);
          for (const n of names) expect(plainOfColumn(y[n]), `${n} [${s}, ${e})`).toEqual(plainOfColumn(x[n]));
        }
      } finally {
        await a.close();
        await b.close();
      }
    });
  }
});
