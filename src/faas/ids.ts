/**
 * Time-ordered task ids: UUID version 7 (RFC 9562) with a 12-bit counter within the millisecond, so
 * ids made by this process sort in creation order.
 *
 * Why not random (v4) ids: tasks are keyed by id in SQLite, and random keys land on random pages of
 * the index; a batch of thousands of tasks then dirties (and writes to the WAL) most of the index.
 * Ordered keys append to the index's last pages (measured: see bench/RESULTS.md, batch submission).
 */
import { randomFillSync } from 'node:crypto';

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
/** Random bytes are drawn in blocks: one system call per 400 ids instead of one per id. */
const pool = Buffer.alloc(4000);
let poolAt = pool.length;
let lastMs = -1;
let counter = 0;

function randomBytes10(): number {
  if (poolAt + 10 > pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  const at = poolAt;
  poolAt += 10;
  return at;
}

/** A new UUIDv7 string, later in sort order than every earlier one from this process. */
export function uuidv7(now = Date.now()): string {
  const at = randomBytes10();
  if (now > lastMs) {
    lastMs = now;
    // A random start in the lower half of the counter leaves room to count up within the millisecond.
    counter = ((pool[at] << 8) | pool[at + 1]) & 0x7ff;
  } else if (++counter > 0xfff) {
    // 4096 ids in one millisecond: borrow the next millisecond (RFC 9562, section 6.2).
    lastMs++;
    counter = 0;
  }
  const ms = lastMs;
  const hi = Math.floor(ms / 0x10000); // top 32 of the 48 timestamp bits
  const lo = ms % 0x10000;
  const b = pool;
  return (
    HEX[(hi >>> 24) & 0xff] +
    HEX[(hi >>> 16) & 0xff] +
    HEX[(hi >>> 8) & 0xff] +
    HEX[hi & 0xff] +
    '-' +
    HEX[lo >>> 8] +
    HEX[lo & 0xff] +
    '-' +
    HEX[0x70 | (counter >>> 8)] +
    HEX[counter & 0xff] +
    '-' +
    HEX[0x80 | (b[at + 2] & 0x3f)] +
    HEX[b[at + 3]] +
    '-' +
    HEX[b[at + 4]] +
    HEX[b[at + 5]] +
    HEX[b[at + 6]] +
    HEX[b[at + 7]] +
    HEX[b[at + 8]] +
    HEX[b[at + 9]]
  );
}
