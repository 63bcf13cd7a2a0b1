/**
 * The FaaS wire protocol: HTTP routes, request/response bodies, WebSocket messages and the shared
 * record types. The service, the endpoint agent and the client SDK all import this module and nothing
 * of each other, so a message is defined exactly once.
 *
 * Transport summary
 * - HTTP JSON under `/v1`, bearer token on every request except `GET /v1/health`. Errors always have
 *   the body `{error: {code, message, details?}}` (see `ErrorBody`).
 * - Values (task arguments and results) are *tagged JSON* inside HTTP bodies and *packed frames*
 *   (JSON + raw binary blobs, see codec.ts) on WebSockets and in the database.
 * - `GET /v1/agent` (WebSocket): endpoint agents. Control messages are JSON text frames; task and
 *   result batches are binary frames whose blobs are the packed arguments / results.
 * - `GET /v1/stream` (WebSocket): clients send `watch` text frames and receive `results` binary
 *   frames, so they never poll task by task.
 * - Every body and message here has a JSON schema in protocol-schemas.ts (checked against these types
 *   at compile time). Receivers bound the size and depth of the text, then validate, before using it.
 */

export const API_PREFIX = '/v1';

/** Route paths. `:id` segments are filled by the helpers. */
export const ROUTES = {
  health: '/v1/health',
  metrics: '/v1/metrics',
  whoami: '/v1/whoami',
  functions: '/v1/functions',
  function: (id: string) => `/v1/functions/${encodeURIComponent(id)}`,
  endpoints: '/v1/endpoints',
  endpoint: (idOrName: string) => `/v1/endpoints/${encodeURIComponent(idOrName)}`,
  tasks: '/v1/tasks',
  task: (id: string) => `/v1/tasks/${encodeURIComponent(id)}`,
  taskResults: '/v1/tasks/results',
  cancel: '/v1/tasks/cancel',
  batch: (id: string) => `/v1/batches/${encodeURIComponent(id)}`,
  /** WebSocket: endpoint agents. */
  agent: '/v1/agent',
  /** WebSocket: client result stream. */
  stream: '/v1/stream',
} as const;

// ---------------------------------------------------------------- errors

/** Error codes used in `ErrorBody` and in task errors coming back from the service. */
export type ErrorCode =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'Conflict'
  | 'PayloadTooLarge'
  | 'QuotaExceeded'
  | 'InternalError';

/** HTTP status for each error code. */
export const ERROR_STATUS: Record<ErrorCode, number> = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  Conflict: 409,
  PayloadTooLarge: 413,
  QuotaExceeded: 429,
  InternalError: 500,
};

/** The one error body shape of every failed HTTP request. Never contains tokens or secrets. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: Record<string, unknown> };
}

/** Why a task ended without a result. `type` names the failure class. */
export interface TaskErrorInfo {
  type:
    | 'FunctionError' // the function threw or rejected
    | 'FunctionLoadFailed' // the module failed to import or has no default export function
    | 'SerializationError' // arguments could not be decoded or the result could not be encoded
    | 'MaxResultSizeExceeded'
    | 'TaskTimeout'
    | 'WorkerLost' // the worker process died; retried up to max_attempts
    | 'EndpointLost' // the endpoint disconnected; retried up to max_attempts
    | 'Forbidden' // the endpoint refused the function
    | 'Cancelled';
  message: string;
  /** Remote stack trace (worker side), when there is one. */
  stack?: string;
  /** Structured extras, e.g. `{result_size, limit}` for MaxResultSizeExceeded. */
  details?: Record<string, unknown>;
}

// ---------------------------------------------------------------- records

export type Visibility = 'private' | 'public' | 'users';

/** Who may see and use a function or an endpoint besides its owner. */
export interface Sharing {
  visibility: Visibility;
  /** User names, when visibility is "users". */
  users?: string[];
}

export interface FunctionInfo {
  function_id: string;
  /** sha256 of the module source, hex. */
  hash: string;
  name: string | null;
  description: string | null;
  owner: string;
  sharing: Sharing;
  created_at: number;
  /** Module source; present on `GET /v1/functions/:id` only. */
  code?: string;
}

export type EndpointStatus = 'online' | 'offline';

export interface EndpointInfo {
  endpoint_id: string;
  name: string;
  owner: string;
  status: EndpointStatus;
  /** ms since epoch, or null if it never connected. */
  last_heartbeat: number | null;
  /** Worker count the agent advertised (concurrently running tasks). */
  capacity: number;
  /** Extra tasks the service may send ahead of free workers. */
  prefetch: number;
  /** Tasks the agent reported as running at its last heartbeat. */
  busy: number;
  /** Tasks currently dispatched to the endpoint and not yet finished. */
  in_flight: number;
  /** Tasks waiting in the service for this endpoint. */
  waiting: number;
  /** Function ids this endpoint accepts; empty = any function owned by the endpoint's owner. */
  allowed_functions: string[];
  sharing: Sharing;
  created_at: number;
  /**
   * Capability tags the agent advertised at its last hello (`cpu`, `gpu`, `site=T2_US`, `cost=3`): a
   * bare word or `key=value`. Selected with `tag:site=T2_US` in the FaaS executor's endpoint list.
   */
  tags: string[];
  /** Path prefixes the endpoint's workers read locally (data locality); empty when none advertised. */
  local_paths: string[];
}

export type TaskState = 'waiting-for-endpoint' | 'dispatched' | 'running' | 'success' | 'failed' | 'cancelled';

export const TERMINAL_STATES: ReadonlySet<TaskState> = new Set(['success', 'failed', 'cancelled']);

export interface TaskInfo {
  task_id: string;
  batch_id: string;
  function_id: string;
  endpoint_id: string;
  state: TaskState;
  attempts: number;
  max_attempts: number;
  timeout_ms: number;
  /** Timestamps, ms since epoch. */
  submitted_at: number;
  dispatched_at: number | null;
  started_at: number | null;
  completed_at: number | null;
  /** Packed result size in bytes (success only). */
  result_size: number | null;
  error: TaskErrorInfo | null;
  /** Tagged-JSON result; present in result fetches of successful tasks. */
  result?: unknown;
}

// ---------------------------------------------------------------- HTTP bodies

export interface RegisterFunctionRequest {
  code: string;
  name?: string;
  description?: string;
  sharing?: Sharing;
}

export interface RegisterEndpointRequest {
  name: string;
  allowed_functions?: string[];
  sharing?: Sharing;
}

/** One task of a submission. Fields left out fall back to the request's defaults. */
export interface TaskSpec {
  /**
   * The task's id, made by the client: a UUIDv7 in lower case (`uuidv7()` in src/faas/ids.ts; the
   * pattern is TASK_ID_PATTERN in protocol-schemas.ts), new
   * for every task. A client that names its tasks can match outcomes without waiting for the answer
   * to the submission. An id already in use is refused (`Conflict`, details in SubmitConflict); left
   * out, the service makes one. Only per task, not as a request-wide default.
   */
  id?: string;
  function_id?: string;
  /** Endpoint UUID or name. */
  endpoint?: string;
  /** Tagged JSON. */
  args?: unknown;
  timeout_ms?: number;
  max_attempts?: number;
  /**
   * Fair-share group (e.g. one analysis). An endpoint's queued tasks are handed out round-robin across
   * groups, so a client that submitted first does not hold every slot. Default: one group per user.
   */
  group?: string;
  /**
   * Late binding: other endpoints (UUIDs or names) the task may run on instead. While the task still
   * waits in the service, any of them with a free slot and nothing of its own to run takes it; the
   * outcome's `endpoint_id` says where it ran. Only for tasks whose arguments are valid on each of them.
   * Unknown endpoints are refused; ones whose allowlist excludes the function are left out.
   */
  alternates?: string[];
  /**
   * Tail copies: when the task runs much longer than its group's recent tasks, the service starts a
   * copy on one of its alternates with an idle slot; the first result wins and the others are
   * cancelled. Only for tasks whose result does not depend on where or how often they run.
   */
  tail?: TailPolicy;
}

/** When the service calls a task a straggler and copies it (see src/faas/service/scheduler.ts). */
export interface TailPolicy {
  /** A task running longer than `factor` × the median of recent run times of its group is a straggler. */
  factor: number;
  /** ms: a task running longer than this is a straggler even before any other has finished. */
  timeout_ms?: number;
  /** ms: never a straggler before this. */
  min_ms: number;
  /** Most runs of the task at once, itself included (2 = one copy at a time). */
  max_copies: number;
  /**
   * Units of work the task holds (default 1), e.g. the chunks of a batch: run times are compared per
   * unit (a batch of 16 is judged against 16 × the group's median chunk), and `timeout_ms` and
   * `min_ms` are per unit too.
   */
  units?: number;
}

/** `POST /v1/tasks`: one or thousands of tasks; top-level fields are defaults for every task. */
export interface SubmitRequest extends Omit<TaskSpec, 'id'> {
  tasks: TaskSpec[];
}

/**
 * `details` of the `Conflict` that refuses a submission naming task ids already in use (nothing of
 * the submission is stored). `yours`: every one of them is a task of this user — a resubmission of
 * tasks already stored (the answer to the first attempt was lost), which a client may take as accepted.
 */
export interface SubmitConflict {
  /** The ids in use (the first 1000). */
  task_ids: string[];
  /** How many of the submission's ids are in use. */
  count: number;
  yours: boolean;
}

/**
 * `details` of a `QuotaExceeded` refusal (HTTP 429): nothing of the request was done. `open_tasks`: the
 * user's unfinished tasks (waiting, dispatched or running) plus the submission's would exceed the
 * user's limit; a client waits for some of its tasks to finish and submits the rest. `watched_*`: the
 * ids watched on this stream, or on all of the user's streams, plus the request's would exceed that.
 */
export type QuotaDetails =
  | { quota: 'open_tasks'; limit: number; open: number; asked: number }
  | { quota: 'watched_per_stream' | 'watched_per_user'; limit: number; watched: number; asked: number };

export interface SubmitResponse {
  batch_id: string;
  task_ids: string[];
}

export interface TaskIdsRequest {
  task_ids: string[];
}

export interface CancelRequest {
  task_ids?: string[];
  batch_id?: string;
}

export interface CancelResponse {
  cancelled: string[];
  /** Tasks that had already finished (or are unknown to this user). */
  not_cancelled: string[];
}

export interface BatchInfo {
  batch_id: string;
  size: number;
  submitted_at: number;
  counts: Record<TaskState, number>;
}

export interface Limits {
  max_payload_bytes: number;
  max_result_bytes: number;
  max_request_bytes: number;
  max_function_bytes: number;
}

// ---------------------------------------------------------------- endpoint agent WebSocket

/** Agent → service, first message after connecting. */
export interface AgentHello {
  type: 'hello';
  name: string;
  /** Worker count. */
  capacity: number;
  prefetch: number;
  /** Function hashes already in the agent's cache: the service omits their code. */
  cached_hashes: string[];
  /** Tasks the agent still holds (queued, running, or finished with an unacknowledged result). */
  holding: string[];
  /** When set, replaces the endpoint's allowlist. */
  allowed_functions?: string[];
  sharing?: Sharing;
  agent_version: string;
  hostname: string;
  /** The agent's process id, named when another agent asks for the same endpoint. */
  pid?: number;
  /**
   * Random id of the agent process, the same on every reconnect: the service lets it replace its own
   * old connection, while another live agent with the endpoint's name is refused (Conflict).
   */
  instance?: string;
  /** Capability tags (replace the stored ones; absent = none). See {@link EndpointInfo.tags}. */
  tags?: string[];
  /** Path prefixes workers read locally (replace the stored ones; absent = none). */
  local_paths?: string[];
}

export interface AgentHeartbeat {
  type: 'heartbeat';
  capacity: number;
  /** Updated prefetch (the agent adapts it to the observed task duration). */
  prefetch: number;
  busy: number;
  queued: number;
}

/**
 * Agent → service: tasks that started running on a worker. Agents may leave out tasks that finish
 * quickly (their result carries `started_at`), so a task can go from dispatched straight to done.
 */
export interface AgentStarted {
  type: 'started';
  task_ids: string[];
  /**
   * When each task started (agent clock, ms), parallel to `task_ids` (same length). Notices wait until
   * a task has run a while (short tasks never need one), so the time of the notice is not the start.
   */
  started_at: number[];
}

/** Agent → service: tasks whose worker died; the service retries them or fails them. */
export interface AgentLost {
  type: 'lost';
  /**
   * `started_at` (ms since epoch) when the task had started running: the attempt counts even if no
   * `started` notice was sent for it (agents skip the notice for tasks that end quickly).
   */
  tasks: { task_id: string; reason: string; started_at: number }[];
}

/** One finished task inside an `AgentResults` binary frame. */
export interface ResultEntry {
  task_id: string;
  ok: boolean;
  /** Index of the packed result in the frame's blobs when ok. */
  blob?: number;
  error?: TaskErrorInfo;
  started_at: number;
  completed_at: number;
}

/** Agent → service, binary frame header; blobs are packed results. */
export interface AgentResults {
  type: 'results';
  results: ResultEntry[];
}

/**
 * Agent → service, the answer to every "cancel": tasks that no longer take a slot (a running task may
 * run on for a while after its cancel; until then the service counts its slot as taken).
 */
export interface AgentReleased {
  type: 'released';
  task_ids: string[];
}

/**
 * Agent → service, the answer to a "recall": the tasks it gave back (taken out of its queue before they
 * started; possibly none). It no longer holds them; the service dispatches them elsewhere.
 */
export interface AgentReturned {
  type: 'returned';
  /** The `seq` of the recall this answers. */
  seq: number;
  task_ids: string[];
}

export type AgentTextMessage = AgentHello | AgentHeartbeat | AgentStarted | AgentLost | AgentReleased | AgentReturned;

/** Service → agent after a successful hello. */
export interface ServiceWelcome {
  type: 'welcome';
  endpoint_id: string;
  name: string;
  heartbeat_ms: number;
  limits: Limits;
}

/** One task inside a `ServiceTasks` binary frame. */
export interface DispatchEntry {
  task_id: string;
  function_id: string;
  hash: string;
  /** Index of the packed arguments in the frame's blobs. */
  blob: number;
  attempt: number;
  timeout_ms: number;
  /** Fair-share group: the agent starts queued tasks round-robin across groups. */
  group?: string;
}

/** Service → agent, binary frame header; blobs are packed arguments. */
export interface ServiceTasks {
  type: 'tasks';
  tasks: DispatchEntry[];
  /** Code of functions the agent did not report as cached. */
  functions: { hash: string; code: string }[];
  /**
   * Results stored since the last acknowledgement, as in `ServiceAck`: an ack due when tasks leave for
   * the agent rides along instead of taking a message (and a wake-up of both processes) of its own.
   */
  ack?: string[];
}

/** Service → agent: results it stored; the agent forgets them. */
export interface ServiceAck {
  type: 'ack';
  task_ids: string[];
}

export interface ServiceCancel {
  type: 'cancel';
  task_ids: string[];
}

export interface ServiceError {
  type: 'error';
  code: ErrorCode;
  message: string;
}

/**
 * Service → agent: give back up to `max` of these
 * held tasks that have not started — another endpoint has an idle slot and nothing else to run. Ids
 * come newest first, the ones the agent would start last. Answered with "returned".
 */
export interface ServiceRecall {
  type: 'recall';
  /** Echoed in the answer, so a late answer to an earlier recall is not taken for this one. */
  seq: number;
  task_ids: string[];
  max: number;
}

export type ServiceTextMessage = ServiceWelcome | ServiceAck | ServiceCancel | ServiceRecall | ServiceError;

// ---------------------------------------------------------------- client stream WebSocket

/** Client → service: deliver these tasks' outcomes as they finish (immediately if already finished). */
export interface StreamWatch {
  type: 'watch';
  task_ids: string[];
  /** Also report when these tasks start running (`StreamResults.running`). */
  running?: boolean;
}

export interface StreamUnwatch {
  type: 'unwatch';
  task_ids: string[];
}

/**
 * Client → service: submit tasks over the stream (the body of `POST /v1/tasks`) and, with `watch`,
 * watch them in the same step: the outcome follows without another round trip. Answered by
 * `StreamSubmitted` or a `StreamErrorMessage` carrying the same `req`.
 */
export interface StreamSubmit {
  type: 'submit';
  /** Client-chosen request number, echoed in the answer. */
  req: number;
  watch: boolean;
  /** With `watch`: also report when the tasks start running. */
  running?: boolean;
  /**
   * Every task carries its `id`, so the client needs nothing from the answer but the news that the
   * tasks are stored: the `submitted` answer may then wait (up to ~50 ms) and ride along with the next
   * results frame of this stream (`StreamResults.submitted`) instead of being a message of its own.
   * A refusal is answered at once, as always.
   */
  defer_reply?: boolean;
  request: SubmitRequest;
}

export type StreamClientMessage = StreamWatch | StreamUnwatch | StreamSubmit;

/** Service → client text frame: a `StreamSubmit` was accepted. Sent before any of its outcomes. */
export interface StreamSubmitted extends SubmitResponse {
  type: 'submitted';
  req: number;
}

/** One outcome inside a `StreamResults` binary frame. */
export interface StreamEntry {
  task_id: string;
  state: 'success' | 'failed' | 'cancelled';
  endpoint_id: string;
  attempts: number;
  blob?: number;
  error?: TaskErrorInfo;
  /** Set when the id is unknown or not the caller's. */
  not_found?: boolean;
  /** Endpoints the service started tail copies on, in order (see TaskSpec.tail); absent when none. */
  copies?: string[];
  /** The result came from a tail copy (running on `endpoint_id`), not from the task's own run. */
  by_copy?: boolean;
}

/** Service → client, binary frame header; blobs are packed results. */
export interface StreamResults {
  type: 'results';
  results: StreamEntry[];
  /**
   * Watched tasks (watched with `running`) that an endpoint reports running. Sent for tasks running
   * longer than a few tens of ms only: shorter ones finish before the notice is due.
   */
  running?: string[];
  /** Endpoint of each `running` entry (same order). */
  running_on?: string[];
  /** Submissions with `defer_reply` now stored: their `req` and batch id, in the order received. */
  submitted?: { req: number; batch_id: string }[];
}

/** Service → client text frame when a stream message is refused; `req` names a refused submission. */
export interface StreamErrorMessage {
  type: 'error';
  code: ErrorCode;
  message: string;
  req?: number;
  details?: Record<string, unknown>;
}

export type StreamServiceTextMessage = StreamSubmitted | StreamErrorMessage;

// ---------------------------------------------------------------- functions

/** What a function receives as its second argument on the endpoint. */
export interface TaskContext {
  taskId: string;
  /** 1 for the first run, higher after a lost worker or endpoint. */
  attempt: number;
  /** Endpoint name. */
  endpoint: string;
  /** Index of the worker process in the endpoint's pool. */
  worker: number;
  /** Survives between tasks on the same worker: cache open files, lookup tables... here. */
  state: Map<string, unknown>;
  /**
   * Aborted when the task is cancelled. A function that checks it can stop early and keep its worker
   * warm; one still running after the endpoint's grace period is stopped with its worker process.
   */
  signal: AbortSignal;
}

// ---------------------------------------------------------------- helpers

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for UUID-shaped strings; anything else given as an endpoint is looked up by name. */
export function isUuid(s: string): boolean {
  return UUID_RE.test(s);
}

/** Default heartbeat interval; the service tells agents its own value in `welcome`. */
export const DEFAULT_HEARTBEAT_MS = 5_000;

/** Protocol revision, sent by agents in their hello. */
export const PROTOCOL_VERSION = '1';
