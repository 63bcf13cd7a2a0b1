/**
 * Every refusal of the service is the protocol's JSON error body (issue 14), also those Node's HTTP
 * parser and the WebSocket handshake used to answer with a bare status line or an HTML text; a socket
 * that breaks mid-way ends nothing; one user's request bodies are read a few at a time. A real
 * service on loopback, spoken to over raw sockets where an HTTP client would refuse to send the input.
 */
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { HttpApi } from '../../src/faas/client/http.ts';
import { FaasRequestError } from '../../src/faas/errors.ts';
import { MAX_BODIES_PER_USER } from '../../src/faas/service/http.ts';
import { Procs } from './helpers.ts';

// Real processes on a machine that may be busy (tests must pass with both cores taken): generous
// limits, never timing assertions. The limits only bound a hang.
vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

const procs = new Procs();
let url = '';
let port = 0;
let malloryToken = '';
let bobToken = '';
const fns: Record<string, string> = {};

beforeAll(async () => {
  malloryToken = await procs.addUser('mallory');
  bobToken = await procs.addUser('bob');
  ({ url, port } = await procs.startService());
  for (const [name, token] of [
    ['mallory', malloryToken],
    ['bob', bobToken],
  ] as const) {
    const api = new HttpApi(url, token);
    fns[name] = (
      await api.request<{ function_id: string }>(
        'POST',
        '/v1/functions',
        JSON.stringify({ code: 'export default (x) => x;' }),
      )
    ).function_id;
    // An endpoint that never connects: what is submitted to it waits, and nothing runs.
    await api.request('POST', '/v1/endpoints', JSON.stringify({ name: `${name}-ep` }));
    api.close();
  }
}, 300_000);

afterAll(() => procs.cleanup());

/** Send `raw` bytes on a new connection; resolves with everything the service answers before closing. */
function rawExchange(raw: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(raw));
    let text = '';
    s.on('data', (d) => (text += d));
    s.on('end', () => resolve(text));
    s.on('error', reject);
  });
}

/** Status and parsed JSON body of a raw HTTP answer (the body must be JSON). */
function parseAnswer(text: string): { status: number; type: string; body: any } {
  const [head = '', body = ''] = text.split('\r\n\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
  const type = /content-type: ([^\r\n]+)/i.exec(head)?.[1] ?? '';
  return { status, type, body: JSON.parse(body) };
}

function submission(name: string): string {
  return JSON.stringify({ function_id: fns[name], endpoint: `${name}-ep`, tasks: [{ args: 1 }] });
}

/** POST /v1/tasks whose answer is awaited by the returned promise; the request is written by `send`. */
function post(token: string, send: (req: ReturnType<typeof request>) => void, length: number) {
  let req!: ReturnType<typeof request>;
  const answer = new Promise<{ status: number; body: any }>((resolve, reject) => {
    req = request(
      new URL('/v1/tasks', url),
      {
        method: 'POST',
        agent: false,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': length },
      },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
  });
  send(req);
  return { req, answer };
}

describe('refusals carry the error body', () => {
  it('headers too large: 431 with the error body, read by the client as its code', async () => {
    const a = parseAnswer(
      await rawExchange(`GET /v1/whoami HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(40_000)}\r\n\r\n`),
    );
    expect(a.status).toBe(431);
    expect(a.type).toBe('application/json');
    expect(a.body.error.code).toBe('PayloadTooLarge');
    expect(a.body.error.details.limit).toBeGreaterThan(1000);
    // The client's view: a typed error with the service's code, not "HTTP431".
    const api = new HttpApi(url, bobToken);
    const e = await api.request('GET', `/v1/whoami?${'x'.repeat(40_000)}`).catch((err: unknown) => err);
    api.close();
    expect(e).toBeInstanceOf(FaasRequestError);
    expect((e as FaasRequestError).status).toBe(431);
    expect((e as FaasRequestError).code).toBe('PayloadTooLarge');
  });

  it('a malformed request line: 400 with the error body', async () => {
    const a = parseAnswer(await rawExchange('HELLO THERE\r\n\r\n'));
    expect(a.status).toBe(400);
    expect(a.body.error.code).toBe('BadRequest');
    expect(a.body.error.message).toMatch(/malformed HTTP request/);
  });

  it('WebSocket handshakes that ws refuses: 400 with the error body', async () => {
    const auth = `authorization: Bearer ${bobToken}\r\n`;
    const noKey = parseAnswer(
      await rawExchange(
        `GET /v1/stream HTTP/1.1\r\nhost: x\r\n${auth}connection: Upgrade\r\nupgrade: websocket\r\nsec-websocket-version: 13\r\n\r\n`,
      ),
    );
    expect(noKey.status).toBe(400);
    expect(noKey.type).toBe('application/json');
    expect(noKey.body.error).toMatchObject({ code: 'BadRequest' });
    expect(noKey.body.error.message).toMatch(/Sec-WebSocket-Key/);
    const wrongMethod = parseAnswer(
      await rawExchange(
        `POST /v1/stream HTTP/1.1\r\nhost: x\r\n${auth}connection: Upgrade\r\nupgrade: websocket\r\nsec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\ncontent-length: 0\r\n\r\n`,
      ),
    );
    expect(wrongMethod.status).toBe(400);
    expect(wrongMethod.body.error.message).toMatch(/method POST is not supported on \/v1\/stream/);
    // Unknown token and unknown path, as before: typed bodies with their own statuses.
    const unauth = parseAnswer(
      await rawExchange(
        'GET /v1/stream HTTP/1.1\r\nhost: x\r\nauthorization: Bearer rst_nope\r\nconnection: Upgrade\r\nupgrade: websocket\r\n\r\n',
      ),
    );
    expect(unauth.status).toBe(401);
    expect(unauth.body.error.code).toBe('Unauthorized');
  });

  it('a chunked body over the limit: 413 with the error body, not a reset connection', async () => {
    // No content-length: the limit is found while reading (endpoint registrations: 1 MiB).
    const answer = await new Promise<{ status: number; body: any }>((resolve, reject) => {
      const req = request(
        new URL('/v1/endpoints', url),
        { method: 'POST', agent: false, headers: { authorization: `Bearer ${bobToken}` } },
        (res) => {
          let text = '';
          res.on('data', (d) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
        },
      );
      req.on('error', reject);
      const piece = 'x'.repeat(64 * 1024);
      for (let i = 0; i < 40; i++) req.write(piece);
      req.end();
    });
    expect(answer.status).toBe(413);
    expect(answer.body.error.code).toBe('PayloadTooLarge');
  });

  it('sockets reset mid-request, mid-upgrade or mid-refusal end nothing', async () => {
    const resets: Promise<void>[] = [];
    const upgrade = `GET /v1/stream HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${bobToken}\r\nconnection: Upgrade\r\nupgrade: websocket\r\n\r\n`;
    const partial = `POST /v1/tasks HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${bobToken}\r\ncontent-length: 1000\r\n\r\n{"tasks":`;
    const big = `GET /v1/whoami HTTP/1.1\r\nx-big: ${'a'.repeat(40_000)}\r\n\r\n`;
    for (let i = 0; i < 20; i++)
      for (const raw of [upgrade, partial, big])
        resets.push(
          new Promise<void>((resolve) => {
            const s: Socket = connect(port, '127.0.0.1', () => {
              s.write(raw);
              // At once or a moment later: before, during or after the service's answer.
              setTimeout(() => s.resetAndDestroy(), i % 3);
            });
            s.on('error', () => {});
            s.on('close', () => resolve());
          }),
        );
    await Promise.all(resets);
    const api = new HttpApi(url, bobToken);
    expect(await api.request('GET', '/v1/whoami')).toMatchObject({ user: 'bob' });
    api.close();
  });
});

describe("one user's request bodies", () => {
  it(`are read at most ${MAX_BODIES_PER_USER} at a time; the next waits, other users do not`, async () => {
    // Mallory's first bodies arrive only in part: each holds one of her slots.
    const held = Array.from({ length: MAX_BODIES_PER_USER }, () =>
      post(malloryToken, (req) => req.write('{"tasks":'), 1000),
    );
    const body = submission('mallory');
    let nextAnswered = false;
    const next = post(malloryToken, (req) => req.end(body), Buffer.byteLength(body));
    void next.answer.then(() => (nextAnswered = true));
    // Bob is served meanwhile, twice in a row.
    for (let i = 0; i < 2; i++) {
      const b = submission('bob');
      const bob = post(bobToken, (req) => req.end(b), Buffer.byteLength(b));
      expect((await bob.answer).status).toBe(200);
    }
    expect(nextAnswered).toBe(false);
    // One held body completes (as bad JSON): its slot goes to mallory's waiting submission.
    const first = held[0];
    first?.req.end(`${' '.repeat(1000 - 9)}`);
    expect((await first?.answer)?.status).toBe(400);
    expect(await next.answer).toMatchObject({ status: 200 });
    for (const h of held.slice(1)) {
      h.answer.catch(() => {});
      h.req.destroy();
    }
  });
});
