/**
 * The endpoint agent against a fake service that sends it garbage first: malformed text and binary
 * frames are logged and ignored, and the agent still attaches and runs the well-formed task after
 * them. Also: `--allow-bundle` refuses other processor bundles in the chunk function.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { WebSocketServer } from 'ws';
import { decodeFrame, encodeFrame, encodeFrameRaw, packValue } from '../../src/faas/codec.ts';
import { EndpointAgent } from '../../src/faas/endpoint/agent.ts';
import type { AgentResults, ServiceTasks, ServiceWelcome } from '../../src/faas/protocol.ts';
import { CHUNK_WIRE_VERSION } from '../../executors/faas/wire.ts';

// Real processes on a machine that may be busy (tests must pass with both cores taken): generous
// limits, never timing assertions. The limits only bound a hang.
vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

const dir = mkdtempSync(join(tmpdir(), 'ristretto-agent-input-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('endpoint agent input', () => {
  it('ignores malformed service messages and keeps working', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise<void>((r) => wss.once('listening', () => r()));
    const port = (wss.address() as { port: number }).port;
    const code = 'export default (x) => x * 3;';
    const hash = createHash('sha256').update(code).digest('hex');
    const results = new Map<string, AgentResults['results'][number]>();
    const bothDone = new Promise<void>((resolve) => {
      wss.on('connection', (ws) => {
        ws.on('message', (data, binary) => {
          if (binary) {
            for (const r of decodeFrame<AgentResults>(data as Buffer).header.results) results.set(r.task_id, r);
            if (results.has('good') && results.has('missing-args')) resolve();
            return;
          }
          const msg = JSON.parse(String(data));
          if (msg.type !== 'hello') return;
          // Garbage of every kind before the real welcome.
          for (const bad of [
            'nope',
            'null',
            '[]',
            '{"type":"welcome"}',
            '{"type":"ack","task_ids":[1]}',
            '{"type":"cancel"}',
            '{"type":"x"}',
            '['.repeat(100_000),
          ])
            ws.send(bad);
          ws.send(Buffer.from([1, 2, 3]), { binary: true });
          ws.send(encodeFrameRaw('{"type":"tasks","tasks":[{"task_id":5}],"functions":[]}', []), { binary: true });
          ws.send(encodeFrameRaw('['.repeat(50_000), []), { binary: true });
          const welcome: ServiceWelcome = {
            type: 'welcome',
            endpoint_id: '00000000-0000-4000-8000-000000000000',
            name: 'fake',
            heartbeat_ms: 60_000,
            limits: { max_payload_bytes: 1e6, max_result_bytes: 1e6, max_request_bytes: 1e6, max_function_bytes: 1e6 },
          };
          ws.send(JSON.stringify(welcome));
          // A task whose blob index points nowhere fails alone; the good one runs.
          const tasks: ServiceTasks = {
            type: 'tasks',
            functions: [{ hash, code }],
            tasks: [
              { task_id: 'missing-args', function_id: 'f', hash, blob: 7, attempt: 1, timeout_ms: 0 },
              { task_id: 'good', function_id: 'f', hash, blob: 0, attempt: 1, timeout_ms: 0 },
            ],
          };
          ws.send(encodeFrame(tasks, [packValue(14)]), { binary: true });
        });
      });
    });
    const logs: string[] = [];
    const agent = new EndpointAgent({
      serviceUrl: `http://127.0.0.1:${port}`,
      token: 't',
      name: 'fake',
      workers: 1,
      cacheDir: join(dir, 'cache'),
      log: (m) => logs.push(m),
    });
    try {
      await agent.start();
      await bothDone;
      expect(results.get('missing-args')).toMatchObject({ ok: false, error: { type: 'SerializationError' } });
      expect(results.get('good')?.ok).toBe(true);
      expect(logs.filter((l) => l.startsWith('bad message from service')).length).toBeGreaterThanOrEqual(10);
    } finally {
      await agent.stop();
      await new Promise<void>((r) => wss.close(() => r()));
    }
  });

  it('--allow-bundle: the chunk function refuses bundles not on the list, before loading them', async () => {
    const allowed = 'a'.repeat(64);
    process.env.RISTRETTO_ALLOWED_BUNDLES = allowed;
    const { runTask } = await import('../../executors/faas/remote/run-task.ts');
    const other = 'b'.repeat(64);
    const stage = await runTask(
      { v: CHUNK_WIRE_VERSION, op: 'stage', hash: other, code: 'throw new Error("must not run")' },
      { taskId: 't1' },
    );
    expect(stage).toMatchObject({
      kind: 'failed',
      failure: { name: 'BundleNotAllowedError', message: expect.stringContaining('--allow-bundle') },
    });
    const chunk = await runTask(
      { v: CHUNK_WIRE_VERSION, op: 'chunk', hash: other, item: {} as never, metadata: {}, prefetch: [] },
      { taskId: 't2' },
    );
    expect(chunk).toMatchObject({ kind: 'failed', failure: { name: 'BundleNotAllowedError' } });
    // An allowed hash goes on to the bundle cache (here: not staged, so the client is asked to stage it).
    expect(
      await runTask(
        { v: CHUNK_WIRE_VERSION, op: 'chunk', hash: allowed, item: {} as never, metadata: {}, prefetch: [] },
        { taskId: 't3' },
      ),
    ).toEqual({ kind: 'missing-bundle', hash: allowed });
  });
});
