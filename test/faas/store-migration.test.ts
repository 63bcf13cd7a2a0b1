/** The service database from before fair-share groups opens, gains the column, and its queue still dispatches. */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/faas/service/db.ts';

const dir = mkdtempSync(join(tmpdir(), 'ristretto-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('service database migration', () => {
  it('adds the fair-share group to tasks of an older database, keyed by their owner', () => {
    const file = join(dir, 'old.db');
    new Store(file).close();
    // Make it look like a database written before groups existed, with one queued task in it.
    const raw = new Database(file);
    raw.exec('DROP INDEX tasks_waiting_grp; ALTER TABLE tasks DROP COLUMN grp;');
    raw
      .prepare(
        `INSERT INTO tasks (id, batch_id, owner_id, function_id, endpoint_id, args, state, max_attempts, timeout_ms, submitted_at)
         VALUES ('t-old', 'b', 'owner-1', 'f', 'ep', x'00', 'waiting-for-endpoint', 3, 0, 1)`,
      )
      .run();
    expect((raw.prepare('SELECT name FROM pragma_table_info(?)').all('tasks') as { name: string }[]).some((c) => c.name === 'grp')).toBe(false);
    raw.close();

    const store = new Store(file);
    try {
      // A newer task of another group queued behind it: both are handed out, in turns.
      store.insertTasks('owner-2', [{ function_id: 'f', endpoint_id: 'ep', args: new Uint8Array([1]), max_attempts: 3, timeout_ms: 0, grp: 'owner-2/x' }]);
      const claimed = store.claimWaiting('ep', 10);
      expect(claimed.map((t) => [t.id === 't-old' ? 't-old' : 'new', t.grp])).toEqual([
        ['t-old', 'owner-1'],
        ['new', 'owner-2/x'],
      ]);
    } finally {
      store.close();
    }
  });
});
