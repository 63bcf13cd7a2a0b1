// Run: npx tsx bench/events-overhead.ts            (defaults: --reps 5, Run2012B_SingleMu_10000.root)
//      npx tsx bench/events-overhead.ts --reps 1   (quick check)
//
// What the events layer costs on top of reading columns yourself. One ADL-query-5-like processor
// (MET of events with an opposite-charge dimuon of mass in [60, 120]) over all 10,000 events:
//   peer: hand-written      reader.read(the 7 branches) then the same loop over offsets + typed arrays
//   runOnEvents, cold       nothing prefetched: each branch read on first access through the sync-read
//                           helper thread, already running and with the file open (first chunk of a
//                           processor on a worker that served another job before)
//   runOnEvents, cold+start the same with a new helper thread each time (its start and file open included:
//                           the first chunk a worker ever sees)
//   runOnEvents, prefetch   the branches prefetched, all read up front (every later chunk)
// Each mode opens its own reader per repetition (no cache shared between modes) and the three results
// are checked to be identical. One untimed warm-up per mode, then the median wall time per mode; no results file (the lead reruns on a quiet machine).
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import type { Jagged, NumericArray } from '../src/columnar/types.ts';
import { runOnEvents, type Events } from '../src/events/index.ts';
import { openRoot } from '../src/io/root/index.ts';
import { closeSyncReads } from '../src/io/sync-read.ts';
import { benchArgs, int } from './lib.ts';

const { reps } = benchArgs('What the events layer costs on top of reading columns yourself.', {
  reps: int('repetitions', 5, 1),
});
const file = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'shared',
  'data',
  'Run2012B_SingleMu_10000.root',
);
if (!existsSync(file)) throw new Error(`bench input missing: ${file} (needs ../shared beside the repository)`);

interface Cols {
  met: NumericArray;
  off: Int32Array;
  pt: NumericArray;
  eta: NumericArray;
  phi: NumericArray;
  mass: NumericArray;
  q: NumericArray;
}

function zmumuMetSum(c: Cols, n: number): { events: number; sumMet: number } {
  let events = 0;
  let sumMet = 0;
  for (let i = 0; i < n; i++) {
    let found = false;
    for (let a = c.off[i]; a < c.off[i + 1] && !found; a++) {
      for (let b = a + 1; b < c.off[i + 1]; b++) {
        if (c.q[a] === c.q[b]) continue;
        const px = c.pt[a] * Math.cos(c.phi[a]) + c.pt[b] * Math.cos(c.phi[b]);
        const py = c.pt[a] * Math.sin(c.phi[a]) + c.pt[b] * Math.sin(c.phi[b]);
        const pz = c.pt[a] * Math.sinh(c.eta[a]) + c.pt[b] * Math.sinh(c.eta[b]);
        const e =
          Math.hypot(c.pt[a] * Math.cosh(c.eta[a]), c.mass[a]) + Math.hypot(c.pt[b] * Math.cosh(c.eta[b]), c.mass[b]);
        const m = Math.sqrt(Math.max(e * e - px * px - py * py - pz * pz, 0));
        if (m >= 60 && m <= 120) {
          found = true;
          break;
        }
      }
    }
    if (found) {
      events++;
      sumMet += c.met[i];
    }
  }
  return { events, sumMet };
}

const processor = (e: Events) =>
  zmumuMetSum(
    {
      met: e.MET.pt,
      off: e.Muon.offsets,
      pt: e.Muon.pt.content,
      eta: e.Muon.eta.content,
      phi: e.Muon.phi.content,
      mass: e.Muon.mass.content,
      q: e.Muon.charge.content,
    },
    e.numEvents,
  );

const BRANCHES = ['MET_pt', 'Muon_pt', 'Muon_eta', 'Muon_phi', 'Muon_mass', 'Muon_charge'];

async function handWritten() {
  const r = await openRoot(file);
  const t0 = performance.now();
  const c = await r.read(BRANCHES, 0, r.numEntries);
  const mu = (b: string) => (c[b] as Jagged).content;
  const result = zmumuMetSum(
    {
      met: c.MET_pt as NumericArray,
      off: (c.Muon_pt as Jagged).offsets,
      pt: mu('Muon_pt'),
      eta: mu('Muon_eta'),
      phi: mu('Muon_phi'),
      mass: mu('Muon_mass'),
      q: mu('Muon_charge'),
    },
    r.numEntries,
  );
  const ms = performance.now() - t0;
  await r.close();
  return { ms, result, onAccess: 0, columns: BRANCHES.length };
}

async function viaEvents(prefetch?: string[], newHelper = false) {
  if (newHelper) await closeSyncReads();
  const r = await openRoot(file);
  const t0 = performance.now();
  const out = await runOnEvents(r, 0, r.numEntries, processor, prefetch ? { prefetch } : {});
  const ms = performance.now() - t0;
  await r.close();
  return {
    ms,
    result: out.result,
    onAccess: out.columnsReadOnAccess.length,
    columns: out.columnsRead.length,
    columnsRead: out.columnsRead,
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const discovered = (await viaEvents()).columnsRead;
const modes: [string, () => Promise<{ ms: number; result: unknown; onAccess: number; columns: number }>][] = [
  ['peer: hand-written reads', handWritten],
  ['runOnEvents, cold', () => viaEvents()],
  ['runOnEvents, cold+start', () => viaEvents(undefined, true)],
  ['runOnEvents, prefetch', () => viaEvents(discovered)],
];
const rows: string[][] = [];
let reference: string | undefined;
for (const [name, run] of modes) {
  const times: number[] = [];
  let last: Awaited<ReturnType<typeof run>> | undefined = await run(); // warm-up, untimed
  for (let k = 0; k < reps; k++) times.push((last = await run()).ms);
  const key = JSON.stringify(last.result);
  reference ??= key;
  if (key !== reference) throw new Error(`${name} disagrees: ${key} vs ${reference}`);
  rows.push([
    name,
    median(times).toFixed(1),
    (10_000 / median(times) / 1000).toFixed(2),
    String(last.onAccess),
    String(last.columns),
  ]);
}
console.log(`events-overhead: ${file.split('/').pop()}, 10,000 events, ${reps} reps, result ${reference}`);
const head = ['mode', 'median ms', 'M ev/s', 'read on access', 'columns'];
const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
for (const r of [head, ...rows]) console.log(r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  '));
