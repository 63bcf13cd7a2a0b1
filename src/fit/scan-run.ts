/**
 * Scans: one hypothesis test per signal patch, on this process (`iterative`), on worker threads
 * (`threads`) or on FaaS endpoints (`faas`), with results reported as they finish, `results.json`
 * rewritten after each (see scan-results.ts) and `resume` skipping patches finished earlier. A patch
 * that fails is a result with `ok: false` naming the patch; it never stops the scan.
 */
import { availableParallelism } from 'node:os';
import { ScanError } from './errors.ts';
import { DEFAULT_SCAN_OPTIMIZER } from './mle.ts';
import type { NamedPatch } from './patchset.ts';
import { ThreadPoolRunner, type PatchRunner } from './pool.ts';
import { testPatch, type ScanOptions } from './scan.ts';
import { ResultsWriter, type ScanIdentity, type ScanRecord } from './scan-results.ts';
// Types only: the FaaS client (ws, esbuild) loads when the faas executor is chosen, not with every `ristretto`.
import type { FaasScanOptions } from './scan-faas.ts';
import type { WorkspaceSpec } from './spec.ts';
import { workspaceHash } from './task.ts';

export type ScanExecutor = 'iterative' | 'threads' | 'faas';

export interface ScanProgress {
  /** Results so far in this run (not counting those kept from an earlier run). */
  done: number;
  /** Patches this run tests. */
  total: number;
  failed: number;
  elapsedSeconds: number;
  /** Remaining time at the rate so far; undefined before the first result. */
  etaSeconds: number | undefined;
}

export interface ScanRunOptions extends ScanOptions {
  /** Where the patches are tested (default `iterative`). */
  executor?: ScanExecutor;
  /** Threads for `threads` (default: available parallelism). */
  workers?: number;
  /** Service and endpoints for `faas`. */
  faas?: FaasScanOptions;
  /** Folder for `results.json`; without it, nothing is written. */
  out?: string;
  /** Keep the successful results of `out/results.json` from an earlier run of the same scan and skip those patches. */
  resume?: boolean;
  /** Workspace file name recorded in results.json. */
  workspaceName?: string;
  /** Called with each result as it finishes. */
  onResult?: (r: ScanRecord, progress: ScanProgress) => void;
}

export interface ScanSummary {
  /** Every result, in completion order (earlier runs' first when resuming). */
  results: ScanRecord[];
  failed: ScanRecord[];
  /** Patches skipped because an earlier run finished them. */
  skipped: number;
  seconds: number;
  /** results.json, when `out` was given. */
  file?: string;
}

/** `--executor iterative`: this process, one patch after the other. */
class IterativeRunner implements PatchRunner {
  async run(
    bkg: WorkspaceSpec,
    _hash: string,
    patches: readonly NamedPatch[],
    options: ScanOptions,
    emit: (r: ScanRecord) => void,
  ): Promise<void> {
    for (const p of patches) {
      emit({ ...testPatch(bkg, p, options), where: 'this process' });
      // Lets progress output and signals through between fits.
      await new Promise((r) => setImmediate(r));
    }
  }
}

async function runnerFor(opts: ScanRunOptions): Promise<PatchRunner> {
  switch (opts.executor ?? 'iterative') {
    case 'iterative':
      return new IterativeRunner();
    case 'threads':
      return new ThreadPoolRunner(opts.workers ?? availableParallelism());
    case 'faas':
      if (!opts.faas)
        throw new ScanError(
          'the faas executor needs a service URL and endpoints',
          {},
          'pass --service URL --endpoints A,B (SDK: faas: { serviceUrl, endpoints })',
        );
      return new (await import('./scan-faas.ts')).FaasRunner(opts.faas);
    default:
      throw new ScanError(`unknown executor "${String(opts.executor)}"`, {}, 'use iterative, threads or faas');
  }
}

/**
 * Tests every patch against the background-only workspace and resolves with all results once the
 * last has finished; `onResult` sees each as it comes. Results are identical whichever executor
 * runs them (the same code, the same inputs).
 *
 * @example
 * ```ts
 * import { scan, uncorrelatedBackground } from 'ristretto/fit';
 * const bkg = uncorrelatedBackground([0], [50], [5], [52]);
 * const patches = [1, 5, 10, 20].map((s) => ({ name: `sig_${s}`, values: [s], patch: [{ op: 'replace' as const, path: '/channels/0/samples/0/data', value: [s] }] }));
 * const summary = await scan(bkg, patches, {
 *   executor: 'threads',
 *   workers: 2,
 *   onResult: (r, p) => console.log(`${p.done}/${p.total}`, r.name, r.ok ? r.clsObs : r.error),
 * });
 * console.log(summary.failed.length, 'failed');
 * ```
 */
export async function scan(
  bkg: WorkspaceSpec,
  patches: readonly NamedPatch[],
  opts: ScanRunOptions = {},
): Promise<ScanSummary> {
  const t0 = performance.now();
  const names = new Set<string>();
  for (const p of patches) {
    if (names.has(p.name))
      throw new ScanError(
        `two patches are named "${p.name}"`,
        { patch: p.name },
        'patch names identify results; rename one',
      );
    names.add(p.name);
  }
  const hash = workspaceHash(bkg);
  const optimizer = opts.optimizer ?? DEFAULT_SCAN_OPTIMIZER;
  const poiTest = opts.poiTest ?? 1;
  const testStat = opts.testStat ?? 'qtilde';
  const options: ScanOptions = {
    poiTest,
    testStat,
    model: opts.model,
    warmStart: opts.warmStart,
    optimizer,
  };
  const identity: ScanIdentity = {
    workspaceHash: hash,
    poiTest,
    testStat,
    measurement: opts.model?.measurement ?? null,
    interp: { ...(opts.model?.interp ?? {}) } as Record<string, string>,
    // Recorded unless lbfgsb: results files from before the field existed were made with lbfgsb
    // (then the default) and still resume under --optimizer lbfgsb.
    ...(optimizer !== 'lbfgsb' ? { optimizer } : {}),
  };
  // Before results.json is touched: a bad executor setting leaves no file behind.
  const runner = await runnerFor(opts);
  const writer = opts.out
    ? new ResultsWriter(opts.out, identity, {
        resume: opts.resume,
        workspace: opts.workspaceName,
        total: patches.length,
      })
    : undefined;
  const finished = writer?.finished() ?? new Set<string>();
  const todo = patches.filter((p) => !finished.has(p.name));
  const results: ScanRecord[] = writer ? [...writer.results.filter((r) => finished.has(r.name))] : [];
  const failed: ScanRecord[] = [];
  let done = 0;
  const started = performance.now();
  await runner.run(bkg, hash, todo, options, (r) => {
    done++;
    results.push(r);
    if (!r.ok) failed.push(r);
    writer?.add(r);
    const elapsed = (performance.now() - started) / 1000;
    opts.onResult?.(r, {
      done,
      total: todo.length,
      failed: failed.length,
      elapsedSeconds: elapsed,
      etaSeconds: (elapsed / done) * (todo.length - done),
    });
  });
  return {
    results,
    failed,
    skipped: patches.length - todo.length,
    seconds: (performance.now() - t0) / 1000,
    file: writer?.path,
  };
}
