/** The `/v1` HTTP routes. Each handler checks its input, asks the store, and answers JSON. */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { brokenInvariant } from '../../errors/index.ts';
import { CodecError, packTagged, packedToTaggedJson } from '../codec.ts';
import {
  type BatchInfo,
  type CancelRequest,
  type CancelResponse,
  type Limits,
  type RegisterEndpointRequest,
  type RegisterFunctionRequest,
  type SubmitRequest,
  type SubmitResponse,
  type TaskErrorInfo,
  type TaskInfo,
  type SubmitConflict,
  type TaskSpec,
  type TaskState,
  isUuid,
} from '../protocol.ts';
import {
  canUseEndpoint,
  canUseFunction,
  checkEndpointRegistration,
  closest,
  endpointAllows,
  endpointInfo,
  functionInfo,
  resolveSharing,
} from './access.ts';
import type { AgentHub } from './agents.ts';
import {
  type ClaimedTask,
  type EndpointRow,
  type FunctionRow,
  type NewTask,
  type Store,
  TaskIdInUseError,
  type TaskRow,
  type UserRow,
} from './db.ts';
import { ApiError, checked, inRequestTurn, readBody, readJson, sendJson } from './http.ts';
import { MAX_BATCH_TASKS, MAX_RESULTS_ANSWER_BYTES, validate } from '../protocol-schemas.ts';
import type { Metrics } from './metrics.ts';
import { checkOpenTasks, openTaskLimit } from './quotas.ts';
import type { Outcome, ResultStreams } from './streams.ts';

export interface RouteContext {
  store: Store;
  hub: AgentHub;
  streams: ResultStreams;
  metrics: Metrics;
  limits: Limits;
  defaults: { maxAttempts: number; timeoutMs: number };
  /** Unfinished tasks a user may have unless the admin set their own limit (0 = none); see quotas.ts. */
  maxOpenTasks: number;
  version: string;
}

type Handler = (
  ctx: RouteContext,
  user: UserRow,
  req: IncomingMessage,
  res: ServerResponse,
  params: string[],
) => Promise<void> | void;

interface Route {
  method: string;
  pattern: RegExp;
  handler: Handler;
}

const MAX_ATTEMPTS_CAP = 10;

const routes: Route[] = [
  {
    method: 'GET',
    pattern: /^\/v1\/whoami$/,
    handler: (_c, user, _q, res) => sendJson(res, 200, { user: user.name, user_id: user.id, admin: user.admin === 1 }),
  },
  { method: 'GET', pattern: /^\/v1\/metrics$/, handler: metrics },
  { method: 'POST', pattern: /^\/v1\/functions$/, handler: registerFunction },
  { method: 'GET', pattern: /^\/v1\/functions$/, handler: listFunctions },
  { method: 'GET', pattern: /^\/v1\/functions\/([^/]+)$/, handler: getFunction },
  { method: 'POST', pattern: /^\/v1\/endpoints$/, handler: registerEndpoint },
  { method: 'GET', pattern: /^\/v1\/endpoints$/, handler: listEndpoints },
  { method: 'GET', pattern: /^\/v1\/endpoints\/([^/]+)$/, handler: getEndpoint },
  { method: 'DELETE', pattern: /^\/v1\/endpoints\/([^/]+)$/, handler: deleteEndpoint },
  { method: 'POST', pattern: /^\/v1\/tasks$/, handler: submit },
  { method: 'POST', pattern: /^\/v1\/tasks\/results$/, handler: results },
  { method: 'POST', pattern: /^\/v1\/tasks\/cancel$/, handler: cancel },
  { method: 'GET', pattern: /^\/v1\/tasks\/([^/]+)$/, handler: getTask },
  { method: 'GET', pattern: /^\/v1\/batches\/([^/]+)$/, handler: getBatch },
];

/** Find the route for a request; throws NotFound listing the routes when none matches. */
export function matchRoute(method: string, path: string): { handler: Handler; params: string[] } {
  let pathMatched = false;
  for (const r of routes) {
    const m = r.pattern.exec(path);
    if (!m) continue;
    pathMatched = true;
    if (r.method === method) return { handler: r.handler, params: m.slice(1).map(decodeParam) };
  }
  if (pathMatched) throw new ApiError('BadRequest', `method ${method} is not supported on ${path}`);
  throw new ApiError('NotFound', `no route ${method} ${path}`, {
    routes: routes.map((r) => `${r.method} ${r.pattern.source.replace(/\\\//g, '/').replace(/^\^|\$$/g, '')}`),
  });
}

function decodeParam(p: string): string {
  try {
    return decodeURIComponent(p);
  } catch {
    throw new ApiError('BadRequest', `malformed %-escape in the path segment "${p.slice(0, 100)}"`);
  }
}

// ---------------------------------------------------------------- functions

async function registerFunction(
  ctx: RouteContext,
  user: UserRow,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const body: RegisterFunctionRequest = await readBody(
    req,
    ctx.limits.max_function_bytes + 64 * 1024,
    validate.registerFunction,
    'function registration',
  );
  const size = Buffer.byteLength(body.code);
  if (size > ctx.limits.max_function_bytes) {
    throw new ApiError(
      'PayloadTooLarge',
      `function code of ${size} bytes exceeds the limit of ${ctx.limits.max_function_bytes} bytes`,
      {
        code_size: size,
        limit: ctx.limits.max_function_bytes,
      },
    );
  }
  const sharing = resolveSharing(ctx.store, body.sharing) ?? { visibility: 'private' as const, userIds: [] };
  const hash = createHash('sha256').update(body.code).digest('hex');
  const id = ctx.store.registerFunction(
    user.id,
    hash,
    body.code,
    optString(body.name, 'name'),
    optString(body.description, 'description'),
    sharing,
  );
  sendJson(res, 200, { function_id: id, hash });
}

function listFunctions(ctx: RouteContext, user: UserRow, _req: IncomingMessage, res: ServerResponse): void {
  sendJson(res, 200, { functions: ctx.store.visibleFunctions(user.id).map((f) => functionInfo(ctx.store, f, false)) });
}

function getFunction(
  ctx: RouteContext,
  user: UserRow,
  _req: IncomingMessage,
  res: ServerResponse,
  [id]: string[],
): void {
  sendJson(res, 200, functionInfo(ctx.store, usableFunction(ctx, user, id, 'NotFound'), true));
}

function usableFunction(ctx: RouteContext, user: UserRow, id: string, code: 'NotFound' | 'Forbidden'): FunctionRow {
  const f = isUuid(id) ? ctx.store.functionById(id) : undefined;
  if (!f || !canUseFunction(ctx.store, f, user)) {
    throw new ApiError(code, `function ${id} does not exist or is not shared with user "${user.name}"`, {
      function_id: id,
    });
  }
  return f;
}

// ---------------------------------------------------------------- endpoints

async function registerEndpoint(
  ctx: RouteContext,
  user: UserRow,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const body: RegisterEndpointRequest = await readBody(
    req,
    1024 * 1024,
    validate.registerEndpoint,
    'endpoint registration',
  );
  checkEndpointRegistration(ctx.store, user, body.name, body.allowed_functions);
  const row = ctx.store.upsertEndpoint(
    user.id,
    body.name,
    body.allowed_functions,
    resolveSharing(ctx.store, body.sharing),
  );
  sendJson(res, 200, endpointInfo(ctx.store, row, ctx.hub.live(row.id)));
}

function listEndpoints(ctx: RouteContext, user: UserRow, _req: IncomingMessage, res: ServerResponse): void {
  sendJson(res, 200, {
    endpoints: ctx.store.visibleEndpoints(user.id).map((e) => endpointInfo(ctx.store, e, ctx.hub.live(e.id))),
  });
}

/**
 * Delete an endpoint: its owner names it as for a submission, an admin also by id or owner/name
 * (`ristretto faas endpoint delete`). Refused while its agent is attached or tasks on it are
 * unfinished. Without it, one user's endpoints (each listed to every user they are visible to) stayed
 * until someone edited the database (issue 14, probe D8).
 */
async function deleteEndpoint(
  ctx: RouteContext,
  user: UserRow,
  req: IncomingMessage,
  res: ServerResponse,
  [ref]: string[],
): Promise<void> {
  const answer = await inRequestTurn(req, () => {
    const e = (user.admin === 1 && anyEndpoint(ctx, ref)) || resolveEndpoint(ctx, user, ref);
    const label = `${e.owner_name}/${e.name}`;
    if (e.owner_id !== user.id && user.admin !== 1)
      throw new ApiError('Forbidden', `only the owner of endpoint ${label} or an admin may delete it`, {
        endpoint: e.id,
      });
    if (ctx.hub.live(e.id))
      throw new ApiError('Conflict', `endpoint ${label} is attached: stop its agent first, then delete it`, {
        endpoint: e.id,
      });
    const unfinished = ctx.store.deleteEndpoint(e.id);
    if (unfinished > 0)
      throw new ApiError(
        'Conflict',
        `endpoint ${label} has ${unfinished} unfinished tasks: cancel them or let them finish first`,
        { endpoint: e.id, unfinished },
      );
    return { endpoint_id: e.id, name: e.name, owner: e.owner_name, deleted: true };
  });
  sendJson(res, 200, answer);
}

/** An endpoint by id or owner/name, whoever owns it (for admins); undefined when there is none. */
function anyEndpoint(ctx: RouteContext, ref: string): EndpointRow | undefined {
  if (isUuid(ref)) return ctx.store.endpointById(ref);
  const slash = ref.indexOf('/');
  const owner = slash > 0 ? ctx.store.userByName(ref.slice(0, slash)) : undefined;
  return owner && ctx.store.ownEndpoint(owner.id, ref.slice(slash + 1));
}

function getEndpoint(
  ctx: RouteContext,
  user: UserRow,
  _req: IncomingMessage,
  res: ServerResponse,
  [ref]: string[],
): void {
  const e = resolveEndpoint(ctx, user, ref);
  sendJson(res, 200, endpointInfo(ctx.store, e, ctx.hub.live(e.id)));
}

/** An endpoint by UUID, by name (the caller's own first), or by "owner/name". */
function resolveEndpoint(ctx: RouteContext, user: UserRow, ref: string): EndpointRow {
  if (isUuid(ref)) {
    const e = ctx.store.endpointById(ref);
    if (e && canUseEndpoint(ctx.store, e, user)) return e;
    throw new ApiError('Forbidden', `endpoint ${ref} does not exist or is not shared with user "${user.name}"`, {
      endpoint: ref,
    });
  }
  // Only the endpoints of that name are read (all visible ones cost 0.5 CPU-s per submission once
  // one user had 20,000 public endpoints: issue 14, probe D8); all of them only to suggest names.
  const slash = ref.indexOf('/');
  const named = ctx.store.visibleEndpointsNamed(user.id, slash > 0 ? ref.slice(slash + 1) : ref);
  const matches = slash > 0 ? named.filter((e) => e.owner_name === ref.slice(0, slash)) : named;
  const own = matches.filter((e) => e.owner_id === user.id);
  if (own.length === 1) return own[0];
  if (matches.length === 1) return matches[0];
  if (matches.length > 1) {
    throw new ApiError(
      'Conflict',
      `endpoint name "${ref}" is ambiguous: use one of ${matches.map((e) => `${e.owner_name}/${e.name}`).join(', ')} or an id`,
    );
  }
  const names = ctx.store
    .visibleEndpoints(user.id)
    .map((e) => (e.owner_id === user.id ? e.name : `${e.owner_name}/${e.name}`));
  throw new ApiError(
    'NotFound',
    `no endpoint named "${ref}" visible to user "${user.name}"${names.length ? `; closest: ${closest(ref, names).join(', ')}` : ''}`,
    {
      endpoint: ref,
      closest: closest(ref, names),
    },
  );
}

// ---------------------------------------------------------------- tasks

async function submit(ctx: RouteContext, user: UserRow, req: IncomingMessage, res: ServerResponse): Promise<void> {
  // Parsed and stored in one turn with other users' messages (turns.ts): 100,000 tasks took ~1 CPU-s.
  sendJson(res, 200, await readJson(req, ctx.limits.max_request_bytes, (body) => acceptSubmission(ctx, user, body)));
}

/** A submission with more tasks than one batch may hold is refused as too large (413), before validation. */
export function checkBatchSize(body: unknown): void {
  const tasks = typeof body === 'object' && body !== null ? (body as { tasks?: unknown }).tasks : undefined;
  if (Array.isArray(tasks) && tasks.length > MAX_BATCH_TASKS) {
    throw new ApiError('PayloadTooLarge', `a submission holds at most ${MAX_BATCH_TASKS} tasks, got ${tasks.length}`, {
      tasks: tasks.length,
      limit: MAX_BATCH_TASKS,
    });
  }
}

/**
 * Check and store a submission, and wake the endpoints it targets. Shared by `POST /v1/tasks` and the
 * result stream's `submit` message; throws ApiError on any refusal, before anything is stored.
 */
export function acceptSubmission(ctx: RouteContext, user: UserRow, request: unknown): SubmitResponse {
  checkBatchSize(request);
  return storeSubmission(ctx, user, checked(validate.submit, request, 'submission'));
}

/** acceptSubmission for a request that already passed the submit schema. */
export function storeSubmission(ctx: RouteContext, user: UserRow, body: SubmitRequest): SubmitResponse {
  // First: a refused submission costs the service nothing more (a client over it submits again soon).
  checkOpenTasks(ctx.store, user, ctx.maxOpenTasks, body.tasks.length);
  // Per-request memo: a batch usually repeats one function and one endpoint thousands of times.
  const fnMemo = new Map<string, FunctionRow>();
  const epMemo = new Map<string, EndpointRow>();
  const allowMemo = new Set<string>();
  /** Per endpoint: tasks that may still go straight to its agent (see AgentHub.directSlots). */
  const direct = new Map<string, number>();
  /** Per endpoint: idle slots an alternate may still fill at once (see AgentHub.idleSlots). */
  const idle = new Map<string, number>();
  const altMemo = new Map<string, string[]>();
  /** Endpoints that may take tasks queued by this submission for others. */
  const takers = new Set<string>();
  const checkAllowed = (e: EndpointRow, f: FunctionRow) => {
    const pair = `${f.id} ${e.id}`;
    if (allowMemo.has(pair)) return;
    if (!endpointAllows(e, f)) {
      throw new ApiError('Forbidden', `endpoint "${e.name}" (${e.id}) does not allow function ${f.id}`, {
        endpoint_id: e.id,
        function_id: f.id,
      });
    }
    allowMemo.add(pair);
  };
  const given = clientIds(body.tasks);
  const tasks: NewTask[] = new Array(body.tasks.length);
  for (let i = 0; i < body.tasks.length; i++) {
    const spec: TaskSpec = body.tasks[i];
    const functionId = spec.function_id ?? body.function_id;
    const endpointRef = spec.endpoint ?? body.endpoint;
    if (typeof functionId !== 'string') throw new ApiError('BadRequest', `task ${i}: function_id is missing`);
    if (typeof endpointRef !== 'string') throw new ApiError('BadRequest', `task ${i}: endpoint is missing`);
    let f = fnMemo.get(functionId);
    if (!f) fnMemo.set(functionId, (f = usableFunction(ctx, user, functionId, 'Forbidden')));
    let e = epMemo.get(endpointRef);
    if (!e) epMemo.set(endpointRef, (e = resolveEndpoint(ctx, user, endpointRef)));
    checkAllowed(e, f);
    // Late binding: the candidate endpoints (ids, this one first), each checked like the endpoint.
    let candidates: string[] | undefined;
    const altRefs = spec.alternates ?? body.alternates;
    if (altRefs !== undefined) {
      const key = `${f.id} ${e.id} ${altRefs.join(' ')}`;
      candidates = altMemo.get(key);
      if (!candidates) {
        const ids = [e.id];
        for (const ref of altRefs) {
          let a = epMemo.get(ref);
          if (!a) epMemo.set(ref, (a = resolveEndpoint(ctx, user, ref)));
          // An alternate is a hint: one whose allowlist excludes the function is left out.
          if (!endpointAllows(a, f)) continue;
          if (!ids.includes(a.id)) ids.push(a.id);
        }
        altMemo.set(key, (candidates = ids));
      }
      if (candidates.length < 2) candidates = undefined;
    }
    const args = packTagged('args' in spec ? spec.args : body.args);
    if (args.byteLength > ctx.limits.max_payload_bytes) {
      throw new ApiError(
        'PayloadTooLarge',
        `task ${i}: arguments of ${args.byteLength} bytes exceed the limit of ${ctx.limits.max_payload_bytes} bytes`,
        {
          task_index: i,
          payload_size: args.byteLength,
          limit: ctx.limits.max_payload_bytes,
        },
      );
    }
    // Where it goes now: a free worker slot of its endpoint, else a free slot of an alternate, else
    // room to hold it at its endpoint (prefetch). Room to hold comes last: a task held behind busy
    // workers waits there while an alternate's worker idles. Otherwise it waits in the service; once
    // one task of an endpoint waits, all later ones do too (the endpoint's order stays FIFO).
    const idleOf = (id: string) => idle.get(id) ?? ctx.hub.idleSlots(id);
    const directOf = (id: string) => direct.get(id) ?? ctx.hub.directSlots(id);
    let target = e.id;
    let go = directOf(target) > 0 && idleOf(target) > 0;
    if (!go && candidates) {
      for (const alt of candidates) {
        if (alt === e.id || idleOf(alt) <= 0 || directOf(alt) <= 0) continue;
        target = alt;
        go = true;
        break;
      }
    }
    if (!go && directOf(e.id) > 0) go = true;
    if (go) {
      direct.set(target, directOf(target) - 1);
      idle.set(target, Math.max(0, idleOf(target) - 1));
    } else {
      direct.set(e.id, 0);
      if (candidates) for (const alt of candidates) if (alt !== e.id) takers.add(alt);
    }
    const tail = spec.tail ?? body.tail;
    tasks[i] = {
      ...(given ? { id: given[i] } : {}),
      function_id: f.id,
      endpoint_id: target,
      ...(candidates ? { alts: candidates.join(' ') } : {}),
      // A tail policy means something only with somewhere else to run.
      ...(candidates && tail && tail.max_copies > 1 ? { tail: JSON.stringify(tail) } : {}),
      args,
      max_attempts: clampInt(
        spec.max_attempts ?? body.max_attempts ?? ctx.defaults.maxAttempts,
        1,
        MAX_ATTEMPTS_CAP,
        'max_attempts',
      ),
      timeout_ms: clampInt(
        spec.timeout_ms ?? body.timeout_ms ?? ctx.defaults.timeoutMs,
        0,
        7 * 24 * 3600 * 1000,
        'timeout_ms',
      ),
      dispatch: go,
      grp: groupOf(spec.group ?? body.group, user, i),
    };
  }
  let stored: { batchId: string; taskIds: string[] };
  try {
    stored = ctx.store.insertTasks(user.id, tasks);
  } catch (e) {
    if (given && e instanceof TaskIdInUseError) throw idsInUse(ctx, user, given);
    throw e;
  }
  const { batchId, taskIds } = stored;
  ctx.metrics.tasksSubmitted += tasks.length;
  // Before any is sent: the scheduler times them from their dispatch.
  for (let i = 0; i < tasks.length; i++) {
    const t = tasks[i];
    const policy = body.tasks[i].tail ?? body.tail;
    // `tail` is set only with alternatives and a policy (see above).
    if (t.tail && t.alts && policy) ctx.hub.tails.track(taskIds[i], t.function_id, t.grp, t.alts.split(' '), policy, 0);
  }
  const sendNow = new Map<string, ClaimedTask[]>();
  const queuedFor = new Set<string>();
  for (let i = 0; i < tasks.length; i++) {
    const t = tasks[i];
    if (!t.dispatch) {
      queuedFor.add(t.endpoint_id);
      continue;
    }
    let list = sendNow.get(t.endpoint_id);
    if (!list) sendNow.set(t.endpoint_id, (list = []));
    list.push({
      id: taskIds[i],
      function_id: t.function_id,
      grp: t.grp,
      args: t.args,
      attempts: 1,
      timeout_ms: t.timeout_ms,
    });
  }
  for (const [endpointId, list] of sendNow) ctx.hub.sendDirect(endpointId, list);
  for (const endpointId of queuedFor) ctx.hub.queued(endpointId);
  if (takers.size)
    ctx.hub.movable(
      takers,
      tasks.reduce((n, t) => n + (t.alts && !t.dispatch ? 1 : 0), 0),
    );
  return { batch_id: batchId, task_ids: taskIds };
}

/**
 * The ids the client gave its tasks (the schema checked their form), or undefined when it gave none.
 * Refused: some tasks with ids and some without, and an id twice; ids in use are refused when the
 * store finds them (see idsInUse).
 */
function clientIds(specs: readonly TaskSpec[]): string[] | undefined {
  if (specs[0]?.id === undefined) {
    const at = specs.findIndex((t) => t.id !== undefined);
    if (at >= 0) throw new ApiError('BadRequest', `task ${at} has an id but task 0 has none: name every task or none`);
    return undefined;
  }
  const ids = new Array<string>(specs.length);
  const seen = new Set<string>();
  for (let i = 0; i < specs.length; i++) {
    const id = specs[i].id;
    if (id === undefined)
      throw new ApiError('BadRequest', `task ${i} has no id but task 0 has one: name every task or none`);
    if (seen.has(id)) throw new ApiError('BadRequest', `task ${i}: id ${id} is given twice in this submission`);
    seen.add(id);
    ids[i] = id;
  }
  return ids;
}

/**
 * The Conflict for a submission whose ids the store refused as in use (checked only then: the
 * unique index finds a clash at no cost to the submissions that have none).
 */
function idsInUse(ctx: RouteContext, user: UserRow, ids: readonly string[]): ApiError {
  const used: string[] = [];
  let yours = true;
  for (let i = 0; i < ids.length; i += 5000)
    for (const r of ctx.store.idsInUse(ids.slice(i, i + 5000))) {
      used.push(r.id);
      if (r.owner_id !== user.id) yours = false;
    }
  const details: SubmitConflict = { task_ids: used.slice(0, 1000), count: used.length, yours };
  return new ApiError(
    'Conflict',
    `task id ${used[0] ?? '(unknown)'}${used.length > 1 ? ` and ${used.length - 1} more` : ''} already in use${yours ? ' by your earlier tasks' : ''}: nothing was stored; give every new task a new id (uuidv7)`,
    { ...details },
  );
}

/** The fair-share group of a task: the client's name for it within the user's space, else the user. */
function groupOf(group: unknown, user: UserRow, i: number): string {
  if (group === undefined || group === null) return user.id;
  if (typeof group !== 'string' || group.length === 0 || group.length > 200) {
    throw new ApiError('BadRequest', `task ${i}: group must be a string of 1-200 characters`);
  }
  // Prefixed by the user, so two users' groups never merge into one share.
  return `${user.id}/${group}`;
}

function getTask(ctx: RouteContext, user: UserRow, _req: IncomingMessage, res: ServerResponse, [id]: string[]): void {
  sendJson(res, 200, taskInfo(ownTask(ctx, user, id)));
}

function ownTask(ctx: RouteContext, user: UserRow, id: string): TaskRow {
  const row = isUuid(id) ? ctx.store.task(id) : undefined;
  if (!row || row.owner_id !== user.id)
    throw new ApiError('NotFound', `task ${id} does not exist or belongs to another user`, { task_id: id });
  return row;
}

/**
 * Status and results of many tasks, each listed id once (in the order first given); results are
 * spliced in as tagged JSON without re-parsing. The answer is written one task at a time, waiting
 * for the socket to drain, so the service never holds more than one result of it; its total is
 * bounded by MAX_RESULTS_ANSWER_BYTES (413 with how many of the ids fit, see resultsTooLarge).
 */
async function results(ctx: RouteContext, user: UserRow, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let rows: TaskRow[] = [];
  let sep = '{"tasks":[';
  let next = 0;
  /** The next piece of the answer: one result however large, or several small ones up to ANSWER_PIECE_CHARS. */
  const piece = () => {
    let text = '';
    do {
      text += sep + resultEntry(ctx, rows[next++] as TaskRow);
      sep = ',';
    } while (next < rows.length && text.length < ANSWER_PIECE_CHARS);
    return text;
  };
  // Looking up 100,000 ids, and converting results, take turns with other users' messages (turns.ts):
  // the lookup and the first piece in the body's turn, each further piece in a turn of its own.
  let text = await readBody(req, 16 * 1024 * 1024, validate.taskIds, 'results request', (body) => {
    rows = [...new Set(body.task_ids)].map((id) => ownTask(ctx, user, id));
    resultsTooLarge(rows);
    return rows.length ? piece() : sep;
  });
  // From here on the rows are a snapshot: a task finishing meanwhile is answered as it was (no
  // result the estimate above did not count).
  res.writeHead(200, { 'content-type': 'application/json' });
  for (;;) {
    if (!(await write(res, text))) return;
    if (next >= rows.length) break;
    text = await inRequestTurn(req, piece);
  }
  res.end(']}');
}

/** Characters of a results answer converted in one turn before it is written (unless one result is larger). */
const ANSWER_PIECE_CHARS = 1024 * 1024;

/**
 * One task of a results answer, as JSON text. A stored result is checked when it arrives (agents.ts),
 * so it converts; one stored before that check that does not is answered as this task's
 * SerializationError, never spliced in as text and never failing the other tasks of the answer.
 */
function resultEntry(ctx: RouteContext, row: TaskRow): string {
  const info = taskInfo(row);
  if (row.state !== 'success') return JSON.stringify(info);
  const blob = ctx.store.result(row.id);
  try {
    return `${JSON.stringify(info).slice(0, -1)},"result":${blob ? packedToTaggedJson(blob) : 'null'}}`;
  } catch (e) {
    if (!(e instanceof CodecError)) throw e;
    const error = { type: 'SerializationError', message: `the stored result is not a value: ${e.message}` };
    return JSON.stringify({ ...info, state: 'failed', error });
  }
}

/** Estimated answer bytes of one task: its info, and its result as base64 tagged JSON. */
function answerBytes(row: TaskRow): number {
  return 1024 + (row.state === 'success' ? Math.ceil(((row.result_size ?? 0) * 4) / 3) : 0);
}

/** Refuse (413) a results request whose answer would exceed MAX_RESULTS_ANSWER_BYTES, saying how many ids fit. */
function resultsTooLarge(rows: readonly TaskRow[]): void {
  let total = 0;
  let fit = 0;
  for (const row of rows) {
    total += answerBytes(row);
    if (total <= MAX_RESULTS_ANSWER_BYTES || fit === 0) fit++;
    else break;
  }
  if (fit === rows.length) return;
  throw new ApiError(
    'PayloadTooLarge',
    `the results of these ${rows.length} tasks exceed the ${MAX_RESULTS_ANSWER_BYTES} bytes one answer may hold; the first ${fit} fit: ask for them in requests of at most that many`,
    { count: rows.length, fit, limit: MAX_RESULTS_ANSWER_BYTES },
  );
}

/** Write a piece of an answer; resolves false when the client went away (nothing more to write). */
async function write(res: ServerResponse, text: string): Promise<boolean> {
  if (res.destroyed) return false;
  if (res.write(text)) return true;
  return new Promise<boolean>((resolve) => {
    const done = (ok: boolean) => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(ok);
    };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}

async function cancel(ctx: RouteContext, user: UserRow, req: IncomingMessage, res: ServerResponse): Promise<void> {
  // In its turn (turns.ts): cancelling a batch of 100,000 tasks took ~4 s of the service's thread.
  const answer = await readBody(req, 16 * 1024 * 1024, validate.cancel, 'cancel request', (body: CancelRequest) =>
    cancelTasks(ctx, user, body),
  );
  sendJson(res, 200, answer);
}

/** Cancel the tasks a cancel request names (those of the user's that have not finished). */
function cancelTasks(ctx: RouteContext, user: UserRow, body: CancelRequest): CancelResponse {
  let ids: string[];
  if (typeof body.batch_id === 'string') {
    const b = ctx.store.batch(body.batch_id);
    if (!b || b.owner_id !== user.id)
      throw new ApiError('NotFound', `batch ${body.batch_id} does not exist or belongs to another user`);
    ids = ctx.store.batchTaskIds(b.id);
  } else if (body.task_ids) ids = [...new Set(body.task_ids)];
  else throw new ApiError('BadRequest', 'give task_ids or batch_id');
  // (An id listed twice is one task: answered once.)
  const cancelled = ctx.store.cancel(user.id, ids);
  ctx.metrics.tasksCancelled += cancelled.length;
  const rows = cancelled.map((id) => ctx.store.task(id) ?? brokenInvariant(`cancelled task ${id} is not stored`));
  for (const id of cancelled) ctx.hub.tails.forget(id);
  // Their tail copies go too.
  ctx.hub.cancelled([...rows, ...ctx.store.cancelCopiesOf(rows.filter((r) => r.copies > 0).map((r) => r.id))]);
  const outcomes: Outcome[] = rows.map((r) => ({
    task_id: r.id,
    state: 'cancelled',
    endpoint_id: r.endpoint_id,
    attempts: r.attempts,
    error: { type: 'Cancelled', message: 'cancelled by the user' },
  }));
  ctx.streams.publish(outcomes);
  const done = new Set(cancelled);
  return { cancelled, not_cancelled: ids.filter((id) => !done.has(id)) };
}

function getBatch(ctx: RouteContext, user: UserRow, _req: IncomingMessage, res: ServerResponse, [id]: string[]): void {
  const b = isUuid(id) ? ctx.store.batch(id) : undefined;
  if (!b || b.owner_id !== user.id)
    throw new ApiError('NotFound', `batch ${id} does not exist or belongs to another user`, { batch_id: id });
  const counts = {
    'waiting-for-endpoint': 0,
    dispatched: 0,
    running: 0,
    success: 0,
    failed: 0,
    cancelled: 0,
  } as Record<TaskState, number>;
  for (const c of ctx.store.batchCounts(b.id)) counts[c.state] = c.n;
  const info: BatchInfo & { task_ids: string[] } = {
    batch_id: b.id,
    size: b.size,
    submitted_at: b.created_at,
    counts,
    task_ids: ctx.store.batchTaskIds(b.id),
  };
  sendJson(res, 200, info);
}

/**
 * A user sees their own numbers: their tasks by state and their endpoints online. Service-wide
 * counters (every user's tasks, connections, errors) only go to admins (`user add --admin`).
 */
function metrics(ctx: RouteContext, user: UserRow, _req: IncomingMessage, res: ServerResponse): void {
  const states: Record<string, number> = {};
  if (!user.admin) {
    for (const c of ctx.store.stateCountsOf(user.id)) states[c.state] = c.n;
    const own = ctx.store.visibleEndpoints(user.id).filter((e) => e.owner_id === user.id && ctx.hub.live(e.id));
    sendJson(res, 200, {
      user: user.name,
      admin: false,
      endpoints_online: own.length,
      tasks_by_state: states,
      limits: ctx.limits,
      ...openTasksOf(ctx, user),
    });
    return;
  }
  for (const c of ctx.store.stateCounts()) states[c.state] = c.n;
  sendJson(res, 200, {
    user: user.name,
    admin: true,
    ...ctx.metrics.snapshot(),
    // Memory, to see a client holding the service's memory (bounded per stream, see streams.ts).
    stream_held_bytes: ctx.streams.heldBytes(),
    function_cache_bytes: ctx.hub.functionCacheBytes(),
    rss_bytes: process.memoryUsage.rss(),
    heap_used_bytes: process.memoryUsage().heapUsed,
    endpoints_online: ctx.hub.onlineCount(),
    tasks_by_state: states,
    limits: ctx.limits,
    ...openTasksOf(ctx, user),
  });
}

/** The caller's unfinished tasks and the most they may have (0 = no limit). */
function openTasksOf(ctx: RouteContext, user: UserRow): { open_tasks: number; max_open_tasks: number } {
  return {
    open_tasks: ctx.store.openTasks(user.id).open,
    max_open_tasks: openTaskLimit(ctx.store, user, ctx.maxOpenTasks),
  };
}

// ---------------------------------------------------------------- helpers

/**
 * A task's stored error. One whose text is not JSON (a damaged row) is answered as a
 * SerializationError saying so: thrown, it failed every other task of the same answer or watch.
 */
export function storedError(row: { id: string; error: string | null }): TaskErrorInfo | null {
  if (!row.error) return null;
  try {
    return JSON.parse(row.error) as TaskErrorInfo;
  } catch {
    return { type: 'SerializationError', message: `the stored error of task ${row.id} is damaged (not JSON)` };
  }
}

export function taskInfo(row: TaskRow): TaskInfo {
  return {
    task_id: row.id,
    batch_id: row.batch_id,
    function_id: row.function_id,
    endpoint_id: row.endpoint_id,
    state: row.state,
    attempts: row.attempts,
    max_attempts: row.max_attempts,
    timeout_ms: row.timeout_ms,
    submitted_at: row.submitted_at,
    dispatched_at: row.dispatched_at,
    started_at: row.started_at,
    completed_at: row.completed_at,
    result_size: row.result_size,
    error: storedError(row),
  };
}

function optString(v: unknown, name: string): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') throw new ApiError('BadRequest', `${name} must be a string`);
  return v;
}

function clampInt(v: unknown, min: number, max: number, name: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new ApiError('BadRequest', `${name} must be an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
  return n;
}
