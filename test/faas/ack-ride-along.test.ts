/**
 * Acknowledgements that ride along with dispatched tasks (`ServiceTasks.ack`): a real endpoint agent
 * (with a real worker process) against a fake service. An ack inside a tasks frame makes the agent
 * forget that result exactly like an `ack` message: after a reconnect it re-sends only the results
 * never acknowledged. (Exactly-once delivery through a real service, whichever way acks travel, is
 * what test/faas/platform.test.ts and recovery.test.ts check.)
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import { decodeFrame, encodeFrame, packValue } from '../../src/faas/codec.ts';
import { EndpointAgent } from '../../src/faas/endpoint/agent.ts';
import type { AgentResults, ServiceTasks, ServiceWelcome } from '../../src/faas/protocol.ts';

// Real processes on a machine that may be busy: generous limits, never timing assertions.
vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

const dir = mkdtempSync(join(tmpdir(), 'ristretto-ack-ride-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const code = 'export default (x) => x + 1;';
const hash = createHash('sha256').update(code).digest('hex');

function welcome(ws: WebSocket): void {
  const w: ServiceWelcome = {
    type: 'welcome',
    endpoint_id: '00000000-0000-4000-8000-000000000001',
    name: 'ride',
    heartbeat_ms: 60_000,
    limits: { max_payload_bytes: 1e6, max_result_bytes: 1e6, max_request_bytes: 1e6, max_function_bytes: 1e6 },
  };
  ws.send(JSON.stringify(w));
}

function tasks(ids: string[], ack?: string[]): Buffer {
  const header: ServiceTasks = {
    type: 'tasks',
    functions: [{ hash, code }],
    tasks: ids.map((task_id, blob) => ({ task_id, function_id: 'f', hash, blob, attempt: 1, timeout_ms: 0 })),
    ...(ack ? { ack } : {}),
  };
  return encodeFrame(
    header,
    ids.map((_, i) => packValue(i * 10)),
  );
}

describe('acks inside tasks frames', () => {
  it('the agent forgets a result acknowledged in a tasks frame, and re-sends only the others', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise<void>((r) => wss.once('listening', () => r()));
    const port = (wss.address() as { port: number }).port;
    /** Result ids per connection, in arrival order. */
    const received: string[][] = [];
    let resent!: () => void;
    const resentDone = new Promise<void>((r) => (resent = r));
    wss.on('connection', (ws) => {
      const mine: string[] = [];
      const conn = received.push(mine) - 1;
      ws.on('message', (data, binary) => {
        if (!binary) {
          if (JSON.parse(String(data)).type !== 'hello') return;
          welcome(ws);
          // First connection: task A. After the reconnect nothing new: only re-sent results arrive.
          if (conn === 0) ws.send(tasks(['A']), { binary: true });
          return;
        }
        for (const r of decodeFrame<AgentResults>(data as Buffer).header.results) mine.push(r.task_id);
        if (conn === 0 && mine.length === 1) {
          // A's result is "stored": acknowledge it inside the next dispatch, as the service does.
          ws.send(tasks(['B'], ['A']), { binary: true });
        } else if (conn === 0 && mine.length === 2) {
          // B's result is never acknowledged: drop the connection, the agent comes back and re-sends it.
          ws.terminate();
        } else if (conn === 1) resent();
      });
    });
    const agent = new EndpointAgent({
      serviceUrl: `http://127.0.0.1:${port}`,
      token: 't',
      name: 'ride',
      workers: 1,
      cacheDir: join(dir, 'cache-fake'),
      log: () => {},
    });
    try {
      await agent.start();
      await resentDone;
      expect(received[0]).toEqual(['A', 'B']);
      // Only B comes again: A was acknowledged by the tasks frame.
      expect(received[1]).toEqual(['B']);
    } finally {
      await agent.stop();
      await new Promise<void>((r) => wss.close(() => r()));
    }
  });
});
