// npx tsx bench/faas-store.ts [--tasks 3000] [--rounds 3] [--sync-full]
//
// What the FaaS service's database costs per chunk, and what fewer commits could save: the two store
// calls of a chunk (its submission, stored as dispatched, and its 1.6 kB result) on the service's own
// Store (WAL, synchronous=NORMAL, a file in the temp folder), in three ways, taking turns:
//   two   — as the service does it: the submission and the result commit on their own;
//   one   — a result's commit carrying the next submission (one BEGIN IMMEDIATE around both);
//   none  — one transaction around the whole round: the statements alone, no commit at all.
// Prints CPU µs per chunk (and the kernel's part), wall µs per chunk and WAL frames (pages) written per
// chunk. --sync-full: synchronous=FULL instead of the service's NORMAL (an fsync of the WAL per commit).
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { uuidv7 } from '../src/faas/ids.ts';
import { Store } from '../src/faas/service/db.ts';
import { benchArgs, flag, int } from './lib.ts';

const {
  tasks: N,
  rounds: ROUNDS,
  'sync-full': SYNC_FULL,
} = benchArgs("What the FaaS service's database costs per chunk, and what fewer commits could save.", {
  tasks: int('chunks per round', 3000, 1),
  rounds: int('rounds', 3, 1),
  'sync-full': flag("synchronous=FULL instead of the service's NORMAL"),
});
const MODES = ['two', 'one', 'none'] as const;

const dir = mkdtempSync(join(tmpdir(), 'ristretto-faas-store-'));
try {
  const file = join(dir, 'service.db');
  const store = new Store(file);
  if (SYNC_FULL) store.db.pragma('synchronous = FULL');
  const user = store.createUser('bench');
  const functionId = store.registerFunction(user.id, 'f'.repeat(64), 'export default () => 0', 'chunk', null, {
    visibility: 'private',
    userIds: [],
  });
  const endpoint = store.upsertEndpoint(user.id, 'ep0', undefined, undefined);
  // Sizes of an ADL chunk's: ~1.1 kB of packed arguments, a 1.6 kB packed reply.
  const args = new Uint8Array(1100).fill(7);
  const result = new Uint8Array(1643).fill(9);
  const submit = () => {
    const id = uuidv7();
    store.insertTasks(user.id, [
      {
        id,
        function_id: functionId,
        endpoint_id: endpoint.id,
        args,
        max_attempts: 3,
        timeout_ms: 0,
        dispatch: true,
        grp: user.id,
      },
    ]);
    return id;
  };
  const complete = (id: string) =>
    store.complete(endpoint.id, [
      { task_id: id, state: 'success', result, error: null, started_at: Date.now(), completed_at: Date.now() },
    ]);
  const run = (mode: (typeof MODES)[number], n: number) => {
    let prev = submit();
    const chunk = () => {
      if (mode === 'one')
        store.atomically(() => {
          complete(prev);
          prev = submit();
        });
      else {
        complete(prev);
        prev = submit();
      }
    };
    if (mode === 'none') store.atomically(() => Array.from({ length: n }, chunk));
    else for (let i = 0; i < n; i++) chunk();
    complete(prev);
  };
  // WAL frames: the file's growth with checkpoints off, in a pass of its own (checkpoints cost CPU too).
  const walFrames = (mode: (typeof MODES)[number]) => {
    store.db.pragma('wal_checkpoint(TRUNCATE)');
    store.db.pragma('wal_autocheckpoint = 0');
    run(mode, 200);
    const frames = statSync(`${file}-wal`).size / (4096 + 24);
    store.db.pragma('wal_autocheckpoint = 1000');
    store.db.pragma('wal_checkpoint(TRUNCATE)');
    return frames / 200;
  };
  for (const m of MODES) run(m, 300); // warm-up: JIT, page cache, a table of some size
  const pages = new Map(MODES.map((m) => [m, walFrames(m)]));
  for (let r = 0; r < ROUNDS; r++) {
    const line: string[] = [];
    for (const m of MODES) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      run(m, N);
      const wall = ((performance.now() - t0) * 1000) / N;
      const c = process.cpuUsage(c0);
      line.push(
        `${m} ${((c.user + c.system) / N).toFixed(0)} µs (sys ${(c.system / N).toFixed(0)}), wall ${wall.toFixed(0)} µs, ${pages.get(m)?.toFixed(1)} WAL pages`,
      );
    }
    console.log(`${N} chunks${SYNC_FULL ? ' (synchronous=FULL)' : ''}, per chunk: ${line.join(' | ')}`);
  }
  store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
