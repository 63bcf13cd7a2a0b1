/**
 * Worker process entry: forked by the pool (IPC), or started by a batch-job block and connected back
 * to the agent over TCP (worker-connect.ts; chosen when `RISTRETTO_AGENT` is set). Runs `concurrency`
 * tasks at a time; imported function modules and `ctx.state` stay in memory between tasks, so a
 * function is compiled once per worker and its JIT state survives.
 */
import { pathToFileURL } from 'node:url';
import { decodeFrameRaw, encodeFrame, packValue, unpackValue } from '../codec.ts';
import { validate } from '../protocol-schemas.ts';
import { parseJson } from '../schema.ts';
import type { TaskErrorInfo } from '../protocol.ts';
import type {
  DoneFrameHeader,
  RunFrameHeader,
  TaskContext,
  ToWorker,
  WorkerDone,
  WorkerRun,
} from './worker-messages.ts';
import { ipcTransport, socketTransport, type WorkerTransport } from './worker-connect.ts';
import { importModule } from './import-module.ts';
import { hookVerifiedLoads, verifiedUrl } from './verified-load.ts';
import { BUILT_WORKER_ENV, IMPORT_SOURCE } from './sea-role.ts';

/** Set before the first message is handled (see the end of this file). */
let transport: WorkerTransport;

type Fn = (args: unknown, ctx: TaskContext) => unknown;

const loaded = new Map<string, Fn>();
/** Failed imports per function hash. */
const failedLoads = new Map<string, number>();
const state = new Map<string, unknown>();
const endpoint = process.env.RISTRETTO_ENDPOINT_NAME ?? '';
const workerIndex = Number(process.env.RISTRETTO_WORKER_INDEX ?? 0);

let done: WorkerDone[] = [];
let flushScheduled = false;
/** Result messages handed to the transport and not yet written out of this process. */
let unsent = 0;
/** Results finished in the same turn go back in one message. */
function finish(r: WorkerDone): void {
  // Messages and stacks are capped (protocol-schemas.ts refuses longer ones): keep the start.
  if (r.error)
    r.error = {
      ...r.error,
      message: clip(r.error.message),
      ...(r.error.stack !== undefined ? { stack: clip(r.error.stack) } : {}),
    };
  done.push(r);
  if (flushScheduled) return;
  flushScheduled = true;
  setImmediate(flush);
}

function flush(): void {
  flushScheduled = false;
  if (done.length === 0) return;
  const header: DoneFrameHeader = { results: new Array(done.length) };
  const blobs: Uint8Array[] = [];
  for (let i = 0; i < done.length; i++) {
    const { result, ...entry } = done[i];
    header.results[i] = result ? { ...entry, blob: blobs.push(result) - 1 } : entry;
  }
  done = [];
  unsent++;
  // Written out (or the channel is gone, and this worker with it): queued tasks may start now.
  transport.send({ type: 'done', frame: encodeFrame(header, blobs) }, () => {
    unsent--;
    startNext();
  });
}

const MAX_ERROR_TEXT = 64 * 1024;
function clip(text: string): string {
  return text.length <= MAX_ERROR_TEXT
    ? text
    : `${text.slice(0, MAX_ERROR_TEXT)}... (${text.length - MAX_ERROR_TEXT} more characters)`;
}

/** A step of a task that failed, with the error report to send; caught in this file, never thrown out of it. */
class StepError extends Error {
  constructor(readonly info: TaskErrorInfo) {
    super(info.message);
  }
}

async function load(msg: WorkerRun): Promise<Fn> {
  let fn = loaded.get(msg.hash);
  if (fn) return fn;
  let mod: { default?: unknown };
  try {
    // From the bytes checked against the hash (verified-load.ts): the cache file is writable by tasks.
    // Node keeps a failed import by URL: after a failure, a new URL lets a repaired file load.
    mod = (await importModule(verifiedUrl(msg.path, msg.hash, failedLoads.get(msg.hash)))) as {
      default?: unknown;
    };
  } catch (e) {
    failedLoads.set(msg.hash, (failedLoads.get(msg.hash) ?? 0) + 1);
    throw new StepError({
      type: 'FunctionLoadFailed',
      message: `importing the function module failed: ${(e as Error).message}`,
      stack: (e as Error).stack,
    });
  }
  if (typeof mod.default !== 'function') {
    throw new StepError({
      type: 'FunctionLoadFailed',
      message: `the function module's default export is ${typeof mod.default}, not a function`,
    });
  }
  fn = mod.default as Fn;
  loaded.set(msg.hash, fn);
  return fn;
}

/** Abort controllers of the tasks running now. */
const controllers = new Map<string, AbortController>();

async function run(msg: WorkerRun): Promise<void> {
  const started = Date.now();
  const abort = new AbortController();
  controllers.set(msg.task_id, abort);
  try {
    const fn = await load(msg);
    let args: unknown;
    try {
      // Decoders of BinarySerializable types live in the function's bundle, not here: hand the parts over.
      args = unpackValue(msg.args, { serializable: (tag, header, buffers) => ({ binaryTag: tag, header, buffers }) });
    } catch (e) {
      throw new StepError({
        type: 'SerializationError',
        message: `decoding the arguments failed: ${(e as Error).message}`,
      });
    }
    let value: unknown;
    try {
      value = await fn(args, {
        taskId: msg.task_id,
        attempt: msg.attempt,
        endpoint,
        worker: workerIndex,
        state,
        signal: abort.signal,
      });
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      throw new StepError({ type: 'FunctionError', message: `${err.name}: ${err.message}`, stack: err.stack });
    }
    let packed: Buffer;
    try {
      packed = packValue(value);
    } catch (e) {
      throw new StepError({
        type: 'SerializationError',
        message: `encoding the result failed: ${(e as Error).message}`,
      });
    }
    if (packed.byteLength > msg.max_result_bytes) {
      throw new StepError({
        type: 'MaxResultSizeExceeded',
        message: `result of ${packed.byteLength} bytes exceeds the limit of ${msg.max_result_bytes} bytes`,
        details: { result_size: packed.byteLength, limit: msg.max_result_bytes },
      });
    }
    finish({ task_id: msg.task_id, ok: true, result: packed, started_at: started, completed_at: Date.now() });
  } catch (e) {
    const info: TaskErrorInfo =
      e instanceof StepError
        ? e.info
        : { type: 'FunctionError', message: String((e as Error)?.message ?? e), stack: (e as Error)?.stack };
    finish({ task_id: msg.task_id, ok: false, error: info, started_at: started, completed_at: Date.now() });
  } finally {
    controllers.delete(msg.task_id);
  }
}

// The pool sends at most `concurrency` tasks to run plus a few queued ones; they start in arrival
// order as slots free up (the pool mirrors this bookkeeping to know which tasks are running).
const concurrency = Math.max(1, Number(process.env.RISTRETTO_WORKER_CONCURRENCY ?? 1));
const waiting: WorkerRun[] = [];
let running = 0;
function startNext(): void {
  // A finished task's result leaves this process before another task starts. A task that kills its
  // worker (out of memory, process.exit) would otherwise take that result with it, and the pool,
  // which mirrors what runs here from the results it gets, would count the death against the
  // finished task and rerun the one that caused it as if it had never started (flush calls this
  // again once the result is written).
  if (done.length > 0 || unsent > 0) return;
  while (running < concurrency) {
    const msg = waiting.shift();
    if (!msg) break;
    running++;
    void run(msg).finally(() => {
      running--;
      startNext();
    });
  }
}
function onMessage(msg: ToWorker): void {
  if (msg?.type === 'run' && msg.frame instanceof Uint8Array) {
    let header: RunFrameHeader;
    let blobs: Uint8Array[];
    try {
      const frame = decodeFrameRaw(msg.frame);
      header = validate.runFrame.check(parseJson(frame.json), 'run frame');
      blobs = frame.blobs;
    } catch (e) {
      // Only the agent talks to a worker: a frame it cannot have meant is reported, not run.
      process.stderr.write(`[faas-worker ${workerIndex}] ignored a malformed run frame: ${(e as Error).message}\n`);
      return;
    }
    for (let i = 0; i < header.tasks.length; i++) {
      const t = header.tasks[i];
      const path = transport.localPath(t.hash) ?? header.paths[t.hash];
      const args = blobs[i];
      if (path === undefined || args === undefined) {
        const now = Date.now();
        finish({
          task_id: t.task_id,
          ok: false,
          error: { type: 'SerializationError', message: 'the run frame has no module path or arguments for this task' },
          started_at: now,
          completed_at: now,
        });
        continue;
      }
      waiting.push({
        task_id: t.task_id,
        hash: t.hash,
        path,
        args,
        attempt: t.attempt,
        max_result_bytes: header.max_result_bytes,
      });
    }
    startNext();
  } else if (msg?.type === 'cancel' && typeof msg.task_id === 'string') {
    const i = waiting.findIndex((t) => t.task_id === msg.task_id);
    if (i >= 0) waiting.splice(i, 1);
    else controllers.get(msg.task_id)?.abort(new Error(`task ${msg.task_id} was cancelled`));
  }
}
// Started from the built entry (pool.ts), this worker has no TypeScript loader: a function that
// imports a TypeScript module of this installation gets it built (cached) instead.
if (process.env[BUILT_WORKER_ENV] === '1')
  (globalThis as Record<symbol, unknown>)[Symbol.for(IMPORT_SOURCE)] = async (file: string) => {
    // By URL, so that no bundle of this file (the single executable's) takes in esbuild.
    const url = new URL('../../processor/build-cache.mjs', import.meta.url).href;
    const { cachedBuild } = (await import(url)) as typeof import('../../processor/build-cache.mjs');
    return import(pathToFileURL((await cachedBuild(file, 'runtime')).file).href);
  };

// Before `ready`: the hook starts Node's loader thread, which would otherwise delay the first task.
hookVerifiedLoads();
// No top-level await: the single-executable endpoint bundles this file as CommonJS.
void (process.env.RISTRETTO_AGENT ? socketTransport() : Promise.resolve(ipcTransport())).then((t) => {
  transport = t;
  t.onMessage(onMessage);
  t.send({ type: 'ready' });
});
