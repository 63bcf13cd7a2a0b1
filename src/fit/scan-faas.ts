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
 * - Tasks are late-bound (each may run on any of the endpoints, whichever frees a slot first).
 * - Tail retry: a patch running longer than `tailFactor` × the median fit time (and at least
 *   `tailMinMs`) gets a copy on another endpoint; the first result wins, the other copy is cancelled.
 * - A task that fails (its endpoint lost beyond the service's attempts, a refusal) is tried once more
 *   on another endpoint, then reported as that patch's error, naming the endpoint.
 */
import { fileURLToPath } from 'node:url';
import { FaasClient, type TaskOutcome, type TaskRequest } from '../faas/client/index.ts';
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
  /** A patch running longer than this many times the median fit time gets a tail copy (default 3; 0 = copy every running patch). */
  tailFactor?: number;
  /** ... but never before it has run this long, ms (default 5000). */
  tailMinMs?: number;
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
  /** Tail copies submitted, and failed tasks retried on another endpoint. */
  tailCopies: number;
  retries: number;
}

interface PatchState {
  patch: NamedPatch;
  /** Outstanding copies: task id → endpoint asked for. */
  copies: Map<string, string>;
  runningSince?: number;
  tailed: boolean;
  retried: boolean;
  resentWorkspace: boolean;
  submitted: number;
  done: boolean;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

export class FaasRunner implements PatchRunner {
  constructor(private readonly o: FaasScanOptions) {
    if (!o.endpoints?.length)
      throw new ScanError('the faas executor needs at least one endpoint', {}, 'pass --endpoints A,B');
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
    const timers: NodeJS.Timeout[] = [];
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
        (patch): PatchState => ({
          patch,
          copies: new Map(),
          tailed: false,
          retried: false,
          resentWorkspace: false,
          submitted: 0,
          done: false,
        }),
      );
      const byTask = new Map<string, PatchState>();
      const durations: number[] = [];
      let remaining = states.length;
      let fatal: unknown;
      let resolveAll!: () => void;
      const allDone = new Promise<void>((r) => (resolveAll = r));

      const finish = (s: PatchState, r: ScanRecord) => {
        if (s.done) return;
        s.done = true;
        durations.push(r.seconds);
        const others = [...s.copies.keys()];
        s.copies.clear();
        if (others.length) void fx.cancel(others).catch(() => undefined);
        emit(r);
        if (--remaining === 0) resolveAll();
      };

      const submit = (items: { s: PatchState; endpoint: string; withWorkspace?: boolean }[]) => {
        const tasks: TaskRequest[] = items.map(({ s, endpoint, withWorkspace }) => {
          const args: FitTestArgs = { v: FIT_TASK_VERSION, op: 'test', wsHash, patch: s.patch, options };
          if (withWorkspace) args.workspace = bkg;
          return { functionId, endpoint, args, alternates: eps.filter((e) => e !== endpoint), ...run };
        });
        const now = performance.now();
        fx.submitWatched(tasks, onOutcome, onRunning).then(
          (ids) =>
            ids.forEach((id, i) => {
              const { s, endpoint } = items[i];
              s.submitted = now;
              if (s.done) return void fx.cancel([id]).catch(() => undefined);
              s.copies.set(id, endpoint);
              byTask.set(id, s);
              const early = pending.get(id);
              if (early) {
                pending.delete(id);
                early.kind === 'outcome' ? onOutcome(early.o) : onRunning(id);
              }
            }),
          (e: unknown) => {
            fatal = e;
            resolveAll();
          },
        );
      };
      // Outcomes can arrive before submitWatched resolves with the ids.
      const pending = new Map<string, { kind: 'outcome'; o: TaskOutcome } | { kind: 'running' }>();

      function onRunning(taskId: string): void {
        const s = byTask.get(taskId);
        if (!s) return void pending.set(taskId, { kind: 'running' });
        s.runningSince ??= performance.now();
      }

      const onOutcome = (o: TaskOutcome): void => {
        const s = byTask.get(o.taskId);
        if (!s) return void pending.set(o.taskId, { kind: 'outcome', o });
        const endpoint = s.copies.get(o.taskId);
        s.copies.delete(o.taskId);
        if (s.done) return;
        const reply = o.result as FitTaskReply | undefined;
        if (!o.error && reply?.kind === 'missing-workspace' && !s.resentWorkspace) {
          s.resentWorkspace = true;
          stats.workspaceResends++;
          return submit([{ s, endpoint: names.get(o.endpointId) ?? endpoint ?? eps[0], withWorkspace: true }]);
        }
        if (o.error) {
          if (s.copies.size > 0) return; // another copy is still running
          if (!s.retried && eps.length > 1) {
            s.retried = true;
            stats.retries++;
            const other =
              eps.find((e) => e !== endpoint && e !== names.get(o.endpointId) && e !== o.endpointId) ?? eps[0];
            this.o.onWarning?.(`${s.patch.name}: ${o.error.message}; trying endpoint ${other}`);
            return submit([{ s, endpoint: other, withWorkspace: true }]);
          }
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

      // Tail retry: copies of stragglers on another endpoint.
      const factor = this.o.tailFactor ?? 3;
      const minMs = this.o.tailMinMs ?? 5000;
      if (eps.length > 1) {
        timers.push(
          setInterval(() => {
            const threshold = Math.max(minMs, factor * median(durations) * 1000);
            const now = performance.now();
            const copies: { s: PatchState; endpoint: string }[] = [];
            for (const s of states) {
              if (s.done || s.tailed || s.runningSince === undefined || now - s.runningSince < threshold) continue;
              const on = new Set(s.copies.values());
              const other = eps.find((e) => !on.has(e));
              if (!other) continue;
              s.tailed = true;
              copies.push({ s, endpoint: other });
            }
            if (copies.length) {
              stats.tailCopies += copies.length;
              submit(copies);
            }
          }, 250),
        );
      }

      submit(states.map((s, i) => ({ s, endpoint: eps[i % eps.length] })));
      await allDone;
      if (fatal) throw fatal;
      this.o.onStats?.(stats);
    } finally {
      for (const t of timers) clearInterval(t);
      await fx.close();
    }
  }
}
