/**
 * The store's count of each user's unfinished tasks (the open-task quota, issue 14) is kept in memory
 * where tasks are stored and where they finish. Every way a task ends is checked against a count of
 * the rows in the real SQLite file: a result, a failure, a tail copy winning (and losing), a lost task
 * out of attempts, a lost one run again, a cancellation; and a restarted service counts them again.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Completion, type NewTask, Store } from '../../src/faas/service/db.ts';

const dir = mkdtempSync(join(tmpdir(), 'ristretto-open-count-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const task = (over: Partial<NewTask> = {}): NewTask => ({
  function_id: 'f',
  endpoint_id: 'ep-a',
  args: new Uint8Array([1]),
  max_attempts: 1,
  timeout_ms: 0,
  grp: 'g',
  dispatch: true,
  ...over,
});
const done = (id: string, state: 'success' | 'failed' = 'success'): Completion => ({
  task_id: id,
  state,
  result: state === 'success' ? new Uint8Array([2]) : null,
  error: state === 'failed' ? { type: 'FunctionError', message: 'boom' } : null,
  started_at: 1,
  completed_at: 2,
});

/** Unfinished tasks of `owner` as the rows say (tail copies are the service's, not the user's). */
function rows(store: Store, owner: string): number {
  return (
    store.db
      .prepare(
        "SELECT COUNT(*) AS n FROM tasks WHERE owner_id = ? AND copy_of IS NULL AND state IN ('waiting-for-endpoint', 'dispatched', 'running')",
      )
      .get(owner) as { n: number }
  ).n;
}

describe("the store's count of unfinished tasks", () => {
  it('follows every way a task ends, and is counted again at open', () => {
    const file = join(dir, 'count.db');
    let store = new Store(file);
    const check = (owner: string, expected: number) => {
      expect(rows(store, owner)).toBe(expected);
      expect(store.openTasks(owner).open).toBe(expected);
    };
    const ids = store.insertTasks(
      'u1',
      Array.from({ length: 8 }, () => task()),
    ).taskIds;
    store.insertTasks('u2', [task({ dispatch: false }), task({ dispatch: false })]);
    check('u1', 8);
    check('u2', 2);

    // A result and a failure end one task each; a second report of the same task changes nothing.
    store.complete('ep-a', [done(ids[0]), done(ids[1], 'failed')]);
    store.complete('ep-a', [done(ids[0])]);
    check('u1', 6);

    // A tail copy that wins ends its original once; the copy itself never counted.
    const alts = { alts: 'ep-a ep-b', tail: JSON.stringify({ factor: 3, min_ms: 200, max_copies: 2 }) };
    const [withCopy, copyLoses] = store.insertTasks('u1', [task(alts), task(alts)]).taskIds;
    check('u1', 8);
    const copy = store.insertCopy(withCopy, 'ep-b');
    const copy2 = store.insertCopy(copyLoses, 'ep-b');
    check('u1', 8);
    store.complete('ep-b', [done(copy?.id ?? '')]);
    check('u1', 7);
    // The original wins over its copy: one task ends, the cancelled copy does not count.
    store.complete('ep-a', [done(copyLoses)]);
    check('u1', 6);
    expect(store.task(copy2?.id ?? '')?.state).toBe('cancelled');

    // Lost with no attempt left: failed for good. Lost before it started: waits again, still open.
    store.markRunning('ep-a', [ids[2]], [1]);
    const lost = store.requeueLost('ep-a', [
      { task_id: ids[2], reason: 'worker died', type: 'WorkerLost', started_at: 1 },
      { task_id: ids[3], reason: 'endpoint gone', type: 'EndpointLost' },
    ]);
    expect([...lost.failed.keys()]).toEqual([ids[2]]);
    expect(lost.requeued).toEqual([ids[3]]);
    check('u1', 5);

    // Cancelled: only the owner's unfinished ones, each once.
    expect(store.cancel('u1', [ids[3], ids[4], ids[0], ids[4]])).toEqual([ids[3], ids[4]]);
    expect(store.cancel('u2', [ids[5]])).toEqual([]);
    check('u1', 3);
    check('u2', 2);

    // A restarted service counts from the rows.
    store.close();
    store = new Store(file);
    check('u1', 3);
    check('u2', 2);
    store.close();
  });

  it('a message rolled back takes its count back with its rows', () => {
    const store = new Store(join(dir, 'rollback.db'));
    store.insertTasks('u1', [task()]);
    expect(() =>
      store.atomically(() => {
        store.insertTasks('u1', [task(), task(), task()]);
        throw new Error('later in the same message');
      }),
    ).toThrow('later in the same message');
    expect(rows(store, 'u1')).toBe(1);
    expect(store.openTasks('u1').open).toBe(1);
    store.close();
  });
});
