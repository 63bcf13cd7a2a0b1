/**
 * One real service and two real endpoint agents (CLI processes with worker processes) on loopback,
 * driven through the SDK and raw HTTP.
 */
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  FaasClient,
  FaasRequestError,
  MaxResultSizeExceededError,
  TaskCancelledError,
  TaskFailedError,
  TaskTimeoutError,
} from '../../src/faas/client/index.ts';
import { ResultStream } from '../../src/faas/client/stream.ts';
import { endpointsPerTest, Procs, until } from './helpers.ts';

// Real processes on a machine that may be busy (tests must pass with both cores taken): generous
// limits, never timing assertions. The limits only bound a hang.
vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

const LIMIT = 200_000;
const procs = new Procs();
let url = '';
let alice: FaasClient;
let bob: FaasClient;
let aliceToken = '';
/** The endpoints of the running test (see ownEndpoints). */
let ep1 = '';
let ep2 = '';
let ep1Name = '';
let ep2Name = '';
let pairs = 0;
/** Start an endpoint for the calling test alone: it and its workers are SIGKILLed after the test. */
const startOwn = endpointsPerTest(procs);

/**
 * Start a pair of endpoints for the calling test alone (ep1: 2 workers, ep2: 1), stopped after it:
 * no test sees another's workers, module state, queued or cancelled tasks. Starting them takes
 * seconds on an idle machine and much longer when both cores are busy.
 */
async function ownEndpoints(): Promise<void> {
  const n = ++pairs;
  ep1Name = `ep1-${n}`;
  ep2Name = `ep2-${n}`;
  const [a, b] = await Promise.all([
    startOwn(url, aliceToken, ep1Name, ['--workers', '2']),
    startOwn(url, aliceToken, ep2Name, ['--workers', '1']),
  ]);
  ep1 = a.id;
  ep2 = b.id;
}

beforeAll(async () => {
  // alice is an admin: some tests read service-wide counters from /v1/metrics.
  const [ta, tb] = [await procs.addUser('alice', ['--admin']), await procs.addUser('bob')];
  aliceToken = ta;
  ({ url } = await procs.startService(['--max-payload-bytes', String(LIMIT), '--max-result-bytes', String(LIMIT)]));
  alice = new FaasClient({ serviceUrl: url, token: ta });
  bob = new FaasClient({ serviceUrl: url, token: tb });
}, 300_000);

afterAll(async () => {
  await alice?.close();
  await bob?.close();
  await procs.cleanup();
});

function rawGet(path: string, headers: Record<string, string>): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    request(new URL(path, url), { headers }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
    })
      .on('error', reject)
      .end();
  });
}

describe('FaaS service + two endpoints', () => {
  it('runs a batch across both endpoints and streams every result', async () => {
    await ownEndpoints();
    const fn = await alice.registerFunction((xs: number[]) => {
      let s = 0;
      for (const x of xs) s += x * x;
      return { s, pid: process.pid };
    });
    const n = 300;
    const args = Array.from({ length: n }, (_, i) => [i, i + 1, -i]);
    const ids = await alice.batchRun(
      args.map((a, i) => ({ functionId: fn, endpoint: i % 2 ? ep2Name : ep1Name, args: a })),
    );
    expect(new Set(ids).size).toBe(n);
    const byId = new Map(ids.map((id, i) => [id, i]));
    const endpoints = new Set<string>();
    const pids = new Set<number>();
    let count = 0;
    for await (const o of alice.results(ids)) {
      expect(o.error).toBeUndefined();
      const i = byId.get(o.taskId)!;
      // Independent computation of the expected value.
      const expected = i * i + (i + 1) * (i + 1) + i * i;
      expect((o.result as { s: number }).s).toBe(expected);
      pids.add((o.result as { pid: number }).pid);
      endpoints.add(o.endpointId);
      count++;
    }
    expect(count).toBe(n);
    expect(endpoints).toEqual(new Set([ep1, ep2]));
    // ep1 has two worker processes, ep2 one: at least three distinct worker processes ran tasks.
    expect(pids.size).toBeGreaterThanOrEqual(3);

    const info = await alice.getTask(ids[0]);
    expect(info.state).toBe('success');
    expect(info.attempts).toBe(1);
    expect(info.submitted_at).toBeLessThanOrEqual(info.dispatched_at!);
    expect(info.dispatched_at).toBeLessThanOrEqual(info.completed_at!);
    expect((await alice.getResult(ids[5])) as { s: number }).toMatchObject({ s: 25 + 36 + 25 });
  });

  it('executor-style submit returns results and typed errors; binary data round-trips', async () => {
    await ownEndpoints();
    const scale = await alice.registerFunction((a: { v: Float32Array; k: number }) => ({
      v: a.v.map((x) => x * a.k),
      n: a.v.length,
    }));
    const out = (await alice.submit(scale, ep1, { v: new Float32Array([1, 2, 3.5]), k: 2 })) as {
      v: Float32Array;
      n: number;
    };
    expect(out.v).toBeInstanceOf(Float32Array);
    expect([...out.v]).toEqual([2, 4, 7]);
    // The same result through the HTTP batch fetch (tagged JSON instead of binary frames).
    const [id] = await alice.batchRun([
      { functionId: scale, endpoint: ep2Name, args: { v: new Float32Array([4]), k: 0.5 } },
    ]);
    for await (const _ of alice.results([id])) void _;
    const fetched = (await alice.getBatchResult([id])).get(id)!;
    expect([...(fetched.result as { v: Float32Array }).v]).toEqual([2]);

    const boom = await alice.registerFunction((x: string) => {
      throw new RangeError(`bad input ${x}`);
    });
    const err: any = await alice.submit(boom, ep1Name, 'q').catch((e: any) => e);
    expect(err).toBeInstanceOf(TaskFailedError);
    expect(err.remoteType).toBe('FunctionError');
    expect(err.remoteMessage).toBe('RangeError: bad input q');
    expect(err.endpointId).toBe(ep1);
    expect(err.endpointName).toBe(ep1Name);
    expect(err.message).toContain(`on endpoint ${ep1Name} (${ep1})`);
    expect(err.attempts).toBe(1);
    expect(err.taskId).toMatch(/^[0-9a-f-]{36}$/);
    // The same failure fetched later by id names the endpoint too.
    const later = (await alice.getBatchResult([err.taskId])).get(err.taskId)!;
    expect(later.error!.message).toContain(`on endpoint ${ep1Name}`);
  });

  it('warm workers keep module state between tasks', async () => {
    await ownEndpoints();
    const counter = await alice.registerFunction(
      'let calls = 0;\nexport default (_args, ctx) => { calls++; const n = (ctx.state.get("n") ?? 0) + 1; ctx.state.set("n", n); return { calls, n, worker: ctx.worker }; };',
    );
    const seen: { calls: number; n: number }[] = [];
    for (let i = 0; i < 4; i++) seen.push((await alice.submit(counter, ep2Name)) as { calls: number; n: number });
    // ep2 has one worker: the module is imported once, so both counters grow 1, 2, 3, 4.
    expect(seen.map((s) => s.calls)).toEqual([1, 2, 3, 4]);
    expect(seen.map((s) => s.n)).toEqual([1, 2, 3, 4]);
  });

  it('bundles a module path and re-registering the same code returns the same id', async () => {
    await ownEndpoints();
    writeFileSync(join(procs.dir, 'helper.ts'), 'export const square = (x: number): number => x * x;\n');
    writeFileSync(
      join(procs.dir, 'fn.ts'),
      "import { square } from './helper.ts';\nexport default (x: number) => square(x) + 1;\n",
    );
    const id1 = await alice.registerFunction({ path: join(procs.dir, 'fn.ts') });
    const id2 = await alice.registerFunction({ path: join(procs.dir, 'fn.ts') });
    expect(id2).toBe(id1);
    expect(await alice.submit(id1, ep1Name, 7)).toBe(50);
  });

  it('refuses requests without a token or with a wrong one, with the one error-body shape', async () => {
    const none = await rawGet('/v1/endpoints', {});
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe('Unauthorized');
    expect(typeof none.body.error.message).toBe('string');
    const wrong = await rawGet('/v1/endpoints', { authorization: 'Bearer rst_not-a-real-token' });
    expect(wrong.status).toBe(401);
    expect(JSON.stringify(wrong.body)).not.toContain('rst_not-a-real-token');
    const health = await rawGet('/v1/health', {});
    expect(health.status).toBe(200);
    const intruder = new FaasClient({ serviceUrl: url, token: aliceToken + 'x' });
    const e = await intruder.listEndpoints().catch((x: any) => x);
    expect(e).toBeInstanceOf(FaasRequestError);
    expect(e.status).toBe(401);
    expect(e.message).not.toContain(aliceToken);
    await intruder.close();
  });

  it("refuses another user's private function and endpoints the user cannot see", async () => {
    await ownEndpoints();
    const secret = await alice.registerFunction(() => 'secret');
    // bob may not run alice's private function, not even on his own endpoint record.
    await bob.registerEndpoint('bob-ep');
    const e1 = await bob.run(secret, 'bob-ep').catch((x: any) => x);
    expect(e1).toBeInstanceOf(FaasRequestError);
    expect(e1.status).toBe(403);
    expect(e1.message).toContain(secret);
    // ...nor see alice's endpoint, by name or by id.
    const pub = await bob.registerFunction(() => 'hi', { public: true });
    const e2 = await bob.run(pub, ep1Name).catch((x: any) => x);
    expect(e2.status).toBe(404);
    expect(e2.message).toContain('bob-ep'); // closest alternatives are listed
    const e3 = await bob.run(pub, ep1).catch((x: any) => x);
    expect(e3.status).toBe(403);
    expect((await bob.listEndpoints()).map((x) => x.name)).toEqual(['bob-ep']);
    const e4 = await bob.getFunction(secret).catch((x: any) => x);
    expect(e4.status).toBe(404);
  });

  it('refuses a function that the endpoint does not allow', async () => {
    await ownEndpoints();
    const f1 = await alice.registerFunction(() => 1);
    const f2 = await alice.registerFunction(() => 2);
    await alice.registerEndpoint('strict', { allowedFunctions: [f1] });
    expect(await alice.run(f1, 'strict')).toMatch(/^[0-9a-f-]{36}$/);
    const e = await alice.run(f2, 'strict').catch((x: any) => x);
    expect(e).toBeInstanceOf(FaasRequestError);
    expect(e.status).toBe(403);
    expect(e.message).toContain(f2);
    // Empty allowlist = functions owned by the endpoint owner: bob's public function is refused on ep1
    // even once ep1 is shared with bob.
    await alice.registerEndpoint(ep1Name, { sharedWith: ['bob'] });
    const bobs = await bob.registerFunction(() => 'from bob', { public: true });
    const e2 = await bob.run(bobs, ep1).catch((x: any) => x);
    expect(e2.status).toBe(403);
    expect(e2.message).toMatch(/does not allow/);
    // ...while alice's public function may run there for bob.
    const alices = await alice.registerFunction(() => 'from alice', { public: true });
    expect(await bob.submit(alices, ep1)).toBe('from alice');
  });

  it('refuses oversize arguments at submission and oversize results with both sizes', async () => {
    await ownEndpoints();
    const echo = await alice.registerFunction((x: unknown) => x);
    const e = await alice.run(echo, ep1Name, new Uint8Array(LIMIT + 1)).catch((x: any) => x);
    expect(e).toBeInstanceOf(FaasRequestError);
    expect(e.status).toBe(413);
    expect(e.code).toBe('PayloadTooLarge');
    expect(e.details.limit).toBe(LIMIT);
    expect(e.details.payload_size).toBeGreaterThan(LIMIT);

    const big = await alice.registerFunction((n: number) => new Uint8Array(n));
    const r: any = await alice.submit(big, ep1Name, LIMIT * 2).catch((x: any) => x);
    expect(r).toBeInstanceOf(MaxResultSizeExceededError);
    expect(r.limit).toBe(LIMIT);
    expect(r.resultSize).toBeGreaterThan(LIMIT * 2);
    expect(r.message).toContain(String(r.resultSize));
    // Just under the limit passes.
    expect(((await alice.submit(big, ep1Name, LIMIT - 1000)) as Uint8Array).byteLength).toBe(LIMIT - 1000);
  });

  it('re-runs a task whose worker died, and enforces per-task timeouts and cancellation', async () => {
    await ownEndpoints();
    const flaky = await alice.registerFunction((_: unknown, ctx: { attempt: number }) => {
      if (ctx.attempt === 1) process.exit(3);
      return ctx.attempt;
    });
    const [id] = await alice.batchRun([{ functionId: flaky, endpoint: ep2Name }]);
    for await (const o of alice.results([id])) {
      expect(o.error).toBeUndefined();
      expect(o.result).toBe(2);
      expect(o.attempts).toBe(2);
    }
    const always = await alice.registerFunction(() => process.exit(1));
    const lost: any = await alice.submit(always, ep2Name, null, { maxAttempts: 2 }).catch((x: any) => x);
    expect(lost).toBeInstanceOf(TaskFailedError);
    expect(lost.remoteType).toBe('WorkerLost');
    expect(lost.attempts).toBe(2);

    const sleep = await alice.registerFunction((ms: number) => new Promise((r) => setTimeout(() => r(ms), ms)));
    const t = await alice.submit(sleep, ep1Name, 60_000, { timeoutMs: 300 }).catch((x: any) => x);
    expect(t).toBeInstanceOf(TaskTimeoutError);

    const [long] = await alice.batchRun([{ functionId: sleep, endpoint: ep1Name, args: 60_000 }]);
    await until(async () => ((await alice.getTask(long)).state === 'running' ? true : undefined), 'task running');
    const c = await alice.cancel([long]);
    expect(c.cancelled).toEqual([long]);
    for await (const o of alice.results([long])) expect(o.error).toBeInstanceOf(TaskCancelledError);
    // The endpoint is still healthy afterwards.
    expect(await alice.submit(sleep, ep1Name, 1)).toBe(1);
    const status = await alice.getEndpoint(ep1Name);
    expect(status.status).toBe('online');
    expect(status.capacity).toBe(2);
  });
});

describe('fair shares', () => {
  type Ran = { tag: string; order: number };
  /** Submit `n` tasks of one group in one request; push a promise of each result to `outs`. */
  const submitGroup = (fn: string, endpoint: string, group: string, n: number, outs: Promise<Ran>[], gate: string) =>
    new Promise<void>((done, fail) => {
      const results = new Map<string, (v: Ran) => void>();
      const tasks = Array.from({ length: n }, (_, i) => ({
        functionId: fn,
        endpoint,
        args: { tag: `${group}${i}`, gate },
        group,
      }));
      for (const t of tasks) outs.push(new Promise((r) => results.set(t.args.tag, r)));
      alice
        .submitWatched(tasks, (o) => (o.error ? fail(o.error) : results.get((o.result as Ran).tag)!(o.result as Ran)))
        .then(() => done(), fail);
    });
  const orderOf = async (outs: Promise<Ran>[]) =>
    (await Promise.all(outs)).sort((x, y) => x.order - y.order).map((o) => o.tag);
  // Every task waits for the gate file, created once both groups are submitted: how soon group b
  // follows group a (slow on a loaded machine) cannot let a finish before b arrives.
  const stepSource = [
    "import { existsSync } from 'node:fs';",
    'let order = 0;',
    'export default async ({ tag, gate }) => {',
    '  while (!existsSync(gate)) await new Promise((r) => setTimeout(r, 20));',
    '  await new Promise((r) => setTimeout(r, 20));',
    '  return { tag, order: order++ };',
    '};',
  ].join('\n');
  const newGate = () => join(procs.dir, `fair-gate-${++gates}`);
  let gates = 0;

  it('an endpoint starts queued tasks of different groups in turn, not in arrival order', async () => {
    await startOwn(url, aliceToken, 'fair', ['--workers', '1']);
    const step = await alice.registerFunction(stepSource);
    const outs: Promise<Ran>[] = [];
    const gate = newGate();
    // Group a arrives first, with all its tasks; b right after. Both fit in the agent's prefetch.
    await submitGroup(step, 'fair', 'a', 10, outs, gate);
    await submitGroup(step, 'fair', 'b', 10, outs, gate);
    writeFileSync(gate, '');
    const ran = await orderOf(outs);
    // In arrival order the first 12 would hold only b0 and b1; in turns b gets every other slot once
    // it has tasks waiting (a's first tasks were already started or queued inside the worker).
    expect(ran.slice(0, 12).filter((t) => t.startsWith('b')).length).toBeGreaterThanOrEqual(4);
    // Within a group, tasks still run in submission order.
    for (const g of ['a', 'b'])
      expect(ran.filter((t) => t.startsWith(g))).toEqual(Array.from({ length: 10 }, (_, i) => `${g}${i}`));
  });

  it('tasks waiting in the service are handed out in turns across groups too', async () => {
    // No prefetch: the agent takes one task at a time, so the queue stays in the service database.
    await startOwn(url, aliceToken, 'fair-svc', ['--workers', '1', '--prefetch', '0']);
    const step = await alice.registerFunction(stepSource);
    const outs: Promise<Ran>[] = [];
    const gate = newGate();
    await submitGroup(step, 'fair-svc', 'a', 6, outs, gate);
    await submitGroup(step, 'fair-svc', 'b', 6, outs, gate);
    writeFileSync(gate, '');
    const ran = await orderOf(outs);
    // Oldest first would run all of a before b0; in turns b0..b2 are among the first seven.
    expect(ran.slice(0, 7).filter((t) => t.startsWith('b')).length).toBeGreaterThanOrEqual(3);
    for (const g of ['a', 'b'])
      expect(ran.filter((t) => t.startsWith(g))).toEqual(Array.from({ length: 6 }, (_, i) => `${g}${i}`));
  });
});

describe('late binding', () => {
  const sleepSource = 'export default async (ms) => { await new Promise((r) => setTimeout(r, ms)); return ms; };';

  it('a task bound to a busy endpoint runs on an idle alternate; without alternates it waits its turn', async () => {
    const [a, b] = await Promise.all([
      startOwn(url, aliceToken, 'lb-a', ['--workers', '1', '--prefetch', '0']),
      startOwn(url, aliceToken, 'lb-b', ['--workers', '1', '--prefetch', '0']),
    ]);
    const sleep = await alice.registerFunction(sleepSource);
    const where = async (tasks: Parameters<FaasClient['submitWatched']>[0]) => {
      const byTask = new Map<string, { ran?: string; running?: string }>();
      await new Promise<void>((resolve, reject) => {
        let left = tasks.length;
        alice
          .submitWatched(
            tasks,
            (o) => {
              if (o.error) return reject(o.error);
              byTask.set(o.taskId, { ...byTask.get(o.taskId), ran: o.endpointId });
              if (--left === 0) resolve();
            },
            (id, ep) => byTask.set(id, { ...byTask.get(id), running: ep }),
          )
          .catch(reject);
      });
      return [...byTask.values()];
    };
    // Four 300 ms tasks for lb-a (one worker), lb-b listed as alternate: the second goes to idle lb-b at
    // once, and of the two left waiting, lb-b takes one when it frees up.
    const moved = await where(
      Array.from({ length: 4 }, () => ({ functionId: sleep, endpoint: 'lb-a', args: 300, alternates: ['lb-b'] })),
    );
    expect(moved.filter((t) => t.ran === b.id).length).toBeGreaterThanOrEqual(2);
    expect(moved.filter((t) => t.ran === a.id).length).toBeGreaterThanOrEqual(1);
    // Running notices name the endpoint the task actually runs on.
    for (const t of moved) expect(t.running).toBe(t.ran);
    // The same without alternates: all on lb-a.
    const bound = await where(Array.from({ length: 4 }, () => ({ functionId: sleep, endpoint: 'lb-a', args: 300 })));
    expect(bound.map((t) => t.ran)).toEqual([a.id, a.id, a.id, a.id]);
    const metrics = (await rawGet('/v1/metrics', { authorization: `Bearer ${aliceToken}` })).body;
    expect(metrics.tasks_moved).toBeGreaterThanOrEqual(1);
  });

  it('tasks waiting for an endpoint that dies run on an alternate; an unknown alternate is refused', async () => {
    const [a, d] = await Promise.all([
      startOwn(url, aliceToken, 'lb-c', ['--workers', '1', '--prefetch', '0']),
      startOwn(url, aliceToken, 'lb-d', ['--workers', '1', '--prefetch', '0']),
    ]);
    const sleep = await alice.registerFunction(sleepSource);
    // Occupy lb-d so nothing goes there at submission; lb-c holds one long task, three wait for it.
    const [blocker] = await alice.batchRun([{ functionId: sleep, endpoint: 'lb-d', args: 1500 }]);
    const [long] = await alice.batchRun([{ functionId: sleep, endpoint: 'lb-c', args: 60_000 }]);
    await until(async () => ((await alice.getTask(long)).state === 'running' ? true : undefined), 'long task running');
    const ids = await alice.batchRun(
      Array.from({ length: 3 }, () => ({ functionId: sleep, endpoint: 'lb-c', args: 50, alternates: ['lb-d'] })),
    );
    await procs.kill(a.proc);
    const ran: string[] = [];
    for await (const o of alice.results(ids)) {
      expect(o.error).toBeUndefined();
      ran.push(o.endpointId);
    }
    expect(ran).toEqual([d.id, d.id, d.id]);
    for await (const o of alice.results([blocker])) expect(o.error).toBeUndefined();
    await expect(
      alice.batchRun([{ functionId: sleep, endpoint: 'lb-d', args: 1, alternates: ['no-such-endpoint'] }]),
    ).rejects.toThrow(/no-such-endpoint/);
  });
});

describe('cancellation', () => {
  it('aborts a running task through ctx.signal and keeps its worker warm', async () => {
    await ownEndpoints();
    const polite = await alice.registerFunction(
      (ms: number, ctx: { signal: AbortSignal }) =>
        new Promise((resolve, reject) => {
          const t = setTimeout(() => resolve(process.pid), ms);
          ctx.signal.addEventListener('abort', () => {
            clearTimeout(t);
            reject(new Error('stopped early'));
          });
        }),
    );
    const pid = await alice.submit(polite, ep2Name, 1);
    const [long] = await alice.batchRun([{ functionId: polite, endpoint: ep2Name, args: 60_000 }]);
    await until(async () => ((await alice.getTask(long)).state === 'running' ? true : undefined), 'task running');
    expect((await alice.cancel([long])).cancelled).toEqual([long]);
    for await (const o of alice.results([long])) expect(o.error).toBeInstanceOf(TaskCancelledError);
    // ep2 has one worker: the same process runs the next task, so it was not restarted.
    expect(await alice.submit(polite, ep2Name, 1)).toBe(pid);
  });

  it('a cancelled task that runs on keeps its slot until it ends, so new work goes where a slot is free', async () => {
    // rel-a: one worker with two slots. Its cancelled task ignores the abort and runs on (the worker
    // also runs another task, so it is not restarted): new work must not be queued behind it.
    const [, b] = await Promise.all([
      startOwn(url, aliceToken, 'rel-a', ['--workers', '1', '--concurrency', '2', '--prefetch', '0']),
      startOwn(url, aliceToken, 'rel-b', ['--workers', '1', '--prefetch', '0']),
    ]);
    const deaf = await alice.registerFunction(
      'export default async (ms) => { await new Promise((r) => setTimeout(r, ms)); return ms; };',
    );
    // Long enough that the cancelled one still runs when the next task is placed, even on a loaded machine.
    const [cancelled, other] = await alice.batchRun([
      { functionId: deaf, endpoint: 'rel-a', args: 4000 },
      { functionId: deaf, endpoint: 'rel-a', args: 8000 },
    ]);
    for (const id of [cancelled, other])
      await until(async () => ((await alice.getTask(id)).state === 'running' ? true : undefined), 'tasks running');
    expect((await alice.cancel([cancelled])).cancelled).toEqual([cancelled]);
    // Both slots of rel-a are still taken: a task that may also run on rel-b starts there at once.
    const [c] = await alice.batchRun([{ functionId: deaf, endpoint: 'rel-a', args: 10, alternates: ['rel-b'] }]);
    for await (const o of alice.results([c])) expect(o.endpointId).toBe(b.id);
    // Once the cancelled task has ended its slot is free again (not lost): the next such task stays on rel-a.
    await until(
      async () => ((await alice.getEndpoint('rel-a')).in_flight === 1 ? true : undefined),
      'cancelled task released',
    );
    const [d] = await alice.batchRun([{ functionId: deaf, endpoint: 'rel-a', args: 10, alternates: ['rel-b'] }]);
    for await (const o of alice.results([d])) expect(o.endpointId).not.toBe(b.id);
    for await (const o of alice.results([other])) expect(o.error).toBeUndefined();
  });

  it('a new task goes to an idle alternate before it is held behind a busy worker', async () => {
    // pf-a has room to hold tasks (prefetch 2) but its one worker is busy; pf-b is idle.
    const [, b] = await Promise.all([
      startOwn(url, aliceToken, 'pf-a', ['--workers', '1', '--prefetch', '2']),
      startOwn(url, aliceToken, 'pf-b', ['--workers', '1', '--prefetch', '0']),
    ]);
    const nap = await alice.registerFunction(
      'export default async (ms) => { await new Promise((r) => setTimeout(r, ms)); return ms; };',
    );
    const [long] = await alice.batchRun([{ functionId: nap, endpoint: 'pf-a', args: 1500 }]);
    await until(async () => ((await alice.getTask(long)).state === 'running' ? true : undefined), 'pf-a busy');
    const [t] = await alice.batchRun([{ functionId: nap, endpoint: 'pf-a', args: 20, alternates: ['pf-b'] }]);
    // Placed at submission, before any later move could happen.
    expect((await alice.getTask(t)).endpoint_id).toBe(b.id);
    for await (const o of alice.results([t, long])) expect(o.error).toBeUndefined();
  });

  it('an endpoint that idles gets the unstarted tasks another one holds (given back on recall)', async () => {
    // hb-a holds two tasks beyond its one slot (prefetch 2) behind a long one; hb-b is busy when they
    // are submitted, so they go to hb-a. Once hb-b is idle with nothing waiting, hb-a gives them back.
    const [a, b] = await Promise.all([
      startOwn(url, aliceToken, 'hb-a', ['--workers', '1', '--prefetch', '2']),
      startOwn(url, aliceToken, 'hb-b', ['--workers', '1', '--prefetch', '0']),
    ]);
    const nap = await alice.registerFunction(
      'export default async (ms) => { await new Promise((r) => setTimeout(r, ms)); return ms; };',
    );
    // Tasks of 100 ms and more are not queued inside hb-a's worker (where they could not be given back).
    const [warm] = await alice.batchRun([{ functionId: nap, endpoint: 'hb-a', args: 300 }]);
    for await (const o of alice.results([warm])) expect(o.result).toBe(300);
    const before = (await rawGet('/v1/metrics', { authorization: `Bearer ${aliceToken}` })).body;

    const [busyB] = await alice.batchRun([{ functionId: nap, endpoint: 'hb-b', args: 800 }]);
    await until(async () => ((await alice.getTask(busyB)).state === 'running' ? true : undefined), 'hb-b busy');
    const [long, t1, t2] = await alice.batchRun([
      { functionId: nap, endpoint: 'hb-a', args: 10_000, alternates: ['hb-b'] },
      { functionId: nap, endpoint: 'hb-a', args: 20, alternates: ['hb-b'] },
      { functionId: nap, endpoint: 'hb-a', args: 30, alternates: ['hb-b'] },
    ]);
    expect((await alice.getTask(t1)).endpoint_id).toBe(a.id);
    for await (const o of alice.results([t1, t2])) {
      expect(o.error).toBeUndefined();
      expect(o.endpointId).toBe(b.id);
    }
    // They did not wait for the long task in front of them at hb-a.
    expect((await alice.getTask(long)).state).toBe('running');
    const after = (await rawGet('/v1/metrics', { authorization: `Bearer ${aliceToken}` })).body;
    expect(after.tasks_handed_over - before.tasks_handed_over).toBe(2);
    // Nothing lost or run twice: the long task ends where it started, each task succeeded once.
    for await (const o of alice.results([long, busyB])) expect(o.error).toBeUndefined();
    for (const id of [t1, t2]) {
      const t = await alice.getTask(id);
      expect(t.state).toBe('success');
      expect(t.attempts).toBe(1);
    }
  }, 300_000);
});

describe('running notices', () => {
  it('report a task as running before its outcome, on submission and on a later watch', async () => {
    await ownEndpoints();
    const sleep = await alice.registerFunction((ms: number) => new Promise((r) => setTimeout(() => r(ms), ms)));
    const fresh = new FaasClient({ serviceUrl: url, token: aliceToken });
    const stream = new ResultStream(url, aliceToken);
    try {
      const runOne = (ms: number) =>
        new Promise<string[]>((resolve, reject) => {
          const events: string[] = [];
          fresh
            .submitWatched(
              [{ functionId: sleep, endpoint: ep2Name, args: ms }],
              (o) => (o.error ? reject(o.error) : resolve([...events, 'done'])),
              () => events.push('running'),
            )
            .catch(reject);
        });
      // The first submission goes over HTTP (the stream is not open yet), the second over the stream.
      expect(await runOne(400)).toEqual(['running', 'done']);
      expect(await runOne(400)).toEqual(['running', 'done']);
      // A task that ends before the notice is due gets none. On a loaded machine one of them may be
      // delayed past the notice; not all of them.
      const quick: string[][] = [];
      for (let i = 0; i < 5; i++) quick.push(await runOne(1));
      expect(quick).toContainEqual(['done']);

      // Watching a task that is already running reports it at once.
      const [id] = await alice.batchRun([{ functionId: sleep, endpoint: ep2Name, args: 1500 }]);
      await until(async () => ((await alice.getTask(id)).state === 'running' ? true : undefined), 'task running');
      const seen: string[] = [];
      await new Promise<void>((resolve) =>
        stream.watch(
          [id],
          () => {
            seen.push('done');
            resolve();
          },
          () => seen.push('running'),
        ),
      );
      expect(seen).toEqual(['running', 'done']);
    } finally {
      stream.close();
      await fresh.close();
    }
  });

  it('record when the task started, not when the notice was sent', async () => {
    await ownEndpoints();
    // The function reports its own start time; the service's started_at must not be later (the agent
    // takes its time when it hands the task to the worker). Notices are sent only after a task has run
    // a while, so a started_at taken from the notice would be tens of ms late.
    const timed = await alice.registerFunction(async (ms: number) => {
      const started = Date.now();
      await new Promise((r) => setTimeout(r, ms));
      return started;
    });
    const [id] = await alice.batchRun([{ functionId: timed, endpoint: ep2Name, args: 400 }]);
    await until(async () => ((await alice.getTask(id)).state === 'running' ? true : undefined), 'task running');
    const whileRunning = (await alice.getTask(id)).started_at!;
    let workerStart = 0;
    for await (const o of alice.results([id])) workerStart = o.result as number;
    const done = await alice.getTask(id);
    expect(done.started_at).toBe(whileRunning);
    // Between the submission and the function's own clock reading (no upper bound in time: a loaded
    // machine may take long to start the worker's function; a notice time would still come after it).
    expect(whileRunning).toBeLessThanOrEqual(workerStart);
    expect(whileRunning).toBeGreaterThanOrEqual(done.submitted_at);
  });

  it('for short tasks still come for one that runs far longer than usual', async () => {
    // A fresh endpoint whose tasks take ~40 ms waits twice the average before a notice (the rule and
    // its numbers are tested in scheduling.test.ts: whether a 30 ms task here gets one depends on how
    // busy the machine is, so it is not asserted); a task far past that is still reported running.
    await startOwn(url, aliceToken, 'short-ep', ['--workers', '1']);
    const nap = await alice.registerFunction(
      'export default async (ms) => { await new Promise((r) => setTimeout(r, ms)); return ms; };',
    );
    const warm = await alice.batchRun(
      Array.from({ length: 8 }, () => ({ functionId: nap, endpoint: 'short-ep', args: 40 })),
    );
    for await (const o of alice.results(warm)) expect(o.error).toBeUndefined();
    const fresh = new FaasClient({ serviceUrl: url, token: aliceToken });
    try {
      const runOne = (ms: number) =>
        new Promise<string[]>((resolve, reject) => {
          const events: string[] = [];
          fresh
            .submitWatched(
              [{ functionId: nap, endpoint: 'short-ep', args: ms }],
              (o) => (o.error ? reject(o.error) : resolve([...events, 'done'])),
              () => events.push('running'),
            )
            .catch(reject);
        });
      expect(await runOne(1500)).toEqual(['running', 'done']);
    } finally {
      await fresh.close();
    }
  });
});

describe('submissions over the result stream', () => {
  it('go over the open stream with the same checks as HTTP, and a revoked token is refused there', async () => {
    await ownEndpoints();
    const double = await alice.registerFunction((x: number) => 2 * x);
    // The first submit opens the stream (over HTTP); later ones travel on it.
    expect(await alice.submit(double, ep1Name, 1)).toBe(2);
    await until(async () => ((await alice.metrics()).stream_connects as number) > 0 || undefined, 'stream connected');
    const before = (await alice.metrics()).stream_submits as number;
    const outs = await Promise.all(
      Array.from({ length: 20 }, (_, i) => alice.submit(double, i % 2 ? ep1Name : ep2Name, i)),
    );
    expect(outs).toEqual(Array.from({ length: 20 }, (_, i) => 2 * i));
    for (let i = 0; i < 5; i++) expect(await alice.submit(double, ep2Name, i + 0.5)).toBe(2 * i + 1);
    const after = (await alice.metrics()).stream_submits as number;
    expect(after - before).toBeGreaterThanOrEqual(6); // one for the burst of 20 (one tick), five sequential

    // Refusals carry the HTTP codes and messages, and nothing is stored.
    const other = await alice.registerFunction(() => 'other');
    await alice.registerEndpoint('strict-stream', { allowedFunctions: [double] });
    const forbidden: any = await alice.submit(other, 'strict-stream').catch((e: any) => e);
    expect(forbidden).toBeInstanceOf(FaasRequestError);
    expect(forbidden.status).toBe(403);
    expect(forbidden.message).toContain(other);
    expect(forbidden.context.path).toBe('/v1/stream submit');
    const missing: any = await alice.submit(double, 'ep3').catch((e: any) => e);
    expect(missing.status).toBe(404);
    expect(missing.message).toMatch(/closest: .*ep[12]/);

    // A token revoked after the stream opened is refused on the next stream submission.
    const create = procs.spawnCli(['token', 'create', 'alice', '--db', procs.db]);
    const [, token] = await procs.waitLine(create, /^(rst_\S+)$/);
    await until(
      async () =>
        /token id (\S+) for alice; shown only once/.exec(procs.log.split('\n').reverse().join('\n')) ?? undefined,
      'token id',
    );
    const tokenId = [...procs.log.matchAll(/token id (\S+) for alice; shown only once/g)].at(-1)![1];
    const carol = new FaasClient({ serviceUrl: url, token: token });
    try {
      expect(await carol.submit(double, ep1Name, 4)).toBe(8);
      await until(async () => (await carol.submit(double, ep1Name, 5)) === 10 || undefined, 'second submit');
      const revoke = procs.spawnCli(['token', 'revoke', tokenId, '--db', procs.db]);
      await procs.waitLine(revoke, /^revoked /);
      const refused: any = await carol.submit(double, ep1Name, 6).catch((e: any) => e);
      expect(refused).toBeInstanceOf(FaasRequestError);
      expect(refused.status).toBe(401);
      expect(refused.message).not.toContain(token);
    } finally {
      await carol.close();
    }
  });

  it('tasks sent straight to an idle endpoint and tasks queued behind busy ones run in submission order', async () => {
    // One worker, no prefetch: the first task goes straight to the agent, the rest queue in the database.
    await startOwn(url, aliceToken, 'fifo', ['--workers', '1', '--prefetch', '0']);
    const step = await alice.registerFunction(
      'let order = 0;\nexport default async (tag) => { await new Promise((r) => setTimeout(r, 15)); return { tag, order: order++ }; };',
    );
    const submitted: string[] = [];
    const results: Promise<unknown>[] = [];
    for (const batch of ['a', 'b', 'c']) {
      for (let i = 0; i < 4; i++) {
        const tag = `${batch}${i}`;
        submitted.push(tag);
        results.push(alice.submit(step, 'fifo', tag));
      }
      // Each batch leaves in its own tick: a separate submission.
      await new Promise((r) => setImmediate(r));
    }
    const outs = (await Promise.all(results)) as { tag: string; order: number }[];
    const byOrder = [...outs].sort((x, y) => x.order - y.order).map((o) => o.tag);
    expect(byOrder).toEqual(submitted);
    // Drained: the next lone task goes straight out again and still runs.
    expect(((await alice.submit(step, 'fifo', 'last')) as { tag: string }).tag).toBe('last');

    // Under load, slots free up between a results frame and the next dispatch: a new submission must
    // not take such a slot ahead of tasks still waiting in the queue.
    const tick = await alice.registerFunction('let order = 0;\nexport default (tag) => ({ tag, order: order++ });');
    const queued = alice.batchRun(
      Array.from({ length: 400 }, (_, i) => ({ functionId: tick, endpoint: 'fifo', args: `q${i}` })),
    );
    const ids = await queued;
    const late: Promise<unknown>[] = [];
    for (let i = 0; i < 40; i++) {
      late.push(alice.submit(tick, 'fifo', `late${i}`));
      await new Promise((r) => setTimeout(r, 3));
    }
    let lastQueued = -1;
    for await (const o of alice.results(ids)) lastQueued = Math.max(lastQueued, (o.result as { order: number }).order);
    const lateOrders = ((await Promise.all(late)) as { order: number }[]).map((o) => o.order);
    expect(Math.min(...lateOrders)).toBeGreaterThan(lastQueued);
  });
});
