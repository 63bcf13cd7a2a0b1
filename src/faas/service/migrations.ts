/**
 * Numbered schema migrations of the service database. `PRAGMA user_version` holds the number of the
 * last migration applied; opening a database applies the ones after it, each in its own transaction
 * together with the new number, so a crash mid-way leaves the database at the previous version.
 *
 * To change the schema, append a migration: never edit one that has shipped (databases that already
 * ran it would not run it again). A fresh database runs them all, which is cheap.
 *
 * @example
 * ```ts
 * import Database from 'better-sqlite3';
 * import { migrate, SCHEMA_VERSION } from './migrations.ts';
 * const db = new Database(':memory:');
 * const { from, to } = migrate(db, ':memory:');
 * console.log(from, to === SCHEMA_VERSION); // 0 true
 * ```
 */
import type Database from 'better-sqlite3';
import { FaasError } from '../errors.ts';

/** The database was written by a newer service, or a migration failed. */
export class ServiceDatabaseError extends FaasError {}

export interface Migration {
  readonly version: number;
  /** What it changes, for the log and for whoever reads this list. */
  readonly what: string;
  readonly up: (db: Database.Database) => void;
}

function hasColumn(db: Database.Database, table: string, column: string): boolean {
  return (db.prepare('SELECT name FROM pragma_table_info(?)').all(table) as { name: string }[]).some(
    (c) => c.name === column,
  );
}

/**
 * Databases from before the numbering have user_version 0 and may already have some of the columns
 * that migrations 2-6 add: those steps check first.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    what: 'users, tokens, functions, endpoints, batches, tasks',
    up: (db) =>
      db.exec(`
CREATE TABLE IF NOT EXISTS users (
  id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (
  id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id), hash TEXT NOT NULL UNIQUE,
  label TEXT, created_at INTEGER NOT NULL, last_used_at INTEGER, revoked_at INTEGER);
CREATE TABLE IF NOT EXISTS functions (
  id TEXT PRIMARY KEY, owner_id TEXT NOT NULL, hash TEXT NOT NULL, code TEXT NOT NULL,
  name TEXT, description TEXT, visibility TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS functions_owner_hash ON functions(owner_id, hash);
CREATE TABLE IF NOT EXISTS function_shares (
  function_id TEXT NOT NULL, user_id TEXT NOT NULL, PRIMARY KEY (function_id, user_id));
CREATE TABLE IF NOT EXISTS endpoints (
  id TEXT PRIMARY KEY, owner_id TEXT NOT NULL, name TEXT NOT NULL, visibility TEXT NOT NULL,
  allowed_functions TEXT NOT NULL DEFAULT '[]', status TEXT NOT NULL DEFAULT 'offline',
  last_heartbeat INTEGER, capacity INTEGER NOT NULL DEFAULT 0, prefetch INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL, UNIQUE (owner_id, name));
CREATE TABLE IF NOT EXISTS endpoint_shares (
  endpoint_id TEXT NOT NULL, user_id TEXT NOT NULL, PRIMARY KEY (endpoint_id, user_id));
CREATE TABLE IF NOT EXISTS batches (
  id TEXT PRIMARY KEY, owner_id TEXT NOT NULL, size INTEGER NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS tasks (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, batch_id TEXT NOT NULL,
  owner_id TEXT NOT NULL, function_id TEXT NOT NULL, endpoint_id TEXT NOT NULL, args BLOB NOT NULL,
  state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, max_attempts INTEGER NOT NULL,
  timeout_ms INTEGER NOT NULL, submitted_at INTEGER NOT NULL, dispatched_at INTEGER,
  started_at INTEGER, completed_at INTEGER, result BLOB, result_size INTEGER, error TEXT);
CREATE INDEX IF NOT EXISTS tasks_batch ON tasks(batch_id);
-- Partial indexes: a task enters the waiting index once and the active index once, so the state
-- changes of a finishing task (dispatched -> running -> success) touch at most one small index
-- instead of moving an (endpoint, state, seq) entry on every transition.
DROP INDEX IF EXISTS tasks_queue;
CREATE INDEX IF NOT EXISTS tasks_waiting ON tasks(endpoint_id, seq) WHERE state = 'waiting-for-endpoint';
CREATE INDEX IF NOT EXISTS tasks_active ON tasks(endpoint_id) WHERE state IN ('dispatched', 'running');
`),
  },
  {
    version: 2,
    what: 'fair-share groups: tasks.grp (existing tasks join their owner’s default group)',
    up: (db) => {
      if (!hasColumn(db, 'tasks', 'grp')) db.exec('ALTER TABLE tasks ADD COLUMN grp TEXT');
      db.exec('UPDATE tasks SET grp = owner_id WHERE grp IS NULL');
      // Fair-share claims: the groups waiting at an endpoint (a loose index scan) and each one's oldest.
      db.exec(
        "CREATE INDEX IF NOT EXISTS tasks_waiting_grp ON tasks(endpoint_id, grp, seq) WHERE state = 'waiting-for-endpoint'",
      );
    },
  },
  {
    version: 3,
    what: 'late binding: tasks.alts, the other endpoints a waiting task may start on',
    up: (db) => {
      if (!hasColumn(db, 'tasks', 'alts')) db.exec('ALTER TABLE tasks ADD COLUMN alts TEXT');
      // Waiting tasks that another endpoint may take, oldest first.
      db.exec(
        "CREATE INDEX IF NOT EXISTS tasks_movable ON tasks(seq) WHERE state = 'waiting-for-endpoint' AND alts IS NOT NULL",
      );
    },
  },
  {
    version: 4,
    what: 'service admins: users.admin',
    up: (db) => {
      if (!hasColumn(db, 'users', 'admin')) db.exec('ALTER TABLE users ADD COLUMN admin INTEGER NOT NULL DEFAULT 0');
    },
  },
  {
    version: 5,
    what: 'capability routing: endpoints.tags and endpoints.local_paths (JSON lists from the agent hello)',
    up: (db) => {
      // Checked: a database numbered from 0 that already had every column skips to here.
      if (!hasColumn(db, 'endpoints', 'tags'))
        db.exec("ALTER TABLE endpoints ADD COLUMN tags TEXT NOT NULL DEFAULT '[]'");
      if (!hasColumn(db, 'endpoints', 'local_paths'))
        db.exec("ALTER TABLE endpoints ADD COLUMN local_paths TEXT NOT NULL DEFAULT '[]'");
    },
  },
  {
    version: 6,
    what: 'service-side tail copies: tasks.copy_of, tasks.copies and tasks.tail (the task group and its policy)',
    up: (db) => {
      // A copy row has copy_of = its original's id; the original counts its copies and holds the
      // client's tail policy (JSON), so a restarted service still judges its stragglers.
      if (!hasColumn(db, 'tasks', 'copy_of')) db.exec('ALTER TABLE tasks ADD COLUMN copy_of TEXT');
      if (!hasColumn(db, 'tasks', 'copies')) db.exec('ALTER TABLE tasks ADD COLUMN copies INTEGER NOT NULL DEFAULT 0');
      if (!hasColumn(db, 'tasks', 'tail')) db.exec('ALTER TABLE tasks ADD COLUMN tail TEXT');
      db.exec('CREATE INDEX IF NOT EXISTS tasks_copy_of ON tasks(copy_of) WHERE copy_of IS NOT NULL');
    },
  },
  {
    version: 7,
    what: 'per-user quotas: users.max_open_tasks',
    up: (db) => {
      // NULL: the service's --max-open-tasks applies; 0: no limit for this user.
      if (!hasColumn(db, 'users', 'max_open_tasks')) db.exec('ALTER TABLE users ADD COLUMN max_open_tasks INTEGER');
    },
  },
];

/** The version a database has after `migrate`. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

/**
 * Bring `db` to SCHEMA_VERSION. Throws ServiceDatabaseError, naming `file`, for a database of a newer
 * service (left untouched) or a migration that fails (rolled back to the version before it).
 */
export function migrate(
  db: Database.Database,
  file: string,
  log?: (msg: string) => void,
): { from: number; to: number } {
  const from = db.pragma('user_version', { simple: true }) as number;
  if (from > SCHEMA_VERSION) {
    throw new ServiceDatabaseError(
      `the service database ${file} has schema version ${from}, newer than this service knows (${SCHEMA_VERSION})`,
      { file, version: from, known: SCHEMA_VERSION },
      'run the Ristretto version that wrote it, or upgrade this one',
    );
  }
  for (const m of MIGRATIONS) {
    if (m.version <= from) continue;
    let applied = false;
    try {
      // IMMEDIATE: take the write lock first, then look again. Two processes opening the same database
      // at once (the service and `ristretto faas user add`) both saw the old version; only one applies.
      db.transaction(() => {
        if ((db.pragma('user_version', { simple: true }) as number) >= m.version) return;
        m.up(db);
        db.pragma(`user_version = ${m.version}`);
        applied = true;
      }).immediate();
    } catch (e) {
      throw new ServiceDatabaseError(
        `migrating the service database ${file} to schema version ${m.version} (${m.what}) failed: ${(e as Error).message}`,
        { file, version: m.version },
        'restore the database from a backup, or start the service with a new --db file',
        { cause: e },
      );
    }
    if (applied && from > 0) log?.(`service database ${file}: schema version ${m.version} (${m.what})`);
  }
  return { from, to: Math.max(from, SCHEMA_VERSION) };
}
