/**
 * The published ATLAS sbottom multi-b likelihoods (../shared/fit, HEPData ins1748602): patch
 * directories, patching, and the hypothesis test a physicist runs first,
 * `pyhf cls RegionA/BkgOnly.json -p RegionA/patch.sbottom_1300_850_60.json`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildModel,
  hypotest,
  loadWorkspace,
  patchWorkspace,
  PatchError,
  readPatches,
  readPatchSet,
  WorkspaceError,
  type WorkspaceSpec,
} from '../../src/fit/index.ts';
import { sharedPath } from '../shared.ts';
import { extractAtlas, removeDir } from './helpers.ts';

let dir = '';
beforeAll(() => {
  dir = extractAtlas();
});
afterAll(() => removeDir(dir));

describe('ATLAS sbottom archive', () => {
  it('reads a directory of patch files with the masses from the names', () => {
    const { patches, errors } = readPatches(join(dir, 'RegionA'));
    expect(errors).toEqual([]);
    expect(patches.length).toBeGreaterThan(200);
    const p = patches.find((x) => x.name === 'sbottom_1300_850_60')!;
    expect(p.values).toEqual([1300, 850, 60]);
  });

  it('gives CLs for sbottom_1300_850_60 in RegionA (regression: our recorded value, no published reference)', () => {
    const ws = loadWorkspace(join(dir, 'RegionA', 'BkgOnly.json'), {
      patches: [join(dir, 'RegionA', 'patch.sbottom_1300_850_60.json')],
    });
    const model = buildModel(ws);
    expect(model.poiName).toBe('mu_SIG');
    expect(model.channels.map((c) => c.name)).toEqual(['CRtt_meff', 'SR_meff']);
    // The converged optimum ('lbfgsb'); the default stops where pyhf's SLSQP does, 3e-5 away in CLs.
    const r = hypotest(model, 1.0, model.observedData(), { optimizer: 'lbfgsb' });
    expect(r.muHat).toBe(0);
    // Recorded with this implementation (see the report of issue 16); a change beyond 1e-6 needs a look.
    expect(r.clsObs).toBeCloseTo(0.0009122537547160662, 9);
    const recordedExp = [
      0.00004388735402318695, 0.0005490399395635327, 0.005891870197779592, 0.04723106058869309, 0.23075257795099036,
    ];
    r.clsExp.forEach((v, i) => expect(Math.abs(v - recordedExp[i]) / recordedExp[i]).toBeLessThan(1e-6));
    // The warm-started variant reaches the same optimum.
    const warm = hypotest(model, 1.0, model.observedData(), { warmStart: true, optimizer: 'lbfgsb' });
    expect(Math.abs(warm.clsObs - r.clsObs) / r.clsObs).toBeLessThan(1e-8);
  });

  it('names the patch and path when a patch does not fit the workspace', () => {
    const bkg = JSON.parse(readFileSync(join(dir, 'RegionA', 'BkgOnly.json'), 'utf8')) as WorkspaceSpec;
    bkg.channels.splice(1, 2);
    const { patches } = readPatches(join(dir, 'RegionA'));
    const p = patches.find((x) => x.name === 'sbottom_1300_850_60')!;
    expect(() => patchWorkspace(bkg, p)).toThrow(PatchError);
    expect(() => patchWorkspace(bkg, p)).toThrow(/sbottom_1300_850_60.*operation 1 at \/channels\/2\/samples\/0/);
  });
});

describe('pyhf patch set file', () => {
  it('applies its named patch to the background-only workspace', () => {
    const { patches, metadata } = readPatchSet(sharedPath('fit', 'example-patchset.json'));
    expect(metadata.references.hepdata).toBe('ins1234567');
    expect(patches.map((p) => p.name)).toEqual(['patch_channel1_signal_syst1']);
    const bkg = loadWorkspace(sharedPath('fit', 'example-patchset-bkgonly.json'));
    const ws = patchWorkspace(bkg, patches[0]);
    const syst1 = ws.channels[0].samples[0].modifiers[0] as { data: { hi: number; lo: number } };
    expect(syst1.data).toEqual({ hi: 1.2, lo: 0.8 });
    const model = buildModel(ws);
    expect(model.parSets.find((s) => s.name === 'lumi')!.fixed).toEqual([true]);
    const r = hypotest(model, 1.0);
    expect(r.clsObs).toBeGreaterThan(0);
    expect(r.clsObs).toBeLessThan(1);
  });

  it('refuses a file that is not a patch set, naming the path', () => {
    expect(() => readPatchSet(sharedPath('fit', 'example-patchset-bkgonly.json'))).toThrow(WorkspaceError);
    expect(() => readPatchSet(sharedPath('fit', 'example-patchset-bkgonly.json'))).toThrow(
      /example-patchset-bkgonly\.json: at \/: .*unexpected property|missing property/,
    );
  });
});
