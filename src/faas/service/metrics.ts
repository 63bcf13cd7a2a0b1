/** Service counters, reported by `GET /v1/metrics`. */
export class Metrics {
  readonly startedAt = Date.now();
  httpRequests = 0;
  httpErrors = 0;
  tasksSubmitted = 0;
  tasksDispatched = 0;
  tasksSucceeded = 0;
  tasksFailed = 0;
  tasksCancelled = 0;
  tasksRequeued = 0;
  /** Tasks taken by an alternate endpoint (late binding). */
  tasksMoved = 0;
  /** Tasks an agent gave back unstarted (recalled) and that were dispatched to an idle endpoint. */
  tasksHandedOver = 0;
  /** Recalls sent: agents asked to give back unstarted tasks for an idle endpoint. */
  recalls = 0;
  duplicateResults = 0;
  /** Tail copies the service started for stragglers, and those that delivered the result. */
  tailCopies = 0;
  tailCopyWins = 0;
  resultBytes = 0;
  agentConnects = 0;
  streamConnects = 0;
  streamSubmits = 0;

  snapshot(): Record<string, number> {
    return {
      uptime_s: (Date.now() - this.startedAt) / 1000,
      http_requests: this.httpRequests,
      http_errors: this.httpErrors,
      tasks_submitted: this.tasksSubmitted,
      tasks_dispatched: this.tasksDispatched,
      tasks_succeeded: this.tasksSucceeded,
      tasks_failed: this.tasksFailed,
      tasks_cancelled: this.tasksCancelled,
      tasks_requeued: this.tasksRequeued,
      tasks_moved: this.tasksMoved,
      tasks_handed_over: this.tasksHandedOver,
      recalls: this.recalls,
      duplicate_results: this.duplicateResults,
      tail_copies: this.tailCopies,
      tail_copy_wins: this.tailCopyWins,
      result_bytes: this.resultBytes,
      agent_connects: this.agentConnects,
      stream_connects: this.streamConnects,
      stream_submits: this.streamSubmits,
    };
  }
}
