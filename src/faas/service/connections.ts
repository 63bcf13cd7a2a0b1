/**
 * A cap on the open TCP connections of one remote address. Without it anyone who reached the port
 * could open connections (half-sent headers, no token needed) until the service ran out of file
 * descriptors, and then every other client failed to connect (issue 14, probe D13: 20,000 sockets).
 * A connection over the cap is answered at once with a JSON refusal and closed.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { ApiError, rawErrorResponse } from './http.ts';

/**
 * Default of ServiceOptions.maxConnectionsPerAddress. A client process uses a few connections and
 * up to 32 result streams; this leaves room for many of them behind one address (a login node, a
 * NAT), and far below common open-file limits. Behind a reverse proxy every client has the proxy's
 * address: raise it there, and let the proxy limit per client.
 */
export const MAX_CONNECTIONS_PER_ADDRESS = 1_000;

/** Count connections per remote address on `server` and refuse those over `max` (0 = no cap). */
export function capConnections(server: Server, max: number, log: (msg: string) => void): void {
  if (max <= 0) return;
  const open = new Map<string, number>();
  let refused = 0;
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? '';
    const n = open.get(address) ?? 0;
    if (n >= max) {
      // A log line per 1,000 refusals: a flood must not flood the log too.
      if (refused++ % 1000 === 0) log(`refused connections from ${address}: over ${max} open (${refused} so far)`);
      socket.on('error', () => {});
      const err = new ApiError('QuotaExceeded', `too many open connections from ${address} (at most ${max})`, {
        limit: max,
      });
      // Closed once written: the HTTP server keeps reading a half-closed socket otherwise.
      socket.end(rawErrorResponse(err), () => socket.destroy());
      return;
    }
    open.set(address, n + 1);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left > 0) open.set(address, left);
      else open.delete(address);
    });
  });
}
