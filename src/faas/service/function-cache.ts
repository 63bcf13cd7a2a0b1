/**
 * Function code the service sends to agents, kept in memory between dispatches and bounded by bytes.
 * The database holds every function; this only saves reading a hot one again. Unbounded, it kept the
 * code of every function ever dispatched (20 functions of 8 MiB took the heap from 18 to 171 MB, and
 * it never went down: issue 14, probe D12).
 */
export interface CachedFunction {
  hash: string;
  code: string;
  /**
   * Bytes the code takes in a dispatch frame's JSON header: UTF-8, escapes included. A control
   * character is 1 character of code but 6 bytes in the frame, a CJK one 3: counted as characters,
   * frames of such code went past the agent's message limit (see AgentHub.send).
   */
  frameBytes: number;
}

/** Default bound of FunctionCache: room for eight functions of the default maximum size. */
export const FUNCTION_CACHE_BYTES = 64 * 1024 * 1024;

/** Least recently used entries go first once the code held passes `maxBytes` characters (the newest always stays). */
export class FunctionCache {
  private readonly entries = new Map<string, CachedFunction>();
  private held = 0;

  constructor(private readonly maxBytes = FUNCTION_CACHE_BYTES) {}

  /** The cached function, now the most recently used; undefined when not cached. */
  get(functionId: string): CachedFunction | undefined {
    const f = this.entries.get(functionId);
    if (f) {
      // Map order is insertion order: re-inserting makes it the newest.
      this.entries.delete(functionId);
      this.entries.set(functionId, f);
    }
    return f;
  }

  set(functionId: string, f: CachedFunction): void {
    const old = this.entries.get(functionId);
    if (old) {
      this.held -= size(old);
      this.entries.delete(functionId);
    }
    this.entries.set(functionId, f);
    this.held += size(f);
    for (const [id, e] of this.entries) {
      if (this.held <= this.maxBytes || id === functionId) break;
      this.entries.delete(id);
      this.held -= size(e);
    }
  }

  /** Code held, in characters (bytes for ASCII code, as V8 stores it). */
  get bytes(): number {
    return this.held;
  }
}

function size(f: CachedFunction): number {
  return f.code.length + f.hash.length;
}
