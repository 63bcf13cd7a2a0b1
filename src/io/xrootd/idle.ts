/**
 * Logged-in connections kept for a few seconds after their file is closed, per server, for the next
 * file opened there. A run stats a file (its identity), opens it to count its entries, then opens it
 * again to read it: made anew, each of those paid a TCP connection, the handshake and the login — three
 * round trips, 0.15 s on a link of 50 ms — and the server a login. Only connections of this thread's
 * own sockets are kept (not those of the relay thread), only when no request is in flight on them, and
 * none keeps the process alive. One whose server closed it is dropped, also when the close came while
 * the thread was busy (`takeConnection`).
 */
import type { XrootdConnection } from './connection.ts';

/** How long an unused connection is kept (ms). */
const KEEP_MS = 10_000;
/** Connections kept per server at most. */
const MAX_PER_SERVER = 4;

interface Parked {
  readonly conn: XrootdConnection;
  readonly timer: NodeJS.Timeout;
}

const parked = new Map<string, Parked[]>();

/** Keep `conn` for reuse when it is idle (else, or when enough are kept, close it). */
export function parkConnection(conn: XrootdConnection): void {
  const list = parked.get(conn.endpoint) ?? [];
  if (!conn.idle || list.length >= MAX_PER_SERVER) {
    conn.close();
    return;
  }
  conn.keepAlive(false);
  const entry: Parked = {
    conn,
    timer: setTimeout(() => {
      const at = list.indexOf(entry);
      if (at >= 0) list.splice(at, 1);
      conn.close();
    }, KEEP_MS),
  };
  entry.timer.unref();
  list.push(entry);
  parked.set(conn.endpoint, list);
}

/**
 * A kept connection to `endpoint` ("host:port") that still works, taken out of the keep; else undefined.
 * Resolves after a poll phase of the event loop, so that the end of a kept socket (a server killed or
 * restarted while this thread ran without turning the loop, e.g. through a long chunk) is seen before
 * the socket is chosen: a request on it failed and cost an attempt of the caller's retries (with none
 * left, the open failed although the server was back). A server that vanished without closing its
 * sockets (no FIN) is not seen here: a request on such a connection waits for its timeout (and then
 * the others kept for that server are dropped: `dropParkedConnections`).
 */
export async function takeConnection(endpoint: string): Promise<XrootdConnection | undefined> {
  if (!parked.get(endpoint)?.length) return undefined;
  // Two immediates: the first may fire in the check phase of the loop turn that is running (its poll
  // phase already past); the second comes after the poll phase of the next one, which reads the FIN.
  for (let k = 0; k < 2; k++) await new Promise((resolve) => setImmediate(resolve));
  const list = parked.get(endpoint);
  for (let e = list?.pop(); e; e = list?.pop()) {
    clearTimeout(e.timer);
    if (e.conn.idle) {
      e.conn.keepAlive(true);
      return e.conn;
    }
    e.conn.close();
  }
  return undefined;
}

/**
 * Close the connections kept for `endpoint`: one of them broke without its server closing it (no FIN,
 * e.g. timed out), so the others, as old, are likely dead too and would each cost a timeout.
 */
export function dropParkedConnections(endpoint: string): void {
  for (const e of parked.get(endpoint)?.splice(0) ?? []) {
    clearTimeout(e.timer);
    e.conn.close();
  }
}

/** Close every kept connection (tests, and a process that wants its sockets gone now). */
export function closeParkedConnections(): void {
  for (const list of parked.values()) {
    for (const e of list.splice(0)) {
      clearTimeout(e.timer);
      e.conn.close();
    }
  }
}
