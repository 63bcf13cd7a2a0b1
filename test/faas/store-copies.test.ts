/**
 * Tail copies in the service database (a real SQLite file): a copy row linked to its original, the
 * first result of the group wins whichever endpoint sends it, the other runs are cancelled and
 * named so their agents can drop them, a lost copy is not run again, and batches list only the
 * tasks the client submitted.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Completion, Store } from '../../src/faas/service/db.ts';

const dir = mkdtempSync(join(tmpdir(), 'ristretto-copies-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let store: Store;
let n = 0;
beforeEach(() => {
  store = new Store(join(dir, `c${n++}.db`));
});
afterEach(() => store.close());

const TAIL = JSON.stringify({ factor: 3, min_ms: 200, max_copies: 3 });

/** One task dispatched to ep-a with ep-b and ep-c as alternates; returns its id. */
function original(): string {
  const { taskIds } = store.insertTasks('owner', [
    {
      function_id: 'f',
      endpoint_id: 'ep-a',
      args: new Uint8Array([7]),
      max_attempts: 2,
      timeout_ms: 0,
      grp: 'g',
      alts: 'ep-a ep-b ep-c',
      tail: TAIL,
      dispatch: true,
    },
  ]);
  return taskIds[0];
}

const ok = (id: string, byte: number): Completion => ({
  task_id: id,
  state: 'success',
  result: new Uint8Array([byte]),
  error: null,
  started_at: 1,
  completed_at: 2,
});
const bad = (id: string): Completion => ({
  task_id: id,
  state: 'failed',
  result: null,
  error: { type: 'FunctionError', message: 'boom' },
  started_at: 1,
  completed_at: 2,
});

describe('tail copies in the store', () => {
  it('a copy that finishes first gives the original its result and endpoint; the original and other copies are cancelled', () => {
    const id = original();
    const c1 = store.insertCopy(id, 'ep-b')!;
    const c2 = store.insertCopy(id, 'ep-c')!;
    expect([...c1.args]).toEqual([7]);
    expect(store.task(id)!.copies).toBe(2);
    expect(store.task(c1.id)).toMatchObject({ copy_of: id, endpoint_id: 'ep-b', state: 'dispatched', max_attempts: 1 });

    const r = store.complete('ep-b', [ok(c1.id, 42)]);
    expect([...r.accepted]).toEqual([c1.id]);
    const g = r.groups!.get(c1.id)!;
    expect(g).toMatchObject({ task_id: id, by_copy: true, copies: ['ep-b', 'ep-c'], attempts: 1 });
    expect(g.losers).toEqual(
      expect.arrayContaining([
        { id, endpoint_id: 'ep-a' },
        { id: c2.id, endpoint_id: 'ep-c' },
      ]),
    );
    expect(g.losers).toHaveLength(2);
    expect(store.task(id)).toMatchObject({ state: 'success', endpoint_id: 'ep-b' });
    expect([...store.result(id)!]).toEqual([42]);
    expect(store.task(c2.id)!.state).toBe('cancelled');

    // The losers' late results change nothing.
    const late = store.complete('ep-a', [ok(id, 1)]);
    expect(late.accepted.size).toBe(0);
    expect(store.complete('ep-c', [ok(c2.id, 2)]).accepted.size).toBe(0);
    expect([...store.result(id)!]).toEqual([42]);
  });

  it('the original finishing first ends its copies; a copy that fails ends only itself', () => {
    const id = original();
    const c1 = store.insertCopy(id, 'ep-b')!;
    expect(store.complete('ep-b', [bad(c1.id)]).accepted.size).toBe(0);
    expect(store.task(id)!.state).toBe('dispatched');
    const c2 = store.insertCopy(id, 'ep-c')!;

    const r = store.complete('ep-a', [ok(id, 9)]);
    expect([...r.accepted]).toEqual([id]);
    expect(r.groups!.get(id)).toMatchObject({
      task_id: id,
      by_copy: false,
      copies: ['ep-b', 'ep-c'],
      losers: [{ id: c2.id, endpoint_id: 'ep-c' }],
    });
    expect(store.task(c2.id)!.state).toBe('cancelled');
    expect(store.task(id)).toMatchObject({ state: 'success', endpoint_id: 'ep-a' });
  });

  it('a task without copies completes as before (no group)', () => {
    const id = original();
    const r = store.complete('ep-a', [ok(id, 3)]);
    expect([...r.accepted]).toEqual([id]);
    expect(r.groups).toBeUndefined();
    // Only from its own endpoint.
    const other = original();
    expect(store.complete('ep-b', [ok(other, 3)]).accepted.size).toBe(0);
  });

  it('a lost copy is dropped, not requeued; an original lost for good cancels its copies', () => {
    const id = original();
    const c1 = store.insertCopy(id, 'ep-b')!;
    const lostCopy = store.requeueLost('ep-b', [
      { task_id: c1.id, reason: 'worker died', type: 'WorkerLost', started_at: 5 },
    ]);
    expect(lostCopy).toMatchObject({ requeued: [], dropped: [c1.id], losers: [] });
    expect(lostCopy.failed.size).toBe(0);
    expect(store.task(c1.id)!.state).toBe('cancelled');
    expect(store.task(id)!.state).toBe('dispatched');

    // The original's first loss requeues it (attempt 1 of 2); the second, after it started, fails it.
    const c2 = store.insertCopy(id, 'ep-c')!;
    expect(
      store.requeueLost('ep-a', [{ task_id: id, reason: 'worker died', type: 'WorkerLost', started_at: 5 }]).requeued,
    ).toEqual([id]);
    expect(store.claimWaiting('ep-a', 1).map((t) => t.id)).toEqual([id]);
    const end = store.requeueLost('ep-a', [{ task_id: id, reason: 'worker died', type: 'WorkerLost', started_at: 6 }]);
    expect([...end.failed.keys()]).toEqual([id]);
    expect(end.losers).toEqual([{ id: c2.id, endpoint_id: 'ep-c' }]);
    expect(store.task(c2.id)!.state).toBe('cancelled');
  });

  it('copies are made only of originals in flight, and batches count and list only originals', () => {
    const id = original();
    const c1 = store.insertCopy(id, 'ep-b')!;
    expect(store.insertCopy(c1.id, 'ep-c')).toBeUndefined();
    const batch = store.task(id)!.batch_id;
    expect(store.batchTaskIds(batch)).toEqual([id]);
    expect(store.batchCounts(batch)).toEqual([{ state: 'dispatched', n: 1 }]);
    // Cancelled by the user: its copies go with it.
    expect(store.cancel('owner', [id])).toEqual([id]);
    expect(store.cancelCopiesOf([id])).toEqual([{ id: c1.id, endpoint_id: 'ep-b' }]);
    expect(store.insertCopy(id, 'ep-c')).toBeUndefined();
    // After a restart the policy of unfinished tasks is there for the scheduler.
    const live = original();
    expect(store.tailTasks().map((t) => [t.id, t.alts, JSON.parse(t.tail).max_copies])).toEqual([
      [live, 'ep-a ep-b ep-c', 3],
    ]);
  });
});
