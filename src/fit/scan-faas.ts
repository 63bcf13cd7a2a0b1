/**
 * `--executor faas`: a scan on FaaS endpoints through the public client SDK.
 *
 * - The fit code ships once: task.ts and everything it imports is bundled into one module and
 *   registered as a function; the service identifies it by content hash and each endpoint keeps it in
 *   its function cache, so later scans send no code at all.
 * - The background-only workspace ships once per endpoint: a `stage` task leaves it, keyed by its
 *   sha256, in the endpoint's memory and function cache folder. Test tasks carry only their patch
 *   and the hash; a worker that has not got the workspace answers `missing-workspace` and the patch is
 *   sent again with the workspace attached.
 * - The service places the patches: each is submitted with every endpoint as a candidate (late
 *   binding: it starts on whichever frees a slot first) and a tail policy, so the service copies a
 *   straggler into an idle slot of another endpoint, reruns a patch whose worker or endpoint was lost
 *   (up to `maxAttempts` runs), and reports the first result of the patch's runs once. This runner
 *   only accounts results: one record per patch, a failed patch is that patch's error (naming the
 *   endpoint), never the scan's.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { FaasClient, type TaskOutcome, type TaskRequest } from '../faas/client/index.ts';
import type { TailPolicy } from '../faas/protocol.ts';
import { ScanError } from './errors.ts';
import type { NamedPatch } from './patchset.ts';
import { recordFromReply, type PatchRunner } from './pool.ts';
import type { ScanOptions } from './scan.ts';
import type { ScanRecord } from './scan-results.ts';
import type { WorkspaceSpec } from './spec.ts';
import { FIT_TASK_VERSION, type FitStageArgs, type FitTaskReply, type FitTestArgs } from './task.ts';

/** The module registered as the fit function. */
export const FIT_TASK_MODULE = fileURLToPath(new URL('./task.ts', import.meta.url));

export interface FaasScanOptions {
  /** e.g. `http://127.0.0.1:8470`. */
  serviceUrl: string;
  /** Endpoint names or ids. */
  endpoints: string[];
  /** API token (default: RISTRETTO_TOKEN, then ~/.config/ristretto/token). */
  token?: string;
  tokenFile?: string;
  /** Runs per task the service allows when workers or endpoints die (service default: 3). */
  maxAttempts?: number;
  /** Per-task timeout, ms (0 = none). */
  timeoutMs?: number;
  /**
   * Tail copies (made by the service, with two or more endpoints): a patch running longer than this
   * many times the median fit time of the scan's recent patches gets a copy on another endpoint with
   * an idle slot; the first result wins. Default 3, at least 1.
   */
  tailFactor?: number;
  /** ... but never before it has run this long, ms (default 5000). */
  tailMinMs?: number;
  /** ... and always once it has run this long, ms, even before any patch has finished (default: none). */
  tailTimeoutMs?: number;
  /** Most runs of one patch, itself included (default 2: at most one tail copy). */
  maxCopies?: number;
  /** Called once at the end with what the scan cost in transfers and copies. */
  onStats?: (stats: FaasScanStats) => void;
  /** Warnings (an endpoint that refused the workspace...); default: none. */
  onWarning?: (message: string) => void;
}

export interface FaasScanStats {
  /** Endpoints that confirmed the staged workspace (`cached`: they had it already). */
  staged: number;
  stagedCached: number;
  /** Patches sent again with the workspace because a worker did not have it. */
  workspaceResends: number;
  /** Tail copies the service made of the scan's patches (reported with their results). */
  tailCopies: number;
  /** Runs the service repeated after losing a worker or an endpoint. */
  retries: number;
}

interface PatchState {
  readonly patch: NamedPatch;
  /** Endpoint the patch was submitted to first (its candidates are all the scan's endpoints). */
  readonly endpoint: string;
  resentWorkspace: boolean;
  submitted: number;
  done: boolean;
}

export class FaasRunner implements PatchRunner {
  private readonly tail: TailPolicy;

  constructor(private readonly o: FaasScanOptions) {
    if (!o.endpoints?.length)
      throw new ScanError('the faas executor needs at least one endpoint', {}, 'pass --endpoints A,B');
    const factor = o.tailFactor ?? 3;
    const minMs = o.tailMinMs ?? 5000;
    const maxCopies = o.maxCopies ?? 2;
    if (!(factor >= 1 && factor <= 1000))
      throw new ScanError(`tailFactor must be between 1 and 1000, got ${factor}`, { tailFactor: factor });
    if (!(Number.isInteger(minMs) && minMs >= 0))
      throw new ScanError(`tailMinMs must be a whole number of ms >= 0, got ${minMs}`, { tailMinMs: minMs });
    if (o.tailTimeoutMs !== undefined && !(Number.isInteger(o.tailTimeoutMs) && o.tailTimeoutMs >= 0))
      throw new ScanError(`tailTimeoutMs must be a whole number of ms >= 0, got ${o.tailTimeoutMs}`, {
        tailTimeoutMs: o.tailTimeoutMs,
      });
    if (!(Number.isInteger(maxCopies) && maxCopies >= 1 && maxCopies <= 10))
      throw new ScanError(`maxCopies must be a whole number from 1 to 10, got ${maxCopies}`, { maxCopies });
    this.tail = {
      factor,
      min_ms: minMs,
      max_copies: maxCopies,
      ...(o.tailTimeoutMs !== undefined ? { timeout_ms: o.tailTimeoutMs } : {}),
    };
  }

  async run(
    bkg: WorkspaceSpec,
    wsHash: string,
    patches: readonly NamedPatch[],
    options: ScanOptions,
    emit: (r: ScanRecord) => void,
  ): Promise<void> {
    if (patches.length === 0) return;
    const fx = new FaasClient({ serviceUrl: this.o.serviceUrl, token: this.o.token, tokenFile: this.o.tokenFile });
    const stats: FaasScanStats = { staged: 0, stagedCached: 0, workspaceResends: 0, tailCopies: 0, retries: 0 };
    try {
      const eps = this.o.endpoints;
      const names = new Map<string, string>();
      for (const e of await fx.listEndpoints()) names.set(e.endpoint_id, e.name);
      const known = new Set([...names.keys(), ...names.values()]);
      const unknown = eps.filter((e) => !known.has(e));
      if (unknown.length)
        throw new ScanError(
          `unknown endpoint${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} at ${this.o.serviceUrl}`,
          { endpoints: unknown },
          'check the names with `ristretto faas endpoint list`',
        );
      const functionId = await fx.registerFunction(
        { path: FIT_TASK_MODULE },
        { name: 'ristretto-fit-task', description: 'one pyhf-compatible hypotest per signal patch' },
      );
      const run = { timeoutMs: this.o.timeoutMs, maxAttempts: this.o.maxAttempts };
      const where = (o: TaskOutcome) => `endpoint ${names.get(o.endpointId) ?? o.endpointId}`;

      // Stage the workspace on every endpoint, first in each endpoint's queue; nothing waits for it.
      const stage: FitStageArgs = { v: FIT_TASK_VERSION, op: 'stage', wsHash, workspace: bkg };
      const stageTasks: TaskRequest[] = eps.map((endpoint) => ({ functionId, endpoint, args: stage, ...run }));
      await fx.submitWatched(stageTasks, (o) => {
        const r = o.result as FitTaskReply | undefined;
        if (!o.error && r?.kind === 'staged') {
          stats.staged++;
          if (r.cached) stats.stagedCached++;
        }
        if (o.error || r?.kind !== 'staged')
          this.o.onWarning?.(
            `${where(o)} did not stage the workspace: ${o.error?.message ?? JSON.stringify(r)}; its tasks will carry the workspace`,
          );
      });

      const states = patches.map(
        (patch, i): PatchState => ({
          patch,
          endpoint: eps[i % eps.length],
          resentWorkspace: false,
          submitted: 0,
          done: false,
        }),
      );
      const byTask = new Map<string, PatchState>();
      // Outcomes can arrive before submitWatched resolves with the ids.
      const early = new Map<string, TaskOutcome>();
      // One fair-share group per scan: the service judges stragglers from this scan's fit times.
      const group = `fit-scan-${randomUUID()}`;
      let remaining = states.length;
      let fatal: unknown;
      let resolveAll!: () => void;
      const allDone = new Promise<void>((r) => (resolveAll = r));

      const finish = (s: PatchState, r: ScanRecord) => {
        if (s.done) return;
        s.done = true;
        emit(r);
        if (--remaining === 0) resolveAll();
      };

      const submit = (items: { s: PatchState; endpoint: string; withWorkspace?: boolean }[]) => {
        const tasks: TaskRequest[] = items.map(({ s, endpoint, withWorkspace }) => {
          const args: FitTestArgs = { v: FIT_TASK_VERSION, op: 'test', wsHash, patch: s.patch, options };
          if (withWorkspace) args.workspace = bkg;
          const alternates = eps.filter((e) => e !== endpoint && names.get(e) !== endpoint);
          return {
            functionId,
            endpoint,
            args,
            group,
            ...(alternates.length ? { alternates, tail: this.tail } : {}),
            ...run,
          };
        });
        const now = performance.now();
        fx.submitWatched(tasks, onOutcome).then(
          (ids) =>
            ids.forEach((id, i) => {
              const { s } = items[i];
              s.submitted = now;
              byTask.set(id, s);
              const o = early.get(id);
              if (o) {
                early.delete(id);
                onOutcome(o);
              }
            }),
          (e: unknown) => {
            fatal = e;
            resolveAll();
          },
        );
      };

      const onOutcome = (o: TaskOutcome): void => {
        const s = byTask.get(o.taskId);
        if (!s) return void early.set(o.taskId, o);
        byTask.delete(o.taskId);
        if (s.done) return;
        stats.tailCopies += o.copies?.length ?? 0;
        stats.retries += Math.max(0, o.attempts - 1);
        const reply = o.result as FitTaskReply | undefined;
        if (!o.error && reply?.kind === 'missing-workspace' && !s.resentWorkspace) {
          s.resentWorkspace = true;
          stats.workspaceResends++;
          return submit([{ s, endpoint: names.get(o.endpointId) ?? s.endpoint, withWorkspace: true }]);
        }
        if (o.error) {
          const seconds = s.submitted ? (performance.now() - s.submitted) / 1000 : 0;
          return finish(s, {
            name: s.patch.name,
            values: s.patch.values,
            ok: false,
            error: o.error.message,
            seconds,
            where: where(o),
          });
        }
        finish(s, recordFromReply(s.patch, reply, where(o), reply?.kind === 'result' ? reply.item.seconds : 0));
      };

      submit(states.map((s) => ({ s, endpoint: s.endpoint })));
      await allDone;
      if (fatal) throw fatal;
      this.o.onStats?.(stats);
    } finally {
      await fx.close();
    }
  }
}
