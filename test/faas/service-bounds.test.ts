/**
 * What one user may make the service hold or do per request (issue 14, probes D2, D7, D8, D9):
 * half-sent request bodies, cached hashes in an agent hello, ids per results request, allowed
 * functions, endpoints. A real service on loopback; the
 * hostile clients are raw sockets, the honest agent a real `faas endpoint start`.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { FaasClient } from '../../src/faas/client/index.ts';
import { HttpApi } from '../../src/faas/client/http.ts';
import { FaasRequestError } from '../../src/faas/errors.ts';
import { agentHello, agentSocket, serviceWithUsers, until } from './helpers.ts';

// Real processes on a machine that may be busy: generous limits, never timing assertions.
vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

/** The bounds, written out rather than imported: the test checks the numbers the docs state. */
const CACHED_HASHES = 10_000;
const REQUEST_TIMEOUT_S = 60;
const RESULTS_IDS = 10_000;
const ENDPOINTS_PER_USER = 200;

const svc = serviceWithUsers(['mallory', 'eve'], { admins: ['root'] });
const { procs } = svc;
const agent = () => agentSocket(svc.url, svc.token);

const hashes = (n: number) => Array.from({ length: n }, (_, i) => createHash('sha256').update(String(i)).digest('hex'));

const hello = (name: string, cached: string[]) => agentHello(name, { cached_hashes: cached });

describe('agent hello: cached hashes', () => {
  it('one hash over the bound is refused; the bound is welcomed', async () => {
    const over = await agent();
    over.ws.send(hello('hashes-over', hashes(CACHED_HASHES + 1)));
    await until(async () => over.inbox[0], 'answer to the hello');
    expect(over.inbox[0]).toMatchObject({ type: 'error', code: 'BadRequest' });
    expect(over.inbox[0].message).toMatch(/cached_hashes must NOT have more than 10000 items/);
    expect(await over.closed).toBe(1008);

    const at = await agent();
    at.ws.send(hello('hashes-at', hashes(CACHED_HASHES)));
    await until(async () => at.inbox[0], 'answer to the hello');
    expect(at.inbox[0]).toMatchObject({ type: 'welcome', name: 'hashes-at' });
    at.ws.close();
  });

  it('an agent whose cache holds more functions than that attaches, and runs a function it lacks', async () => {
    const dir = join(procs.dir, 'cache-big-cache-ep');
    mkdirSync(dir, { recursive: true });
    for (let i = 0; i <= CACHED_HASHES; i++) {
      const code = `export default () => ${i};\n`;
      writeFileSync(join(dir, `${createHash('sha256').update(code).digest('hex')}.mjs`), code);
    }
    const { proc } = await procs.startEndpoint(svc.url, svc.token, 'big-cache-ep', ['--workers', '1']);
    const fx = new FaasClient({ serviceUrl: svc.url, token: svc.token });
    try {
      const fn = await fx.registerFunction((x: number) => x + 1);
      expect(await fx.submit(fn, 'big-cache-ep', 41)).toBe(42);
    } finally {
      await fx.close();
      await procs.killEndpoint(proc);
    }
  });
});

describe('a half-sent request body', () => {
  it(`is answered 408 and its connection closed within the ${REQUEST_TIMEOUT_S} s deadline (not Node's 300 s)`, async () => {
    const port = Number(new URL(svc.url).port);
    const answer = await new Promise<string>((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () =>
        s.write(
          `POST /v1/tasks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${svc.token}\r\n` +
            'Content-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{"tasks":[',
        ),
      );
      let text = '';
      s.on('data', (d) => (text += d));
      s.on('close', () => resolve(text));
      s.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));
    expect(body.error).toMatchObject({ code: 'BadRequest', details: { timeout_ms: REQUEST_TIMEOUT_S * 1000 } });
  }, 200_000);
});

describe('results requests', () => {
  it(`list at most ${RESULTS_IDS} ids: one more is refused before any is looked up`, async () => {
    const ids = (n: number) =>
      Array.from({ length: n }, (_, i) => `01a24f00-0000-7000-8000-${String(i).padStart(12, '0')}`);
    const api = new HttpApi(svc.url, svc.token);
    const refusal = async (n: number) => {
      try {
        await api.request('POST', '/v1/tasks/results', JSON.stringify({ task_ids: ids(n) }));
      } catch (e) {
        if (e instanceof FaasRequestError) return e;
        throw e;
      }
      throw new Error('answered');
    };
    try {
      const over = await refusal(RESULTS_IDS + 1);
      expect(over.status).toBe(400);
      expect(over.message).toMatch(/task_ids must NOT have more than 10000 items/);
      // At the bound the ids are looked up: the first names no task of this user.
      const at = await refusal(RESULTS_IDS);
      expect(at.code).toBe('NotFound');
      expect(at.details).toMatchObject({ task_id: ids(1)[0] });
    } finally {
      api.close();
    }
  });
});

describe('endpoint registrations', () => {
  /** The error a request is refused with. */
  async function refusal(p: Promise<unknown>): Promise<FaasRequestError> {
    try {
      await p;
    } catch (e) {
      if (e instanceof FaasRequestError) return e;
      throw e;
    }
    throw new Error('accepted');
  }

  it('allow only functions that exist', async () => {
    const fx = new FaasClient({ serviceUrl: svc.url, token: svc.token });
    try {
      const ghost = '01a24f00-0000-7000-8000-00000000beef';
      const e = await refusal(fx.registerEndpoint('ghost-allow', { allowedFunctions: [ghost] }));
      expect(e.status).toBe(400);
      expect(e.message).toMatch(new RegExp(`function ${ghost} does not exist`));
      const fn = await fx.registerFunction((x: number) => x);
      expect((await fx.registerEndpoint('real-allow', { allowedFunctions: [fn] })).name).toBe('real-allow');
      // An agent's hello is checked the same way.
      const a = await agent();
      a.ws.send(JSON.stringify({ ...JSON.parse(hello('ghost-hello', [])), allowed_functions: [ghost] }));
      await until(async () => a.inbox[0], 'answer to the hello');
      expect(a.inbox[0]).toMatchObject({ type: 'error', code: 'BadRequest' });
      expect(a.inbox[0].message).toMatch(/does not exist/);
    } finally {
      await fx.close();
    }
  });

  it(`at most ${ENDPOINTS_PER_USER} per user; an existing one can still be updated; others are not counted`, async () => {
    const eve = new FaasClient({ serviceUrl: svc.url, token: svc.tokens.eve });
    try {
      for (let i = 0; i < ENDPOINTS_PER_USER; i++) await eve.registerEndpoint(`eve-${i}`, { public: true });
      const over = await refusal(eve.registerEndpoint('eve-over'));
      expect(over.status).toBe(403);
      expect(over.details).toMatchObject({ limit: ENDPOINTS_PER_USER });
      expect(over.message).toMatch(/has 200 endpoints, the most one user may register/);
      expect((await eve.registerEndpoint('eve-7', { public: false })).name).toBe('eve-7');
      // mallory is not counted against eve's, and finds her own endpoint by name among eve's public ones.
      const fx = new FaasClient({ serviceUrl: svc.url, token: svc.token });
      try {
        await fx.registerEndpoint('eve-3');
        expect((await fx.getEndpoint('eve-3')).owner).toBe('mallory');
        expect((await fx.getEndpoint('eve/eve-3')).owner).toBe('eve');
      } finally {
        await fx.close();
      }
    } finally {
      await eve.close();
    }
  });
});

describe('endpoint delete', () => {
  /** `ristretto faas endpoint delete REF` as `tok`: its exit code and what it printed. */
  async function cliDelete(ref: string, tok: string): Promise<{ code: number | null; out: string; err: string }> {
    const p = procs.spawnCli(['endpoint', 'delete', ref, '--service', svc.url], { RISTRETTO_TOKEN: tok });
    let out = '';
    let err = '';
    p.stdout?.on('data', (d: Buffer) => (out += d));
    p.stderr?.on('data', (d: Buffer) => (err += d));
    const code = await new Promise<number | null>((r) => p.once('exit', r));
    return { code, out, err };
  }

  it('the owner deletes an idle endpoint; not while attached or with unfinished tasks; others may not', async () => {
    const fx = new FaasClient({ serviceUrl: svc.url, token: svc.token });
    const bob = new FaasClient({ serviceUrl: svc.url, token: svc.tokens.eve });
    try {
      const fn = await fx.registerFunction((x: number) => x);
      // Unfinished tasks: one waits on an endpoint that never connects.
      await fx.registerEndpoint('del-busy', { public: true });
      const [waiting] = await fx.batchRun([{ functionId: fn, endpoint: 'del-busy', args: 1 }]);
      let r = await cliDelete('del-busy', svc.token);
      expect(r.code).not.toBe(0);
      expect(r.err).toMatch(/mallory\/del-busy has 1 unfinished tasks/);
      // Another user may not delete it, even a public one.
      r = await cliDelete('mallory/del-busy', svc.tokens.eve);
      expect(r.code).not.toBe(0);
      expect(r.err).toMatch(/only the owner of endpoint mallory\/del-busy or an admin may delete it/);
      await fx.cancel([waiting]);
      r = await cliDelete('del-busy', svc.token);
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/^deleted endpoint mallory\/del-busy \(/);
      expect((await fx.listEndpoints()).map((e) => e.name)).not.toContain('del-busy');
      expect((await bob.listEndpoints()).map((e) => e.name)).not.toContain('del-busy');

      // Attached: refused until its agent stops.
      const { proc } = await procs.startEndpoint(svc.url, svc.token, 'del-live', ['--workers', '1']);
      r = await cliDelete('del-live', svc.token);
      expect(r.err).toMatch(/endpoint mallory\/del-live is attached: stop its agent first/);
      await procs.killEndpoint(proc);
      await until(async () => ((await fx.getEndpoint('del-live')).status === 'offline' ? true : undefined), 'offline');
      // An admin deletes another user's endpoint by owner/name.
      r = await cliDelete('mallory/del-live', svc.tokens.root);
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/^deleted endpoint mallory\/del-live/);
    } finally {
      await fx.close();
      await bob.close();
    }
  });
});
