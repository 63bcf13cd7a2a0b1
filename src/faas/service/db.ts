/**
 * The service's persistent state in SQLite (better-sqlite3, WAL): users and tokens, functions,
 * endpoints, batches and tasks. Every method is synchronous, so one service event-loop turn sees a
 * consistent state; multi-row changes run in one transaction.
 */
import Database from 'better-sqlite3';
import { randomBytes, randomUUID } from 'node:crypto';
import { uuidv7 } from '../ids.ts';
import type { EndpointStatus, Sharing, TaskErrorInfo, TaskState, Visibility } from '../protocol.ts';
import { generateToken, hashToken } from './auth.ts';
import { MAX_NAME_LENGTH, USER_NAME_PATTERN } from '../protocol-schemas.ts';
import { migrate } from './migrations.ts';
import { FaasConfigError } from '../errors.ts';

export interface UserRow {
  id: string;
  name: string;
  created_at: number;
  /** 1 for service admins (`ristretto faas user add --admin`): they see service-wide metrics. */
  admin: number;
  /**
   * Most unfinished tasks this user may have (`user add/set --max-open-tasks`); null: the service's
   * default (`serve --max-open-tasks`), 0: no limit.
   */
  max_open_tasks: number | null;
}

export interface TokenRow {
  id: string;
  user_id: string;
  user_name: string;
  label: string | null;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface FunctionRow {
  id: string;
  owner_id: string;
  owner_name: string;
  hash: string;
  code: string;
  name: string | null;
  description: string | null;
  visibility: Visibility;
  created_at: number;
}

export interface EndpointRow {
  id: string;
  owner_id: string;
  owner_name: string;
  name: string;
  visibility: Visibility;
  allowed_functions: string;
  status: EndpointStatus;
  last_heartbeat: number | null;
  capacity: number;
  prefetch: number;
  created_at: number;
  /** JSON list of capability tags. */
  tags: string;
  /** JSON list of locally readable path prefixes. */
  local_paths: string;
}

export interface TaskRow {
  seq: number;
  id: string;
  batch_id: string;
  owner_id: string;
  function_id: string;
  endpoint_id: string;
  state: TaskState;
  attempts: number;
  max_attempts: number;
  timeout_ms: number;
  submitted_at: number;
  dispatched_at: number | null;
  started_at: number | null;
  completed_at: number | null;
  result_size: number | null;
  error: string | null;
  /** A tail copy: the id of the task it copies (the one the client knows); else null. */
  copy_of: string | null;
  /** Tail copies made of this task. */
  copies: number;
}

export interface NewTask {
  /** The client's id for the task (checked by the caller: a UUIDv7 not in use); else the store makes one. */
  id?: string;
  function_id: string;
  endpoint_id: string;
  args: Uint8Array;
  max_attempts: number;
  timeout_ms: number;
  /** Stored as already dispatched (attempt 1): the caller sends it to a connected agent right away. */
  dispatch?: boolean;
  /** Fair-share group. */
  grp: string;
  /** Late binding: every endpoint id the task may run on (its own included), space-separated; or null. */
  alts?: string | null;
  /** Tail policy (JSON of a TailPolicy), or null: no tail copies. */
  tail?: string | null;
}

/** A task group decided by a result that ended a task with tail copies, or by one of its copies. */
export interface GroupResult {
  /** The id the client knows (the original's). */
  task_id: string;
  /** The result came from a copy. */
  by_copy: boolean;
  /** Endpoints the copies were sent to, in order. */
  copies: string[];
  /** Attempts of the original. */
  attempts: number;
  /** The other runs of the group, now cancelled: their agents are to drop them. */
  losers: { id: string; endpoint_id: string }[];
}

/** What `complete` accepted: reported ids, and the groups among them. */
export interface CompleteResult {
  accepted: Set<string>;
  /** By reported id (a copy's own id when a copy won); undefined when no result touched a group. */
  groups: Map<string, GroupResult> | undefined;
}

export interface TaskOutcomeRow {
  id: string;
  owner_id: string;
  state: TaskState;
  endpoint_id: string;
  attempts: number;
  /** JSON of a TaskErrorInfo. */
  error: string | null;
}

export interface ClaimedTask {
  id: string;
  function_id: string;
  grp: string;
  args: Uint8Array;
  attempts: number;
  timeout_ms: number;
  /** 1 when the task has alternates (late binding). */
  movable?: number;
}

export interface Completion {
  task_id: string;
  state: 'success' | 'failed';
  result: Uint8Array | null;
  error: TaskErrorInfo | null;
  started_at: number;
  completed_at: number;
}

const TASK_COLS =
  'seq, id, batch_id, owner_id, function_id, endpoint_id, state, attempts, max_attempts, timeout_ms, submitted_at, dispatched_at, started_at, completed_at, result_size, error, copy_of, copies';

/** Most fair-share groups one claim considers. */
const WAITING_GROUPS_LIMIT = 1000;

/** Thrown for constraint violations the caller can report as a conflict (e.g. duplicate user). */
export class StoreConflictError extends Error {}

/** insertTasks: one of the ids the client gave its tasks is in use (see Store.idsInUse for which). */
export class TaskIdInUseError extends StoreConflictError {}

export class Store {
  readonly db: Database.Database;
  /** One transaction function for every `atomically` (better-sqlite3 makes a new one per `transaction()` call). */
  private readonly wrap: Database.Transaction<(f: () => unknown) => unknown>;
  private readonly st: Record<string, Database.Statement>;
  /**
   * Fair-share groups with waiting tasks, per endpoint, sorted: a superset of the truth (a group whose
   * claim comes back short is dropped), loaded by one index walk when absent. Saves that walk on every
   * claim — claims run once per freed worker slot.
   */
  private readonly waitingGroupsOf = new Map<string, string[]>();
  /**
   * Endpoints that had tasks in flight when this store was opened (a service restart): their agents
   * may still hold and run them, and re-attach to say so.
   */
  readonly inFlightAtOpen: ReadonlySet<string>;
  /**
   * Unfinished tasks per user (tail copies not counted), for the quota (`openTasks`): counted at open,
   * then kept where tasks are stored and where they finish. Counting rows per submission instead cost
   * 20-40 ms at 200,000 open tasks, and a trigger keeping a count table 4x the insert time.
   */
  private readonly openOf = new Map<string, number>();
  /** Changes to openOf inside the outermost `atomically`, undone if it rolls back. */
  private openJournal: [string, number][] | undefined;

  constructor(file: string) {
    try {
      this.db = new Database(file);
    } catch (e) {
      // A folder that does not exist or cannot be written is the admin's --db, not a Ristretto bug.
      throw new FaasConfigError(
        `cannot open the service database ${file}: ${(e as Error).message}`,
        { db: file },
        'check that its folder exists and is writable, or pass another --db',
        { cause: e },
      );
    }
    this.db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode is durable across process crashes (only an OS crash can lose the last commits).
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    // Numbered migrations (PRAGMA user_version): see migrations.ts.
    migrate(this.db, file);
    this.wrap = this.db.transaction((f: () => unknown) => f());
    const p = (sql: string) => this.db.prepare(sql);
    this.st = {
      userByName: p('SELECT * FROM users WHERE name = ?'),
      userById: p('SELECT * FROM users WHERE id = ?'),
      insertUser: p('INSERT INTO users (id, name, created_at, admin, max_open_tasks) VALUES (?, ?, ?, ?, ?)'),
      setMaxOpenTasks: p('UPDATE users SET max_open_tasks = ? WHERE id = ?'),
      maxOpenTasks: p('SELECT max_open_tasks AS n FROM users WHERE id = ?'),
      // At open, all in flight is waiting again (resetActive): one walk of the waiting index.
      openTasksByOwner: p(
        "SELECT owner_id, COUNT(*) AS n FROM tasks WHERE state = 'waiting-for-endpoint' AND copy_of IS NULL GROUP BY owner_id",
      ),
      listUsers: p('SELECT * FROM users ORDER BY name'),
      insertToken: p('INSERT INTO tokens (id, user_id, hash, label, created_at) VALUES (?, ?, ?, ?, ?)'),
      tokenByHash: p(
        'SELECT t.id AS token_id, t.revoked_at, u.id, u.name, u.created_at, u.admin, u.max_open_tasks FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.hash = ?',
      ),
      touchToken: p('UPDATE tokens SET last_used_at = ? WHERE id = ?'),
      listTokens: p(
        'SELECT t.id, t.user_id, u.name AS user_name, t.label, t.created_at, t.last_used_at, t.revoked_at FROM tokens t JOIN users u ON u.id = t.user_id ORDER BY u.name, t.created_at',
      ),
      tokenActive: p('SELECT 1 FROM tokens WHERE id = ? AND revoked_at IS NULL'),
      revokeToken: p('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
      insertFunction: p(
        'INSERT INTO functions (id, owner_id, hash, code, name, description, visibility, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      updateFunctionMeta: p('UPDATE functions SET name = ?, description = ?, visibility = ? WHERE id = ?'),
      functionById: p(
        'SELECT f.*, u.name AS owner_name FROM functions f JOIN users u ON u.id = f.owner_id WHERE f.id = ?',
      ),
      functionByOwnerHash: p('SELECT id FROM functions WHERE owner_id = ? AND hash = ? ORDER BY created_at LIMIT 1'),
      visibleFunctions: p(
        `SELECT f.id, f.owner_id, u.name AS owner_name, f.hash, '' AS code, f.name, f.description, f.visibility, f.created_at
         FROM functions f JOIN users u ON u.id = f.owner_id
         WHERE f.owner_id = @user OR f.visibility = 'public'
            OR (f.visibility = 'users' AND EXISTS (SELECT 1 FROM function_shares s WHERE s.function_id = f.id AND s.user_id = @user))
         ORDER BY f.created_at`,
      ),
      functionShared: p('SELECT 1 FROM function_shares WHERE function_id = ? AND user_id = ?'),
      functionShares: p(
        'SELECT u.name FROM function_shares s JOIN users u ON u.id = s.user_id WHERE s.function_id = ? ORDER BY u.name',
      ),
      clearFunctionShares: p('DELETE FROM function_shares WHERE function_id = ?'),
      addFunctionShare: p('INSERT OR IGNORE INTO function_shares (function_id, user_id) VALUES (?, ?)'),
      insertEndpoint: p(
        'INSERT INTO endpoints (id, owner_id, name, visibility, allowed_functions, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      endpointById: p(
        'SELECT e.*, u.name AS owner_name FROM endpoints e JOIN users u ON u.id = e.owner_id WHERE e.id = ?',
      ),
      endpointByOwnerName: p(
        'SELECT e.*, u.name AS owner_name FROM endpoints e JOIN users u ON u.id = e.owner_id WHERE e.owner_id = ? AND e.name = ?',
      ),
      visibleEndpoints: p(
        `SELECT e.*, u.name AS owner_name FROM endpoints e JOIN users u ON u.id = e.owner_id
         WHERE e.owner_id = @user OR e.visibility = 'public'
            OR (e.visibility = 'users' AND EXISTS (SELECT 1 FROM endpoint_shares s WHERE s.endpoint_id = e.id AND s.user_id = @user))
         ORDER BY e.created_at`,
      ),
      visibleEndpointsNamed: p(
        `SELECT e.*, u.name AS owner_name FROM endpoints e JOIN users u ON u.id = e.owner_id
         WHERE e.name = @name AND (e.owner_id = @user OR e.visibility = 'public'
            OR (e.visibility = 'users' AND EXISTS (SELECT 1 FROM endpoint_shares s WHERE s.endpoint_id = e.id AND s.user_id = @user)))
         ORDER BY e.created_at`,
      ),
      countOwnEndpoints: p('SELECT COUNT(*) AS n FROM endpoints WHERE owner_id = ?'),
      // Two counts, so that each uses its partial index (tasks_waiting, tasks_active).
      unfinishedOnEndpoint: p(
        `SELECT (SELECT COUNT(*) FROM tasks WHERE endpoint_id = @id AND state = 'waiting-for-endpoint')
              + (SELECT COUNT(*) FROM tasks WHERE endpoint_id = @id AND state IN ('dispatched', 'running')) AS n`,
      ),
      deleteEndpoint: p('DELETE FROM endpoints WHERE id = ?'),
      endpointShared: p('SELECT 1 FROM endpoint_shares WHERE endpoint_id = ? AND user_id = ?'),
      endpointShares: p(
        'SELECT u.name FROM endpoint_shares s JOIN users u ON u.id = s.user_id WHERE s.endpoint_id = ? ORDER BY u.name',
      ),
      clearEndpointShares: p('DELETE FROM endpoint_shares WHERE endpoint_id = ?'),
      addEndpointShare: p('INSERT OR IGNORE INTO endpoint_shares (endpoint_id, user_id) VALUES (?, ?)'),
      setEndpointVisibility: p('UPDATE endpoints SET visibility = ? WHERE id = ?'),
      setEndpointAllowed: p('UPDATE endpoints SET allowed_functions = ? WHERE id = ?'),
      setEndpointOnline: p(
        "UPDATE endpoints SET status = 'online', last_heartbeat = ?, capacity = ?, prefetch = ? WHERE id = ?",
      ),
      setEndpointCapabilities: p('UPDATE endpoints SET tags = ?, local_paths = ? WHERE id = ?'),
      setEndpointOffline: p("UPDATE endpoints SET status = 'offline' WHERE id = ?"),
      heartbeat: p('UPDATE endpoints SET last_heartbeat = ?, capacity = ? WHERE id = ?'),
      allOffline: p("UPDATE endpoints SET status = 'offline'"),
      insertBatch: p('INSERT INTO batches (id, owner_id, size, created_at) VALUES (?, ?, ?, ?)'),
      batchById: p('SELECT * FROM batches WHERE id = ?'),
      // Copies are the service's business: a batch counts and lists the tasks the client submitted.
      batchCounts: p('SELECT state, COUNT(*) AS n FROM tasks WHERE batch_id = ? AND copy_of IS NULL GROUP BY state'),
      batchTaskIds: p('SELECT id FROM tasks WHERE batch_id = ? AND copy_of IS NULL'),
      insertTask: p(
        `INSERT INTO tasks (id, batch_id, owner_id, function_id, endpoint_id, args, state, max_attempts, timeout_ms, submitted_at, grp, alts, tail)
         VALUES (?, ?, ?, ?, ?, ?, 'waiting-for-endpoint', ?, ?, ?, ?, ?, ?)`,
      ),
      insertDispatched: p(
        `INSERT INTO tasks (id, batch_id, owner_id, function_id, endpoint_id, args, state, attempts, max_attempts, timeout_ms, submitted_at, dispatched_at, grp, alts, tail)
         VALUES (?, ?, ?, ?, ?, ?, 'dispatched', 1, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      // A tail copy: dispatched at once to an idle slot, pinned there (no alternates), one attempt.
      copySource: p(
        "SELECT batch_id, owner_id, function_id, args, timeout_ms, COALESCE(grp, '') AS grp FROM tasks WHERE id = ? AND copy_of IS NULL AND state IN ('dispatched', 'running')",
      ),
      insertCopy: p(
        `INSERT INTO tasks (id, batch_id, owner_id, function_id, endpoint_id, args, state, attempts, max_attempts, timeout_ms, submitted_at, dispatched_at, grp, copy_of)
         VALUES (?, ?, ?, ?, ?, ?, 'dispatched', 1, 1, ?, ?, ?, ?, ?)`,
      ),
      countCopy: p('UPDATE tasks SET copies = copies + 1 WHERE id = ?'),
      // The runs of a group still going, ended because another run decided it.
      cancelCopies: p(
        "UPDATE tasks SET state = 'cancelled', completed_at = @now, error = @error WHERE copy_of = @id AND state IN ('waiting-for-endpoint', 'dispatched', 'running') RETURNING id, endpoint_id",
      ),
      copyEndpoints: p('SELECT endpoint_id FROM tasks WHERE copy_of = ? ORDER BY seq'),
      // A copy won: its outcome becomes the original's, which now says where it ran.
      winOriginal: p(
        `UPDATE tasks SET state = @state, result = @result, result_size = @size, error = @error, started_at = @started, completed_at = @completed, endpoint_id = @endpoint
         WHERE id = @id AND state IN ('waiting-for-endpoint', 'dispatched', 'running')`,
      ),
      dropCopy: p(
        "UPDATE tasks SET state = 'cancelled', completed_at = ?, error = ? WHERE id = ? AND copy_of IS NOT NULL AND state IN ('waiting-for-endpoint', 'dispatched', 'running')",
      ),
      tailTasks: p(
        "SELECT id, function_id, COALESCE(grp, '') AS grp, alts, tail, copies FROM tasks WHERE tail IS NOT NULL AND copy_of IS NULL AND state IN ('waiting-for-endpoint', 'dispatched', 'running')",
      ),
      // Newest first by seq (the rowid): the scan stops at the window's size for a group still running.
      recentRuns: p(
        `SELECT (completed_at - started_at) / 1000.0 AS run, (completed_at - dispatched_at) / 1000.0 AS trip FROM tasks
         WHERE function_id = ? AND COALESCE(grp, '') = ? AND state = 'success' AND started_at IS NOT NULL AND dispatched_at IS NOT NULL
         ORDER BY seq DESC LIMIT ?`,
      ),
      liveCopies: p(
        "SELECT id, copy_of, endpoint_id FROM tasks WHERE copy_of IS NOT NULL AND state IN ('waiting-for-endpoint', 'dispatched', 'running')",
      ),
      // One statement per batch (not per task): claims the oldest waiting tasks of an endpoint. A new
      // hold has not started (started_at is of this hold only: requeue gives back an unstarted one's
      // attempt, and an earlier run's start would keep it charged twice).
      claim: p(
        `UPDATE tasks SET state = 'dispatched', attempts = attempts + 1, dispatched_at = @now, started_at = NULL
         WHERE seq IN (SELECT seq FROM tasks WHERE endpoint_id = @endpoint AND state = 'waiting-for-endpoint' ORDER BY seq LIMIT @limit)
         RETURNING seq, id, function_id, COALESCE(grp, '') AS grp, args, attempts, timeout_ms, alts IS NOT NULL AS movable`,
      ),
      // Distinct groups waiting at an endpoint, one index seek each (SQLite has no skip scan for this).
      waitingGroups: p(
        `WITH RECURSIVE g(grp) AS (
           SELECT MIN(grp) FROM tasks WHERE endpoint_id = @endpoint AND state = 'waiting-for-endpoint'
           UNION ALL
           SELECT (SELECT MIN(grp) FROM tasks WHERE endpoint_id = @endpoint AND state = 'waiting-for-endpoint' AND grp > g.grp) FROM g WHERE g.grp IS NOT NULL
         ) SELECT grp FROM g WHERE grp IS NOT NULL LIMIT ${WAITING_GROUPS_LIMIT}`,
      ),
      // Argument sizes of the tasks the next claims would take (length() of a BLOB reads no overflow pages).
      waitingSizes: p(
        `SELECT length(args) AS n FROM tasks WHERE endpoint_id = @endpoint AND state = 'waiting-for-endpoint' ORDER BY seq LIMIT @limit`,
      ),
      waitingSizesGroup: p(
        `SELECT length(args) AS n FROM tasks WHERE endpoint_id = @endpoint AND grp = @grp AND state = 'waiting-for-endpoint' ORDER BY seq LIMIT @limit`,
      ),
      stealSizes: p(
        `SELECT length(args) AS n FROM tasks WHERE state = 'waiting-for-endpoint' AND alts IS NOT NULL
         AND endpoint_id != @endpoint AND instr(alts, @endpoint) > 0
         AND endpoint_id NOT IN (SELECT value FROM json_each(@away)) ORDER BY seq LIMIT @limit`,
      ),
      claimGroup: p(
        `UPDATE tasks SET state = 'dispatched', attempts = attempts + 1, dispatched_at = @now, started_at = NULL
         WHERE seq IN (SELECT seq FROM tasks WHERE endpoint_id = @endpoint AND grp = @grp AND state = 'waiting-for-endpoint' ORDER BY seq LIMIT @limit)
         RETURNING seq, id, function_id, grp, args, attempts, timeout_ms, alts IS NOT NULL AS movable`,
      ),
      // Late binding: the oldest waiting tasks bound elsewhere that may run here, re-bound to this
      // endpoint; none bound to an endpoint in @away (a JSON list: agents that may still come back
      // after a restart and hold them).
      steal: p(
        `UPDATE tasks SET endpoint_id = @endpoint, state = 'dispatched', attempts = attempts + 1, dispatched_at = @now, started_at = NULL
         WHERE seq IN (SELECT seq FROM tasks WHERE state = 'waiting-for-endpoint' AND alts IS NOT NULL
                       AND endpoint_id != @endpoint AND instr(alts, @endpoint) > 0
                       AND endpoint_id NOT IN (SELECT value FROM json_each(@away)) ORDER BY seq LIMIT @limit)
         RETURNING seq, id, function_id, COALESCE(grp, '') AS grp, args, attempts, timeout_ms`,
      ),
      // Held by an agent, not known to run, and allowed on `target` (the agent alone knows whether it started).
      recallable: p(
        `SELECT id FROM tasks WHERE id IN (SELECT value FROM json_each(@ids)) AND endpoint_id = @holder
         AND state = 'dispatched' AND alts IS NOT NULL AND instr(alts, @target) > 0 AND copies = 0`,
      ),
      // A task the holder gave back unstarted: dispatched to `to` instead (the attempt it used is kept, not added to).
      handOver: p(
        `UPDATE tasks SET endpoint_id = @to, dispatched_at = @now
         WHERE id = @id AND endpoint_id = @from AND state = 'dispatched' AND alts IS NOT NULL AND instr(alts, @to) > 0
         RETURNING id, function_id, COALESCE(grp, '') AS grp, args, attempts, timeout_ms, 1 AS movable`,
      ),
      // A task the holder gave back unstarted, with nowhere to go: waiting again, its attempt not used
      // (unless it had started before: see requeue).
      unhold: p(
        "UPDATE tasks SET state = 'waiting-for-endpoint', attempts = MAX(0, attempts - (started_at IS NULL)) WHERE id = ? AND endpoint_id = ? AND state = 'dispatched'",
      ),
      countMovable: p("SELECT count(*) AS n FROM tasks WHERE state = 'waiting-for-endpoint' AND alts IS NOT NULL"),
      // Per id through the unique index: an IN (json_each) form made SQLite scan every dispatched task of the endpoint.
      markRunning: p(
        "UPDATE tasks SET state = 'running', started_at = ? WHERE id = ? AND endpoint_id = ? AND state = 'dispatched'",
      ),
      idsInUse: p('SELECT id, owner_id FROM tasks WHERE id IN (SELECT value FROM json_each(?))'),
      tasksByIds: p(`SELECT ${TASK_COLS} FROM tasks WHERE id IN (SELECT value FROM json_each(?))`),
      // Finished tasks bring their error along (a watch replays it); results are read one frame at a
      // time when sent (Store.result), never thousands at once.
      taskOutcomes: p(
        `SELECT id, owner_id, state, endpoint_id, attempts, error
         FROM tasks WHERE id IN (SELECT value FROM json_each(?))`,
      ),
      // RETURNING tells whether the task is part of a group (a copy, or an original with copies). A
      // result for a task waiting again unstarted (attempt given back) ran after all: its attempt counts.
      complete: p(
        `UPDATE tasks SET state = ?, result = ?, result_size = ?, error = ?,
         attempts = attempts + (state = 'waiting-for-endpoint' AND started_at IS NULL),
         started_at = COALESCE(started_at, ?), completed_at = ?
         WHERE id = ? AND endpoint_id = ? AND state IN ('waiting-for-endpoint', 'dispatched', 'running')
         RETURNING copy_of, copies, attempts, owner_id`,
      ),
      taskById: p(`SELECT ${TASK_COLS} FROM tasks WHERE id = ?`),
      taskResult: p('SELECT result FROM tasks WHERE id = ?'),
      // Attempts count the holds a task started in. A task lost before it started gives its attempt
      // back: while it waits with started_at NULL its current hold is not counted, and reclaim (its
      // agent comes back holding it) or complete count it again. Both sides key on started_at alone;
      // before, reclaim did not add back what this took and attempts went negative (issue 14).
      requeue: p(
        "UPDATE tasks SET state = 'waiting-for-endpoint', error = ?, started_at = COALESCE(started_at, ?), attempts = MAX(0, attempts - (COALESCE(started_at, ?) IS NULL)) WHERE id = ? AND state IN ('dispatched', 'running')",
      ),
      failLost: p(
        "UPDATE tasks SET state = 'failed', error = ?, completed_at = ?, started_at = COALESCE(started_at, ?) WHERE id = ? AND state IN ('waiting-for-endpoint', 'dispatched', 'running')",
      ),
      // Held again by its agent: an unstarted task's attempt, given back by requeue, counts again.
      reclaim: p(
        "UPDATE tasks SET state = CASE WHEN started_at IS NULL THEN 'dispatched' ELSE 'running' END, attempts = attempts + (started_at IS NULL) WHERE id = ? AND endpoint_id = ? AND state = 'waiting-for-endpoint'",
      ),
      cancel: p(
        "UPDATE tasks SET state = 'cancelled', completed_at = ?, error = ? WHERE id = ? AND owner_id = ? AND copy_of IS NULL AND state IN ('waiting-for-endpoint', 'dispatched', 'running')",
      ),
      endpointActive: p(
        "SELECT id, attempts, max_attempts FROM tasks WHERE endpoint_id = ? AND state IN ('dispatched', 'running')",
      ),
      // As requeue: an unstarted task gives its attempt back (a re-attaching agent's reclaim counts it again).
      resetActive: p(
        "UPDATE tasks SET state = 'waiting-for-endpoint', attempts = MAX(0, attempts - (started_at IS NULL)) WHERE state IN ('dispatched', 'running')",
      ),
      countWaiting: p("SELECT COUNT(*) AS n FROM tasks WHERE endpoint_id = ? AND state = 'waiting-for-endpoint'"),
      stateCounts: p('SELECT state, COUNT(*) AS n FROM tasks GROUP BY state'),
      stateCountsOf: p('SELECT state, COUNT(*) AS n FROM tasks WHERE owner_id = ? GROUP BY state'),
    };
    // After a restart no agent is connected: everything in flight goes back to the queue (attempts are
    // kept; a re-attaching agent reclaims the tasks it still holds).
    this.inFlightAtOpen = new Set(
      (
        this.db.prepare("SELECT DISTINCT endpoint_id FROM tasks WHERE state IN ('dispatched', 'running')").all() as {
          endpoint_id: string;
        }[]
      ).map((r) => r.endpoint_id),
    );
    this.db.transaction(() => {
      this.st.allOffline.run();
      this.st.resetActive.run();
    })();
    for (const r of this.st.openTasksByOwner.all() as { owner_id: string; n: number }[])
      this.openOf.set(r.owner_id, r.n);
  }

  close(): void {
    this.db.close();
  }

  /**
   * Run one message's handling as one write transaction (`BEGIN IMMEDIATE`): the store calls inside it
   * nest as savepoints, and their reads take no locks of their own. For messages that make several
   * store calls (a client's submission: token, function and endpoint checks, then the insert) and
   * dispatch turns that claim tasks; a message with one writing call gains nothing from it (see
   * bench/RESULTS.md, Session 11). Nested calls join the open transaction. What `fn` throws rolls the
   * whole message back, so callers that must keep earlier changes catch inside `fn`.
   */
  atomically<T>(fn: () => T): T {
    if (this.db.inTransaction) return fn();
    // The in-memory open-task counts change with the rows: a rolled-back message takes its changes back.
    const journal: [string, number][] = [];
    this.openJournal = journal;
    try {
      return this.wrap.immediate(fn) as T;
    } catch (e) {
      for (let i = journal.length - 1; i >= 0; i--) {
        const [userId, n] = journal[i] as [string, number];
        this.applyOpen(userId, -n);
      }
      throw e;
    } finally {
      this.openJournal = undefined;
    }
  }

  // ---------------------------------------------------------------- users and tokens

  /** `maxOpenTasks`: see UserRow.max_open_tasks (null: the service's default). */
  createUser(name: string, admin = false, maxOpenTasks: number | null = null): UserRow {
    if (!new RegExp(USER_NAME_PATTERN).test(name))
      throw new FaasConfigError(
        `invalid user name "${name.slice(0, 200)}"`,
        { user: name.slice(0, 200) },
        `use 1-${MAX_NAME_LENGTH} letters, digits, ".", "_", "@" or "-"`,
      );
    if (this.st.userByName.get(name)) throw new StoreConflictError(`user "${name}" already exists`);
    const row = { id: randomUUID(), name, created_at: Date.now(), admin: admin ? 1 : 0, max_open_tasks: maxOpenTasks };
    this.st.insertUser.run(row.id, row.name, row.created_at, row.admin, row.max_open_tasks);
    return row;
  }

  /** Set a user's own limit of unfinished tasks (null: the service's default, 0: none). */
  setMaxOpenTasks(userId: string, n: number | null): void {
    this.st.setMaxOpenTasks.run(n, userId);
  }

  /**
   * A user's unfinished tasks (waiting, dispatched or running; tail copies not counted) and their own
   * limit as stored (read afresh: an admin may change it while the service runs).
   */
  openTasks(userId: string): { open: number; limit: number | null } {
    const limit = (this.st.maxOpenTasks.get(userId) as { n: number | null } | undefined)?.n ?? null;
    return { open: this.openOf.get(userId) ?? 0, limit };
  }

  /** Tasks of `userId` were stored (n > 0) or finished (n < 0). */
  private countOpen(userId: string, n: number): void {
    this.openJournal?.push([userId, n]);
    this.applyOpen(userId, n);
  }

  private applyOpen(userId: string, n: number): void {
    const left = (this.openOf.get(userId) ?? 0) + n;
    if (left > 0) this.openOf.set(userId, left);
    else this.openOf.delete(userId);
  }

  userByName(name: string): UserRow | undefined {
    return this.st.userByName.get(name) as UserRow | undefined;
  }

  userById(id: string): UserRow | undefined {
    return this.st.userById.get(id) as UserRow | undefined;
  }

  listUsers(): UserRow[] {
    return this.st.listUsers.all() as UserRow[];
  }

  /** Create a token for a user; returns the token itself (shown once) and its id. */
  createToken(userId: string, label?: string): { id: string; token: string } {
    const token = generateToken();
    const id = randomBytes(6).toString('hex');
    this.st.insertToken.run(id, userId, hashToken(token), label ?? null, Date.now());
    return { id, token };
  }

  /** The user a token belongs to, or undefined if unknown or revoked. */
  authenticate(token: string): (UserRow & { token_id: string }) | undefined {
    const row = this.st.tokenByHash.get(hashToken(token)) as
      | (UserRow & { token_id: string; revoked_at: number | null })
      | undefined;
    if (!row || row.revoked_at !== null) return undefined;
    return {
      id: row.id,
      name: row.name,
      created_at: row.created_at,
      admin: row.admin,
      max_open_tasks: row.max_open_tasks,
      token_id: row.token_id,
    };
  }

  touchToken(tokenId: string, at: number): void {
    this.st.touchToken.run(at, tokenId);
  }

  /** False once the token was revoked (checked periodically for long-lived WebSocket sessions). */
  tokenActive(tokenId: string): boolean {
    return this.st.tokenActive.get(tokenId) !== undefined;
  }

  listTokens(): TokenRow[] {
    return this.st.listTokens.all() as TokenRow[];
  }

  /** True if the token existed and was active. */
  revokeToken(id: string): boolean {
    return this.st.revokeToken.run(Date.now(), id).changes === 1;
  }

  // ---------------------------------------------------------------- functions

  /** Register a function; the same code registered again by the same owner returns the same id. */
  registerFunction(
    ownerId: string,
    hash: string,
    code: string,
    name: string | null,
    description: string | null,
    sharing: ResolvedSharing,
  ): string {
    return this.db.transaction(() => {
      const existing = this.st.functionByOwnerHash.get(ownerId, hash) as { id: string } | undefined;
      const id = existing?.id ?? randomUUID();
      if (existing) this.st.updateFunctionMeta.run(name, description, sharing.visibility, id);
      else this.st.insertFunction.run(id, ownerId, hash, code, name, description, sharing.visibility, Date.now());
      this.st.clearFunctionShares.run(id);
      for (const u of sharing.userIds) this.st.addFunctionShare.run(id, u);
      return id;
    })();
  }

  functionById(id: string): FunctionRow | undefined {
    return this.st.functionById.get(id) as FunctionRow | undefined;
  }

  visibleFunctions(userId: string): FunctionRow[] {
    return this.st.visibleFunctions.all({ user: userId }) as FunctionRow[];
  }

  functionSharedWith(functionId: string, userId: string): boolean {
    return this.st.functionShared.get(functionId, userId) !== undefined;
  }

  functionShareNames(functionId: string): string[] {
    return (this.st.functionShares.all(functionId) as { name: string }[]).map((r) => r.name);
  }

  // ---------------------------------------------------------------- endpoints

  /** Create the endpoint (owner, name) if new, else update what was given; returns its row. */
  upsertEndpoint(
    ownerId: string,
    name: string,
    allowed: string[] | undefined,
    sharing: ResolvedSharing | undefined,
  ): EndpointRow {
    return this.db.transaction(() => {
      let row = this.st.endpointByOwnerName.get(ownerId, name) as EndpointRow | undefined;
      if (!row) {
        const id = randomUUID();
        this.st.insertEndpoint.run(
          id,
          ownerId,
          name,
          sharing?.visibility ?? 'private',
          JSON.stringify(allowed ?? []),
          Date.now(),
        );
        row = this.st.endpointById.get(id) as EndpointRow;
      } else {
        if (allowed) this.st.setEndpointAllowed.run(JSON.stringify(allowed), row.id);
        if (sharing) this.st.setEndpointVisibility.run(sharing.visibility, row.id);
      }
      if (sharing) {
        this.st.clearEndpointShares.run(row.id);
        for (const u of sharing.userIds) this.st.addEndpointShare.run(row.id, u);
      }
      return this.st.endpointById.get(row.id) as EndpointRow;
    })();
  }

  endpointById(id: string): EndpointRow | undefined {
    return this.st.endpointById.get(id) as EndpointRow | undefined;
  }

  visibleEndpoints(userId: string): EndpointRow[] {
    return this.st.visibleEndpoints.all({ user: userId }) as EndpointRow[];
  }

  /** The endpoints named `name` that `userId` may use (theirs and others' shared with them), oldest first. */
  visibleEndpointsNamed(userId: string, name: string): EndpointRow[] {
    return this.st.visibleEndpointsNamed.all({ user: userId, name }) as EndpointRow[];
  }

  /** How many endpoints `ownerId` has registered. */
  countOwnEndpoints(ownerId: string): number {
    return (this.st.countOwnEndpoints.get(ownerId) as { n: number }).n;
  }

  /**
   * Delete the endpoint `id` and its shares, unless tasks on it are unfinished: then nothing is
   * deleted and their number is returned (0 when deleted). Finished tasks keep its id.
   */
  deleteEndpoint(id: string): number {
    return this.db.transaction(() => {
      const n = (this.st.unfinishedOnEndpoint.get({ id }) as { n: number }).n;
      if (n > 0) return n;
      this.st.clearEndpointShares.run(id);
      this.st.deleteEndpoint.run(id);
      return 0;
    })();
  }

  /** The endpoint `ownerId` registered as `name`, if any. */
  ownEndpoint(ownerId: string, name: string): EndpointRow | undefined {
    return this.st.endpointByOwnerName.get(ownerId, name) as EndpointRow | undefined;
  }

  endpointSharedWith(endpointId: string, userId: string): boolean {
    return this.st.endpointShared.get(endpointId, userId) !== undefined;
  }

  endpointShareNames(endpointId: string): string[] {
    return (this.st.endpointShares.all(endpointId) as { name: string }[]).map((r) => r.name);
  }

  setEndpointOnline(id: string, capacity: number, prefetch: number): void {
    this.st.setEndpointOnline.run(Date.now(), capacity, prefetch, id);
  }

  /** Replace the endpoint's advertised tags and local path prefixes (each agent hello does). */
  setEndpointCapabilities(id: string, tags: readonly string[], localPaths: readonly string[]): void {
    this.st.setEndpointCapabilities.run(JSON.stringify(tags), JSON.stringify(localPaths), id);
  }

  setEndpointOffline(id: string): void {
    this.st.setEndpointOffline.run(id);
  }

  heartbeat(id: string, capacity: number): void {
    this.st.heartbeat.run(Date.now(), capacity, id);
  }

  countWaiting(endpointId: string): number {
    return (this.st.countWaiting.get(endpointId) as { n: number }).n;
  }

  // ---------------------------------------------------------------- tasks

  /** Insert a batch of tasks in one transaction; returns the batch id and task ids in order. */
  insertTasks(ownerId: string, tasks: NewTask[]): { batchId: string; taskIds: string[] } {
    const batchId = randomUUID();
    const now = Date.now();
    const taskIds = new Array<string>(tasks.length);
    const insert = this.db.transaction(() => {
      this.st.insertBatch.run(batchId, ownerId, tasks.length, now);
      const ins = this.st.insertTask;
      const insDispatched = this.st.insertDispatched;
      for (let i = 0; i < tasks.length; i++) {
        const t = tasks[i];
        const id = t.id ?? uuidv7(now);
        taskIds[i] = id;
        const alts = t.alts ?? null;
        const tail = t.tail ?? null;
        if (t.dispatch)
          insDispatched.run(
            id,
            batchId,
            ownerId,
            t.function_id,
            t.endpoint_id,
            t.args,
            t.max_attempts,
            t.timeout_ms,
            now,
            now,
            t.grp,
            alts,
            tail,
          );
        else {
          ins.run(
            id,
            batchId,
            ownerId,
            t.function_id,
            t.endpoint_id,
            t.args,
            t.max_attempts,
            t.timeout_ms,
            now,
            t.grp,
            alts,
            tail,
          );
          this.groupWaits(t.endpoint_id, t.grp);
        }
      }
    });
    try {
      insert();
    } catch (e) {
      // A client's id already in use (the unique index says so; nothing of the batch is kept).
      if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE' && tasks.some((t) => t.id !== undefined))
        throw new TaskIdInUseError('a task id of the submission is in use');
      throw e;
    }
    this.countOpen(ownerId, tasks.length);
    return { batchId, taskIds };
  }

  /**
   * Move up to `limit` waiting tasks of an endpoint to "dispatched" (attempt + 1) and return them in
   * dispatch order. With one fair-share group waiting that is oldest first; with several, each group
   * gets an equal share of the slots (a group with fewer tasks leaves its share to the others) and
   * the result interleaves the groups, oldest first within each. Groups take turns starting after
   * `after` (the group served last), so small claims (one free slot) rotate too.
   */
  /**
   * How many of the tasks `claimWaiting(endpointId, limit)` would take fit in `bytes` of arguments (at
   * least 1 when any waits, 0 when none): a claim loads every claimed task's arguments at once, so an
   * agent announcing many slots while large tasks wait would otherwise make one claim hold gigabytes.
   * With several fair-share groups the claim interleaves them, so the largest of each group's next
   * `limit` tasks bounds them all.
   */
  claimableWithin(endpointId: string, limit: number, bytes: number): number {
    if (limit <= 0) return 0;
    const groups = this.waitingGroups(endpointId);
    if (groups.length === 0) return 0;
    if (groups.length === 1) {
      const sizes = this.st.waitingSizes.all({ endpoint: endpointId, limit }) as { n: number | null }[];
      return fitting(sizes, bytes);
    }
    let largest = 0;
    let waiting = 0;
    for (const grp of groups) {
      const sizes = this.st.waitingSizesGroup.all({ endpoint: endpointId, grp, limit }) as { n: number | null }[];
      waiting += sizes.length;
      for (const r of sizes) largest = Math.max(largest, r.n ?? 0);
    }
    if (waiting === 0) return 0;
    return Math.max(1, Math.min(limit, largest > 0 ? Math.floor(bytes / largest) : limit));
  }

  /** How many of the tasks `stealWaiting(endpointId, limit, away)` would take fit in `bytes` (see claimableWithin). */
  stealableWithin(endpointId: string, limit: number, bytes: number, away: ReadonlySet<string> = new Set()): number {
    if (limit <= 0) return 0;
    const sizes = this.st.stealSizes.all({
      endpoint: endpointId,
      limit,
      away: away.size === 0 ? '[]' : JSON.stringify([...away]),
    }) as { n: number | null }[];
    return fitting(sizes, bytes);
  }

  claimWaiting(endpointId: string, limit: number, after?: string): ClaimedTask[] {
    if (limit <= 0) return [];
    const now = Date.now();
    const sorted = this.waitingGroups(endpointId);
    if (sorted.length === 0) return [];
    const turn = after === undefined ? 0 : sorted.findIndex((g) => g > after);
    const groups = turn <= 0 ? sorted : [...sorted.slice(turn), ...sorted.slice(0, turn)];
    if (groups.length === 1) {
      const rows = this.st.claim.all({ now, endpoint: endpointId, limit }) as (ClaimedTask & { seq: number })[];
      if (rows.length < limit) this.waitingGroupsOf.delete(endpointId);
      // RETURNING gives no order guarantee; dispatch oldest first.
      return rows.sort((a, b) => a.seq - b.seq);
    }
    const drained = new Set<string>();
    const perGroup = new Map<string, (ClaimedTask & { seq: number })[]>();
    this.db.transaction(() => {
      let left = limit;
      let open = groups;
      while (left > 0 && open.length > 0) {
        const share = Math.max(1, Math.floor(left / open.length));
        const stillOpen: string[] = [];
        for (const grp of open) {
          if (left <= 0) break;
          const n = Math.min(share, left);
          const rows = this.st.claimGroup.all({ now, endpoint: endpointId, grp, limit: n }) as (ClaimedTask & {
            seq: number;
          })[];
          left -= rows.length;
          let list = perGroup.get(grp);
          if (!list) perGroup.set(grp, (list = []));
          list.push(...rows);
          if (rows.length === n) stillOpen.push(grp);
          else drained.add(grp);
        }
        open = stillOpen;
      }
    })();
    if (drained.size) {
      const left = sorted.filter((g) => !drained.has(g));
      // Empty: forget the list, so the next claim looks again (cheap: one index seek).
      if (left.length) this.waitingGroupsOf.set(endpointId, left);
      else this.waitingGroupsOf.delete(endpointId);
    }
    // Round-robin across groups, in turn order.
    const lists = groups.map((g) => (perGroup.get(g) ?? []).sort((a, b) => a.seq - b.seq)).filter((l) => l.length > 0);
    const out: ClaimedTask[] = [];
    for (let i = 0; out.length < limit; i++) {
      let any = false;
      for (const l of lists) {
        if (i < l.length) {
          out.push(l[i]);
          any = true;
        }
      }
      if (!any) break;
    }
    return out;
  }

  /** Groups with (possibly) waiting tasks at an endpoint, sorted. */
  private waitingGroups(endpointId: string): string[] {
    let groups = this.waitingGroupsOf.get(endpointId);
    if (!groups) {
      groups = (this.st.waitingGroups.all({ endpoint: endpointId }) as { grp: string }[]).map((r) => r.grp);
      // A list cut at the statement's limit is not a superset: look again next time.
      if (groups.length > 0 && groups.length < WAITING_GROUPS_LIMIT) this.waitingGroupsOf.set(endpointId, groups);
    }
    return groups;
  }

  /** A task of `grp` now waits at the endpoint. */
  private groupWaits(endpointId: string, grp: string): void {
    const groups = this.waitingGroupsOf.get(endpointId);
    if (!groups) return; // loaded from the database when needed
    let lo = 0;
    let hi = groups.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (groups[mid] < grp) lo = mid + 1;
      else hi = mid;
    }
    if (groups[lo] !== grp) groups.splice(lo, 0, grp);
  }

  /**
   * Late binding: up to `limit` waiting tasks bound to other endpoints that list this one among their
   * alternates, oldest first, re-bound here and dispatched (attempt + 1); none of the endpoints in
   * `away`.
   */
  stealWaiting(endpointId: string, limit: number, away: ReadonlySet<string> = new Set()): ClaimedTask[] {
    if (limit <= 0) return [];
    const now = Date.now();
    const rows = this.st.steal.all({
      now,
      endpoint: endpointId,
      limit,
      away: away.size === 0 ? '[]' : JSON.stringify([...away]),
    }) as (ClaimedTask & { seq: number })[];
    return rows.sort((a, b) => a.seq - b.seq);
  }

  /**
   * Of `ids` (held by `holder`), those that may be handed over to `target`: dispatched, not reported
   * running, with `target` among their alternates. In the order given.
   */
  recallable(holder: string, target: string, ids: string[]): string[] {
    if (ids.length === 0) return [];
    const found = new Set(
      (this.st.recallable.all({ ids: JSON.stringify(ids), holder, target }) as { id: string }[]).map((r) => r.id),
    );
    return ids.filter((id) => found.has(id));
  }

  /** Tasks `from` gave back before starting them, now dispatched to `to`; returns those moved (still dispatched at `from`). */
  handOver(from: string, to: string, ids: string[]): ClaimedTask[] {
    const out: ClaimedTask[] = [];
    this.db.transaction(() => {
      const now = Date.now();
      for (const id of ids) {
        const row = this.st.handOver.get({ id, from, to, now }) as ClaimedTask | undefined;
        if (row) out.push(row);
      }
    })();
    return out;
  }

  /** Tasks `endpointId` gave back unstarted that go nowhere else: waiting again (attempt not used); returns those. */
  unhold(endpointId: string, ids: string[]): string[] {
    const back: string[] = [];
    this.db.transaction(() => {
      for (const id of ids) if (this.st.unhold.run(id, endpointId).changes > 0) back.push(id);
    })();
    if (back.length) this.waitingGroupsOf.delete(endpointId);
    return back;
  }

  /** Waiting tasks that have alternates. */
  countMovableWaiting(): number {
    return (this.st.countMovable.get() as { n: number }).n;
  }

  /**
   * Mark dispatched tasks running, each at `times[i]` when given (a finite number), else at `at`;
   * returns the ids that were dispatched (and now run).
   */
  markRunning(endpointId: string, ids: string[], startedAt: readonly number[]): string[] {
    const st = this.st.markRunning;
    const changed: string[] = [];
    this.db.transaction(() => {
      ids.forEach((id, i) => {
        if (st.run(startedAt[i], id, endpointId).changes > 0) changed.push(id);
      });
    })();
    return changed;
  }

  /** Of `ids`, those some task already has, with its owner (one statement). */
  idsInUse(ids: readonly string[]): { id: string; owner_id: string }[] {
    return this.st.idsInUse.all(JSON.stringify(ids)) as { id: string; owner_id: string }[];
  }

  /** Rows for many ids in one statement (missing ids are absent). */
  tasks(ids: string[]): TaskRow[] {
    return this.st.tasksByIds.all(JSON.stringify(ids)) as TaskRow[];
  }

  /**
   * Owner, state and (when finished) error of many ids in one statement; missing ids are absent.
   * Far cheaper than full rows (no arguments, no results) and than one lookup per finished task.
   */
  taskOutcomes(ids: string[]): TaskOutcomeRow[] {
    return this.st.taskOutcomes.all(JSON.stringify(ids)) as TaskOutcomeRow[];
  }

  /**
   * Store results; returns the ids actually accepted (a task accepts one result; later ones are
   * ignored). In a task group (a task with tail copies) the first result wins for the whole group:
   * an original's result ends its copies; a copy's success becomes the original's result (its
   * endpoint now the copy's) and ends the original and the other copies. A copy's failure ends only
   * that copy (the original runs on), and is not accepted.
   */
  complete(endpointId: string, results: Completion[]): CompleteResult {
    const accepted = new Set<string>();
    let groups: Map<string, GroupResult> | undefined;
    /** Owners of the originals this ends (counted once the transaction is done). */
    const finished: string[] = [];
    this.db.transaction(() => {
      const st = this.st.complete;
      for (const r of results) {
        const error = r.error ? JSON.stringify(r.error) : null;
        const size = r.result ? r.result.byteLength : null;
        const row = st.get(r.state, r.result, size, error, r.started_at, r.completed_at, r.task_id, endpointId) as
          | { copy_of: string | null; copies: number; attempts: number; owner_id: string }
          | undefined;
        if (!row) continue;
        if (row.copy_of === null) {
          accepted.add(r.task_id);
          finished.push(row.owner_id);
          if (row.copies > 0) {
            const losers = this.endCopies(r.task_id);
            (groups ??= new Map()).set(r.task_id, {
              task_id: r.task_id,
              by_copy: false,
              copies: this.copyEndpoints(r.task_id),
              attempts: row.attempts,
              losers,
            });
          }
          continue;
        }
        if (r.state !== 'success') continue;
        const orig = this.st.taskById.get(row.copy_of) as TaskRow | undefined;
        if (!orig || (orig.state !== 'waiting-for-endpoint' && orig.state !== 'dispatched' && orig.state !== 'running'))
          continue;
        finished.push(orig.owner_id);
        this.st.winOriginal.run({
          state: r.state,
          result: r.result,
          size,
          error,
          started: r.started_at,
          completed: r.completed_at,
          endpoint: endpointId,
          id: orig.id,
        });
        const losers = this.endCopies(orig.id).filter((l) => l.id !== r.task_id);
        if (orig.state !== 'waiting-for-endpoint') losers.push({ id: orig.id, endpoint_id: orig.endpoint_id });
        accepted.add(r.task_id);
        (groups ??= new Map()).set(r.task_id, {
          task_id: orig.id,
          by_copy: true,
          copies: this.copyEndpoints(orig.id),
          attempts: orig.attempts,
          losers,
        });
      }
    })();
    for (const owner of finished) this.countOpen(owner, -1);
    return { accepted, groups };
  }

  /** Cancel the unfinished copies of `id`; returns them. */
  private endCopies(id: string): { id: string; endpoint_id: string }[] {
    const error = JSON.stringify({
      type: 'Cancelled',
      message: 'another run of the task finished first',
    } satisfies TaskErrorInfo);
    return this.st.cancelCopies.all({ now: Date.now(), error, id }) as { id: string; endpoint_id: string }[];
  }

  private copyEndpoints(id: string): string[] {
    return (this.st.copyEndpoints.all(id) as { endpoint_id: string }[]).map((r) => r.endpoint_id);
  }

  /**
   * A tail copy of `originalId` dispatched to `endpointId` (pinned there, one attempt); undefined when
   * the original is no longer in flight or is itself a copy.
   */
  insertCopy(originalId: string, endpointId: string): ClaimedTask | undefined {
    return this.db.transaction(() => {
      const src = this.st.copySource.get(originalId) as
        | { batch_id: string; owner_id: string; function_id: string; args: Uint8Array; timeout_ms: number; grp: string }
        | undefined;
      if (!src) return undefined;
      const now = Date.now();
      const id = uuidv7(now);
      this.st.insertCopy.run(
        id,
        src.batch_id,
        src.owner_id,
        src.function_id,
        endpointId,
        src.args,
        src.timeout_ms,
        now,
        now,
        src.grp || null,
        originalId,
      );
      this.st.countCopy.run(originalId);
      return {
        id,
        function_id: src.function_id,
        grp: src.grp,
        args: src.args,
        attempts: 1,
        timeout_ms: src.timeout_ms,
      };
    })();
  }

  /** Cancel the unfinished copies of these tasks (the user cancelled them); returns the copies. */
  cancelCopiesOf(ids: string[]): { id: string; endpoint_id: string }[] {
    const out: { id: string; endpoint_id: string }[] = [];
    this.db.transaction(() => {
      for (const id of ids) out.push(...this.endCopies(id));
    })();
    return out;
  }

  /** Unfinished tasks with a tail policy (for the scheduler after a restart). */
  tailTasks(): { id: string; function_id: string; grp: string; alts: string | null; tail: string; copies: number }[] {
    return this.st.tailTasks.all() as {
      id: string;
      function_id: string;
      grp: string;
      alts: string | null;
      tail: string;
      copies: number;
    }[];
  }

  /** Run and round-trip times (s) of the newest `limit` successful tasks of a group, newest first (for the scheduler after a restart). */
  recentRuns(functionId: string, grp: string, limit: number): { run: number; trip: number }[] {
    return this.st.recentRuns.all(functionId, grp, limit) as { run: number; trip: number }[];
  }

  /** Unfinished tail copies (for the scheduler after a restart: a live copy holds back another). */
  liveCopies(): { id: string; copy_of: string; endpoint_id: string }[] {
    return this.st.liveCopies.all() as { id: string; copy_of: string; endpoint_id: string }[];
  }

  /**
   * Tail copies given up on (their agent did not come back after a service restart): cancelled with
   * `reason` as an EndpointLost error, never run again. Returns the ids that were still unfinished.
   */
  dropCopies(ids: readonly string[], reason: string): string[] {
    const dropped: string[] = [];
    const error = JSON.stringify({ type: 'EndpointLost', message: reason } satisfies TaskErrorInfo);
    this.db.transaction(() => {
      const now = Date.now();
      for (const id of ids) if (this.st.dropCopy.run(now, error, id).changes > 0) dropped.push(id);
    })();
    return dropped;
  }

  /**
   * Tasks lost with their worker or endpoint: back to the queue, or failed when they have used all
   * attempts. Returns the ids that failed for good.
   */
  requeueLost(
    endpointId: string,
    lost: { task_id: string; reason: string; type: 'WorkerLost' | 'EndpointLost'; started_at?: number }[],
  ): {
    failed: Map<string, TaskErrorInfo>;
    requeued: string[];
    dropped: string[];
    losers: { id: string; endpoint_id: string }[];
  } {
    const failed = new Map<string, TaskErrorInfo>();
    const requeued: string[] = [];
    /** Copies lost (not run again), and copies of tasks that failed for good (cancelled). */
    const dropped: string[] = [];
    const losers: { id: string; endpoint_id: string }[] = [];
    const finished: string[] = [];
    this.db.transaction(() => {
      const now = Date.now();
      for (const l of lost) {
        const row = this.st.taskById.get(l.task_id) as TaskRow | undefined;
        if (!row || row.endpoint_id !== endpointId || (row.state !== 'dispatched' && row.state !== 'running')) continue;
        // A lost copy is not run again: the original still runs (or waits), and the scheduler may copy it anew.
        if (row.copy_of !== null) {
          this.st.dropCopy.run(
            now,
            JSON.stringify({ type: l.type, message: l.reason } satisfies TaskErrorInfo),
            l.task_id,
          );
          dropped.push(l.task_id);
          continue;
        }
        const error: TaskErrorInfo = {
          type: l.type,
          message: `${l.reason} (attempt ${row.attempts} of ${row.max_attempts})`,
          details: { attempts: row.attempts, max_attempts: row.max_attempts },
        };
        // The agent reports `started_at` for tasks that ran but never got a "started" notice.
        const startedAt = row.started_at ?? l.started_at ?? null;
        if (row.attempts >= row.max_attempts && startedAt !== null) {
          this.st.failLost.run(JSON.stringify(error), now, startedAt, l.task_id);
          failed.set(l.task_id, error);
          finished.push(row.owner_id);
          if (row.copies > 0) losers.push(...this.endCopies(l.task_id));
        } else {
          this.st.requeue.run(JSON.stringify(error), startedAt, startedAt, l.task_id);
          requeued.push(l.task_id);
        }
      }
    })();
    for (const owner of finished) this.countOpen(owner, -1);
    // Their groups wait here again: reload the list when next needed.
    if (requeued.length) this.waitingGroupsOf.delete(endpointId);
    return { failed, requeued, dropped, losers };
  }

  /** Task ids of an endpoint currently dispatched or running. */
  activeTasks(endpointId: string): string[] {
    return (this.st.endpointActive.all(endpointId) as { id: string }[]).map((r) => r.id);
  }

  /** A re-attaching agent still holds these tasks: mark them in flight again (no new attempt). */
  reclaim(endpointId: string, ids: string[]): void {
    this.db.transaction(() => {
      for (const id of ids) this.st.reclaim.run(id, endpointId);
    })();
  }

  /** Cancel the owner's unfinished tasks; returns the ids cancelled. */
  cancel(ownerId: string, ids: string[]): string[] {
    const done: string[] = [];
    const err = JSON.stringify({ type: 'Cancelled', message: 'cancelled by the user' } satisfies TaskErrorInfo);
    this.db.transaction(() => {
      const now = Date.now();
      for (const id of ids) if (this.st.cancel.run(now, err, id, ownerId).changes === 1) done.push(id);
    })();
    this.countOpen(ownerId, -done.length);
    return done;
  }

  task(id: string): TaskRow | undefined {
    return this.st.taskById.get(id) as TaskRow | undefined;
  }

  result(id: string): Buffer | null {
    const row = this.st.taskResult.get(id) as { result: Buffer | null } | undefined;
    return row?.result ?? null;
  }

  batch(id: string): { id: string; owner_id: string; size: number; created_at: number } | undefined {
    return this.st.batchById.get(id) as { id: string; owner_id: string; size: number; created_at: number } | undefined;
  }

  batchCounts(id: string): { state: TaskState; n: number }[] {
    return this.st.batchCounts.all(id) as { state: TaskState; n: number }[];
  }

  batchTaskIds(id: string): string[] {
    return (this.st.batchTaskIds.all(id) as { id: string }[]).map((r) => r.id);
  }

  stateCounts(): { state: TaskState; n: number }[] {
    return this.st.stateCounts.all() as { state: TaskState; n: number }[];
  }

  /** Task counts by state of one user's tasks. */
  stateCountsOf(ownerId: string): { state: TaskState; n: number }[] {
    return this.st.stateCountsOf.all(ownerId) as { state: TaskState; n: number }[];
  }
}

/** Sharing with user names resolved to ids. */
export interface ResolvedSharing {
  visibility: Visibility;
  userIds: string[];
}

export type { Sharing };

/** How many of `sizes`, in order, fit in `bytes` together; at least 1 when there is any. */
function fitting(sizes: readonly { n: number | null }[], bytes: number): number {
  let sum = 0;
  for (let i = 0; i < sizes.length; i++) {
    sum += sizes[i]?.n ?? 0;
    if (sum > bytes) return Math.max(1, i);
  }
  return sizes.length;
}
