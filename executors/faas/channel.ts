/**
 * The executor's line to the FaaS service: submissions made in one event-loop turn go out as one batch
 * (over the result stream, watched in the same step), outcomes come back on that stream (no polling),
 * cancellations are batched too.
 *
 * While the service is unreachable (restarting), submissions and cancellations are retried with
 * jittered backoff (src/util/retry.ts) for `patienceMs`; the result stream reconnects on its own and the service replays outcomes of
 * tasks that finished meanwhile, so nothing is lost across a restart.
 */
import {
  FaasConnectionError,
  FaasRequestError,
  type FaasClient,
  type TailPolicy,
  type TaskOutcome,
} from '../../src/faas/client/index.ts';
import { uuidv7 } from '../../src/faas/ids.ts';
import { ERROR_STATUS } from '../../src/faas/protocol.ts';
import { retry } from '../../src/util/retry.ts';
import { ServiceUnavailableError } from './errors.ts';
import type { TaskArgs } from './wire.ts';

/** HTTP statuses with which the service may refuse a submission for one of its tasks. */
const PER_TASK_REFUSALS = new Set([
  ERROR_STATUS.BadRequest,
  ERROR_STATUS.Forbidden,
  ERROR_STATUS.NotFound,
  ERROR_STATUS.PayloadTooLarge,
]);

export interface TaskHandlers {
  /** The service accepted the task. */
  submitted(taskId: string): void;
  /** The task finished (success, failure or cancellation). */
  outcome(o: TaskOutcome): void;
  /** The endpoint reports the task running (tasks running longer than a few tens of ms). */
  running?(endpointId: string | undefined): void;
  /** The task could not be submitted at all. */
  refused(error: unknown): void;
}

interface RunningNotice {
  id: string;
  endpointId: string | undefined;
}

interface Pending {
  /** Made here once: a retry after a lost answer submits the same id (the service then says it has it). */
  id: string;
  endpointId: string;
  args: TaskArgs;
  handlers: TaskHandlers;
  alternates: string[] | undefined;
  tail: TailPolicy | undefined;
}

export interface ChannelOptions {
  /** How long to keep retrying while the service is unreachable. */
  patienceMs: number;
  /** Per-task attempts the service makes when workers or endpoints die. */
  maxAttempts?: number;
  /** Fair-share group of every task (one per analysis run). */
  group?: string;
  note?: (msg: string) => void;
}

export class TaskChannel {
  private pending: Pending[] = [];
  private cancels: string[] = [];
  private scheduled = false;
  private readonly byTask = new Map<string, TaskHandlers>();
  private closed = false;
  /** Last time the service answered (a request or a streamed outcome). */
  lastContact = Date.now();

  constructor(
    private readonly fx: FaasClient,
    private readonly functionId: string,
    private readonly opts: ChannelOptions,
  ) {}

  /** Tasks submitted and not finished. */
  get outstanding(): number {
    return this.byTask.size;
  }

  /**
   * Submit a task for `endpointId`; with `alternates`, the service may run it on one of those instead,
   * and with `tail` also copy it there when it straggles (the first result wins).
   */
  submit(endpointId: string, args: TaskArgs, handlers: TaskHandlers, alternates?: string[], tail?: TailPolicy): void {
    const alts = alternates?.length ? alternates : undefined;
    this.pending.push({ id: uuidv7(), endpointId, args, handlers, alternates: alts, tail: alts ? tail : undefined });
    this.schedule();
  }

  cancel(taskId: string): void {
    this.byTask.delete(taskId);
    this.cancels.push(taskId);
    this.schedule();
  }

  /** Stop routing outcomes; pending submissions are refused. Best-effort cancel of what is still out. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const out = [...this.byTask.keys(), ...this.cancels];
    this.byTask.clear();
    for (const p of this.pending.splice(0))
      p.handlers.refused(new ServiceUnavailableError('the executor was closed before the task was submitted'));
    if (out.length) await this.fx.cancel(out).catch(() => undefined);
  }

  private schedule(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    const batch = this.pending.splice(0);
    const cancels = this.cancels.splice(0);
    if (cancels.length) void this.withPatience(() => this.fx.cancel(cancels)).catch(() => undefined);
    if (batch.length > 0) await this.send(batch);
  }

  private async send(batch: Pending[]): Promise<void> {
    // Submitted and watched in one step, in parts when the service's quota of unfinished tasks makes
    // the rest wait for earlier tasks. An outcome can arrive before its part is known stored here (it
    // may be read from the socket together with the answer), so it waits for that.
    const byId = new Map(batch.map((p) => [p.id, p]));
    const stored = new Set<string>();
    const early = new Map<string, (TaskOutcome | RunningNotice)[]>();
    const hold = (id: string, o: TaskOutcome | RunningNotice) => {
      if (stored.has(id)) return this.route(o);
      let list = early.get(id);
      if (!list) early.set(id, (list = []));
      list.push(o);
    };
    const onStored = (ids: readonly string[]) => {
      for (const id of ids) {
        const p = byId.get(id);
        // A retry after a lost answer reports a part again.
        if (!p || stored.has(id)) continue;
        stored.add(id);
        if (this.closed) {
          void this.fx.cancel([id]).catch(() => undefined);
          continue;
        }
        this.byTask.set(id, p.handlers);
        p.handlers.submitted(id);
        for (const o of early.get(id) ?? []) this.route(o);
        early.delete(id);
      }
    };
    try {
      await this.withPatience(() =>
        this.fx.submitWatched(
          batch
            .filter((p) => !stored.has(p.id))
            .map((p) => ({
              id: p.id,
              functionId: this.functionId,
              endpoint: p.endpointId,
              args: p.args,
              maxAttempts: this.opts.maxAttempts,
              group: this.opts.group,
              alternates: p.alternates,
              tail: p.tail,
            })),
          (o) => hold(o.taskId, o),
          (id, endpointId) => hold(id, { id, endpointId }),
          { onStored },
        ),
      );
    } catch (e) {
      const left = batch.filter((p) => !stored.has(p.id));
      // The service refuses a whole submission for one bad task (say, an endpoint that does not allow
      // the function): send each task on its own, so only that one is refused. Not for refusals of the
      // whole request (an invalid token, too many requests): those would only be repeated per task.
      if (left.length > 1 && e instanceof FaasRequestError && PER_TASK_REFUSALS.has(e.status)) {
        await Promise.all(left.map((p) => this.send([p])));
        return;
      }
      for (const p of left) p.handlers.refused(e);
    }
  }

  /** Hand an outcome, or a running notice, to the task's handlers. */
  private route(o: TaskOutcome | RunningNotice): void {
    this.lastContact = Date.now();
    if ('id' in o) return this.byTask.get(o.id)?.running?.(o.endpointId);
    const h = this.byTask.get(o.taskId);
    if (!h) return;
    this.byTask.delete(o.taskId);
    h.outcome(o);
  }

  /** Run a request, retrying connection failures (and 5xx answers) for up to the patience window. */
  async withPatience<T>(request: () => Promise<T>): Promise<T> {
    const r = await retry(request, {
      baseMs: 200,
      maxMs: 2000,
      maxElapsedMs: this.opts.patienceMs,
      retryable: (e) =>
        !this.closed && (e instanceof FaasConnectionError || (e instanceof FaasRequestError && e.status >= 500)),
      onRetry: (e, failures) => {
        if (failures === 1)
          this.opts.note?.(`FaaS service unreachable (${(e as Error).message.split(':')[0]}); retrying`);
      },
      giveUp: (e, { elapsedMs }) =>
        new ServiceUnavailableError(
          `the FaaS service has been unreachable for ${Math.round(elapsedMs / 1000)} s: ${(e as Error).message}`,
          { waitedSeconds: Math.round(elapsedMs / 1000) },
          'restart the service and rerun with --resume (finished chunks are kept in the checkpoint)',
          { cause: e },
        ),
    });
    this.lastContact = Date.now();
    return r;
  }
}
