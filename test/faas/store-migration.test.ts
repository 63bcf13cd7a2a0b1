/**
 * Numbered schema migrations (PRAGMA user_version): databases written at older versions open, gain
 * what later versions added, and keep their data; one of a newer service is refused untouched.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/faas/service/db.ts';
import { ServiceDatabaseError } from '../../src/faas/service/migrations.ts';

const dir = mkdtempSync(join(tmpdir(), 'ristretto-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const columns = (raw: Database.Database, table: string) =>
  (raw.prepare('SELECT name FROM pragma_table_info(?)').all(table) as { name: string }[]).map((c) => c.name);
const indexes = (raw: Database.Database) =>
  (raw.prepare("SELECT name FROM sqlite_master WHERE type = 'index'").all() as { name: string }[]).map((c) => c.name);

/**
 * A database as schema version 1 wrote it (before fair-share groups, late binding and admins), with
 * one user and one queued task: made from a current one by removing what versions 2-4 added.
 */
function versionOneDatabase(file: string): void {
  new Store(file).close();
  const raw = new Database(file);
  raw.exec(`
    DROP INDEX tasks_waiting_grp; DROP INDEX tasks_movable; DROP INDEX tasks_copy_of;
    ALTER TABLE tasks DROP COLUMN grp; ALTER TABLE tasks DROP COLUMN alts; ALTER TABLE users DROP COLUMN admin;
    ALTER TABLE tasks DROP COLUMN copy_of; ALTER TABLE tasks DROP COLUMN copies; ALTER TABLE tasks DROP COLUMN tail;
    ALTER TABLE endpoints DROP COLUMN tags; ALTER TABLE endpoints DROP COLUMN local_paths;
    ALTER TABLE users DROP COLUMN max_open_tasks;
    INSERT INTO users (id, name, created_at) VALUES ('owner-1', 'alice', 1);
    INSERT INTO tasks (id, batch_id, owner_id, function_id, endpoint_id, args, state, max_attempts, timeout_ms, submitted_at)
      VALUES ('t-old', 'b', 'owner-1', 'f', 'ep', x'00', 'waiting-for-endpoint', 3, 0, 1);
    PRAGMA user_version = 1;
  `);
  expect(columns(raw, 'tasks')).not.toContain('grp');
  expect(columns(raw, 'users')).not.toContain('admin');
  raw.close();
}

describe('service database migrations', () => {
  it('migrates a version-1 database to the current version; its queue still dispatches, in turns', () => {
    const file = join(dir, 'v1.db');
    versionOneDatabase(file);

    const store = new Store(file);
    try {
      // The old task counts against its owner's quota of unfinished tasks; the owner has no own limit.
      expect(store.openTasks('owner-1')).toEqual({ open: 1, limit: null });
      // A newer task of another group queued behind the old one: both are handed out, in turns.
      store.insertTasks('owner-2', [
        {
          function_id: 'f',
          endpoint_id: 'ep',
          args: new Uint8Array([1]),
          max_attempts: 3,
          timeout_ms: 0,
          grp: 'owner-2/x',
        },
      ]);
      const claimed = store.claimWaiting('ep', 10);
      expect(claimed.map((t) => [t.id === 't-old' ? 't-old' : 'new', t.grp])).toEqual([
        ['t-old', 'owner-1'],
        ['new', 'owner-2/x'],
      ]);
      // The user written at version 1 is there, and not an admin.
      expect(store.userByName('alice')).toMatchObject({ id: 'owner-1', admin: 0 });
    } finally {
      store.close();
    }
    const raw = new Database(file, { readonly: true });
    try {
      expect(raw.pragma('user_version', { simple: true })).toBe(7);
      expect(columns(raw, 'tasks')).toEqual(expect.arrayContaining(['grp', 'alts', 'copy_of', 'copies', 'tail']));
      expect(columns(raw, 'endpoints')).toEqual(expect.arrayContaining(['tags', 'local_paths']));
      expect(columns(raw, 'users')).toEqual(expect.arrayContaining(['admin', 'max_open_tasks']));
      expect(indexes(raw)).toEqual(expect.arrayContaining(['tasks_waiting_grp', 'tasks_movable', 'tasks_copy_of']));
    } finally {
      raw.close();
    }
  });

  it('numbers a database from before the numbering (user_version 0, every column there) and keeps its rows', () => {
    const file = join(dir, 'v0.db');
    new Store(file).close();
    const raw = new Database(file);
    raw.exec(`INSERT INTO users (id, name, created_at, admin) VALUES ('u1', 'root', 1, 1); PRAGMA user_version = 0;`);
    raw.close();

    const store = new Store(file);
    try {
      expect(store.userByName('root')).toMatchObject({ id: 'u1', admin: 1 });
      expect(store.db.pragma('user_version', { simple: true })).toBe(7);
    } finally {
      store.close();
    }
  });

  it('refuses a database of a newer service, naming the file and both versions, and leaves it as it was', () => {
    const file = join(dir, 'future.db');
    new Store(file).close();
    const raw = new Database(file);
    raw.pragma('user_version = 99');
    raw.close();

    let caught: unknown;
    try {
      new Store(file).close();
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ServiceDatabaseError);
    expect((caught as Error).message).toContain(file);
    expect((caught as Error).message).toMatch(/schema version 99, newer than this service knows \(7\)/);
    const after = new Database(file, { readonly: true });
    try {
      expect(after.pragma('user_version', { simple: true })).toBe(99);
    } finally {
      after.close();
    }
  });
});
