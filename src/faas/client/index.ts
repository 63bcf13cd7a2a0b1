/**
 * The FaaS client SDK.
 *
 * ```ts
 * const fx = new FaasClient({ serviceUrl: 'http://127.0.0.1:8470' });   // token from RISTRETTO_TOKEN
 * const fn = await fx.registerFunction((xs: number[]) => xs.reduce((a, b) => a + b, 0));
 * const sum = await fx.submit(fn, 'my-laptop', [1, 3, 5]);             // 9
 * const ids = await fx.batchRun(chunks.map((c) => ({ functionId: fn, endpoint: 'site-a', args: c })));
 * for await (const o of fx.results(ids)) console.log(o.taskId, o.state, o.result);
 * await fx.close();
 * ```
 * Arguments and results are JSON values plus typed arrays (sent as raw bytes), Maps, Sets, non-finite
 * numbers, BigInts and BinarySerializable objects (decoded through the accumulate registry).
 */
import { stringifyTagged, fromTagged } from '../codec.ts';
import { brokenInvariant } from '../../errors/index.ts';
import { FaasError, FaasRequestError, TaskPendingError, taskError } from '../errors.ts';
import {
  type BatchInfo,
  type CancelResponse,
  type EndpointInfo,
  type FunctionInfo,
  ROUTES,
  type Sharing,
  type SubmitConflict,
  type SubmitRequest,
  type SubmitResponse,
  type TaskInfo,
  type TaskSpec,
  TERMINAL_STATES,
  type TailPolicy,
} from '../protocol.ts';
import { uuidv7 } from '../ids.ts';
import { resolveToken } from '../token.ts';
import { moduleSource, type FunctionSource } from './functions.ts';
import { HttpApi } from './http.ts';
import { ResultStream, type RunningListener, type TaskOutcome } from './stream.ts';
import { QuotaRoom, quotaRoom } from './quota.ts';
import { MAX_BATCH_TASKS } from '../protocol-schemas.ts';

export type { FunctionSource } from './functions.ts';
export { FunctionSourceError } from './functions.ts';
export type { RunningListener, TaskOutcome } from './stream.ts';
export * from '../errors.ts';
export { uuidv7 } from '../ids.ts';
export {
  checkEndpointPolicy,
  costOf,
  ENDPOINT_POLICIES,
  EndpointPolicyError,
  rankEndpoints,
  type EndpointPolicy,
  type RankableEndpoint,
} from '../endpoint-policy.ts';
export type {
  BatchInfo,
  CancelResponse,
  EndpointInfo,
  FunctionInfo,
  Sharing,
  TailPolicy,
  TaskContext,
  TaskInfo,
  TaskState,
} from '../protocol.ts';

export interface FaasClientOptions {
  /** e.g. `http://127.0.0.1:8470`. */
  serviceUrl: string;
  /** API token; defaults to `tokenFile`, then RISTRETTO_TOKEN, then ~/.config/ristretto/token. */
  token?: string;
  tokenFile?: string;
  /** Tasks per submission request (larger batches are split). Default and most: MAX_BATCH_TASKS (10,000). */
  submitBatchSize?: number;
  /**
   * Told once when the service's quota of unfinished tasks makes submissions wait for earlier tasks
   * to finish (see QuotaExceeded). Default: a process warning.
   */
  note?: (msg: string) => void;
}

/** More options of `submitWatched`. */
export interface SubmitWatchedOptions {
  /**
   * Called with the ids of each part of the submission once the service has stored it. A submission
   * over the service's quota of unfinished tasks is sent in parts as earlier tasks finish, so the
   * first parts' outcomes may arrive long before the promise resolves.
   */
  onStored?: (ids: readonly string[]) => void;
}

export interface ShareOptions {
  /** Visible to every user. */
  public?: boolean;
  /** Visible to these user names. */
  sharedWith?: string[];
}

export interface RegisterFunctionOptions extends ShareOptions {
  name?: string;
  description?: string;
}

export interface RegisterEndpointOptions extends ShareOptions {
  /** Function ids the endpoint accepts; empty = functions owned by the endpoint's owner. */
  allowedFunctions?: string[];
}

export interface RunOptions {
  /** Per-task timeout; the worker running it is stopped when it expires. 0 = none. */
  timeoutMs?: number;
  /** Runs allowed when workers or endpoints die (default: the service's, 3). */
  maxAttempts?: number;
}

/** One task of `batchRun`. `endpoint` is an endpoint id or name. */
export interface TaskRequest extends RunOptions {
  /**
   * The task's id (a lower-case UUIDv7, see `uuidv7` in ristretto/faas); `submitWatched` makes one
   * when absent. Give the same id again only to retry a submission whose answer was lost.
   */
  id?: string;
  functionId: string;
  endpoint: string;
  args?: unknown;
  /** Fair-share group (e.g. one analysis): endpoints serve queued tasks round-robin across groups. */
  group?: string;
  /** Late binding: other endpoints the task may run on if one of them frees a slot first. */
  alternates?: string[];
  /** Tail copies on the alternates, decided by the service (see TaskSpec.tail). */
  tail?: TailPolicy;
}

/** Submissions up to this size go over the result stream (its frame limit is the request limit). */
const STREAM_SUBMIT_MAX_CHARS = 1024 * 1024;

/** Ids in one `POST /v1/tasks/results` request (fewer when the service says their results do not fit). */
const RESULTS_REQUEST_IDS = 1000;

/**
 * Tasks in the first request of a large submission: the service stores it and endpoints start
 * working while the rest is still being sent and stored (see FaasClient.submitInParts).
 */
const FIRST_REQUEST_TASKS = 500;

/**
 * Largest request body the client sends (chars of JSON): half the service's default request limit, so
 * tasks with large arguments are split over several requests instead of being refused, and the service
 * never parses one huge body while other users wait.
 */
export const SUBMIT_MAX_CHARS = 32 * 1024 * 1024;

interface PendingSubmit {
  task: TaskRequest;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

export class FaasClient {
  readonly serviceUrl: string;
  private readonly http: HttpApi;
  private readonly stream: ResultStream;
  private readonly batchSize: number;
  private pending: PendingSubmit[] = [];
  private flushScheduled = false;
  /** Endpoint id → name, learned from endpoint listings, so that errors name endpoints as users do. */
  private readonly endpointNames = new Map<string, string>();
  /** Endpoint names and ids this client has seen in submissions (looked up once each). */
  private readonly endpointsSeen = new Set<string>();
  /** Tasks this client submitted (watched) whose outcome has not come: what it can wait for under a quota. */
  private ownOpen = 0;
  private readonly quota: QuotaRoom;

  constructor(opts: FaasClientOptions) {
    if (!opts || typeof opts.serviceUrl !== 'string' || !/^https?:\/\//.test(opts.serviceUrl)) {
      throw new FaasError(
        `serviceUrl must be an http(s) URL, got ${JSON.stringify(opts?.serviceUrl)}`,
        {},
        'e.g. new FaasClient({ serviceUrl: "http://127.0.0.1:8470" })',
      );
    }
    const token = opts.token ?? resolveToken({ tokenFile: opts.tokenFile });
    this.serviceUrl = opts.serviceUrl.replace(/\/$/, '');
    this.http = new HttpApi(this.serviceUrl, token);
    this.stream = new ResultStream(this.serviceUrl, token, (id) => this.endpointNames.get(id));
    this.batchSize = Math.max(1, Math.min(opts.submitBatchSize ?? MAX_BATCH_TASKS, MAX_BATCH_TASKS));
    const note = opts.note ?? ((msg: string) => process.emitWarning(`ristretto faas: ${msg}`));
    this.quota = new QuotaRoom(() => this.ownOpen, note);
  }

  /** Close connections. Pending `submit` promises stay unresolved. */
  async close(): Promise<void> {
    this.stream.close();
    this.http.close();
  }

  /** The user the token belongs to, and whether it is a service admin. */
  whoami(): Promise<{ user: string; user_id: string; admin: boolean }> {
    return this.http.request('GET', ROUTES.whoami);
  }

  /**
   * Limits, and the caller's own tasks by state and endpoints online; for admins
   * (`ristretto faas user add --admin`) the service-wide counters instead.
   */
  metrics(): Promise<Record<string, unknown>> {
    return this.http.request('GET', ROUTES.metrics);
  }

  // ---------------------------------------------------------------- functions

  /**
   * Register a function and return its id. The same code registered again by the same user returns
   * the same id. A JS function is serialized from its source (no closure variables); a string is an
   * ES module source; `{path}` bundles a TS/JS module and its imports with esbuild.
   */
  async registerFunction(src: FunctionSource, opts: RegisterFunctionOptions = {}): Promise<string> {
    const code = await moduleSource(src);
    const body = {
      code,
      name: opts.name ?? (typeof src === 'function' && src.name ? src.name : undefined),
      description: opts.description,
      sharing: sharing(opts),
    };
    const r = await this.http.request<{ function_id: string }>('POST', ROUTES.functions, JSON.stringify(body));
    return r.function_id;
  }

  getFunction(id: string): Promise<FunctionInfo> {
    return this.http.request('GET', ROUTES.function(id));
  }

  async listFunctions(): Promise<FunctionInfo[]> {
    return (await this.http.request<{ functions: FunctionInfo[] }>('GET', ROUTES.functions)).functions;
  }

  // ---------------------------------------------------------------- endpoints

  /** Create an endpoint record before its agent first connects (tasks can queue for it), or update it. */
  async registerEndpoint(name: string, opts: RegisterEndpointOptions = {}): Promise<EndpointInfo> {
    const body = {
      name,
      allowed_functions: opts.allowedFunctions,
      sharing: opts.public || opts.sharedWith ? sharing(opts) : undefined,
    };
    return this.learn(await this.http.request<EndpointInfo>('POST', ROUTES.endpoints, JSON.stringify(body)));
  }

  /** Endpoints visible to this user, with status, capacity and queue lengths. */
  async listEndpoints(): Promise<EndpointInfo[]> {
    const list = (await this.http.request<{ endpoints: EndpointInfo[] }>('GET', ROUTES.endpoints)).endpoints;
    for (const e of list) this.learn(e);
    return list;
  }

  /**
   * Delete an endpoint of yours (by id, name or owner/name; an admin's, anyone's by id or
   * owner/name). Refused while its agent is attached or tasks on it are unfinished.
   */
  async deleteEndpoint(ref: string): Promise<{ endpoint_id: string; name: string; owner: string }> {
    return this.http.request('DELETE', ROUTES.endpoint(ref));
  }

  /** One endpoint by id or name. */
  async getEndpoint(idOrName: string): Promise<EndpointInfo> {
    return this.learn(await this.http.request<EndpointInfo>('GET', ROUTES.endpoint(idOrName)));
  }

  private learn(e: EndpointInfo): EndpointInfo {
    if (e && typeof e.endpoint_id === 'string' && typeof e.name === 'string')
      this.endpointNames.set(e.endpoint_id, e.name);
    return e;
  }

  /**
   * On the first submission to an endpoint not seen yet, list the endpoints once (alongside the
   * submission, never delaying or reordering it), so that a task failing there is reported by the
   * endpoint's name. A failed listing only costs the names.
   */
  private learnEndpointNames(tasks: readonly TaskRequest[]): void {
    let fresh = false;
    for (const t of tasks) {
      for (const e of [t.endpoint, ...(t.alternates ?? [])]) {
        if (!this.endpointsSeen.has(e)) {
          this.endpointsSeen.add(e);
          fresh = true;
        }
      }
    }
    if (fresh) void this.listEndpoints().catch(() => undefined);
  }

  // ---------------------------------------------------------------- tasks

  /** Submit one task; returns its id (fire and forget: collect the result later by id). */
  async run(functionId: string, endpoint: string, args?: unknown, opts: RunOptions = {}): Promise<string> {
    const [id] = await this.batchRun([{ functionId, endpoint, args, ...opts }]);
    return id;
  }

  /**
   * Submit many tasks in as few requests as possible; returns task ids in order. Over the service's
   * quota of unfinished tasks, the rest is submitted as the first ones finish (they are watched then).
   */
  async batchRun(tasks: readonly TaskRequest[]): Promise<string[]> {
    this.learnEndpointNames(tasks);
    const ids: string[] = [];
    /** Stored, not watched: watched once a quota makes this call wait for them. */
    let unwatched: string[] = [];
    await this.submitInParts(
      tasks,
      async (_part, body) => {
        const r = await this.http.request<SubmitResponse>('POST', ROUTES.tasks, body);
        for (const id of r.task_ids) ids.push(id);
        unwatched.push(...r.task_ids);
      },
      () => {
        if (unwatched.length === 0) return;
        this.ownOpen += unwatched.length;
        this.stream.watch(unwatched, () => this.ownFinished());
        unwatched = [];
      },
    );
    return ids;
  }

  /** A task this client waits for under a quota finished. */
  private ownFinished(): void {
    this.ownOpen--;
    this.quota.finished();
  }

  /**
   * Send `tasks` in requests (see chunks and bodies) through `send`. A request refused for the
   * service's quota is sent again, with the rest, as room opens (QuotaRoom); `beforeWait` runs first.
   */
  private async submitInParts(
    tasks: readonly TaskRequest[],
    send: (part: readonly TaskRequest[], body: string) => Promise<void>,
    beforeWait?: () => void,
  ): Promise<void> {
    let from = 0;
    let size = Math.min(this.batchSize, FIRST_REQUEST_TASKS);
    while (from < tasks.length) {
      const n = await this.quota.take(Math.min(size, tasks.length - from));
      const end = from + n;
      for (const { tasks: part, body } of this.bodies(tasks.slice(from, end))) {
        try {
          await send(part, body);
        } catch (e) {
          const q = quotaRoom(e);
          this.quota.giveBack(end - from);
          if (!q) throw e;
          this.quota.refused(q, tasks.length - from);
          beforeWait?.();
          break;
        }
        this.quota.accepted();
        from += part.length;
      }
      if (from >= end) size = this.batchSize;
    }
  }

  /**
   * Submit tasks and watch their outcomes in one step: `listener` is called once per task as it
   * finishes (failures with `error` set), `onRunning` when an endpoint reports a task running (only
   * for tasks that run longer than a few tens of ms). Resolves with the task ids in order once the service has
   * stored the tasks. Small submissions travel over the open result stream, which saves the HTTP
   * request and the watch message (one network round trip per task on the critical path); large
   * ones, or any before the stream is connected, go through `POST /v1/tasks`.
   */
  async submitWatched(
    tasks: readonly TaskRequest[],
    listener: (o: TaskOutcome) => void,
    onRunning?: RunningListener,
    opts: SubmitWatchedOptions = {},
  ): Promise<string[]> {
    this.learnEndpointNames(tasks);
    // The client names the tasks: outcomes are matched from the start, and over the stream the
    // service's answer needs no message of its own (it rides along with results).
    const ids = tasks.map((t) => t.id ?? uuidv7());
    const named = tasks.map((t, i) => (t.id === undefined ? { ...t, id: ids[i] } : t));
    // Each outcome is room for another task under the service's quota.
    const own = (o: TaskOutcome) => {
      this.ownFinished();
      listener(o);
    };
    await this.submitInParts(named, async (part, body) => {
      const partIds = part.map((t) => t.id ?? '');
      this.ownOpen += partIds.length;
      try {
        await this.submitPart(partIds, body, own, onRunning);
      } catch (e) {
        this.ownOpen -= partIds.length;
        throw e;
      }
      opts.onStored?.(partIds);
    });
    return ids;
  }

  /** One request of submitWatched: over the stream when small, else `POST /v1/tasks` and a watch. */
  private async submitPart(
    chunkIds: string[],
    body: string,
    listener: (o: TaskOutcome) => void,
    onRunning: RunningListener | undefined,
  ): Promise<void> {
    try {
      if (body.length <= STREAM_SUBMIT_MAX_CHARS && this.stream.ready)
        await this.stream.submit(body, listener, onRunning, chunkIds);
      else {
        await this.http.request<SubmitResponse>('POST', ROUTES.tasks, body);
        this.stream.watch(chunkIds, listener, onRunning);
      }
    } catch (e) {
      // A retry of a submission stored before its answer was lost: every id is in use, by this user.
      if (!storedBefore(e, chunkIds.length)) throw e;
      this.stream.watch(chunkIds, listener, onRunning);
    }
  }

  /**
   * The request bodies for `tasks`: one, or halves (recursively) while a body exceeds SUBMIT_MAX_CHARS.
   * A single task larger than that is sent as it is: the service answers with its own limit.
   */
  private *bodies(tasks: readonly TaskRequest[]): Generator<{ tasks: readonly TaskRequest[]; body: string }> {
    const body = stringifyTagged(this.submitBody(tasks));
    if (body.length <= SUBMIT_MAX_CHARS || tasks.length === 1) {
      yield { tasks, body };
      return;
    }
    const half = tasks.length >> 1;
    yield* this.bodies(tasks.slice(0, half));
    yield* this.bodies(tasks.slice(half));
  }

  private submitBody(tasks: readonly TaskRequest[]): SubmitRequest {
    // Fields shared by the whole chunk go once at the top level.
    const first = tasks[0];
    const body: SubmitRequest = {
      function_id: first.functionId,
      endpoint: first.endpoint,
      tasks: new Array(tasks.length),
    };
    if (first.timeoutMs !== undefined) body.timeout_ms = first.timeoutMs;
    if (first.maxAttempts !== undefined) body.max_attempts = first.maxAttempts;
    if (first.group !== undefined) body.group = first.group;
    for (let i = 0; i < tasks.length; i++) {
      const t = tasks[i];
      const spec: TaskSpec = t.id === undefined ? { args: t.args } : { id: t.id, args: t.args };
      if (t.functionId !== first.functionId) spec.function_id = t.functionId;
      if (t.endpoint !== first.endpoint) spec.endpoint = t.endpoint;
      if (t.timeoutMs !== first.timeoutMs) spec.timeout_ms = t.timeoutMs ?? 0;
      if (t.maxAttempts !== first.maxAttempts && t.maxAttempts !== undefined) spec.max_attempts = t.maxAttempts;
      if (t.group !== first.group && t.group !== undefined) spec.group = t.group;
      if (t.alternates?.length) spec.alternates = t.alternates;
      if (t.tail) spec.tail = t.tail;
      body.tasks[i] = spec;
    }
    return body;
  }

  /** Status and timestamps of one task (no result). */
  getTask(taskId: string): Promise<TaskInfo> {
    return this.http.request('GET', ROUTES.task(taskId));
  }

  /** Progress counts of a submission batch. */
  getBatch(batchId: string): Promise<BatchInfo & { task_ids: string[] }> {
    return this.http.request('GET', ROUTES.batch(batchId));
  }

  /** The result of a finished task; throws TaskFailedError (typed) or TaskPendingError. */
  async getResult(taskId: string): Promise<unknown> {
    const o = (await this.getBatchResult([taskId])).get(taskId) ?? brokenInvariant(`no outcome for task ${taskId}`);
    if (o.error) throw o.error;
    if (o.state !== 'success') throw new TaskPendingError(taskId, o.state);
    return o.result;
  }

  /**
   * Outcomes of many tasks, in requests of up to 1,000 ids; unfinished tasks have no result or error.
   * Large results are fetched in smaller requests: the service answers 413 with how many ids fit in
   * one answer (see MAX_RESULTS_ANSWER_BYTES), and the next requests grow back from there.
   */
  async getBatchResult(taskIds: readonly string[]): Promise<Map<string, TaskOutcome>> {
    const out = new Map<string, TaskOutcome>();
    let size = RESULTS_REQUEST_IDS;
    for (let i = 0; i < taskIds.length; ) {
      const part = taskIds.slice(i, i + size);
      let r: { tasks: TaskInfo[] };
      try {
        r = await this.http.request<{ tasks: TaskInfo[] }>(
          'POST',
          ROUTES.taskResults,
          JSON.stringify({ task_ids: part }),
        );
      } catch (e) {
        const fit = fittingIds(e, part.length);
        if (fit === undefined) throw e;
        size = fit;
        continue;
      }
      i += part.length;
      size = Math.min(RESULTS_REQUEST_IDS, size * 2);
      for (const t of r.tasks) {
        const o: TaskOutcome = { taskId: t.task_id, state: t.state, endpointId: t.endpoint_id, attempts: t.attempts };
        if (t.state === 'success') o.result = fromTagged(t.result);
        else if (TERMINAL_STATES.has(t.state) && t.error) {
          o.error = taskError(t.error, {
            taskId: t.task_id,
            endpointId: t.endpoint_id,
            endpointName: this.endpointNames.get(t.endpoint_id),
            attempts: t.attempts,
          });
        }
        out.set(t.task_id, o);
      }
    }
    return out;
  }

  /**
   * Outcomes as tasks finish, in completion order, over the result stream (no polling). Failed tasks
   * are yielded with `error` set, not thrown. Ends when every id has been yielded.
   */
  async *results(taskIds: readonly string[]): AsyncGenerator<TaskOutcome, void, undefined> {
    const buffer: TaskOutcome[] = [];
    let wake: (() => void) | undefined;
    let remaining = new Set(taskIds).size;
    const stop = this.stream.watch(taskIds, (o) => {
      buffer.push(o);
      wake?.();
    });
    try {
      while (remaining > 0) {
        if (buffer.length === 0) await new Promise<void>((r) => (wake = r));
        wake = undefined;
        for (let o = buffer.shift(); o !== undefined; o = buffer.shift()) {
          remaining--;
          yield o;
        }
      }
    } finally {
      stop();
    }
  }

  /**
   * Run one task and resolve with its result (rejects with a typed TaskFailedError carrying the task
   * id, endpoint, remote message and attempts). Calls made in the same tick go out as one batch.
   */
  submit(functionId: string, endpoint: string, args?: unknown, opts: RunOptions = {}): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.pending.push({ task: { functionId, endpoint, args, ...opts }, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => void this.flushSubmits());
      }
    });
  }

  private async flushSubmits(): Promise<void> {
    this.flushScheduled = false;
    const batch = this.pending;
    this.pending = [];
    // Outcomes may arrive before the id list resolves (a later chunk of a big batch still being
    // submitted), so they are matched once the ids are known.
    const early = new Map<string, TaskOutcome>();
    let byId: Map<string, PendingSubmit> | undefined;
    const settle = (p: PendingSubmit, o: TaskOutcome) => (o.error ? p.reject(o.error) : p.resolve(o.result));
    try {
      const ids = await this.submitWatched(
        batch.map((p) => p.task),
        (o) => {
          const p = byId?.get(o.taskId);
          if (p) settle(p, o);
          else early.set(o.taskId, o);
        },
      );
      byId = new Map(ids.map((id, i) => [id, batch[i]]));
      for (const [id, o] of early)
        settle(byId.get(id) ?? brokenInvariant(`an outcome for task ${id} not in this batch`), o);
    } catch (e) {
      for (const p of batch) p.reject(e);
    }
  }

  /**
   * Cancel tasks (by id, or a whole batch). A running task gets its `ctx.signal` aborted; one still
   * running 5 s later is stopped by restarting its worker process.
   */
  cancel(target: readonly string[] | { batchId: string }): Promise<CancelResponse> {
    const body = Array.isArray(target) ? { task_ids: target } : { batch_id: (target as { batchId: string }).batchId };
    return this.http.request('POST', ROUTES.cancel, JSON.stringify(body));
  }
}

/**
 * How many of the `n` ids of a results request fit in one answer, when the service refused it as too
 * large and said so (`details.fit`, fewer than asked and at least 1); otherwise undefined.
 */
function fittingIds(e: unknown, n: number): number | undefined {
  if (!(e instanceof FaasRequestError) || e.code !== 'PayloadTooLarge') return undefined;
  const fit = (e.details as { fit?: unknown } | undefined)?.fit;
  return typeof fit === 'number' && Number.isInteger(fit) && fit >= 1 && fit < n ? fit : undefined;
}

/** A Conflict saying that all `n` ids of a submission are this user's tasks already (see SubmitConflict). */
function storedBefore(e: unknown, n: number): boolean {
  if (!(e instanceof FaasRequestError) || e.code !== 'Conflict') return false;
  const d = e.details as Partial<SubmitConflict> | undefined;
  return d?.yours === true && d.count === n;
}

function sharing(o: ShareOptions): Sharing {
  if (o.public) return { visibility: 'public' };
  if (o.sharedWith?.length) return { visibility: 'users', users: o.sharedWith };
  return { visibility: 'private' };
}
