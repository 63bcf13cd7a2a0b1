/**
 * Seeded fuzzing of a live service and endpoint agents (real processes on loopback): random and
 * malformed HTTP bodies and paths, result-stream messages, agent-socket messages and task arguments —
 * wrong types and shapes, deep nesting, big sizes, broken JSON and frames. The service must answer each
 * (never with a 500 or an InternalError), stay up, and another user's tasks must all complete.
 *
 * FUZZ_SEED=<n> replays a run; FUZZ_SCALE=<x> multiplies the message counts (default 1).
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import WebSocket from 'ws';
import { encodeFrame, encodeFrameRaw } from '../../src/faas/codec.ts';
import { FaasClient } from '../../src/faas/client/index.ts';
import { streamClientText } from '../../src/faas/protocol-schemas.ts';
import { Procs } from './helpers.ts';
import { rng } from '../helpers/rng.ts';

// Real processes on a machine that may be busy (tests must pass with both cores taken): generous
// limits, never timing assertions. The limits only bound a hang.
vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

const SEED = Number(process.env.FUZZ_SEED ?? 20261206);
const SCALE = Number(process.env.FUZZ_SCALE ?? 1);
const N_HTTP = Math.round(250 * SCALE);
const N_STREAM = Math.round(350 * SCALE);
const N_AGENT = Math.round(60 * SCALE);
const N_ARGS = Math.round(40 * SCALE);

// ---------------------------------------------------------------- seeded generators

const rand = rng(SEED);
const int = (n: number) => Math.floor(rand() * n);
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
const chance = (p: number) => rand() < p;

const WEIRD_STRINGS = [
  '',
  ' ',
  '%',
  '%zz',
  '..',
  '../..',
  '\u0000',
  '\ud800',
  'é',
  '$type',
  '__proto__',
  'constructor',
  'null',
  '💥',
  'a/b',
  'x'.repeat(300),
];
const WEIRD_NUMBERS = [0, -0, -1, 1.5, 1e12, -1e12, 2 ** 53, 2 ** 32, Number.MAX_VALUE, Number.MIN_VALUE, 4294967295];

function randomString(): string {
  if (chance(0.4)) return pick(WEIRD_STRINGS);
  const len = chance(0.05) ? 5000 + int(50_000) : int(20);
  let s = '';
  for (let i = 0; i < len; i++) s += String.fromCharCode(chance(0.9) ? 97 + int(26) : int(0xffff));
  return s;
}

function randomValue(depth = 0): unknown {
  const r = int(depth > 4 ? 5 : 8);
  switch (r) {
    case 0:
      return null;
    case 1:
      return chance(0.5);
    case 2:
      return chance(0.5) ? pick(WEIRD_NUMBERS) : (rand() - 0.5) * 10 ** int(20);
    case 3:
    case 4:
      return randomString();
    case 5:
    case 6:
      return Array.from({ length: int(5) }, () => randomValue(depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = int(5); i > 0; i--) o[randomString().slice(0, 30)] = randomValue(depth + 1);
      if (chance(0.2)) o.$type = pick(['Map', 'Set', 'Number', 'BigInt', '$serializable', 'Float64Array', 'Nope', 5]);
      if (chance(0.1)) o.b64 = pick(['!!', 'AAAA', 'AAA', 5]);
      if (chance(0.1)) o.entries = randomValue(depth + 1);
      return o;
    }
  }
}

/** Replace, delete or add at a random place in a (JSON) tree; sometimes blow up sizes or depth. */
function mutate(v: unknown, depth = 0): unknown {
  if (depth > 6 || chance(0.25)) {
    switch (int(7)) {
      case 0:
        return randomValue();
      case 1:
        return pick(WEIRD_NUMBERS);
      case 2:
        return randomString();
      case 3:
        return nest(pick([5, 99, 101, 1000]), randomValue());
      case 4:
        return chance(0.3) ? Array.from({ length: 150_000 }, () => 'x') : [];
      case 5:
        return null;
      default:
        return undefined; // deleted
    }
  }
  if (Array.isArray(v)) {
    const out = [...v];
    if (out.length && chance(0.7)) out[int(out.length)] = mutate(out[int(out.length)], depth + 1);
    else out.push(randomValue());
    return out;
  }
  if (typeof v === 'object' && v !== null) {
    const out: Record<string, unknown> = { ...(v as Record<string, unknown>) };
    const keys = Object.keys(out);
    if (keys.length && chance(0.8)) {
      const k = pick(keys);
      const m = mutate(out[k], depth + 1);
      if (m === undefined) delete out[k];
      else out[k] = m;
    } else out[randomString().slice(0, 20) || 'extra'] = randomValue();
    return out;
  }
  return randomValue();
}

function nest(n: number, inner: unknown): unknown {
  let v = inner;
  for (let i = 0; i < n; i++) v = chance(0.5) ? [v] : { a: v };
  return v;
}

/** A JSON text from a template: mostly mutated, sometimes broken text outright. */
function fuzzText(template: unknown): { text: string; mutated: unknown } {
  const r = int(20);
  if (r >= 17) return { text: JSON.stringify(template), mutated: template };
  if (r === 0)
    return { text: JSON.stringify(template).slice(0, int(JSON.stringify(template).length)), mutated: undefined };
  if (r === 1) return { text: '['.repeat(100_000) + ']'.repeat(100_000), mutated: undefined };
  if (r === 2) return { text: `"${'y'.repeat(2_000_000 + int(1_000_000))}"`, mutated: undefined };
  if (r === 3)
    return {
      text: pick(['null', '0', '"x"', '[]', 'true', '{', '}', '', 'nul', '{"type":', '\u0000']),
      mutated: undefined,
    };
  let m = template;
  for (let i = 1 + int(3); i > 0; i--) m = mutate(m);
  if (m === undefined) m = {};
  return { text: JSON.stringify(m), mutated: m };
}

function randomFrame(): Buffer {
  switch (int(4)) {
    case 0:
      return Buffer.from(Array.from({ length: int(64) }, () => int(256)));
    case 1:
      return encodeFrameRaw(fuzzText({ type: 'results', results: [] }).text, [new Uint8Array(int(100))]);
    case 2: {
      // Lengths that point past the end.
      const b = encodeFrame({ type: 'results', results: [] }, [new Uint8Array(10)]);
      b.writeUInt32LE(0xffffffff, b.length - 14);
      return b;
    }
    default:
      return encodeFrameRaw('['.repeat(50_000), []);
  }
}

// ---------------------------------------------------------------- the live platform

const procs = new Procs();
let url = '';
let serviceProc: ReturnType<Procs['spawnCli']>;
let malloryToken = '';
let mallory: FaasClient;
let bob: FaasClient;
let bobFn = '';
let malFn = '';
const counts: Record<string, number> = {};
const count = (k: string) => (counts[k] = (counts[k] ?? 0) + 1);

beforeAll(async () => {
  let bobToken: string;
  [malloryToken, bobToken] = await Promise.all([procs.addUser('mallory'), procs.addUser('bob')]);
  const svc = await procs.startService();
  url = svc.url;
  serviceProc = svc.proc;
  await Promise.all([
    procs.startEndpoint(url, bobToken, 'bob-ep', ['--workers', '1']),
    procs.startEndpoint(url, malloryToken, 'mal-ep', ['--workers', '1']),
  ]);
  bob = new FaasClient({ serviceUrl: url, token: bobToken });
  mallory = new FaasClient({ serviceUrl: url, token: malloryToken });
  bobFn = await bob.registerFunction((x: number) => x + 1);
  malFn = await mallory.registerFunction((x: unknown) => x);
}, 300_000);

afterAll(async () => {
  await bob?.close();
  await mallory?.close();
  await procs.cleanup();
});

function http(method: string, path: string, body?: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(url),
      { method, path, headers: { authorization: `Bearer ${malloryToken}`, 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => {
          let parsed: unknown;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            parsed = text;
          }
          resolve({ status: res.statusCode!, body: parsed });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** A WebSocket whose messages queue up; `next` takes the first one that matches (waiting for it). */
class Sock {
  readonly inbox: { text?: any; binary?: Buffer }[] = [];
  readonly ws: WebSocket;
  closed = false;
  private wake: (() => void) | undefined;
  private constructor(path: string) {
    this.ws = new WebSocket(url.replace(/^http/, 'ws') + path, {
      headers: { authorization: `Bearer ${malloryToken}` },
      maxPayload: 512 * 1024 * 1024,
    });
    this.ws.on('message', (d, binary) => {
      this.inbox.push(binary ? { binary: d as Buffer } : { text: JSON.parse(String(d)) });
      this.wake?.();
    });
    this.ws.on('close', () => {
      this.closed = true;
      this.wake?.();
    });
    this.ws.on('error', () => {});
  }
  static async open(path: string): Promise<Sock> {
    const s = new Sock(path);
    await new Promise<void>((resolve, reject) => {
      s.ws.once('open', () => resolve());
      s.ws.once('error', reject);
    });
    return s;
  }
  async next(
    match: (m: { text?: any; binary?: Buffer }) => boolean,
    what: string,
  ): Promise<{ text?: any; binary?: Buffer }> {
    const timeout = Date.now() + 30_000;
    for (;;) {
      const i = this.inbox.findIndex(match);
      if (i >= 0) return this.inbox.splice(i, 1)[0];
      if (this.closed) throw new Error(`socket closed while waiting for ${what}`);
      if (Date.now() > timeout) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((r) => {
        this.wake = r;
        setTimeout(r, 1000);
      });
      this.wake = undefined;
    }
  }
  /** Resolves once the socket is closed. */
  async whenClosed(): Promise<void> {
    while (!this.closed) await this.next(() => false, 'close').catch(() => undefined);
  }
}

function submitTemplate(): Record<string, unknown> {
  return {
    function_id: malFn,
    endpoint: pick(['mal-ep', 'bob-ep', 'nowhere', malFn]),
    tasks: [{ args: randomValue() }],
    ...(chance(0.3) ? { max_attempts: 1 } : {}),
  };
}

// ---------------------------------------------------------------- the fuzz run

describe(`fuzz (seed ${SEED})`, () => {
  it('the service answers every malformed message, stays up, and other users keep working', async () => {
    // Bob's steady work, all through the run.
    let bobDone = 0;
    let stop = false;
    let bobError: unknown;
    const bobWork = (async () => {
      for (let i = 0; !stop; i++) {
        expect(await bob.submit(bobFn, 'bob-ep', i)).toBe(i + 1);
        bobDone++;
        // Paced, so the CPU goes to the fuzzing (no timing is asserted).
        await new Promise((r) => setTimeout(r, 10));
      }
    })().catch((e) => (bobError = e));
    onTestFinished(() => {
      stop = true;
    });

    const phases: string[] = [];
    let t0 = Date.now();
    const phase = (name: string) => {
      phases.push(`${name} ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      t0 = Date.now();
    };
    // HTTP: random routes, bodies and paths.
    const routes = ['/v1/tasks', '/v1/functions', '/v1/endpoints', '/v1/tasks/results', '/v1/tasks/cancel'];
    const templates: Record<string, () => unknown> = {
      '/v1/tasks': submitTemplate,
      '/v1/functions': () => ({
        code: 'export default (x) => x',
        name: 'f',
        description: 'd',
        sharing: { visibility: 'private' },
      }),
      '/v1/endpoints': () => ({
        name: `fz-${int(5)}`,
        allowed_functions: [malFn],
        sharing: { visibility: 'users', users: ['bob'] },
      }),
      '/v1/tasks/results': () => ({ task_ids: [malFn, randomString()] }),
      '/v1/tasks/cancel': () => (chance(0.5) ? { task_ids: [randomString()] } : { batch_id: randomString() }),
    };
    for (let i = 0; i < N_HTTP; i++) {
      let r: { status: number; body: any };
      if (chance(0.15)) {
        const seg =
          [...Buffer.from(randomString())]
            .map((b) => `%${b.toString(16).padStart(2, '0')}`)
            .join('')
            .slice(0, 900) + pick(['', '%', '%E0%A4%A', '%zz', '%C0%80']);
        r = await http(
          pick(['GET', 'POST', 'PUT', 'DELETE']),
          `${pick(['/v1/tasks/', '/v1/functions/', '/v1/endpoints/', '/v1/batches/', '/v1/', '/'])}${seg}`,
        );
      } else {
        const route = pick(routes);
        r = await http('POST', route, fuzzText(templates[route]()).text);
      }
      count(`http ${r.status}`);
      expect(r.status, JSON.stringify(r.body)?.slice(0, 300)).toBeLessThan(500);
      if (r.status >= 400) expect(r.body?.error?.code).toBeTypeOf('string');
    }

    phase('http');
    // Result stream: one connection, each message answered (or provably not meant to be).
    let stream = await Sock.open('/v1/stream');
    let req = 1;
    for (let i = 0; i < N_STREAM; i++) {
      if (stream.closed) stream = await Sock.open('/v1/stream');
      const kind = pick(['submit', 'watch', 'unwatch', 'raw', 'binary'] as const);
      if (kind === 'binary') {
        stream.ws.send(randomFrame());
        const a = await stream.next((m) => m.text?.type === 'error', 'answer to a binary frame');
        expect(a.text.code).toBe('BadRequest');
        count('stream error BadRequest');
        continue;
      }
      const template =
        kind === 'submit'
          ? { type: 'submit', req: req++, watch: chance(0.5), request: submitTemplate() }
          : kind === 'watch'
            ? { type: 'watch', task_ids: [randomString(), malFn], running: chance(0.5) }
            : kind === 'unwatch'
              ? { type: 'unwatch', task_ids: [randomString()] }
              : randomValue();
      const { text, mutated } = chance(0.8)
        ? fuzzText(template)
        : { text: JSON.stringify(template), mutated: template };
      stream.ws.send(text);
      const valid = mutated !== undefined && Object.values(streamClientText).some((v) => v.is(mutated));
      const m = mutated as { type?: string; task_ids?: unknown[] };
      if (valid && (m.type === 'unwatch' || (m.type === 'watch' && m.task_ids!.length === 0))) {
        // Not answered by design: a probe behind it is, so the service has read it and lives.
        stream.ws.send(JSON.stringify({ type: `probe-${i}` }));
        await stream.next(
          (x) => x.text?.type === 'error' && String(x.text.message).includes(`probe-${i}`),
          'probe answer',
        );
        count(`stream ${m.type} (no answer by design)`);
      } else if (valid && m.type === 'watch') {
        const ids = new Set(m.task_ids as string[]);
        await stream.next(
          (x) => x.binary !== undefined && [...ids].some((id) => x.binary!.includes(Buffer.from(JSON.stringify(id)))),
          'watch results',
        );
        count('stream watch results');
      } else {
        const a = await stream.next((x) => x.text !== undefined, 'stream answer');
        expect(['error', 'submitted']).toContain(a.text.type);
        if (a.text.type === 'error') expect(a.text.code, a.text.message).not.toBe('InternalError');
        count(`stream ${a.text.type}${a.text.code ? ` ${a.text.code}` : ''}`);
      }
    }
    stream.ws.close();
    phase('stream');

    // Agent socket: a fresh connection per message; every session ends in an error answer and a close.
    const helloTemplate = () => ({
      type: 'hello',
      name: `fz-agent-${int(3)}`,
      capacity: 1 + int(4),
      prefetch: int(3),
      cached_hashes: [],
      holding: [randomString()],
      agent_version: '1',
      hostname: 'fuzz',
    });
    const agentTemplates = [
      () => ({ type: 'heartbeat', capacity: 2, prefetch: 1, busy: 0, queued: 0 }),
      () => ({ type: 'started', task_ids: [randomString()], started_at: [Date.now()] }),
      () => ({ type: 'lost', tasks: [{ task_id: randomString(), reason: 'x', started_at: 1 }] }),
      () => ({ type: 'released', task_ids: [randomString()] }),
      () => ({ type: 'returned', seq: int(5), task_ids: [randomString()] }),
    ];
    for (let i = 0; i < N_AGENT; i++) {
      const s = await Sock.open('/v1/agent');
      const helloFirst = chance(0.6);
      if (helloFirst) s.ws.send(JSON.stringify(helloTemplate()));
      else s.ws.send(fuzzText(helloTemplate()).text);
      if (helloFirst || chance(0.5)) {
        if (chance(0.3)) s.ws.send(randomFrame());
        else s.ws.send(fuzzText(pick(agentTemplates)()).text);
      }
      // The probe: refused (unknown type) whatever came before, so every session gets an error answer.
      s.ws.send(JSON.stringify({ type: 'probe' }));
      const a = await s.next((m) => m.text?.type === 'error', 'agent error');
      expect(a.text.code, a.text.message).not.toBe('InternalError');
      count(`agent error ${a.text.code}`);
      await s.whenClosed();
    }

    phase('agent');
    // Task arguments of every shape, run by Mallory's live agent and worker: each task ends.
    const ids: string[] = [];
    for (let i = 0; i < N_ARGS; i++) {
      const args = chance(0.3) ? nest(90, randomValue()) : randomValue();
      const r = await http(
        'POST',
        '/v1/tasks',
        JSON.stringify({ function_id: malFn, endpoint: 'mal-ep', max_attempts: 1, tasks: [{ args }] }),
      );
      count(`args ${r.status}`);
      expect(r.status).toBeLessThan(500);
      if (r.status === 200) ids.push(...r.body.task_ids);
    }
    for await (const o of mallory.results(ids)) count(`args task ${o.state}`);
    phase('args');

    stop = true;
    await bobWork;
    expect(bobError).toBeUndefined();
    expect(bobDone).toBeGreaterThan(0);
    expect(serviceProc.exitCode).toBeNull();
    expect((await http('GET', '/v1/health')).status).toBe(200);
    expect(await bob.submit(bobFn, 'bob-ep', 41)).toBe(42);
    expect(procs.log).not.toMatch(/internal error|InternalError/);
    console.log(
      `fuzz seed ${SEED}: ${N_HTTP} HTTP requests, ${N_STREAM} stream messages, ${N_AGENT} agent sessions, ${N_ARGS} argument tasks; bob's tasks done: ${bobDone}; ${phases.join(', ')}\n` +
        Object.entries(counts)
          .sort()
          .map(([k, n]) => `  ${k}: ${n}`)
          .join('\n'),
    );
  }, 240_000);
});
