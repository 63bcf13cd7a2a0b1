/**
 * The RNTuple file through the usual entry points: openReader (the `.root` opener hands RNTuple keys to
 * the RNTuple reader), openRoot without `rntuple` (still refuses, typed for RootReader callers), and
 * runAnalysis with a processor using `events.Muon`, compared with a plain loop over the reader's columns.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Jagged } from '../../../src/columnar/types.ts';
import { openReader } from '../../../src/io/open.ts';
import { openRoot, TreeNotFoundError } from '../../../src/io/root/index.ts';
import { RNTupleReader } from '../../../src/io/rntuple/index.ts';
import type { Dataset } from '../../../src/dataset/fileset.ts';
import { runAnalysis } from '../../../src/runner/run.ts';
import { serveDirectory } from '../../helpers/http-server.ts';
import { sharedDir, sharedPath } from '../../shared.ts';
import type { Dimuon } from './dimuon-processor.ts';

const FILE = sharedPath('data', 'Run2012BC_DoubleMuParked_Muons_1000evts_rntuple_v1-0-0-0.root');

describe('RNTuple through openReader and runAnalysis', () => {
  it('openReader opens the RNTuple; openRoot alone keeps refusing it', async () => {
    const r = await openReader(FILE);
    try {
      expect(r).toBeInstanceOf(RNTupleReader);
      expect(r.numEntries).toBe(1000);
      expect(r.branches().map((b) => b.name)).toContain('Muon_pt');
    } finally {
      await r.close();
    }
    await expect(openRoot(FILE)).rejects.toBeInstanceOf(TreeNotFoundError);
    await expect(openReader(FILE, { treeName: 'Evnts' })).rejects.toThrow(/Evnts/);
  });

  it('runAnalysis in chunks gives what a plain loop over the columns gives', async () => {
    const fileset: Dataset[] = [
      { name: 'DoubleMuParked', metadata: { isData: true }, files: [{ path: FILE, tree: 'Events' }] },
    ];
    const run = await runAnalysis<Dimuon>({
      fileset,
      processor: join(__dirname, 'dimuon-processor.ts'),
      chunksize: 300,
    });
    const acc = run.accumulator;

    const r = await openReader(FILE);
    const c = await r.read(['Muon_pt', 'Muon_eta', 'Muon_phi', 'Muon_mass', 'Muon_charge'], 0, 1000);
    await r.close();
    const [pt, eta, phi, mass, q] = ['Muon_pt', 'Muon_eta', 'Muon_phi', 'Muon_mass', 'Muon_charge'].map(
      (n) => c[n] as Jagged,
    );
    const masses: number[] = [];
    const mult: Record<string, number> = {};
    for (let e = 0; e < 1000; e++) {
      const a = pt.offsets[e];
      const n = pt.offsets[e + 1] - a;
      mult[n] = (mult[n] ?? 0) + 1;
      if (n !== 2 || q.content[a] === q.content[a + 1]) continue;
      const p4 = (i: number) => {
        const x = pt.content[i] * Math.cos(phi.content[i]),
          y = pt.content[i] * Math.sin(phi.content[i]),
          z = pt.content[i] * Math.sinh(eta.content[i]);
        return [Math.sqrt(x * x + y * y + z * z + mass.content[i] ** 2), x, y, z];
      };
      const [e1, x1, y1, z1] = p4(a);
      const [e2, x2, y2, z2] = p4(a + 1);
      masses.push(Math.sqrt(Math.max(0, (e1 + e2) ** 2 - (x1 + x2) ** 2 - (y1 + y2) ** 2 - (z1 + z2) ** 2)));
    }
    expect(acc.nevents).toBe(1000);
    expect(acc.nmuons).toBe(2372);
    expect(acc.multiplicity).toEqual(mult);
    expect(acc.masses).toEqual(masses);
    // the dimuon spectrum of this dataset: a J/psi peak and a Z peak
    expect(masses.filter((m) => m > 2.9 && m < 3.3).length).toBeGreaterThan(30);
    expect(masses.filter((m) => m > 80 && m < 100).length).toBeGreaterThan(50);
  });

  it('reads the same values over http (range requests), counting bytes', async () => {
    const server = await serveDirectory(sharedDir);
    try {
      const url = `${server.url}/data/Run2012BC_DoubleMuParked_Muons_1000evts_rntuple_v1-0-0-0.root`;
      const remote = await openReader(url);
      const local = await openReader(FILE);
      try {
        const names = ['nMuon', 'Muon_pt', 'Muon_charge'];
        expect(await remote.read(names, 100, 900)).toEqual(await local.read(names, 100, 900));
        expect(remote.bytesRead).toBeGreaterThan(0);
        expect(remote.bytesRead).toBe(local.bytesRead);
      } finally {
        await remote.close();
        await local.close();
      }
    } finally {
      await server.close();
    }
  });
});
