/**
 * Memory a ROOT reader reuses from one read to the next for its decompressed baskets. A basket's payload
 * lives only while the read that decoded it runs — the columns a read returns are always copies
 * (assemble.ts, entries.ts) — so the next read may overwrite it. Reusing it spares the garbage collector
 * several MB of fresh arrays per chunk (bench/RESULTS.md "Session 14: ROOT ÷ Parquet").
 *
 * One read holds the arena at a time (`acquire`/`release`): a read that overlaps another one on the same
 * reader (an async read started while another waits for its bytes) allocates as before.
 */

/** Reads whose baskets need more than this (a whole big file at once) allocate beyond it instead. */
const MAX_BYTES = 64 << 20;

/** Payloads start 8-byte aligned, as in a fresh array (typed views of any width stay possible). */
const ALIGN = 8;

/**
 * One reader's decompressed-basket memory, bump-allocated within a read and reused by the next one.
 *
 * @example
 * ```ts
 * const held = arena.acquire();
 * try {
 *   const payload = rootDecompressSync(stored, objlen, held ? arena.alloc : undefined);
 * } finally {
 *   if (held) arena.release();
 * }
 * ```
 */
export class BasketArena {
  private arena = new Uint8Array(0);
  /** Bytes handed out in the current read, including those that did not fit (they size the next arena). */
  private used = 0;
  private busy = false;

  /** Take the arena for one read; false when another read holds it (that read then allocates). */
  acquire(): boolean {
    if (this.busy) return false;
    this.busy = true;
    this.used = 0;
    return true;
  }

  /** Give it back at the end of the read; it grows to what this read wanted, for the next one. */
  release(): void {
    if (this.used > this.arena.length && this.used <= MAX_BYTES)
      this.arena = new Uint8Array(Math.min(MAX_BYTES, Math.ceil(this.used * 1.25)));
    this.busy = false;
  }

  /** `n` bytes for a decompressed payload, valid until the read ends (not zeroed: the codec fills them). */
  readonly alloc = (n: number): Uint8Array => {
    const start = this.used;
    const end = start + n;
    this.used = end + ((ALIGN - (end % ALIGN)) % ALIGN);
    return end <= this.arena.length ? this.arena.subarray(start, end) : new Uint8Array(n);
  };
}
