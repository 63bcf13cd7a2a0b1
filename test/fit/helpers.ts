/** Shared fixtures of the fit tests: the ATLAS archive extracted once into a temp dir. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedPath } from '../shared.ts';
import type { WorkspaceSpec } from '../../src/fit/index.ts';

/**
 * Extracts the ATLAS sbottom likelihood archive (RegionA/, RegionB/, RegionC/) into a new temp dir;
 * the caller removes it with {@link removeDir}.
 */
export function extractAtlas(): string {
  const tarball = sharedPath('fit', 'atlas-sbottom-multib-likelihoods.tar.gz');
  const dir = mkdtempSync(join(tmpdir(), 'ristretto-fit-'));
  execFileSync('tar', ['-xzf', tarball, '-C', dir]);
  return dir;
}

export function removeDir(dir: string | undefined): void {
  if (dir && existsSync(dir)) rmSync(dir, { recursive: true, force: true });
}

export interface ValidationCase {
  name: string;
  workspace: WorkspaceSpec;
  poi_test: number;
  test_stat: 'q' | 'qtilde' | 'q0';
  interpolation: { normsys: string; histosys: string };
  expected: { cls_obs: number; cls_exp: number[] };
  rel_tolerance: number;
  parameters_expected: { init_pars: number; par_bounds: number; auxdata?: number };
}

export function validationCases(): ValidationCase[] {
  return (JSON.parse(readFileSync(sharedPath('fit', 'pyhf-validation.json'), 'utf8')) as { cases: ValidationCase[] })
    .cases;
}
