/**
 * The endpoint half of the FaaS executor: what the registered chunk function runs inside a warm
 * endpoint worker process. It keeps processor bundles loaded by hash and open readers across tasks, and
 * runs each work item through the same `processChunk` as the local executors, and each batch (a runner
 * merge group) through the same `processBatch` as a thread-pool worker, so results are byte-identical
 * to theirs. Readers that read ahead (root://) are told the next item of the batch and, after a
 * task's last item, that none follows: the next task goes to whichever worker asks first, so a guess
 * there read another worker's chunk for nothing.
 *
 * Bundles arrive once per endpoint (a `stage` task) and are kept on the endpoint's disk, in the bundle
 * cache of its Ristretto installation, where every worker of the endpoint finds them by hash.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { importModule } from '../../../src/faas/endpoint/import-module.ts';
import { bundleDir, isBundleLoaded, loadBundle } from '../../../src/processor/bundle.ts';
import type { Processor } from '../../../src/processor/types.ts';
import { CancelledError, toChunkFailure } from '../../../src/runner/errors.ts';
import { processBatch } from '../../../src/runner/process-batch.ts';
import { type ChunkMetrics, createChunkState, processChunk } from '../../../src/runner/process-chunk.ts';
import { EndpointSetupError } from '../errors.ts';
import { deleteStaged, stageOut } from '../stageout.ts';
import {
  type BatchArgs,
  CHUNK_WIRE_VERSION,
  type ChunkArgs,
  type ReplyMetrics,
  type StageArgs,
  type StageOutTarget,
  type TaskArgs,
  type TaskReply,
} from '../wire.ts';

/** What the FaaS worker passes as the function's second argument (the fields used here). */
export interface RemoteContext {
  readonly taskId: string;
  /** Aborted when the task is cancelled (e.g. another copy of the chunk already won). */
  readonly signal?: AbortSignal;
}

const state = createChunkState();

/**
 * Where this endpoint keeps bundles: the installation's bundle cache, or `RISTRETTO_BUNDLE_DIR` (set by
 * the single-executable endpoint, which has no installation to hold them).
 */
const remoteBundleDir = process.env.RISTRETTO_BUNDLE_DIR || bundleDir;

/**
 * `ristretto faas endpoint start --allow-bundle HASH`: the processor bundles this endpoint's admin
 * allows (the endpoint passes them to its workers). Unset: any bundle a permitted user sends.
 */
const allowedBundles = process.env.RISTRETTO_ALLOWED_BUNDLES?.split(',').filter(Boolean);

function refused(hash: string): TaskReply | undefined {
  if (!allowedBundles || allowedBundles.includes(hash)) return undefined;
  return {
    kind: 'failed',
    failure: {
      kind: 'other',
      name: 'BundleNotAllowedError',
      message: `this endpoint runs only the processor bundles its admin allowed with --allow-bundle; bundle ${String(hash).slice(0, 64)} is not one of them`,
    },
  };
}

/** Entry point called by the registered chunk function. */
export async function runTask(args: TaskArgs, ctx: RemoteContext): Promise<TaskReply> {
  if (!args || args.v !== CHUNK_WIRE_VERSION) return { kind: 'version-mismatch', endpointVersion: CHUNK_WIRE_VERSION };
  // Checked before anything of the bundle is written or loaded.
  const no = refused(args.hash);
  if (no) return no;
  if (args.op === 'stage') return stage(args);
  return args.op === 'batch' ? batch(args, ctx) : chunk(args, ctx);
}

async function stage(args: StageArgs): Promise<TaskReply> {
  const cached = isBundleLoaded(args.hash) || existsSync(bundleFile(args.hash));
  try {
    // Loading here (not only writing) reports a bundle that cannot load at this site once, up front.
    await loadBundle({ hash: args.hash, code: args.code }, { dir: remoteBundleDir, importer: importModule });
  } catch (e) {
    return { kind: 'failed', failure: toChunkFailure(e) };
  }
  return { kind: 'staged-bundle', hash: args.hash, cached };
}

async function chunk(args: ChunkArgs, ctx: RemoteContext): Promise<TaskReply> {
  const processor = await processorOr(args.hash);
  if (!('process' in processor)) return processor;
  let result;
  try {
    result = await processChunk(args.item, processor, state, {
      metadata: args.metadata,
      prefetch: args.prefetch,
      processorKey: args.hash,
      signal: ctx.signal,
      // this worker's next task is whichever the service hands it: read nothing ahead past this chunk
      next: null,
    });
  } catch (e) {
    return { kind: 'failed', failure: toChunkFailure(e) };
  }
  return reply(result.accumulator, result.metrics, args.stageout, ctx);
}

/** A merge group: its items summed here in order, one reply for all (see BatchArgs). */
async function batch(args: BatchArgs, ctx: RemoteContext): Promise<TaskReply> {
  const processor = await processorOr(args.hash);
  if (!('process' in processor)) return processor;
  if (!Array.isArray(args.items) || args.items.length === 0)
    return failed(
      new EndpointSetupError('a batch task without work items', {}, 'run the same Ristretto on both sides'),
    );
  let at = 0;
  let result;
  try {
    result = await processBatch(args.items, processor, state, {
      metadata: args.metadata,
      prefetch: args.prefetch,
      processorKey: args.hash,
      signal: ctx.signal,
      onItem: (k) => {
        at = k;
      },
      // each item reads the next of the batch ahead; after the last, nothing (as a pool worker)
      after: null,
    });
  } catch (e) {
    return { kind: 'failed', failure: toChunkFailure(e), index: at };
  }
  return reply(result.accumulator, result.metrics, args.stageout, ctx);
}

/** The processor of a staged bundle, or the reply that says why there is none. */
async function processorOr(hash: string): Promise<Processor<unknown> | TaskReply> {
  try {
    return (await processorFor(hash)) ?? { kind: 'missing-bundle', hash };
  } catch (e) {
    return failed(e);
  }
}

function failed(e: unknown): TaskReply {
  return { kind: 'failed', failure: toChunkFailure(e) };
}

/** The result inline, or staged out when it is at least the stage-out threshold. */
async function reply(
  accumulator: Uint8Array,
  metrics: ChunkMetrics | readonly ChunkMetrics[],
  so: StageOutTarget | undefined,
  ctx: RemoteContext,
): Promise<TaskReply> {
  const m: ReplyMetrics = metrics;
  // A cancelled copy's result is never fetched: writing it would leave an orphan in the store.
  const cancelled = (): TaskReply => failed(new CancelledError());
  if (so && accumulator.byteLength >= so.thresholdBytes) {
    if (ctx.signal?.aborted) return cancelled();
    try {
      const key = `${so.runId}/${ctx.taskId}.bin`;
      const ref = await stageOut(so.location, key, accumulator);
      if (ctx.signal?.aborted) {
        await deleteStaged(so.location, key);
        return cancelled();
      }
      return { kind: 'staged', ref, metrics: m };
    } catch (e) {
      return failed(e);
    }
  }
  return { kind: 'inline', accumulator, metrics: m };
}

function bundleFile(hash: string): string {
  return join(remoteBundleDir, `${hash}.mjs`);
}

async function processorFor(hash: string): Promise<Processor<unknown> | undefined> {
  if (!/^[0-9a-f]{64}$/.test(hash))
    throw new EndpointSetupError(
      `invalid processor bundle hash "${String(hash).slice(0, 100)}" in a chunk task`,
      { hash: String(hash).slice(0, 100) },
      'the client and this endpoint run different Ristretto versions: install the same one on both',
    );
  if (isBundleLoaded(hash)) return loadBundle({ hash, code: '' }, { dir: remoteBundleDir, importer: importModule });
  const file = bundleFile(hash);
  if (!existsSync(file)) return undefined;
  return loadBundle({ hash, code: await readFile(file, 'utf8') }, { dir: remoteBundleDir, importer: importModule });
}
