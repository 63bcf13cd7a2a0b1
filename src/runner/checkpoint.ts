/**
 * Checkpoints of a run: the finished prefix of work items (items merge in a fixed order, so "the
 * first `done` items" describes them exactly), the merged accumulator of that prefix, and the metrics
 * so far. One file, written atomically (temp file + rename), so a run killed at any moment leaves
 * either the previous checkpoint or the new one.
 *
 * Layout: "RSCK" | u32 header length H | H bytes of JSON header | zero padding to 8 | encoded accumulator.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { decode } from '../accumulate/index.ts';
import { itemKey, type WorkItem } from '../dataset/chunking.ts';
import type { SkippedFile } from '../dataset/preprocess.ts';
import { RistrettoError } from '../errors/index.ts';

const MAGIC = [0x52, 0x53, 0x43, 0x4b]; // "RSCK"
const VERSION = 1;

/** The checkpoint is unreadable or belongs to another job. */
export class CheckpointError extends RistrettoError {}

/** Totals carried over from the interrupted run so the final metrics cover the whole job. */
export interface CarriedMetrics {
  events: number;
  bytesRead: number;
  columns: string[];
  processSeconds: number;
  chunkSeconds: number[];
  retries: number;
  skipped: SkippedFile[];
}

export interface CheckpointHeader {
  readonly version: number;
  /**
   * Identity of the job: the hash of the processor bundle whose process() ran the merged chunks + dataset
   * metadata + the exact list of work items.
   */
  readonly jobKey: string;
  /** The same without the processor: the work the chunks cover (absent in checkpoints of older versions). */
  readonly workKey?: string;
  /** Work items [0, done) are merged into the stored accumulator. */
  readonly done: number;
  readonly total: number;
  readonly metrics: CarriedMetrics;
  readonly writtenAt: string;
}

export interface Checkpoint {
  readonly header: CheckpointHeader;
  readonly accumulator: unknown;
}

/** Default checkpoint location inside an output folder. */
export function checkpointPath(outDir: string): string {
  return join(outDir, '.ristretto-checkpoint.bin');
}

/** Key binding a checkpoint to one processor, the datasets' metadata and one list of work items. */
export function jobKey(processorHash: string, items: readonly WorkItem[], metadata: unknown = {}): string {
  const h = createHash('sha256').update(processorHash).update('\n').update(JSON.stringify(metadata));
  for (const it of items) h.update('\n').update(itemKey(it));
  return h.digest('hex');
}

/** Key of the work alone (datasets' metadata and the list of work items), whatever processor runs it. */
export function workKey(items: readonly WorkItem[], metadata: unknown = {}): string {
  return jobKey('', items, metadata);
}

/**
 * How `--resume` may use a checkpoint: `continue` (same processor and work: the remaining chunks run), or
 * `postprocess` (every chunk is merged, by an earlier version of the processor file: only postprocess
 * runs). Throws CheckpointError when the checkpoint cannot be used.
 *
 * Why a complete checkpoint survives a changed processor: a user fixes a failing postprocess by editing
 * the processor file, which changes the bundle's hash; the merged total does not depend on postprocess.
 * Whether process() changed too cannot be told from the bundle (one module: helpers, constants and imports
 * are shared by process and postprocess), so the caller says that the chunks were run by the earlier
 * version. A partial checkpoint never continues under another processor: its remaining chunks would be
 * merged with results of different code.
 *
 * @example
 * ```ts
 * const how = resumeMode(prior.header, { jobKey: key, workKey: workKey(items, metadata) }, outDir);
 * if (how === 'postprocess') note('the chunks were run by an earlier version of the processor');
 * ```
 */
export function resumeMode(
  header: CheckpointHeader,
  current: { readonly jobKey: string; readonly workKey: string },
  where: string,
): 'continue' | 'postprocess' {
  if (header.jobKey === current.jobKey) return 'continue';
  const context = { file: checkpointPath(where), done: header.done, total: header.total };
  if (header.workKey !== current.workKey)
    throw new CheckpointError(
      `the checkpoint in ${where} was written for a different job (${header.workKey === undefined ? 'the processor, ' : ''}the dataset files, their metadata or the chunking changed)`,
      context,
      'rerun without --resume to start over, or restore the original dataset and options',
    );
  if (header.done === header.total) return 'postprocess';
  throw new CheckpointError(
    `the checkpoint in ${where} holds ${header.done} of ${header.total} chunks merged by another version of the processor file`,
    context,
    'rerun without --resume to start over (chunks of two versions of process() are never merged), or restore the processor as it was',
  );
}

/** Write a checkpoint atomically. `accumulator` is already encoded (a snapshot taken between merges). */
export async function writeCheckpoint(
  file: string,
  header: Omit<CheckpointHeader, 'version' | 'writtenAt'>,
  accumulator: Uint8Array,
): Promise<void> {
  const json = new TextEncoder().encode(
    JSON.stringify({ ...header, version: VERSION, writtenAt: new Date().toISOString() }),
  );
  const start = (8 + json.length + 7) & ~7;
  const out = new Uint8Array(start + accumulator.length);
  out.set(MAGIC, 0);
  new DataView(out.buffer).setUint32(4, json.length, true);
  out.set(json, 8);
  out.set(accumulator, start);
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, out);
  await rename(tmp, file);
}

/** Read a checkpoint; undefined when there is none. Throws CheckpointError when it is corrupt. */
export async function readCheckpoint(file: string): Promise<Checkpoint | undefined> {
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CheckpointError(
      `cannot read checkpoint ${file}: ${(e as Error).message}`,
      { file },
      'check permissions, or rerun without --resume',
    );
  }
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength).slice(); // own, 8-aligned buffer
  if (bytes.length < 8 || MAGIC.some((m, i) => bytes[i] !== m)) {
    throw new CheckpointError(
      `${file} is not a Ristretto checkpoint`,
      { file },
      'delete it, or rerun without --resume',
    );
  }
  const n = new DataView(bytes.buffer).getUint32(4, true);
  let header: CheckpointHeader;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as CheckpointHeader;
  } catch (e) {
    throw new CheckpointError(
      `checkpoint ${file} is corrupt: ${(e as Error).message}`,
      { file },
      'delete it, or rerun without --resume',
      { cause: e },
    );
  }
  if (header.version !== VERSION) {
    throw new CheckpointError(
      `checkpoint ${file} has version ${header.version}, this Ristretto reads ${VERSION}`,
      { file },
      'rerun without --resume to start over',
    );
  }
  const start = (8 + n + 7) & ~7;
  return { header, accumulator: decode(bytes.subarray(start)) };
}

/**
 * The line that tells the user a failed run's merged chunks are kept, or undefined when there is nothing
 * to tell: no checkpoint in `outDir` written since `sinceMs` (an older one belongs to another run), or
 * none with a chunk in it. Only the header is parsed, not the accumulator.
 *
 * @example
 * savedChunksNote('out', startedAt); // "4 of 8 chunks are saved in out; once the cause is gone …"
 */
export async function savedChunksNote(outDir: string, sinceMs: number): Promise<string | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(checkpointPath(outDir));
  } catch {
    return undefined;
  }
  if (bytes.length < 8 || MAGIC.some((m, i) => bytes[i] !== m)) return undefined;
  let header: CheckpointHeader;
  try {
    header = JSON.parse(bytes.subarray(8, 8 + bytes.readUInt32LE(4)).toString('utf8')) as CheckpointHeader;
  } catch {
    return undefined;
  }
  if (!(header.done > 0) || !(Date.parse(header.writtenAt) >= sinceMs)) return undefined;
  // --resume checks that the work is the same: a file copied again has another identity and starts over.
  return `${header.done} of ${header.total} chunks are saved in ${outDir}; once the cause is gone (same files, processor and options), rerun the same command with --resume to continue`;
}

export async function removeCheckpoint(file: string): Promise<void> {
  await rm(file, { force: true });
}
