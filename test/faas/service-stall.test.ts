/**
 * The service's own stalls are not its endpoints' silence (issue 14): while one heavy message blocks
 * the service's only thread, endpoints' heartbeats wait unread in their sockets, and the heartbeat
 * sweep used to run before them and drop every endpoint (other users' running tasks then failed with
 * EndpointLost). The service runs in this process so that the test can block its event loop for many
 * heartbeats; the endpoint is a real agent process. An agent that really stops (SIGSTOP) is still dropped.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FaasClient } from '../../src/faas/client/index.ts';
import { type FaasService, startService } from '../../src/faas/service/server.ts';
import { Procs, until } from './helpers.ts';

// Real processes on a machine that may be busy (tests must pass with both cores taken): generous
// limits, never timing assertions. The limits only bound a hang.
vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

// Short, so that the stalls below are many heartbeats; long enough for an agent on a loaded machine.
const HEARTBEAT_MS = 500;
const procs = new Procs();
const log: string[] = [];
let svc: FaasService;
let token = '';
let client: FaasClient;

beforeAll(async () => {
  token = await procs.addUser('alice');
  svc = await startService({ dbFile: procs.db, heartbeatMs: HEARTBEAT_MS, log: (m) => log.push(m) });
  client = new FaasClient({ serviceUrl: svc.url, token });
}, 300_000);

afterAll(async () => {
  await client?.close();
  await procs.cleanup();
  await svc?.close();
});

/** Block this process (and so the service's event loop) for `ms`, as one heavy message would. */
function block(ms: number): Promise<void> {
  return new Promise((resolve) =>
    setImmediate(() => {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        /* busy: nothing else runs */
      }
      resolve();
    }),
  );
}

const lines = (re: RegExp) => log.filter((l) => re.test(l));

describe('heartbeat sweep', () => {
  it('keeps endpoints whose heartbeats waited behind a service stall, and their running task', async () => {
    await procs.startEndpoint(svc.url, token, 'steady-ep', ['--workers', '1']);
    const fn = await client.registerFunction(async (ms: number) => {
      await new Promise((r) => setTimeout(r, ms));
      return 'done';
    });
    // One task runs through the stall on a single attempt: a dropped endpoint would fail it.
    const running = client.submit(fn, 'steady-ep', 6000, { maxAttempts: 1 }).catch((e: Error) => e.message);
    await until(async () => (lines(/steady-ep/).length > 0 ? true : undefined), 'endpoint online');
    for (let i = 0; i < 2; i++) {
      await block(10 * HEARTBEAT_MS);
      // Let the timers and the queued socket reads run: a few sweeps after the stall.
      await new Promise((r) => setTimeout(r, 4 * HEARTBEAT_MS));
    }
    expect(await running).toBe('done');
    expect(lines(/no heartbeat/)).toEqual([]);
    expect(lines(/steady-ep .* online/)).toHaveLength(1);
    expect(lines(/steady-ep .* offline/)).toEqual([]);
  });

  it('still drops an endpoint that stops sending', async () => {
    const { proc } = await procs.startEndpoint(svc.url, token, 'frozen-ep', ['--workers', '1']);
    proc.kill('SIGSTOP');
    try {
      await until(async () => (lines(/frozen-ep: no heartbeat for \d+ ms, closing/).length ? true : undefined), 'drop');
      expect(lines(/frozen-ep .* offline/)).toHaveLength(1);
    } finally {
      proc.kill('SIGCONT');
    }
  });
});
