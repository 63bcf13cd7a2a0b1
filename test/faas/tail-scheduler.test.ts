/**
 * The service's straggler decisions (TailScheduler) on a real database, with explicit clocks: when a
 * task gets a copy, where it goes, and when it does not. Thresholds are worked out by hand from the
 * policy (factor × median of recent run times, floored at min_ms; TAIL_MOVABLE_PATIENCE × that over
 * round trips for a task not reported running).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ClaimedTask, Store } from '../../src/faas/service/db.ts';
import { TailScheduler } from '../../src/faas/service/scheduler.ts';
import type { TailPolicy } from '../../src/faas/protocol.ts';

const dir = mkdtempSync(join(tmpdir(), 'ristretto-tails-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let store: Store;
let n = 0;
/** Idle slots per endpoint, and the copies sent (what the agent hub would do). */
let idle: Record<string, number>;
let sent: { endpoint: string; task: ClaimedTask }[];
let tails: TailScheduler;
beforeEach(() => {
  store = new Store(join(dir, `t${n++}.db`));
  idle = { a: 0, b: 0, c: 0 };
  sent = [];
  tails = new TailScheduler(store, {
    idleSlots: (e) => idle[e] ?? 0,
    sendCopy: (e, task) => {
      sent.push({ endpoint: e, task });
      return true;
    },
  });
});
afterEach(() => store.close());

const POLICY: TailPolicy = { factor: 3, min_ms: 200, max_copies: 3 };

/** A task of group g submitted to `a` with alternates b and c, tracked and dispatched to `a` at `t`. */
function task(t: number, policy = POLICY, alts = 'a b c'): string {
  const [id] = store.insertTasks('owner', [
    {
      function_id: 'f',
      endpoint_id: 'a',
      args: new Uint8Array([1]),
      max_attempts: 3,
      timeout_ms: 0,
      grp: 'g',
      alts,
      tail: JSON.stringify(policy),
      dispatch: true,
    },
  ]).taskIds;
  tails.track(id, 'f', 'g', alts.split(' '), policy, 0);
  tails.dispatched(id, 'a', t);
  return id;
}

/** Three finished tasks of the group that ran 0.1, 0.2 and 0.5 s (median 0.2 s: threshold 600 ms). */
function history(): void {
  for (const s of [0.1, 0.2, 0.5]) {
    const id = task(0);
    store.complete('a', [
      {
        task_id: id,
        state: 'success',
        result: new Uint8Array([1]),
        error: null,
        started_at: 0,
        completed_at: s * 1000,
      },
    ]);
    tails.finished(id, 1000, s, true);
  }
}

describe('tail scheduler', () => {
  it('copies a running task only past factor × the median run time, into the candidate with the most idle slots', () => {
    history();
    const id = task(10_000);
    tails.started(id, 10_000);
    idle = { a: 5, b: 1, c: 2 };
    expect(tails.tick(10_599)).toBe(0); // 599 ms < 3 × 0.2 s
    expect(tails.tick(10_601)).toBe(1);
    expect(sent.map((s) => s.endpoint)).toEqual(['c']); // not its own endpoint a, though a has most
    expect(store.task(sent[0].task.id)).toMatchObject({ copy_of: id, endpoint_id: 'c', state: 'dispatched' });
    // One live copy at a time.
    expect(tails.tick(20_000)).toBe(0);
  });

  it('judges a task of several units (a batch of chunks) per unit, and records its run time per unit', () => {
    history();
    // 4 units: 4 × (3 × 0.2 s) = 2.4 s.
    const batch = task(10_000, { ...POLICY, units: 4 });
    tails.started(batch, 10_000);
    idle = { a: 0, b: 1, c: 0 };
    expect(tails.tick(12_399)).toBe(0);
    expect(tails.tick(12_401)).toBe(1);
    // A batch of 10 that ran 10 s adds 1 s per unit: recent runs 0.1, 0.2, 0.5, 1 (median 0.5 s), so a
    // single task is a straggler after 1.5 s, not 30 s.
    const done = task(0, { ...POLICY, units: 10 });
    store.complete('a', [
      {
        task_id: done,
        state: 'success',
        result: new Uint8Array([1]),
        error: null,
        started_at: 0,
        completed_at: 10_000,
      },
    ]);
    tails.finished(done, 10_000, 10, true);
    const single = task(20_000);
    tails.started(single, 20_000);
    idle = { a: 0, b: 0, c: 1 };
    expect(tails.tick(21_499)).toBe(0);
    expect(tails.tick(21_501)).toBe(1);
    expect(sent.map((s) => s.endpoint)).toEqual(['b', 'c']);
  });

  it('makes no copy with no idle slot elsewhere, and at most max_copies - 1 over the run', () => {
    history();
    const id = task(10_000);
    tails.started(id, 10_000);
    expect(tails.tick(11_000)).toBe(0); // b and c are full
    idle = { a: 0, b: 1, c: 0 };
    expect(tails.tick(11_000)).toBe(1);
    // The copy is lost: another may be made (max_copies 3 = the task and two copies over the run).
    tails.lost(sent[0].task.id);
    idle = { a: 0, b: 0, c: 1 };
    expect(tails.tick(11_001)).toBe(1);
    tails.lost(sent[1].task.id);
    expect(tails.tick(12_000)).toBe(0);
    expect(sent.map((s) => s.endpoint)).toEqual(['b', 'c']);
  });

  it('waits TAIL_MOVABLE_PATIENCE (4) × the round-trip threshold for a task not reported running', () => {
    // Round trips of the history: dispatched at 0, finished at 1000 → 1 s each; threshold 3 s, × 4 = 12 s.
    history();
    task(10_000);
    idle = { a: 0, b: 1, c: 0 };
    expect(tails.tick(21_999)).toBe(0);
    expect(tails.tick(22_000)).toBe(1);
  });

  it('before any task of the group finished, only a tail timeout makes a straggler; tasks without alternates are not watched', () => {
    const id = task(0, { factor: 3, min_ms: 200, max_copies: 2, timeout_ms: 5000 });
    tails.started(id, 0);
    idle = { a: 0, b: 1, c: 1 };
    expect(tails.tick(4999)).toBe(0);
    expect(tails.tick(5000)).toBe(1);
    const other = task(0, POLICY, 'a');
    tails.started(other, 0);
    expect(tails.size).toBe(1); // only `id`
    // A finished task is forgotten, and so are its copies.
    tails.finished(id, 6000, 6, true);
    expect(tails.size).toBe(0);
    expect(tails.tick(100_000)).toBe(0);
  });

  it('a restarted service watches unfinished tasks with a policy again, counting the copies they had', () => {
    history();
    const id = task(0, { factor: 3, min_ms: 200, max_copies: 2 });
    tails.started(id, 0);
    idle = { a: 0, b: 1, c: 0 };
    expect(tails.tick(1000)).toBe(1);
    const again = new TailScheduler(store, { idleSlots: () => 1, sendCopy: () => true });
    expect(again.size).toBe(1);
    again.dispatched(id, 'a', 0);
    again.started(id, 0);
    // max_copies 2 and one copy made already: no more.
    expect(again.tick(1_000_000)).toBe(0);
  });

  it('a restarted service knows the copies still in flight: no second copy while one lives, another once it is lost', () => {
    history();
    const id = task(0, POLICY); // max_copies 3: the task and up to two copies
    tails.started(id, 0);
    idle = { a: 0, b: 1, c: 0 };
    expect(tails.tick(1000)).toBe(1);
    const copy = sent[0].task.id;
    // The database as a restarted service finds it (its constructor puts everything in flight back to waiting).
    store.close();
    store = new Store(join(dir, `t${n - 1}.db`));
    expect(store.task(copy)).toMatchObject({ copy_of: id, state: 'waiting-for-endpoint', endpoint_id: 'b' });
    const copied: string[] = [];
    const again = new TailScheduler(store, {
      idleSlots: (e) => (e === 'c' ? 1 : 0),
      sendCopy: (e) => (copied.push(e), true),
    });
    expect(again.liveCopiesOf(id)).toEqual(new Map([[copy, 'b']]));
    // ...and the group's run times (0.1, 0.2, 0.5 s): a straggler past 600 ms, as before the restart.
    // Both runs are held again by their agents (re-attached): the original straggles, its copy lives.
    store.reclaim('a', [id]);
    store.reclaim('b', [copy]);
    again.dispatched(id, 'a', 10_000);
    again.started(id, 10_000);
    expect(again.tick(1_000_000)).toBe(0);
    // The copy is lost with its endpoint: the task may be copied once more (its second and last).
    again.lost(copy);
    expect(again.tick(10_599)).toBe(0);
    expect(again.tick(10_601)).toBe(1);
    expect(copied).toEqual(['c']);
    again.lost([...again.liveCopiesOf(id)!.keys()][0]);
    expect(again.tick(1_000_002)).toBe(0);
  });
});
