/**
 * JSON schemas of every FaaS message (protocol.ts, worker-messages.ts), with the validators each side
 * runs on what it receives: the service on HTTP bodies, agent and stream messages; the agent on
 * service messages; the client on stream messages; agent and workers on their IPC frames.
 *
 * The `Same<...>` checks at the end fail to compile when a schema and its protocol type differ, so a
 * field added to protocol.ts must be added here too. Limits (lengths, counts, ranges) live only here.
 */
import type {
  AgentHeartbeat,
  AgentHello,
  AgentLost,
  AgentReleased,
  AgentResults,
  AgentReturned,
  AgentStarted,
  CancelRequest,
  RegisterEndpointRequest,
  RegisterFunctionRequest,
  ServiceAck,
  ServiceCancel,
  ServiceError,
  ServiceRecall,
  ServiceTasks,
  ServiceWelcome,
  Sharing,
  StreamErrorMessage,
  StreamResults,
  StreamSubmit,
  StreamSubmitted,
  StreamUnwatch,
  StreamWatch,
  SubmitRequest,
  TaskErrorInfo,
  TaskIdsRequest,
  TaskSpec,
} from './protocol.ts';
import type {
  DoneFrameHeader,
  RunFrameHeader,
  SocketBye,
  SocketChallenge,
  SocketFunction,
  SocketHello,
  WorkerCancel,
  WorkerReady,
} from './endpoint/worker-messages.ts';
import { type Same, type Static, T, type TSchema, validator } from './schema.ts';

// ---------------------------------------------------------------- limits

/** Endpoint names: letters, digits, ".", "_", "-"; at most this long. */
export const MAX_NAME_LENGTH = 100;
export const NAME_PATTERN = `^[A-Za-z0-9][\\w.-]{0,${MAX_NAME_LENGTH - 1}}$`;
/** User names also allow "@" (e-mail-like names). */
export const USER_NAME_PATTERN = `^[A-Za-z0-9][\\w.@-]{0,${MAX_NAME_LENGTH - 1}}$`;
/** Function display names and descriptions. */
export const MAX_FUNCTION_NAME_LENGTH = 200;
export const MAX_DESCRIPTION_LENGTH = 4000;
/** A task id a client makes (TaskSpec.id): a UUIDv7 (RFC 9562) in lower case. */
export const TASK_ID_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$';
/**
 * Tasks in one submission. A submission is stored in one turn of the service's only thread while
 * other users' messages wait: 100,000 tasks took 1.0 CPU-s, 10,000 0.11 s (bench/RESULTS.md, Session
 * 15). Clients split larger ones (FaasClient's submitBatchSize, at most this).
 */
export const MAX_BATCH_TASKS = 10_000;
/**
 * Unfinished tasks (waiting, dispatched or running) one user may have, unless the admin sets another
 * limit (`faas serve --max-open-tasks`, per user `faas user add/set --max-open-tasks`; 0 = none). One
 * user submitting in a loop grew the database to 931 MB with 1.2 M waiting tasks in a minute (issue 14).
 */
export const DEFAULT_MAX_OPEN_TASKS = 200_000;
/**
 * Ids one result stream may watch when its user has no open-task limit; with one, the limit. A stream
 * watches only its user's unfinished tasks, so a client never needs more. All of a user's streams
 * together may watch twice that (say, an analysis and a monitor watching the same tasks).
 */
export const MAX_WATCHED_UNLIMITED = 1_000_000;
/** Task ids in one watch / cancel request. */
export const MAX_IDS = 100_000;
/**
 * Task ids in one `POST /v1/tasks/results` request: each is looked up before the answer's size is
 * known, on the service's only thread (100,000 took ~0.9 CPU-s, even when then refused: issue 14,
 * probe D9). The SDK asks for 1,000 at a time.
 */
export const MAX_RESULTS_IDS = 10_000;
/**
 * Most bytes of one `POST /v1/tasks/results` answer, estimated before anything is read from the store
 * (a result's stored size x 4/3 for base64, plus its task info). A client parses an answer whole, so
 * without a bound one request for many large results (or one large result listed many times) could
 * take gigabytes on either side. A request over it is refused with 413 and `details.fit`: how many of
 * its first ids fit (at least 1: one result always fits, whatever max_result_bytes is).
 */
export const MAX_RESULTS_ANSWER_BYTES = 64 * 1024 * 1024;
/**
 * Bytes a result stream may have handed to its socket that the socket has not written yet, and result
 * bytes it may hold for frames not built yet. A client that does not read would otherwise make the
 * service hold every outcome it asks for (a watch of one 9 MiB result listed 100 times took ~1 GB).
 * Over it, the service stops reading that client's messages and keeps further outcomes as task ids,
 * reading their results from the store again when the socket drains; nothing is dropped.
 */
export const STREAM_SEND_BUDGET_BYTES = 32 * 1024 * 1024;
/**
 * Task argument bytes in one dispatch frame to an agent (a frame holds at least one task, whatever its
 * size). Well under what an agent accepts in one message (the ws default, 100 MiB): one frame for all
 * claimed tasks (16 x 8 MiB arguments) was refused, the agent reconnected, got the same frame again,
 * and no task ever ran.
 */
export const DISPATCH_FRAME_BYTES = 32 * 1024 * 1024;
/**
 * The largest message an agent accepts from the service (ws's default, set explicitly so that it does
 * not move with the library). A frame with a single task holds its arguments and possibly its
 * function's code whatever DISPATCH_FRAME_BYTES says, so the service refuses to start with limits
 * that would let such a frame pass this (the agent would drop it, reconnect and get it again).
 */
export const AGENT_MAX_MESSAGE_BYTES = 100 * 1024 * 1024;
/** Worker slots an agent may announce (workers x concurrency), and tasks it may hold beyond them. */
export const MAX_CAPACITY = 10_000;
export const MAX_PREFETCH = 10_000;
/** Task ids in one service → agent message (acks, cancels, recalls): the agent's own bound, kept wide. */
export const MAX_HOLDING = 1_000_000;
/**
 * Task ids in one agent → service message (hello's holding, started, lost, released, returned,
 * results). The service dispatches at most capacity + prefetch tasks to an agent, and an agent holds
 * those plus results not yet acknowledged: twice the most it may announce leaves room for both. The
 * service handles each id on its only thread; a hello holding 300,000 ids stalled it ~7 s (issue 14).
 */
export const MAX_AGENT_IDS = 2 * (MAX_CAPACITY + MAX_PREFETCH);
/**
 * Function hashes an agent's hello may report as cached (its most recently stored ones; code it lacks
 * is sent with the task). The service keeps them for the connection's life: 900,000 held ~100 MB per
 * agent, and ~40 such agents ended the service (issue 14, probe D7).
 */
export const MAX_CACHED_HASHES = 10_000;
/**
 * Functions one endpoint may allow (`allowed_functions`): each must exist and be usable by the
 * endpoint's owner. Endpoint rows carry the list, and every endpoint list answer repeats it (probe D8:
 * 10,000 made rows of ~390 KB, and one user's 2,000 such rows broke every user's endpoint list).
 */
export const MAX_ALLOWED_FUNCTIONS = 1_000;
/**
 * Capability tags: at most MAX_TAGS, each a word or `key=value` of at most MAX_TAG_LENGTH characters
 * (letters, digits, "_", ".", "-", "/", ":" and one "="), so they print unquoted and parse in selectors.
 */
export const MAX_TAGS = 32;
export const MAX_TAG_LENGTH = 100;
export const TAG_PATTERN = `^[A-Za-z0-9_][\\w.:/-]*(=[\\w.:/-]+)?$`;
/** Local path prefixes an endpoint advertises: at most this many, each at most this long. */
export const MAX_LOCAL_PATHS = 64;
export const MAX_LOCAL_PATH_LENGTH = 4096;
/** Error messages and remote stack traces: generous, a refused result frame would be sent again. */
const MAX_TEXT = 1024 * 1024;
const MAX_CODE = 256 * 1024 * 1024;
const BIG = 10_000_000;
const MS = T.number({ minimum: 0 });

const id = T.string({ maxLength: 100 });
const ids = T.array(id, MAX_IDS);
const hash = T.string({ maxLength: 64, pattern: '^[0-9a-f]{64}$' });
const endpointName = T.string({ maxLength: MAX_NAME_LENGTH, pattern: NAME_PATTERN });
/** An endpoint reference: UUID, name or "owner/name". */
const endpointRef = T.string({ minLength: 1, maxLength: 2 * MAX_NAME_LENGTH + 1 });
const errorCode = T.enum(
  'BadRequest',
  'Unauthorized',
  'Forbidden',
  'NotFound',
  'Conflict',
  'PayloadTooLarge',
  'QuotaExceeded',
  'InternalError',
);
const details = T.record(T.unknown(), 1000);

const sharing = T.object(
  {
    visibility: T.enum('private', 'public', 'users'),
    users: T.array(T.string({ maxLength: MAX_NAME_LENGTH, pattern: USER_NAME_PATTERN }), 1000),
  },
  ['users'],
);

const taskError = T.object(
  {
    type: T.enum(
      'FunctionError',
      'FunctionLoadFailed',
      'SerializationError',
      'MaxResultSizeExceeded',
      'TaskTimeout',
      'WorkerLost',
      'EndpointLost',
      'Forbidden',
      'Cancelled',
    ),
    message: T.string({ maxLength: MAX_TEXT }),
    stack: T.string({ maxLength: MAX_TEXT }),
    details,
  },
  ['stack', 'details'],
);

// ---------------------------------------------------------------- HTTP bodies

export const RegisterFunctionSchema = T.object(
  {
    code: T.string({ minLength: 1, maxLength: MAX_CODE }),
    name: T.string({ maxLength: MAX_FUNCTION_NAME_LENGTH }),
    description: T.string({ maxLength: MAX_DESCRIPTION_LENGTH }),
    sharing,
  },
  ['name', 'description', 'sharing'],
);

export const RegisterEndpointSchema = T.object(
  {
    name: endpointName,
    allowed_functions: T.array(id, MAX_ALLOWED_FUNCTIONS),
    sharing,
  },
  ['allowed_functions', 'sharing'],
);

const taskSpecProps = {
  function_id: id,
  endpoint: endpointRef,
  args: T.unknown(),
  timeout_ms: T.integer(0, 7 * 24 * 3600 * 1000),
  max_attempts: T.integer(1, 10),
  group: T.string({ minLength: 1, maxLength: 200 }),
  alternates: T.array(endpointRef, 100),
  tail: T.object(
    {
      factor: T.number({ minimum: 1, maximum: 1000 }),
      timeout_ms: T.integer(0, 7 * 24 * 3600 * 1000),
      min_ms: T.integer(0, 7 * 24 * 3600 * 1000),
      max_copies: T.integer(1, 10),
      units: T.integer(1, 1_000_000),
    },
    ['timeout_ms', 'units'],
  ),
};
const taskSpecOptional = [
  'function_id',
  'endpoint',
  'args',
  'timeout_ms',
  'max_attempts',
  'group',
  'alternates',
  'tail',
] as const;
export const TaskSpecSchema = T.object(
  { ...taskSpecProps, id: T.string({ maxLength: 36, pattern: TASK_ID_PATTERN }) },
  [...taskSpecOptional, 'id'],
);
export const SubmitSchema = T.object(
  { ...taskSpecProps, tasks: T.array(TaskSpecSchema, MAX_BATCH_TASKS, 1) },
  taskSpecOptional,
);
export const TaskIdsSchema = T.object({ task_ids: T.array(id, MAX_RESULTS_IDS) });
export const CancelSchema = T.object({ task_ids: ids, batch_id: id }, ['task_ids', 'batch_id']);

// ---------------------------------------------------------------- agent → service

export const AgentHelloSchema = T.object(
  {
    type: T.literal('hello'),
    name: endpointName,
    capacity: T.integer(1, MAX_CAPACITY),
    prefetch: T.integer(0, MAX_PREFETCH),
    cached_hashes: T.array(hash, MAX_CACHED_HASHES),
    holding: T.array(id, MAX_AGENT_IDS),
    allowed_functions: T.array(id, MAX_ALLOWED_FUNCTIONS),
    sharing,
    agent_version: T.string({ maxLength: 100 }),
    hostname: T.string({ maxLength: 1000 }),
    pid: T.integer(0, 2 ** 32),
    instance: T.string({ minLength: 1, maxLength: 100 }),
    tags: T.array(T.string({ minLength: 1, maxLength: MAX_TAG_LENGTH, pattern: TAG_PATTERN }), MAX_TAGS),
    local_paths: T.array(T.string({ minLength: 1, maxLength: MAX_LOCAL_PATH_LENGTH }), MAX_LOCAL_PATHS),
  },
  ['allowed_functions', 'sharing', 'pid', 'instance', 'tags', 'local_paths'],
);
export const AgentHeartbeatSchema = T.object({
  type: T.literal('heartbeat'),
  capacity: T.integer(1, MAX_CAPACITY),
  prefetch: T.integer(0, MAX_PREFETCH),
  busy: T.integer(0, BIG),
  queued: T.integer(0, BIG),
});
export const AgentStartedSchema = T.object({
  type: T.literal('started'),
  task_ids: T.array(id, MAX_AGENT_IDS),
  started_at: T.array(MS, MAX_AGENT_IDS),
});
export const AgentLostSchema = T.object({
  type: T.literal('lost'),
  tasks: T.array(T.object({ task_id: id, reason: T.string({ maxLength: MAX_TEXT }), started_at: MS }), MAX_AGENT_IDS),
});
export const AgentReleasedSchema = T.object({ type: T.literal('released'), task_ids: T.array(id, MAX_AGENT_IDS) });
export const AgentReturnedSchema = T.object({
  type: T.literal('returned'),
  seq: T.integer(0, Number.MAX_SAFE_INTEGER),
  task_ids: T.array(id, MAX_AGENT_IDS),
});
const blobIndex = T.integer(0, 2 ** 32 - 1);
export const AgentResultsSchema = T.object({
  type: T.literal('results'),
  results: T.array(
    T.object({ task_id: id, ok: T.boolean(), blob: blobIndex, error: taskError, started_at: MS, completed_at: MS }, [
      'blob',
      'error',
    ]),
    MAX_AGENT_IDS,
  ),
});

// ---------------------------------------------------------------- service → agent

const limits = T.object({
  max_payload_bytes: T.integer(0, Number.MAX_SAFE_INTEGER),
  max_result_bytes: T.integer(0, Number.MAX_SAFE_INTEGER),
  max_request_bytes: T.integer(0, Number.MAX_SAFE_INTEGER),
  max_function_bytes: T.integer(0, Number.MAX_SAFE_INTEGER),
});
export const ServiceWelcomeSchema = T.object({
  type: T.literal('welcome'),
  endpoint_id: id,
  name: endpointName,
  heartbeat_ms: T.integer(0, 86_400_000),
  limits,
});
export const ServiceAckSchema = T.object({ type: T.literal('ack'), task_ids: T.array(id, MAX_HOLDING) });
export const ServiceCancelSchema = T.object({ type: T.literal('cancel'), task_ids: T.array(id, MAX_HOLDING) });
export const ServiceRecallSchema = T.object({
  type: T.literal('recall'),
  seq: T.integer(0, Number.MAX_SAFE_INTEGER),
  task_ids: T.array(id, MAX_HOLDING),
  max: T.integer(0, MAX_HOLDING),
});
export const ServiceErrorSchema = T.object({
  type: T.literal('error'),
  code: errorCode,
  message: T.string({ maxLength: MAX_TEXT }),
});
export const ServiceTasksSchema = T.object(
  {
    type: T.literal('tasks'),
    tasks: T.array(
      T.object(
        {
          task_id: id,
          function_id: id,
          hash,
          blob: blobIndex,
          attempt: T.integer(0, 1000),
          timeout_ms: T.integer(0, Number.MAX_SAFE_INTEGER),
          group: T.string({ maxLength: 400 }),
        },
        ['group'],
      ),
      1_000_000,
    ),
    functions: T.array(T.object({ hash, code: T.string({ maxLength: MAX_CODE }) }), 100_000),
    ack: T.array(id, MAX_HOLDING),
  },
  ['ack'],
);

// ---------------------------------------------------------------- client stream

export const StreamWatchSchema = T.object({ type: T.literal('watch'), task_ids: ids, running: T.boolean() }, [
  'running',
]);
export const StreamUnwatchSchema = T.object({ type: T.literal('unwatch'), task_ids: ids });
/** The request is checked by SubmitSchema afterwards, so a bad one is answered with the submit's `req`. */
const StreamSubmitEnvelope = T.object(
  {
    type: T.literal('submit'),
    req: T.integer(0, Number.MAX_SAFE_INTEGER),
    watch: T.boolean(),
    running: T.boolean(),
    defer_reply: T.boolean(),
    request: SubmitSchema,
  },
  ['running', 'defer_reply'],
);
export const StreamSubmitSchema = StreamSubmitEnvelope;
export const StreamSubmittedSchema = T.object({
  type: T.literal('submitted'),
  req: T.integer(0, Number.MAX_SAFE_INTEGER),
  batch_id: id,
  task_ids: T.array(id, BIG),
});
export const StreamErrorSchema = T.object(
  {
    type: T.literal('error'),
    code: errorCode,
    message: T.string({ maxLength: MAX_TEXT }),
    req: T.integer(0, Number.MAX_SAFE_INTEGER),
    details,
  },
  ['req', 'details'],
);
export const StreamResultsSchema = T.object(
  {
    type: T.literal('results'),
    results: T.array(
      T.object(
        {
          task_id: id,
          state: T.enum('success', 'failed', 'cancelled'),
          endpoint_id: T.string({ maxLength: 100 }),
          attempts: T.integer(0, 1000),
          blob: blobIndex,
          error: taskError,
          not_found: T.boolean(),
          copies: T.array(id, 10),
          by_copy: T.boolean(),
        },
        ['blob', 'error', 'not_found', 'copies', 'by_copy'],
      ),
      BIG,
    ),
    running: T.array(id, BIG),
    running_on: T.array(id, BIG),
    submitted: T.array(T.object({ req: T.integer(0, Number.MAX_SAFE_INTEGER), batch_id: id }), BIG),
  },
  ['running', 'running_on', 'submitted'],
);

// ---------------------------------------------------------------- worker IPC frames

export const RunFrameSchema = T.object({
  paths: T.record(T.string({ maxLength: 4096 }), 100_000),
  max_result_bytes: T.integer(0, Number.MAX_SAFE_INTEGER),
  tasks: T.array(T.object({ task_id: id, hash, attempt: T.integer(0, 1000) }), 1_000_000),
});
export const DoneFrameSchema = T.object({
  results: T.array(
    T.object({ task_id: id, ok: T.boolean(), blob: blobIndex, error: taskError, started_at: MS, completed_at: MS }, [
      'blob',
      'error',
    ]),
    1_000_000,
  ),
});

// ---------------------------------------------------------------- block-worker socket control

/** Largest control message the agent accepts from a block worker (a hello is ~200 bytes). */
export const MAX_WORKER_CONTROL_BYTES = 4096;
const base64url = T.string({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_-]+$' });
export const SocketChallengeSchema = T.object({ type: T.literal('challenge'), nonce: base64url });
export const SocketHelloSchema = T.object({
  type: T.literal('hello'),
  mac: base64url,
  block: T.string({ minLength: 1, maxLength: 200 }),
  worker: T.integer(0, 1_000_000),
  host: T.string({ maxLength: 255 }),
  pid: T.integer(0, 2 ** 32 - 1),
});
export const SocketReadySchema = T.object({ type: T.literal('ready') });
export const SocketCancelSchema = T.object({ type: T.literal('cancel'), task_id: id });
export const SocketFunctionSchema = T.object({
  type: T.literal('fn'),
  hash,
  code: T.string({ maxLength: MAX_CODE }),
});
export const SocketByeSchema = T.object({ type: T.literal('bye') });

// ---------------------------------------------------------------- validators

export const validate = {
  registerFunction: validator(RegisterFunctionSchema),
  registerEndpoint: validator(RegisterEndpointSchema),
  submit: validator(SubmitSchema),
  taskIds: validator(TaskIdsSchema),
  cancel: validator(CancelSchema),
  agentResults: validator(AgentResultsSchema),
  serviceTasks: validator(ServiceTasksSchema),
  streamResults: validator(StreamResultsSchema),
  runFrame: validator(RunFrameSchema),
  doneFrame: validator(DoneFrameSchema),
};

/** Validators of text messages by their `type`, one table per direction. */
export const agentText = {
  hello: validator(AgentHelloSchema),
  heartbeat: validator(AgentHeartbeatSchema),
  started: validator(AgentStartedSchema),
  lost: validator(AgentLostSchema),
  released: validator(AgentReleasedSchema),
  returned: validator(AgentReturnedSchema),
};
export const serviceText = {
  welcome: validator(ServiceWelcomeSchema),
  ack: validator(ServiceAckSchema),
  cancel: validator(ServiceCancelSchema),
  recall: validator(ServiceRecallSchema),
  error: validator(ServiceErrorSchema),
};
export const streamClientText = {
  watch: validator(StreamWatchSchema),
  unwatch: validator(StreamUnwatchSchema),
  submit: validator(StreamSubmitSchema),
};
export const streamServiceText = {
  submitted: validator(StreamSubmittedSchema),
  error: validator(StreamErrorSchema),
};
/** Control messages a block worker accepts from the agent. */
export const workerSocketText = {
  challenge: validator(SocketChallengeSchema),
  fn: validator(SocketFunctionSchema),
  cancel: validator(SocketCancelSchema),
  bye: validator(SocketByeSchema),
};
/** Control messages the agent accepts from a block worker. */
export const agentSocketText = {
  hello: validator(SocketHelloSchema),
  ready: validator(SocketReadySchema),
};

/** The validator for a message's `type` in one of the tables above, or undefined for an unknown type. */
export function byType<M extends Record<string, { check(v: unknown, what: string): unknown }>>(
  table: M,
  msg: unknown,
): M[keyof M] | undefined {
  const t =
    typeof msg === 'object' && msg !== null && !Array.isArray(msg) ? (msg as { type?: unknown }).type : undefined;
  return typeof t === 'string' && Object.hasOwn(table, t) ? table[t as keyof M] : undefined;
}

// ---------------------------------------------------------------- schemas match protocol.ts

type Check<X extends true> = X;
type S<X> = Static<X>;
/** Compile-time only: each entry fails to type-check when a schema and its protocol type differ. */
export type SchemaMatchesProtocol = [
  Check<Same<S<typeof sharing>, Sharing>>,
  Check<Same<S<typeof taskError>, TaskErrorInfo>>,
  Check<Same<S<typeof RegisterFunctionSchema>, RegisterFunctionRequest>>,
  Check<Same<S<typeof RegisterEndpointSchema>, RegisterEndpointRequest>>,
  Check<Same<S<typeof TaskSpecSchema>, TaskSpec>>,
  Check<Same<S<typeof SubmitSchema>, SubmitRequest>>,
  Check<Same<S<typeof TaskIdsSchema>, TaskIdsRequest>>,
  Check<Same<S<typeof CancelSchema>, CancelRequest>>,
  Check<Same<S<typeof AgentHelloSchema>, AgentHello>>,
  Check<Same<S<typeof AgentHeartbeatSchema>, AgentHeartbeat>>,
  Check<Same<S<typeof AgentStartedSchema>, AgentStarted>>,
  Check<Same<S<typeof AgentLostSchema>, AgentLost>>,
  Check<Same<S<typeof AgentReleasedSchema>, AgentReleased>>,
  Check<Same<S<typeof AgentReturnedSchema>, AgentReturned>>,
  Check<Same<S<typeof AgentResultsSchema>, AgentResults>>,
  Check<Same<S<typeof ServiceWelcomeSchema>, ServiceWelcome>>,
  Check<Same<S<typeof ServiceAckSchema>, ServiceAck>>,
  Check<Same<S<typeof ServiceCancelSchema>, ServiceCancel>>,
  Check<Same<S<typeof ServiceRecallSchema>, ServiceRecall>>,
  Check<Same<S<typeof ServiceErrorSchema>, ServiceError>>,
  Check<Same<S<typeof ServiceTasksSchema>, ServiceTasks>>,
  Check<Same<S<typeof StreamWatchSchema>, StreamWatch>>,
  Check<Same<S<typeof StreamUnwatchSchema>, StreamUnwatch>>,
  Check<Same<S<typeof StreamSubmitSchema>, StreamSubmit>>,
  Check<Same<S<typeof StreamSubmittedSchema>, StreamSubmitted>>,
  Check<Same<S<typeof StreamErrorSchema>, StreamErrorMessage>>,
  Check<Same<S<typeof StreamResultsSchema>, StreamResults>>,
  Check<Same<S<typeof RunFrameSchema>, RunFrameHeader>>,
  Check<Same<S<typeof DoneFrameSchema>, DoneFrameHeader>>,
  Check<Same<S<typeof SocketChallengeSchema>, SocketChallenge>>,
  Check<Same<S<typeof SocketHelloSchema>, SocketHello>>,
  Check<Same<S<typeof SocketReadySchema>, WorkerReady>>,
  Check<Same<S<typeof SocketCancelSchema>, WorkerCancel>>,
  Check<Same<S<typeof SocketFunctionSchema>, SocketFunction>>,
  Check<Same<S<typeof SocketByeSchema>, SocketBye>>,
];
export type { TSchema };
