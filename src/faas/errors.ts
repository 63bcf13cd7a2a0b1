/**
 * Typed errors of the FaaS platform, shared by the client, the service and the endpoint CLI.
 * None of them ever carries a token.
 */
import { RistrettoError } from '../errors/index.ts';
import type { ErrorCode, TaskErrorInfo, TaskState } from './protocol.ts';

/** Base of every FaaS error. */
export class FaasError extends RistrettoError {}

/** Missing or unreadable configuration (token, service URL). */
export class FaasConfigError extends FaasError {}

/** The service refused a request; `code` and `status` come from the `{error}` body. */
export class FaasRequestError extends FaasError {
  readonly status: number;
  readonly code: ErrorCode | string;
  readonly details: Record<string, unknown> | undefined;
  constructor(
    status: number,
    code: string,
    message: string,
    context: Record<string, unknown> = {},
    details?: Record<string, unknown>,
  ) {
    super(`${code}: ${message}`, { ...context, status, code, ...(details ?? {}) }, hintFor(code, context));
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

function hintFor(code: string, context: Record<string, unknown>): string | undefined {
  switch (code) {
    case 'Unauthorized':
      // A token of another service is refused the same way: name the service, it may be the wrong one.
      return `${typeof context.service === 'string' ? `check that ${context.service} is your service (--service), then ` : ''}set RISTRETTO_TOKEN (or write the token to ~/.config/ristretto/token) with a token from \`ristretto faas user add\` / \`token create\` of that service`;
    case 'Forbidden':
      return 'use a function and endpoint you own or that are shared with you, and check the endpoint allowlist';
    case 'PayloadTooLarge':
      return 'send smaller arguments (pass a file path or URL instead of the data) or raise the service limit';
    default:
      return undefined;
  }
}

/** The service could not be reached. */
export class FaasConnectionError extends FaasError {}

/**
 * A message that is not this protocol (an unknown type, a bad length prefix): the receiver logs it and
 * drops it, or drops the connection it came on; nothing else is affected.
 */
export class FaasProtocolError extends FaasError {}

/** Where a failed task ran: ids from the service, the endpoint's name when the client knows it. */
export interface TaskErrorContext {
  taskId: string;
  endpointId: string;
  endpointName?: string;
  attempts: number;
}

/** A task ended without a result. Carries the task id, endpoint, remote error and attempt count. */
export class TaskFailedError extends FaasError {
  readonly taskId: string;
  readonly endpointId: string;
  /** The endpoint's name, when the client knows it. */
  readonly endpointName: string | undefined;
  readonly remoteType: TaskErrorInfo['type'];
  readonly remoteMessage: string;
  readonly remoteStack: string | undefined;
  readonly attempts: number;
  constructor(info: TaskErrorInfo, ctx: TaskErrorContext, hint?: string) {
    const where = ctx.endpointName ? `${ctx.endpointName} (${ctx.endpointId})` : ctx.endpointId;
    super(
      `task ${ctx.taskId} on endpoint ${where} failed (${info.type}, attempt ${ctx.attempts}): ${info.message}`,
      {
        taskId: ctx.taskId,
        endpointId: ctx.endpointId,
        ...(ctx.endpointName ? { endpointName: ctx.endpointName } : {}),
        attempts: ctx.attempts,
        remoteType: info.type,
        ...(info.details ?? {}),
      },
      hint ?? taskHint(info),
    );
    this.taskId = ctx.taskId;
    this.endpointId = ctx.endpointId;
    this.endpointName = ctx.endpointName;
    this.remoteType = info.type;
    this.remoteMessage = info.message;
    this.remoteStack = info.stack;
    this.attempts = ctx.attempts;
  }
}

/** Text of an endpoint's FunctionLoadFailed when a cached module's bytes no longer match its hash. */
export const MODULE_CHANGED = 'does not match its hash';
/** Text of an endpoint's FunctionLoadFailed when a cached module is gone from its cache. */
export const MODULE_MISSING = 'is not in the endpoint cache';

function taskHint(info: TaskErrorInfo): string | undefined {
  switch (info.type) {
    case 'SerializationError':
      return 'arguments and results must be JSON values, typed arrays, Maps, Sets or BinarySerializable objects';
    case 'WorkerLost':
      return 'the worker process died repeatedly (out of memory? process.exit in the function?); check the endpoint log';
    case 'EndpointLost':
      return "the endpoint's connection to the service was lost each time (network? agent restarted? two agents with one --name?); check the endpoint log";
    case 'FunctionLoadFailed':
      if (info.message.includes(MODULE_CHANGED))
        return "the endpoint's copy of the function's code no longer matched its hash (tasks on an endpoint can rewrite its function cache); the endpoint puts it back, or fetches it again when it reconnects: run the task again, and if it fails again ask the endpoint's owner to restart the endpoint and look for the task that rewrites its cache";
      if (info.message.includes(MODULE_MISSING))
        return "the endpoint's copy of the function's code was deleted from its cache; the endpoint fetches it again when it reconnects: run the task again later, or ask the endpoint's owner to restart the endpoint";
      return 'the function module must be self-contained and default-export a function; register it from a file path to bundle its imports';
    case 'Forbidden':
      return "ask the endpoint's owner to add the function to the endpoint allowlist";
    default:
      return /is not defined/.test(info.message)
        ? 'functions run remotely without their closure: move outside variables into the arguments or register a module path'
        : undefined;
  }
}

/** The result was larger than the service limit; records both sizes. */
export class MaxResultSizeExceededError extends TaskFailedError {
  readonly resultSize: number;
  readonly limit: number;
  constructor(info: TaskErrorInfo, ctx: TaskErrorContext) {
    super(info, ctx, 'return a smaller result, or write large outputs to storage and return their location');
    this.resultSize = Number(info.details?.result_size ?? NaN);
    this.limit = Number(info.details?.limit ?? NaN);
  }
}

/** The task ran longer than its timeout and its worker was stopped. */
export class TaskTimeoutError extends TaskFailedError {}

/** The task was cancelled. */
export class TaskCancelledError extends TaskFailedError {}

/** `getResult` on a task that has not finished yet. */
export class TaskPendingError extends FaasError {
  readonly taskId: string;
  readonly state: TaskState;
  constructor(taskId: string, state: TaskState) {
    super(
      `task ${taskId} has not finished (state: ${state})`,
      { taskId, state },
      'wait with client.results([id]) or client.submit(...)',
    );
    this.taskId = taskId;
    this.state = state;
  }
}

/** Build the right TaskFailedError subclass for a remote error. */
export function taskError(info: TaskErrorInfo, ctx: TaskErrorContext): TaskFailedError {
  switch (info.type) {
    case 'MaxResultSizeExceeded':
      return new MaxResultSizeExceededError(info, ctx);
    case 'TaskTimeout':
      return new TaskTimeoutError(info, ctx);
    case 'Cancelled':
      return new TaskCancelledError(info, ctx);
    default:
      return new TaskFailedError(info, ctx);
  }
}
