/**
 * Worker threads for fit scans. Each thread loads the bundled fit task module once (thread-worker.ts
 * and what it imports, npm packages external, content-addressed in the bundle cache like the threads
 * executor's runtime), receives the background-only workspace with its first patch, and then only
 * patches. One patch per thread at a time; the next goes to whichever thread is free first.
 *
 * A thread that dies (out of memory, a crash in native code) is replaced; its patch is tried once
 * more and then reported as failed, naming the patch.
 */
import { createHash } from 'node:crypto';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { bundleDir, bundleESM, writeContentAddressed } from '../processor/bundle.ts';
import type { NamedPatch } from './patchset.ts';
import type { ScanOptions } from './scan.ts';
import type { ScanRecord } from './scan-results.ts';
import type { WorkspaceSpec } from './spec.ts';
import { FIT_TASK_VERSION, type FitTaskReply, type FitTestArgs } from './task.ts';

const ENTRY = fileURLToPath(new URL('./thread-worker.ts', import.meta.url));

const runtimes = new Map<string, Promise<URL>>();

/** URL of the bundled thread entry `entry` (default thread-worker.ts; built once per process). */
export function fitWorkerRuntime(entry: string = ENTRY): Promise<URL> {
  let runtime = runtimes.get(entry);
  if (!runtime) {
    runtime = (async () => {
      const code = await bundleESM(entry, 'runtime');
      const hash = createHash('sha256').update(code).digest('hex');
      return pathToFileURL(await writeContentAddressed(bundleDir, `fit-worker-${hash}.mjs`, code));
    })().catch((e: unknown) => {
      runtimes.delete(entry);
      throw e;
    });
    runtimes.set(entry, runtime);
  }
  return runtime;
}

/** Something that tests patches and reports each result as it finishes. */
export interface PatchRunner {
  run(
    bkg: WorkspaceSpec,
    wsHash: string,
    patches: readonly NamedPatch[],
    options: ScanOptions,
    emit: (r: ScanRecord) => void,
  ): Promise<void>;
}

/** Turns a worker's reply into a result for `patch` (errors name the patch and the place). */
export function recordFromReply(
  patch: NamedPatch,
  reply: FitTaskReply | undefined,
  where: string,
  seconds: number,
): ScanRecord {
  const fail = (error: string): ScanRecord => ({
    name: patch.name,
    values: patch.values,
    ok: false,
    error,
    seconds,
    where,
  });
  if (!reply || typeof reply !== 'object') return fail(`${where} returned no reply`);
  switch (reply.kind) {
    case 'result':
      return { ...reply.item, where };
    case 'version-mismatch':
      return fail(
        `${where} runs fit task revision ${reply.workerVersion}, this client ${FIT_TASK_VERSION}; update Ristretto on one side`,
      );
    case 'bad-request':
      return fail(`${where} refused the task: ${reply.message}`);
    default:
      return fail(`${where} gave an unexpected reply (${String((reply as { kind?: unknown }).kind)})`);
  }
}

interface Slot {
  index: number;
  worker: Worker;
  staged: boolean;
  busy?: { id: number; patch: NamedPatch; started: number; attempt: number };
}

/** `--executor threads`: a pool of worker threads for the duration of one scan. */
export class ThreadPoolRunner implements PatchRunner {
  readonly workers: number;
  /** Source file of the thread entry (default thread-worker.ts); another one answers the same messages, e.g. an instrumented copy. */
  readonly entry: string;

  constructor(workers: number, opts: { entry?: string } = {}) {
    if (!Number.isInteger(workers) || workers < 1)
      throw new RangeError(`workers must be a positive integer, got ${workers}`);
    this.workers = workers;
    this.entry = opts.entry ?? ENTRY;
  }

  async run(
    bkg: WorkspaceSpec,
    wsHash: string,
    patches: readonly NamedPatch[],
    options: ScanOptions,
    emit: (r: ScanRecord) => void,
  ): Promise<void> {
    if (patches.length === 0) return;
    const entry = await fitWorkerRuntime(this.entry);
    const queue: { patch: NamedPatch; attempt: number }[] = patches.map((patch) => ({ patch, attempt: 1 }));
    const slots: Slot[] = [];
    let remaining = patches.length;
    let nextId = 0;
    await new Promise<void>((resolve) => {
      const finish = (slot: Slot, r: ScanRecord) => {
        slot.busy = undefined;
        remaining--;
        emit(r);
        if (remaining === 0) resolve();
        else pump(slot);
      };
      const pump = (slot: Slot) => {
        const next = queue.shift();
        if (!next) return;
        const args: FitTestArgs = { v: FIT_TASK_VERSION, op: 'test', wsHash, patch: next.patch, options };
        // The workspace travels once per thread, with its first patch.
        if (!slot.staged) args.workspace = bkg;
        slot.staged = true;
        slot.busy = { id: nextId++, patch: next.patch, started: performance.now(), attempt: next.attempt };
        slot.worker.postMessage({ id: slot.busy.id, args });
      };
      const start = (index: number): Slot => {
        const slot: Slot = { index, worker: new Worker(entry), staged: false };
        slot.worker.on('message', (m: { id: number; reply: FitTaskReply }) => {
          const b = slot.busy;
          if (!b || m.id !== b.id) return;
          if (m.reply?.kind === 'missing-workspace') {
            // Cannot happen with the workspace sent first; resend it rather than fail the patch.
            slot.staged = false;
            queue.unshift({ patch: b.patch, attempt: b.attempt });
            slot.busy = undefined;
            return pump(slot);
          }
          finish(slot, recordFromReply(b.patch, m.reply, `thread ${index}`, (performance.now() - b.started) / 1000));
        });
        const lost = (why: string) => {
          const b = slot.busy;
          slot.busy = undefined;
          void slot.worker.terminate();
          if (remaining === 0) return;
          const fresh = start(index);
          slots[index] = fresh;
          if (b && b.attempt < 2) queue.unshift({ patch: b.patch, attempt: b.attempt + 1 });
          else if (b)
            return finish(fresh, {
              name: b.patch.name,
              values: b.patch.values,
              ok: false,
              error: `thread ${index} was lost twice while testing ${b.patch.name} (${why})`,
              seconds: (performance.now() - b.started) / 1000,
              where: `thread ${index}`,
            });
          pump(fresh);
        };
        slot.worker.on('error', (e) => lost(e.message));
        slot.worker.on('exit', (code) => {
          if (slots[index] === slot && remaining > 0) lost(`exit code ${code}`);
        });
        return slot;
      };
      for (let i = 0; i < Math.min(this.workers, patches.length); i++) slots.push(start(i));
      for (const s of slots) pump(s);
    });
    const all = slots.splice(0);
    await Promise.all(all.map((s) => s.worker.terminate()));
  }
}
