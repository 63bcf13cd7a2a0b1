/**
 * The FaaS scheduling policy in one place: every hand-tuned number that decides where and when a
 * task runs, with the measurement behind it, and the pure functions that apply them. The processes
 * that act on them — the service (dispatch, recalls, tail copies), the endpoint agent (prefetch,
 * running notices) and the worker pool (queue inside a worker) — import them from here, so a change
 * to the policy is a change to this file.
 *
 * Who decides what (the service is the scheduler; the others report and obey):
 * - **Service** (src/faas/service/agents.ts): which endpoint a task starts on. It dispatches a task to
 *   its endpoint while that endpoint has free slots + prefetch; a task submitted with alternates
 *   (late binding) starts on whichever of them frees a slot first; an endpoint with idle slots and
 *   nothing waiting recalls unstarted tasks from agents that hold more than they can run. Dispatch and
 *   recall stay in the hub, not in scheduler.ts, because they act on per-connection state only the hub
 *   has (free slots, tasks in flight, bytes unsent on the socket); their numbers and rules are here.
 * - **Service** (src/faas/service/scheduler.ts): tail copies. A task submitted with a tail policy and
 *   alternates that straggles (`stragglerMs` over its group's recent run times, `TAIL_RECENT_CHUNKS`,
 *   `TAIL_MOVABLE_PATIENCE`, looked at every `TAIL_TICK_MS`) gets a copy in an idle slot of an
 *   alternate; the first result wins, the other runs are cancelled. After a restart, a copy whose
 *   agent has not re-attached within `REATTACH_GRACE_HEARTBEATS` is lost and may be made again, and
 *   until then no alternate takes the tasks of an agent that had them in flight.
 * - **Agent** (src/faas/endpoint/agent.ts): how much it asks for (prefetch, `prefetchFor`) and when it
 *   reports a task running (`noticeDelayMs`).
 * - **Pool** (src/faas/endpoint/pool.ts): how many tasks wait inside a busy worker (`QUEUED_WORK_MS`,
 *   `HOLD_BACK_MS`). Its queue is FIFO by submission within a group, like the service's claims: a task
 *   that comes back late (recalled, with nowhere else to go) starts before newer ones.
 * - **Executor** (executors/faas/executor.ts): which endpoint a chunk is sent to first and its
 *   alternates, its tail policy (`--straggler-factor`, `--tail-timeout`, `--max-copies`), and chunks
 *   moved off an endpoint that went offline. It makes no copies itself; nor does a fit scan on FaaS
 *   (src/fit/scan-faas.ts), which submits patches the same way.
 *
 * Who retries what (each failure is retried in one place):
 * - A run lost with its worker or endpoint: the service runs the task again on any of its candidates,
 *   up to its `max_attempts` (a loss before the task started costs none) — Store.requeueLost.
 * - A chunk that failed (the processor threw, or the service gave up on it as lost): the runner's
 *   `--retries`, in BaseExecutor (src/runner/executor.ts), the same for threads and FaaS.
 * - Requests and connections (HTTP, the result stream, agents, the executor's channel): backoff with
 *   jitter from ./retry.ts.
 *
 * @example
 * ```ts
 * import { noticeDelayMs, prefetchFor } from './scheduling.ts';
 * console.log(prefetchFor(4, 10));   // 10: 25 ms of 10 ms tasks on 4 slots
 * console.log(noticeDelayMs(15));    // 30: short tasks are reported running at twice their average
 * ```
 */

// ---------------------------------------------------------------- service

/**
 * A recall (the service asking an agent to give back unstarted tasks for another endpoint's idle
 * slots) unanswered this long is written off; its tasks stay where they are. An agent answers within
 * a round trip unless it is stuck, and a stuck one must not block recalls for long.
 */
export const RECALL_PATIENCE_MS = 2000;

/**
 * How many of a holder's newest in-flight tasks a recall considers: twice the tasks it holds beyond
 * its slots, plus some slack for tasks that started since the service last heard. The newest are the
 * ones still waiting (agents start tasks about in the order they came).
 */
export function recallWindow(queuedAtHolder: number): number {
  return 2 * queuedAtHolder + 16;
}

// ---------------------------------------------------------------- agent

/**
 * A task gets a "started" notice only once it has run this long: a shorter task's result says when
 * it started, and the service saves one database write per task. Long tasks still show as running.
 */
export const STARTED_NOTICE_MS = 20;

/**
 * Tasks shorter than this on average get their notice only at twice the average: the ones still
 * running then are the stragglers a client wants to hear about. A notice costs a message to the
 * service, a database write and a message to the client; for ~25 ms chunks that was about every
 * chunk (service CPU 0.38-0.42 → 0.34 s per 200-chunk run when this came in). 250, not 50: on a
 * loaded machine 100k-event chunks average 50-100 ms and, at 50, every one of them got a notice
 * (session 10: 63 notices per 115 chunks; bench/RESULTS.md "per-chunk FaaS overhead").
 */
export const SHORT_TASK_MS = 250;

/** How long a task runs before its agent reports it running, given the endpoint's average task length. */
export function noticeDelayMs(averageTaskMs: number | undefined): number {
  return averageTaskMs !== undefined && averageTaskMs < SHORT_TASK_MS
    ? Math.max(STARTED_NOTICE_MS, 2 * averageTaskMs)
    : STARTED_NOTICE_MS;
}

/**
 * Work (ms, at the observed task length) an agent asks for beyond its slots: a dispatch round trip
 * with room to spare, so short tasks stream at full speed while long ones are not hoarded — a task
 * held at one agent cannot start on another endpoint that frees a slot first (late binding), nor in
 * another group's turn. (Session 3: 2 × capacity + 16 before; weak scaling at 4-64 slots gained.)
 */
export const PREFETCH_WORK_MS = 25;
/** Most tasks an agent asks for beyond its slots. */
export const MAX_AGENT_PREFETCH = 4000;

/** Tasks an agent asks for beyond `capacity`; one before any task has finished (as if tasks were long). */
export function prefetchFor(capacity: number, averageTaskMs: number | undefined): number {
  if (averageTaskMs === undefined) return 1;
  return Math.min(
    MAX_AGENT_PREFETCH,
    Math.max(1, Math.ceil((capacity * PREFETCH_WORK_MS) / Math.max(averageTaskMs, 0.01))),
  );
}

// ---------------------------------------------------------------- worker pool

/**
 * For short tasks, about this much work (ms, at the observed average) waits inside each busy worker,
 * so a worker that finishes starts its next task without waiting for the agent to be scheduled:
 * ADL query 5 in 100k-event chunks (~20 ms), one worker, 5.5 s with no queue, 3.8-4.2 s with one task
 * queued (`bench/scaling/adl-overhead.json`).
 */
export const QUEUED_WORK_MS = 20;

/**
 * Tasks this long (ms) or longer are not queued inside workers: a task queued behind running ones
 * waits for that worker while another may free a slot first (200 ms tasks in 2 workers: 90 / 90 /
 * 89 % weak-scaling efficiency at 4 / 64 / 256 slots with a queue, 98 / 96 / 93 % without).
 */
export const HOLD_BACK_MS = 100;

// ---------------------------------------------------------------- service (tail copies)

/**
 * How often (ms) the service looks for stragglers to copy (src/faas/service/scheduler.ts): the
 * executor looked every 250 ms; stragglers are at least `min_ms` (200 ms by default) late anyway.
 */
export const TAIL_TICK_MS = 100;

/**
 * Finished tasks of a group whose times set its straggler thresholds (a sliding window): when other
 * analyses start sharing the endpoints, a median over the whole run would still describe the idle
 * start and call every queued task a straggler.
 */
export const TAIL_RECENT_CHUNKS = 16;

/**
 * Heartbeats the service waits after a restart for the agents that had tasks in flight to come back
 * (`AgentHub`). Meanwhile their tasks are not taken by alternates (the agent may still be running
 * them: it re-attaches holding them); afterwards they may move, and a tail copy whose agent has not
 * re-attached counts as lost, so the task may get a new copy. A live agent re-attaches within its
 * reconnect backoff (at most 5 s by default); three heartbeats is also how long a silent connection
 * is kept. Without this, a copy whose endpoint never came back stayed "live" for good and no other
 * copy of its task could start, and a task still running at its agent was started again elsewhere.
 */
export const REATTACH_GRACE_HEARTBEATS = 3;

/**
 * A task with alternates dispatched to an agent and not yet reported running is started by the first
 * endpoint with a free slot anyway (late binding, recalls), so a copy elsewhere would wait in the same
 * queues: it gets one only after this many times the usual threshold over recent round trips (an
 * agent holding it without starting it — stopped, or stuck).
 */
export const TAIL_MOVABLE_PATIENCE = 4;

/**
 * ms after which an outstanding task is a straggler: the smaller of `tailTimeoutMs` and `factor` × the
 * median of `recentSeconds`, never below `minMs`; undefined while neither is known.
 */
export function stragglerMs(
  recentSeconds: readonly number[],
  factor: number,
  tailTimeoutMs: number | undefined,
  minMs: number,
): number | undefined {
  let t = tailTimeoutMs;
  // Even one finished chunk is a yardstick: with none stuck chunks would wait for --tail-timeout, and
  // a runner whose in-order merge window is held by them hands out no more work meanwhile.
  if (recentSeconds.length >= 1) {
    const sorted = [...recentSeconds].sort((a, b) => a - b);
    const k = factor * sorted[sorted.length >> 1] * 1000;
    t = t === undefined ? k : Math.min(t, k);
  }
  return t === undefined ? undefined : Math.max(minMs, t);
}

/** Add `value` to a sliding window of the last TAIL_RECENT_CHUNKS values. */
export function pushRecent(window: number[], value: number): void {
  window.push(value);
  if (window.length > TAIL_RECENT_CHUNKS) window.splice(0, window.length - TAIL_RECENT_CHUNKS);
}
