/**
 * A hypothesis test per signal patch, in this process, one after the other: the building block of
 * the scans (the executors and FaaS endpoints run the same per-patch function). A patch that fails
 * (does not apply, bad model, no convergence) yields its error; the scan goes on.
 */
import { hypotest, type HypotestOptions } from './infer.ts';
import { DEFAULT_SCAN_OPTIMIZER } from './mle.ts';
import { buildModel, type ModelOptions } from './model.ts';
import { patchWorkspace, type NamedPatch } from './patchset.ts';
import type { WorkspaceSpec } from './spec.ts';

export interface ScanOptions extends HypotestOptions {
  poiTest?: number;
  model?: Omit<ModelOptions, 'source'>;
}

export type ScanItem =
  | { name: string; values: number[]; ok: true; clsObs: number; clsExp: number[]; muHat: number; seconds: number }
  | { name: string; values: number[]; ok: false; error: string; seconds: number };

/** Tests one patch (optimizer default 'slsqp-fd', the scans' default); never throws. */
export function testPatch(bkgOnly: WorkspaceSpec, patch: NamedPatch, opts: ScanOptions = {}): ScanItem {
  const t0 = performance.now();
  try {
    const ws = patchWorkspace(bkgOnly, patch);
    // The background-only workspace was validated once; patched copies get the structural checks.
    const model = buildModel(ws, { ...opts.model, validate: opts.model?.validate ?? false, source: patch.name });
    const r = hypotest(model, opts.poiTest ?? 1, model.observedData(), {
      ...opts,
      optimizer: opts.optimizer ?? DEFAULT_SCAN_OPTIMIZER,
    });
    return {
      name: patch.name,
      values: patch.values,
      ok: true,
      clsObs: r.clsObs,
      clsExp: r.clsExp,
      muHat: r.muHat,
      seconds: (performance.now() - t0) / 1000,
    };
  } catch (e) {
    return {
      name: patch.name,
      values: patch.values,
      ok: false,
      error: e instanceof Error ? e.message : String(e),
      seconds: (performance.now() - t0) / 1000,
    };
  }
}

/**
 * Yields one result per patch as it finishes.
 *
 * @example
 * ```ts
 * import { scanPatches, uncorrelatedBackground } from 'ristretto/fit';
 * const bkg = uncorrelatedBackground([0], [50], [5], [52]);
 * const patches = [1, 5, 10].map((s) => ({ name: `sig_${s}`, values: [s], patch: [{ op: 'replace' as const, path: '/channels/0/samples/0/data', value: [s] }] }));
 * for (const r of scanPatches(bkg, patches)) console.log(r.name, r.ok ? r.clsObs : r.error);
 * ```
 */
export function* scanPatches(
  bkgOnly: WorkspaceSpec,
  patches: Iterable<NamedPatch>,
  opts: ScanOptions = {},
): Generator<ScanItem> {
  for (const p of patches) yield testPatch(bkgOnly, p, opts);
}
