// `npm test`: runs the processor on the synthetic samples and checks it against a plain loop over the
// same columns. Add your own checks here (node:test; run with `node --import ristretto/register --test`).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openReader } from 'ristretto/io';
import { runAnalysis } from 'ristretto/runner';
import type { Hist } from 'ristretto';

test('the Z window selection keeps what a hand loop keeps', async () => {
  const { accumulator } = await runAnalysis<{ mass: Hist; cutflow: Record<string, Record<string, number>> }>({
    fileset: 'datasets.json',
    processor: 'processor.ts',
    chunksize: 10_000,
  });

  // Data has weight 1, so its last cutflow entry counts events; recount them directly.
  const reader = await openReader('data/data.parquet');
  const cols = await reader.read(['HLT_IsoMu24', 'Muon_pt', 'Muon_eta', 'Muon_phi', 'Muon_mass', 'Muon_charge'], 0, reader.numEntries);
  await reader.close();
  const trig = cols.HLT_IsoMu24 as Uint8Array;
  const [pt, eta, phi, m, q] = ['Muon_pt', 'Muon_eta', 'Muon_phi', 'Muon_mass', 'Muon_charge'].map((k) => cols[k] as { offsets: Int32Array; content: ArrayLike<number> });
  let expected = 0;
  for (let e = 0; e < trig.length; e++) {
    if (!trig[e]) continue;
    const good: number[] = [];
    for (let j = pt!.offsets[e]!; j < pt!.offsets[e + 1]!; j++) if (pt!.content[j]! > 15 && Math.abs(eta!.content[j]!) < 2.4) good.push(j);
    let inWindow = false;
    for (let a = 0; a < good.length && !inWindow; a++) {
      for (let b = a + 1; b < good.length && !inWindow; b++) {
        const i = good[a]!, j = good[b]!;
        if (q!.content[i] === q!.content[j]) continue;
        const p4 = (k: number) => {
          const px = pt!.content[k]! * Math.cos(phi!.content[k]!), py = pt!.content[k]! * Math.sin(phi!.content[k]!), pz = pt!.content[k]! * Math.sinh(eta!.content[k]!);
          return [px, py, pz, Math.hypot(px, py, pz, m!.content[k]!)];
        };
        const [x1, y1, z1, e1] = p4(i), [x2, y2, z2, e2] = p4(j);
        const mass = Math.sqrt(Math.max(0, (e1! + e2!) ** 2 - (x1! + x2!) ** 2 - (y1! + y2!) ** 2 - (z1! + z2!) ** 2));
        inWindow = mass >= 60 && mass <= 120;
      }
    }
    if (good.length >= 2 && inWindow) expected++;
  }
  assert.equal(accumulator.cutflow.Data!.zWindow, expected);
  assert.ok(expected > 0);
});
