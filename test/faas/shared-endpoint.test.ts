/**
 * An endpoint shared by several users (issue 14, probes D3, D5, D6): a real service and endpoint agents
 * on loopback. Each user's function leaves a mark in its worker process (a global, a patched
 * `Array.prototype.reduce`) and reports the marks it finds: a worker that ran another user's task
 * before shows it.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FaasClient, TaskFailedError, TaskTimeoutError } from '../../src/faas/client/index.ts';
import { endpointsPerTest, Procs } from './helpers.ts';

vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

const procs = new Procs();
const endpoint = endpointsPerTest(procs);
let url = '';
let rootToken = '';
let alice: FaasClient;
let mallory: FaasClient;
let aliceFn = '';
let malloryFn = '';

/** Marks the worker as `who`'s, and tells whose marks it found and whether `reduce` still adds up. */
function markSource(who: string): string {
  return `export default async (ms) => {
    const g = globalThis;
    const found = g.__owner ?? null;
    g.__owner ??= ${JSON.stringify(who)};
    const sum = [1, 2, 3].reduce((a, b) => a + b, 0);
    if (!g.__patched) {
      g.__patched = true;
      const orig = Array.prototype.reduce;
      Array.prototype.reduce = function (...a) { const r = orig.apply(this, a); return typeof r === 'number' ? r + 1000 : r; };
    }
    if (ms) await new Promise((r) => setTimeout(r, ms));
    return { found, sum, pid: process.pid };
  };`;
}

interface Mark {
  found: string | null;
  sum: number;
  pid: number;
}

beforeAll(async () => {
  rootToken = await procs.addUser('root');
  const aliceToken = await procs.addUser('alice');
  const malloryToken = await procs.addUser('mallory');
  ({ url } = await procs.startService());
  alice = new FaasClient({ serviceUrl: url, token: aliceToken });
  mallory = new FaasClient({ serviceUrl: url, token: malloryToken });
  aliceFn = await alice.registerFunction(markSource('alice'));
  malloryFn = await mallory.registerFunction(markSource('mallory'));
}, 300_000);

afterAll(async () => {
  await alice?.close();
  await mallory?.close();
  await procs.cleanup();
});

/** root's endpoint, shared with alice and mallory, allowing both their functions. */
function shared(name: string, extra: string[] = []) {
  return endpoint(url, rootToken, name, [
    '--share-with',
    'alice,mallory',
    '--allow-function',
    `${aliceFn},${malloryFn}`,
    ...extra,
  ]);
}

describe('an endpoint shared by several users', () => {
  it("runs each user's tasks in workers of their own, keeping a user's worker warm", async () => {
    await shared('one-worker', ['--workers', '1']);
    const ep = 'root/one-worker';
    const m1 = (await mallory.submit(malloryFn, ep, 0)) as Mark;
    const a1 = (await alice.submit(aliceFn, ep, 0)) as Mark;
    const a2 = (await alice.submit(aliceFn, ep, 0)) as Mark;
    const m2 = (await mallory.submit(malloryFn, ep, 0)) as Mark;
    expect(m1).toMatchObject({ found: null, sum: 6 });
    // mallory's worker patched reduce and marked itself: alice's task never sees either.
    expect(a1).toMatchObject({ found: null, sum: 6 });
    expect(a1.pid).not.toBe(m1.pid);
    // alice's second task runs in her warm worker (her own mark, her own patch).
    expect(a2).toMatchObject({ found: 'alice', sum: 1006, pid: a1.pid });
    expect(m2).toMatchObject({ found: null, sum: 6 });
    expect(m2.pid).not.toBe(a1.pid);
    expect((await alice.getEndpoint(ep)).capacity).toBe(1);
  });

  it("runs each user's tasks in workers of their own in a block (local provider)", async () => {
    const ep = await procs.startEndpoint(url, rootToken, 'block-ep', [
      '--share-with',
      'alice,mallory',
      '--allow-function',
      `${aliceFn},${malloryFn}`,
      '--provider',
      'local',
      '--min-blocks',
      '1',
      '--max-blocks',
      '1',
      '--workers-per-block',
      '1',
      '--block-dir',
      join(procs.dir, 'blocks-shared'),
    ]);
    try {
      const name = 'root/block-ep';
      const m1 = (await mallory.submit(malloryFn, name, 0)) as Mark;
      const a1 = (await alice.submit(aliceFn, name, 0)) as Mark;
      const a2 = (await alice.submit(aliceFn, name, 0)) as Mark;
      expect(m1).toMatchObject({ found: null, sum: 6 });
      expect(a1).toMatchObject({ found: null, sum: 6 });
      expect(a1.pid).not.toBe(m1.pid);
      expect(a2).toMatchObject({ found: 'alice', sum: 1006, pid: a1.pid });
    } finally {
      // SIGTERM: the agent cancels its blocks, so no block process outlives the test.
      await procs.kill(ep.proc, 'SIGTERM');
    }
  });

  it('keeps every worker busy when both users submit at once', async () => {
    await shared('two-workers', ['--workers', '2']);
    const ep = 'root/two-workers';
    const n = 6;
    const [a, m] = await Promise.all([
      Promise.all(Array.from({ length: n }, () => alice.submit(aliceFn, ep, 50) as Promise<Mark>)),
      Promise.all(Array.from({ length: n }, () => mallory.submit(malloryFn, ep, 50) as Promise<Mark>)),
    ]);
    for (const r of a) expect(r.found === null || r.found === 'alice').toBe(true);
    for (const r of m) expect(r.found === null || r.found === 'mallory').toBe(true);
    const alicePids = new Set(a.map((r) => r.pid));
    for (const r of m) expect(alicePids.has(r.pid)).toBe(false);
  });

  it("ends a task at the endpoint's --max-task-seconds and then runs other users' tasks", async () => {
    const spin = await mallory.registerFunction('export default () => { for (;;) {} };');
    await endpoint(url, rootToken, 'capped', [
      '--workers',
      '1',
      '--share-with',
      'alice,mallory',
      '--allow-function',
      `${aliceFn},${spin}`,
      '--max-task-seconds',
      '1',
    ]);
    const ep = 'root/capped';
    // No timeout of its own: only the endpoint's limit stops it.
    const e: any = await mallory.submit(spin, ep, null).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TaskTimeoutError);
    expect(e.message).toContain('--max-task-seconds');
    expect(((await alice.submit(aliceFn, ep, 0)) as Mark).sum).toBe(6);
  });

  it('refuses the stage-out token on a shared endpoint whose bundles are not pinned', async () => {
    const start = (extra: string[]) =>
      procs.spawnCli(
        [
          'endpoint',
          'start',
          '--service',
          url,
          '--name',
          'stage-ep',
          '--share-with',
          'alice',
          '--stageout-allow',
          'https://store.invalid/x',
          ...extra,
        ],
        { RISTRETTO_TOKEN: rootToken, RISTRETTO_STAGEOUT_TOKEN: 'site-secret' },
      );
    const refused = start([]);
    let stderr = '';
    refused.stderr?.on('data', (d) => (stderr += String(d)));
    const code = await new Promise<number | null>((r) => refused.once('exit', (c) => r(c)));
    expect(code).toBe(1);
    expect(stderr).toMatch(
      /RISTRETTO_STAGEOUT_TOKEN is set on an endpoint shared with other users without --allow-bundle/,
    );
    // Pinned bundles: the same endpoint starts.
    const pinned = start(['--allow-bundle', 'a'.repeat(64)]);
    try {
      await procs.waitLine(pinned, /attached id=/);
    } finally {
      await procs.killEndpoint(pinned);
    }
  });

  it('runs the registered code after a task rewrote the cached module, also after a restart', async () => {
    const fn = await alice.registerFunction("export default (x) => (x === 'exit' ? process.exit(1) : 'registered');");
    const name = 'cache-ep';
    const extra = ['--workers', '1', '--share-with', 'alice', '--allow-function', fn];
    const first = await endpoint(url, rootToken, name, extra);
    const ep = `root/${name}`;
    expect(await alice.submit(fn, ep, 'ok')).toBe('registered');
    const dir = join(procs.dir, `cache-${name}`);
    const files = readdirSync(dir).filter((f) => f.endsWith('.mjs'));
    expect(files).toHaveLength(1);
    const tamper = () => writeFileSync(join(dir, files[0]), "export default () => 'tampered';");
    tamper();
    // A fresh worker (the old one ends) imports the module again.
    const lost = await alice.submit(fn, ep, 'exit', { maxAttempts: 1 }).catch((x: unknown) => x);
    expect(lost).toBeInstanceOf(TaskFailedError);
    const next = await alice.submit(fn, ep, 'ok').catch((x: unknown) => x);
    if (next !== 'registered') {
      expect(next).toBeInstanceOf(TaskFailedError);
      expect((next as TaskFailedError).message).toMatch(/does not match its hash/);
      // The hint says what happened and what to do, not how to write a module.
      expect((next as TaskFailedError).hint).toMatch(/rewrite its function cache.*run the task again/);
    }
    // The agent put the file back: the task after runs the registered code.
    expect(await alice.submit(fn, ep, 'ok')).toBe('registered');

    // Rewritten while the agent is down: the restarted agent fetches the module again.
    await procs.killEndpoint(first.proc);
    tamper();
    const again = await procs.startEndpoint(url, rootToken, name, extra);
    try {
      expect(await alice.submit(fn, ep, 'ok')).toBe('registered');
    } finally {
      await procs.killEndpoint(again.proc);
    }
  });

  it('refuses a content-addressed module (as processor bundles are) that a task rewrote', async () => {
    // A module named by the sha256 of its bytes, imported by a function as the chunk function imports
    // a processor bundle.
    const dir = join(procs.dir, 'bundles');
    mkdirSync(dir, { recursive: true });
    const code = "export default 'genuine';";
    const file = join(dir, `${createHash('sha256').update(code).digest('hex')}.mjs`);
    writeFileSync(file, code);
    const fn = await alice.registerFunction(
      'export default async (x) => (x.exit ? process.exit(1) : (await import(x.url)).default);',
    );
    await shared('bundle-ep', ['--workers', '1', '--allow-function', fn]);
    const ep = 'root/bundle-ep';
    const url = pathToFileURL(file).href;
    expect(await alice.submit(fn, ep, { url })).toBe('genuine');
    writeFileSync(file, "export default 'tampered';");
    // A fresh worker (the old one ends) imports the module again: refused, not run.
    await alice.submit(fn, ep, { exit: true }, { maxAttempts: 1 }).catch(() => undefined);
    const e = await alice.submit(fn, ep, { url }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TaskFailedError);
    expect((e as TaskFailedError).message).toMatch(/does not match its hash/);
  });
});
