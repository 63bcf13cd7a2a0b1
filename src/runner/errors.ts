/**
 * Errors of a run, each carrying the chunk it happened on. They cross thread (and later network)
 * boundaries as plain `ChunkFailure` objects and are revived on the other side with the same class.
 */
import { nameOnce, RistrettoError, UserCodeError } from '../errors/index.ts';
import type { WorkItem } from '../dataset/chunking.ts';
import { SourceUnreachableError } from '../io/source-error.ts';

/** Context fields every chunk error carries. */
export function chunkContext(item: WorkItem): Record<string, unknown> {
  return {
    dataset: item.dataset,
    file: item.file,
    tree: item.tree,
    entryStart: item.entryStart,
    entryStop: item.entryStop,
  };
}

/** "dataset zmm, file /x/a.root (tree Events), entries [0, 1000)". */
export function describeItem(item: WorkItem): string {
  // Parquet and Arrow files have no trees: the name would only confuse
  const tree = /\.root$/i.test(item.file.replace(/[?#].*$/, '')) ? ` (tree ${item.tree})` : '';
  return `dataset ${item.dataset}, file ${item.file}${tree}, entries [${item.entryStart}, ${item.entryStop})`;
}

/**
 * What the user's code threw, for a message: `TypeError: …` (the name of a plain `Error` left out), or
 * the value itself when it is not an Error (`throw 'oops'`).
 */
export function thrownText(e: unknown): string {
  if (!(e instanceof Error)) return `${typeof e === 'string' ? JSON.stringify(e) : String(e)} (thrown, not an Error)`;
  return `${e.name === 'Error' ? '' : `${e.name}: `}${e.message}`;
}

/** The processor threw (or rejected) while processing a chunk. Not skipped by --skipbadfiles. */
export class ChunkError extends UserCodeError {
  /** The processor's own message. */
  readonly processorMessage: string;
  /** The advice the thrown error carried (ending `processorMessage`), when it was a Ristretto error with one. */
  readonly processorHint: string | undefined;
  /**
   * `options.processorHint`: the thrown error's advice, for an error that crossed a thread or the network
   * as text (a local `cause` carries its own). With it, "fix the processor" is not added: one piece of
   * advice per failure (a misspelt branch says which names exist and how to list them).
   */
  constructor(
    readonly item: WorkItem,
    processorMessage: string,
    remoteStack?: string,
    options?: { cause?: unknown; processorHint?: string },
  ) {
    const given = options?.processorHint ?? (options?.cause as { hint?: unknown } | undefined)?.hint;
    const processorHint = typeof given === 'string' && given ? given : undefined;
    super(
      `processor failed on ${describeItem(item)}: ${processorMessage}`,
      { ...chunkContext(item), remoteStack },
      processorHint ? undefined : 'fix the processor',
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.processorMessage = processorMessage;
    this.processorHint = processorHint;
  }
}

/** The file could not be opened or read (truncated, missing, corrupt, unreachable). Skippable with --skipbadfiles. */
export class FileReadError extends RistrettoError {
  /** The reader's message, its advice included (the reason a skipped file is listed with). */
  readonly readerMessage: string;
  /** The reader's own advice, when it gave one (it ends `readerMessage`). */
  readonly readerHint: string | undefined;
  /** The file's server stayed unreachable through the reader's retries: --retries may get the chunk later. */
  readonly unreachable: boolean;
  /**
   * `options.readerHint` and `options.unreachable` describe a reader error that crossed a thread or the
   * network as text (see ChunkFailure); a local `cause` carries its own.
   */
  constructor(
    readonly item: WorkItem,
    readerMessage: string,
    options?: { cause?: unknown; readerHint?: string; unreachable?: boolean },
  ) {
    const readerHint = options?.readerHint ?? toldHint(options?.cause, readerMessage);
    const told = readerHint && readerMessage.endsWith(` — ${readerHint}`) ? readerHint : undefined;
    const unreachable = options?.unreachable ?? causedBy(options?.cause, SourceUnreachableError);
    // One piece of advice, the same whichever executor read the chunk: the reader's, then --retries when
    // a later attempt may succeed (only here: `ls` or an open in preprocessing has no --retries), then
    // --skipbadfiles. The file is named once: the reader's message starts with it too.
    const what = told ? readerMessage.slice(0, -` — ${told}`.length) : readerMessage;
    super(
      `cannot read ${describeItem(item)}: ${nameOnce(item.file, what)}`,
      chunkContext(item),
      `${told ?? 'check the file'}${unreachable ? '; --retries N retries the chunk later' : ''}, or pass --skipbadfiles to leave unreadable files out`,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.readerMessage = readerMessage;
    this.readerHint = told;
    this.unreachable = unreachable;
  }
}

/**
 * The advice that ends `message`, from `cause` or the error it wraps (a reader error quoting a source
 * error's message, advice included: `adviceUnlessTold` in src/errors), or undefined.
 */
function toldHint(cause: unknown, message: string): string | undefined {
  for (let c = cause, depth = 0; c instanceof Error && depth < 8; c = c.cause, depth++) {
    const hint = (c as { hint?: unknown }).hint;
    if (typeof hint === 'string' && hint && message.endsWith(` — ${hint}`)) return hint;
  }
  return undefined;
}

/** Whether `e` or an error it wraps is a `cls`. */
function causedBy(e: unknown, cls: abstract new (...args: never[]) => Error): boolean {
  let c: unknown = e;
  for (let depth = 0; c instanceof Error && depth < 8; depth++) {
    if (c instanceof cls) return true;
    c = (c as Error).cause;
  }
  return false;
}

/**
 * The worker running a chunk died (crash, out of memory, process.exit in the processor), or, with
 * `connection`, the remote endpoint running it lost its connection to the service: nothing died there,
 * and memory advice would point the user the wrong way. Retryable.
 */
export class WorkerLostError extends RistrettoError {
  /**
   * `opts.retries`: the --retries in effect (when some were given, the hint does not suggest them again);
   * `opts.hint`: advice that replaces the usual one (a processor that called process.exit).
   */
  constructor(
    readonly item: WorkItem,
    detail: string,
    connection = false,
    opts: { retries?: number; hint?: string } = {},
  ) {
    const retry = (opts.retries ?? 0) > 0 ? 'if every attempt fails' : 'retry with --retries N; if it persists';
    super(
      `${connection ? "endpoint's connection lost" : 'worker lost'} while running ${describeItem(item)}: ${detail}`,
      chunkContext(item),
      opts.hint ??
        (connection
          ? `${retry}, check the endpoint's log and network, and that one agent runs per endpoint name`
          : `${retry}, the processor may exhaust memory: lower --chunksize`),
    );
  }
}

/** The run was cancelled before the chunk finished. */
export class CancelledError extends RistrettoError {
  constructor(readonly item?: WorkItem) {
    super(item ? `cancelled: ${describeItem(item)}` : 'cancelled', item ? chunkContext(item) : {});
  }
}

/** Wire form of a chunk failure (structured-clone and JSON safe). */
export interface ChunkFailure {
  readonly kind: 'process' | 'read' | 'lost' | 'cancelled' | 'other';
  /** Processor or reader message (without the chunk prefix). */
  readonly message: string;
  readonly name: string;
  readonly stack?: string;
  /** For `read`: the reader's advice, which ends `message`; for `process`: the thrown error's advice. */
  readonly hint?: string;
  /** For `read`: the file's server stayed unreachable (FileReadError `unreachable`). */
  readonly unreachable?: boolean;
}

/** Turn an error raised by processChunk into its wire form. */
export function toChunkFailure(err: unknown): ChunkFailure {
  if (err instanceof ChunkError)
    return {
      kind: 'process',
      message: err.processorMessage,
      name: err.name,
      stack: (err.context.remoteStack as string | undefined) ?? causeStack(err),
      ...(err.processorHint ? { hint: err.processorHint } : {}),
    };
  if (err instanceof FileReadError)
    return {
      kind: 'read',
      message: err.readerMessage,
      name: err.name,
      stack: causeStack(err),
      ...(err.readerHint ? { hint: err.readerHint } : {}),
      ...(err.unreachable ? { unreachable: true } : {}),
    };
  if (err instanceof WorkerLostError) return { kind: 'lost', message: err.message, name: err.name };
  if (err instanceof CancelledError) return { kind: 'cancelled', message: err.message, name: err.name };
  const e = err instanceof Error ? err : new Error(String(err));
  return { kind: 'other', message: e.message, name: e.name, stack: e.stack };
}

/** Rebuild the typed error for `item` from its wire form. */
export function fromChunkFailure(item: WorkItem, f: ChunkFailure): Error {
  switch (f.kind) {
    case 'process':
      return new ChunkError(
        item,
        f.message,
        f.stack,
        typeof f.hint === 'string' ? { processorHint: f.hint } : undefined,
      );
    case 'read':
      return new FileReadError(item, f.message, {
        ...(typeof f.hint === 'string' ? { readerHint: f.hint } : {}),
        unreachable: f.unreachable === true,
      });
    case 'lost':
      return new WorkerLostError(item, f.message);
    case 'cancelled':
      return new CancelledError(item);
    default: {
      const e = new RistrettoError(`${f.name}: ${f.message} (${describeItem(item)})`, {
        ...chunkContext(item),
        remoteStack: f.stack,
      });
      return e;
    }
  }
}

function causeStack(err: Error): string | undefined {
  return err.cause instanceof Error ? err.cause.stack : undefined;
}
