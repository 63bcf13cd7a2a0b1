/**
 * ROOT TTree reading: Ristretto's basket reader vs jsroot's own per-entry TSelector path, same process,
 * same files. Flat (MET_pt) and jagged (nJet + Jet_pt/eta/phi/mass) on Run2012B_SingleMu_10000.root,
 * then every branch of uproot-HZZ under each codec. Both sides keep the file and tree open between
 * repetitions; results are checked against each other before timing.
 *
 *   npx tsx bench/read-root.ts [--reps 5]
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Column } from '../src/io/reader.ts';
import { openRoot, type RootReader } from '../src/io/root/index.ts';
import { benchArgs, int } from './lib.ts';

const data = resolve(import.meta.dirname, '..', '..', 'shared', 'data');
const { reps } = benchArgs("ROOT TTree reading: Ristretto's basket reader vs jsroot's TSelector, same files.", {
  reps: int('repetitions', 5, 1),
});

const JSROOT: string = 'jsroot';
const JSROOT_TREE: string = 'jsroot/tree';
const { openFile } = (await import(JSROOT)) as {
  openFile(p: string): Promise<{ readObject(n: string): Promise<unknown> }>;
};
const { TSelector, treeProcess } = (await import(JSROOT_TREE)) as {
  TSelector: new () => {
    addBranch(name: string): number;
    tgtobj: Record<string, unknown>;
    Process(entry: number): void;
  };
  treeProcess(tree: unknown, sel: unknown): Promise<unknown>;
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  await fn(); // warm-up
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    ts.push(performance.now() - t0);
  }
  return median(ts);
}

/** Sum of every value (jagged: content), as a cross-check between the two readers. */
function checksum(cols: Record<string, Column>): number {
  let s = 0;
  for (const c of Object.values(cols)) {
    const arr = 'offsets' in c ? c.content : c;
    for (let i = 0; i < arr.length; i++) {
      const v = arr[i];
      if (v === v) s += v;
    }
  }
  return s;
}

/** jsroot per-entry read of `names` (count branches first), summing every value it hands out. */
async function jsrootSum(tree: unknown, names: readonly string[]): Promise<number> {
  let s = 0;
  const sel = new TSelector();
  for (const n of names) sel.addBranch(n);
  sel.Process = function (this: { tgtobj: Record<string, unknown> }) {
    for (const n of names) {
      const v = this.tgtobj[n];
      if (typeof v === 'object' && v !== null) {
        for (const x of Array.from(v as ArrayLike<number>)) if (x === x) s += Number(x);
      } else if (v === v) s += Number(v);
    }
  };
  await treeProcess(tree, sel);
  return s;
}

/** Uncompressed basket bytes (fObjlen) of the baskets a full read of `names` touches. */
function decompressedBytes(path: string, reader: RootReader, names: readonly string[]): number {
  const file = readFileSync(path);
  let n = 0;
  for (const name of names) for (const b of reader.branchMeta(name).baskets) n += file.readInt32BE(b.seek + 6);
  return n;
}

interface Row {
  case: string;
  events: number;
  ristrettoMs: number;
  jsrootMs: number;
  mb: number;
}

async function bench(label: string, file: string, treeName: string, pick: (r: RootReader) => string[]): Promise<Row> {
  const path = resolve(data, file);
  const reader = await openRoot(path, { treeName });
  const names = pick(reader);
  const counts = new Set(reader.branches().flatMap((b) => (b.countBranch ? [b.countBranch] : [])));
  const ordered = [...names.filter((n) => counts.has(n)), ...names.filter((n) => !counts.has(n))];
  const jfile = await openFile(path);
  const tree = await jfile.readObject(treeName);

  const ours = checksum(await reader.read(names, 0, reader.numEntries));
  const theirs = await jsrootSum(tree, ordered);
  if (Math.abs(ours - theirs) > 1e-6 * Math.max(1, Math.abs(theirs)))
    throw new Error(`${label}: checksums differ (ristretto ${ours}, jsroot ${theirs})`);

  const ristrettoMs = await time(() => reader.read(names, 0, reader.numEntries));
  const jsrootMs = await time(() => jsrootSum(tree, ordered));
  const mb = decompressedBytes(path, reader, names) / 1e6;
  const row = { case: label, events: reader.numEntries, ristrettoMs, jsrootMs, mb };
  await reader.close();
  return row;
}

const rows: Row[] = [];
const RUN = 'Run2012B_SingleMu_10000.root';
rows.push(await bench('Run2012B flat MET_pt', RUN, 'Events', () => ['MET_pt']));
rows.push(
  await bench('Run2012B jets (nJet + 4 Jet_*)', RUN, 'Events', () => [
    'nJet',
    'Jet_pt',
    'Jet_eta',
    'Jet_phi',
    'Jet_mass',
  ]),
);
for (const codec of ['uncompressed', 'zlib', 'lz4', 'lzma', 'zstd']) {
  rows.push(
    await bench(`uproot-HZZ-${codec}, all 51 branches`, `uproot-HZZ-${codec}.root`, 'events', (r) =>
      r.branches().map((b) => b.name),
    ),
  );
}

const fmt = (x: number, d = 1): string => x.toFixed(d);
console.log(`median of ${reps} repetitions after one warm-up; file and tree opened once per side`);
console.log(['case'.padEnd(38), 'ristretto ms', 'M ev/s', 'MB/s', 'jsroot ms', 'M ev/s', 'speed-up'].join(' | '));
for (const r of rows) {
  console.log(
    [
      r.case.padEnd(38),
      fmt(r.ristrettoMs, 2).padStart(12),
      fmt(r.events / r.ristrettoMs / 1e3, 2).padStart(6),
      fmt(r.mb / (r.ristrettoMs / 1e3), 0).padStart(4),
      fmt(r.jsrootMs, 1).padStart(9),
      fmt(r.events / r.jsrootMs / 1e3, 2).padStart(6),
      `${fmt(r.jsrootMs / r.ristrettoMs, 1)}×`.padStart(8),
    ].join(' | '),
  );
}
