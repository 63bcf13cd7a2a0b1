/**
 * Run a flush function at most once per `lingerMs`: immediately (next turn) when the last flush was
 * longer ago, otherwise when the linger time is up. A lone message therefore leaves at once (low
 * latency), while a busy stream is cut into few large frames (few syscalls, few transactions).
 */
export class Coalescer {
  private scheduled = false;
  private last = 0;

  constructor(
    private readonly flush: () => void,
    private readonly lingerMs: number,
  ) {}

  schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    const wait = this.last + this.lingerMs - performance.now();
    if (wait <= 0) setImmediate(() => this.run());
    else setTimeout(() => this.run(), wait);
  }

  private run(): void {
    this.scheduled = false;
    this.last = performance.now();
    this.flush();
  }
}
