/**
 * A few receive buffers handed back and forth between a byte source and the reader it serves: a chunk's
 * bytes are received into a buffer that held an earlier chunk's, once the reader has decoded those.
 * Fresh memory per chunk costs a root:// Parquet query twice the major GCs of the same query on the local
 * file, which reads into one reused buffer (parquet/fetch.ts; bench/RESULTS.md "Session 14: root:// —
 * one chunk ahead, reused receive buffers").
 */
export class BufferPool {
  private readonly spare: Buffer[] = [];

  /** `keep`: released buffers held for reuse at most (the one being decoded, the one ahead). */
  constructor(private readonly keep = 2) {}

  /** A buffer of at least `bytes` bytes (its contents are whatever it held before). */
  take(bytes: number): Buffer {
    let best = -1;
    for (let i = 0; i < this.spare.length; i++) {
      const b = this.spare[i];
      if (b.length >= bytes && (best < 0 || b.length < this.spare[best].length)) best = i;
    }
    if (best >= 0) return this.spare.splice(best, 1)[0];
    // A quarter more than asked: the next chunk of the same columns is rarely exactly as long.
    return Buffer.allocUnsafeSlow(Math.ceil(bytes * 1.25));
  }

  /** `b` is no longer read by anyone: keep it for a later `take` (the smallest go first when full). */
  give(b: Buffer): void {
    this.spare.push(b);
    if (this.spare.length > this.keep) {
      this.spare.sort((x, y) => y.length - x.length);
      this.spare.length = this.keep;
    }
  }

  /** Let go of every buffer held. */
  clear(): void {
    this.spare.length = 0;
  }
}
