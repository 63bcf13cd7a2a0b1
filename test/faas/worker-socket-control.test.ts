/**
 * Control messages on the block-worker socket are validated on both sides (issue 14): a malformed
 * message ends that one worker's connection with a logged reason naming the worker, while the agent's
 * listener and the other workers carry on. Agent side: a real WorkerListener on loopback, raw sockets.
 * Worker side: a real worker process (worker.ts) connected to a raw TCP "agent" that misbehaves.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { type SocketLink, WorkerListener } from '../../src/faas/endpoint/worker-link.ts';
import {
  answer,
  checkAnswer,
  KIND_CONTROL,
  KIND_DONE,
  MessageReader,
  newNonce,
  writeControl,
  writeMessage,
} from '../../src/faas/endpoint/worker-socket.ts';
import { rng } from '../helpers/rng.ts';

const SECRET = 'sekrit';
const open: { listener?: WorkerListener; sockets: Socket[]; servers: Server[]; children: ChildProcess[] } = {
  sockets: [],
  servers: [],
  children: [],
};
afterEach(async () => {
  for (const s of open.sockets) s.destroy();
  open.sockets = [];
  for (const s of open.servers) s.close();
  open.servers = [];
  // A worker that ignored a bad message (a failing test) is still connected: stop it.
  for (const c of open.children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  open.children = [];
  await open.listener?.close();
  open.listener = undefined;
});

interface Seen {
  link: SocketLink;
  exit: Promise<string>;
  frames: Buffer[];
}

/** A listener that records each worker's link, its exit reason and the done frames it delivered. */
async function listen() {
  const logs: string[] = [];
  const workers = new Map<string, Seen>();
  const listener = await WorkerListener.open({
    host: '127.0.0.1',
    port: 0,
    secret: SECRET,
    onWorker: (link, info) => {
      const frames: Buffer[] = [];
      let exited: (how: string) => void = () => undefined;
      const exit = new Promise<string>((r) => (exited = r));
      link.setHandlers({
        message: (m) => {
          if (m.type === 'done') frames.push(Buffer.from(m.frame));
        },
        exit: (how) => exited(how),
      });
      workers.set(info.block, { link, exit, frames });
    },
    log: (m) => logs.push(m),
  });
  open.listener = listener;
  return { listener, logs, workers };
}

/** Connect, wait for the challenge, and (unless `hello` is false) authenticate as block `block`. */
async function dial(
  port: number,
  block: string | false,
): Promise<{ sock: Socket; nonce: string; closed: Promise<void> }> {
  const sock = connect({ host: '127.0.0.1', port });
  open.sockets.push(sock);
  sock.on('error', () => undefined);
  const closed = new Promise<void>((r) => sock.once('close', () => r()));
  const nonce = await new Promise<string>((resolve) => {
    const reader = new MessageReader((kind, payload) => {
      if (kind === KIND_CONTROL) resolve((JSON.parse(payload.toString('utf8')) as { nonce: string }).nonce);
    });
    sock.on('data', (c: Buffer) => reader.push(c));
  });
  if (block !== false)
    writeControl(sock, { type: 'hello', mac: answer(SECRET, nonce), block, worker: 0, host: 'h', pid: 1 });
  return { sock, nonce, closed };
}

/** Wait until the listener has accepted block `block`'s hello. */
async function accepted(workers: Map<string, Seen>, block: string): Promise<Seen> {
  for (;;) {
    const w = workers.get(block);
    if (w) return w;
    await new Promise((r) => setTimeout(r, 5));
  }
}

function frame(kind: number, payload: Buffer | string): Buffer {
  const body = Buffer.from(payload);
  const head = Buffer.alloc(5);
  head.writeUInt32LE(body.byteLength + 1, 0);
  head.writeUInt8(kind, 4);
  return Buffer.concat([head, body]);
}

const BAD_AFTER_HELLO: [string, Buffer, RegExp][] = [
  ['not JSON', frame(KIND_CONTROL, '{"type":"ready"'), /control message that is not valid JSON/],
  ['nested', frame(KIND_CONTROL, '{"type":"ready","x":{"y":1}}'), /nested deeper than 1 levels/],
  ['an unknown type', frame(KIND_CONTROL, '{"type":"shutdown"}'), /unknown type "shutdown"/],
  ['an array', frame(KIND_CONTROL, '["ready"]'), /nested deeper|unknown type null/],
  ['an extra property', frame(KIND_CONTROL, '{"type":"ready","x":1}'), /unknown property "x"/],
  ['a second hello', frame(KIND_CONTROL, JSON.stringify({ type: 'hello' })), /"hello" control message: mac is missing/],
  [
    '5,000 bytes',
    frame(KIND_CONTROL, JSON.stringify({ type: 'ready', pad: 'x'.repeat(5000) })),
    /over the limit of 4096/,
  ],
  ['an unknown kind', frame(9, '{}'), /a message of unknown kind 9/],
  ['a zero-length frame', Buffer.alloc(4), /bad message length 0/],
];

describe('agent side: malformed control messages from an authenticated block worker', () => {
  it.each(BAD_AFTER_HELLO)('%s ends that worker only, logged by name', async (_what, bytes, reason) => {
    const { listener, logs, workers } = await listen();
    const good = await dial(listener.port, 'good');
    const bad = await dial(listener.port, 'bad');
    const [g, b] = [await accepted(workers, 'good'), await accepted(workers, 'bad')];
    bad.sock.write(bytes);
    await bad.closed;
    const how = await b.exit;
    expect(how).toMatch(/^protocol error: the worker sent /);
    expect(how).toMatch(reason);
    const line = logs.find((l) => l.startsWith('block bad worker 0 on h: protocol error'));
    expect(line, logs.join('\n')).toMatch(reason);
    expect(logs.some((l) => l.includes('block good'))).toBe(false);
    // The other worker is still served, and the listener still accepts workers.
    writeMessage(good.sock, KIND_DONE, Buffer.from([1, 2, 3]));
    writeControl(good.sock, { type: 'ready' });
    await until(() => g.frames.length === 1);
    expect([...g.frames[0]]).toEqual([1, 2, 3]);
    await dial(listener.port, 'later');
    await accepted(workers, 'later');
    expect(good.sock.destroyed).toBe(false);
  });

  it('refuses malformed hellos before authentication, naming the peer', async () => {
    const { listener, logs, workers } = await listen();
    const hellos = (nonce: string): [unknown, RegExp][] => [
      [{ type: 'hello', mac: answer(SECRET, nonce), block: 'b', worker: -1, host: 'h', pid: 1 }, /worker must be >= 0/],
      [
        { type: 'hello', mac: answer(SECRET, nonce), block: 'b', worker: 0, host: 'h', pid: 1.5 },
        /pid must be integer/,
      ],
      [
        { type: 'hello', mac: answer(SECRET, nonce), block: '', worker: 0, host: 'h', pid: 1 },
        /block must NOT have fewer/,
      ],
      [{ type: 'hello', mac: answer(SECRET, nonce), block: 'b', worker: 0, host: 'h' }, /pid is missing/],
      [{ type: 'hello', mac: 7, block: 'b', worker: 0, host: 'h', pid: 1 }, /mac must be string/],
      [{ type: 'ready' }, /did not start with a hello/],
    ];
    const n = hellos('x').length;
    for (let i = 0; i < n; i++) {
      const { sock, nonce, closed } = await dial(listener.port, false);
      const [msg, reason] = hellos(nonce)[i];
      sock.write(frame(KIND_CONTROL, JSON.stringify(msg)));
      await closed;
      expect(logs[i], logs.join('\n')).toMatch(/^refused worker connection from 127\.0\.0\.1:\d+: /);
      expect(logs[i]).toMatch(reason);
    }
    expect(logs).toHaveLength(n);
    expect(workers.size).toBe(0);
  });

  it('a seeded stream of bad messages: every one ends its own connection, none the others', async () => {
    const { listener, logs, workers } = await listen();
    const good = await dial(listener.port, 'good');
    const g = await accepted(workers, 'good');
    const rand = rng(20261207);
    const N = 150;
    const counts: Record<string, number> = {};
    for (let i = 0; i < N; i++) {
      const [kind, bytes] = badMessage(rand);
      counts[kind] = (counts[kind] ?? 0) + 1;
      const block = `fuzz-${i}`;
      const c = await dial(listener.port, block);
      const w = await accepted(workers, block);
      // Half the time a valid "ready" first, so the bad message is not always the first after the hello.
      if (rand() < 0.5) writeControl(c.sock, { type: 'ready' });
      c.sock.write(bytes);
      await c.closed;
      expect(await w.exit, kind).toMatch(/^protocol error: the worker sent /);
    }
    // Every category of the generator was drawn; one log line per bad connection, each naming its block.
    expect(Object.keys(counts).sort()).toEqual(CATEGORIES.slice().sort());
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(N);
    const errors = logs.filter((l) => l.includes('protocol error'));
    expect(errors).toHaveLength(N);
    for (let i = 0; i < N; i++)
      expect(errors.filter((l) => l.startsWith(`block fuzz-${i} worker 0 on h:`))).toHaveLength(1);
    writeMessage(good.sock, KIND_DONE, Buffer.from([9]));
    await until(() => g.frames.length === 1);
    expect(good.sock.destroyed).toBe(false);
    console.log(`seeded bad control messages by category: ${JSON.stringify(counts)}`);
  });
});

const CATEGORIES = [
  'truncated',
  'deep',
  'unknown-type',
  'extra-property',
  'wrong-value',
  'oversize',
  'scalar',
  'bad-kind',
  'zero-length',
];

/** One message that no valid worker sends, and its category. */
function badMessage(rand: () => number): [string, Buffer] {
  const pick = <X>(xs: readonly X[]): X => xs[Math.floor(rand() * xs.length)];
  const word = (n: number) =>
    Array.from({ length: 1 + Math.floor(rand() * n) }, () => pick('abcdefxyz_-'.split(''))).join('');
  const kind = pick(CATEGORIES);
  const hello = { type: 'hello', mac: 'AAAA', block: 'b', worker: 0, host: 'h', pid: 1 };
  switch (kind) {
    case 'truncated': {
      // A proper prefix of an object is never JSON.
      const text = JSON.stringify(rand() < 0.5 ? { type: 'ready' } : hello);
      return [kind, frame(KIND_CONTROL, text.slice(0, Math.floor(rand() * text.length)))];
    }
    case 'deep': {
      const d = 2 + Math.floor(rand() * 3000);
      return [kind, frame(KIND_CONTROL, `${'['.repeat(d)}${']'.repeat(d)}`)];
    }
    case 'unknown-type':
      return [kind, frame(KIND_CONTROL, JSON.stringify({ type: `x${word(20)}` }))];
    case 'extra-property':
      return [
        kind,
        frame(KIND_CONTROL, JSON.stringify({ type: 'ready', [`p${word(10)}`]: pick([1, 'v', true, null]) })),
      ];
    case 'wrong-value': {
      const field = pick(['mac', 'block', 'worker', 'host', 'pid'] as const);
      const wrong = { mac: 12, block: 0, worker: 'zero', host: false, pid: -3 }[field];
      return [kind, frame(KIND_CONTROL, JSON.stringify({ ...hello, [field]: wrong }))];
    }
    case 'oversize':
      return [
        kind,
        frame(KIND_CONTROL, JSON.stringify({ type: 'ready', pad: 'y'.repeat(4100 + Math.floor(rand() * 20_000)) })),
      ];
    case 'scalar':
      return [kind, frame(KIND_CONTROL, JSON.stringify(pick([42, 'ready', null, true, -0.5])))];
    case 'bad-kind':
      return [kind, frame(4 + Math.floor(rand() * 250), word(30))];
    default:
      return [kind, Buffer.alloc(4)];
  }
}

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
}

// ---------------------------------------------------------------- worker side

const WORKER = fileURLToPath(new URL('../../src/faas/endpoint/worker.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/**
 * Start a real block worker against a raw TCP "agent" that sends `challenge` (default: a proper one),
 * then, after the worker's hello and ready, `after`. Resolves with the worker's exit code and stderr.
 */
async function runWorker(after: Buffer | undefined, challenge?: Buffer) {
  const cache = mkdtempSync(join(tmpdir(), 'ristretto-u-cache-'));
  const seen: string[] = [];
  const server = createServer((sock) => {
    open.sockets.push(sock);
    sock.on('error', () => undefined);
    const nonce = newNonce();
    const reader = new MessageReader((kind, payload) => {
      if (kind !== KIND_CONTROL) return;
      const msg = JSON.parse(payload.toString('utf8')) as { type: string; mac?: string };
      seen.push(msg.type);
      if (msg.type === 'hello') expect(checkAnswer(SECRET, nonce, msg.mac)).toBe(true);
      if (msg.type === 'ready' && after) sock.write(after);
    });
    sock.on('data', (c: Buffer) => reader.push(c));
    sock.write(challenge ?? frame(KIND_CONTROL, JSON.stringify({ type: 'challenge', nonce })));
  });
  open.servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  const child = spawn(process.execPath, ['--import', TSX, WORKER], {
    env: {
      ...process.env,
      RISTRETTO_AGENT: `127.0.0.1:${port}`,
      RISTRETTO_AGENT_SECRET: SECRET,
      RISTRETTO_BLOCK_ID: 'blk7',
      RISTRETTO_WORKER_INDEX: '3',
      RISTRETTO_WORKER_CACHE: cache,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  open.children.push(child);
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  rmSync(cache, { recursive: true, force: true });
  return { code, stderr, seen, port };
}

describe('worker side: malformed control messages from the agent', () => {
  it('a proper goodbye ends the worker with code 0 (the control case)', async () => {
    const r = await runWorker(frame(KIND_CONTROL, JSON.stringify({ type: 'bye' })));
    expect(r.seen).toEqual(['hello', 'ready']);
    expect(r.code).toBe(0);
  }, 60_000);

  it.each([
    ['not JSON', frame(KIND_CONTROL, 'bye'), /control message that is not valid JSON/],
    ['an unknown type', frame(KIND_CONTROL, '{"type":"shutdown"}'), /unknown type "shutdown"/],
    [
      'fn with a bad hash',
      frame(KIND_CONTROL, '{"type":"fn","hash":"../x","code":"1"}'),
      /"fn" control message: hash must match/,
    ],
    [
      'cancel with an extra property',
      frame(KIND_CONTROL, '{"type":"cancel","task_id":"t","x":[]}'),
      /nested deeper|unknown property "x"/,
    ],
    ['a zero-length frame', Buffer.alloc(4), /bad message length 0/],
  ])(
    '%s: the worker exits with code 1 and says which worker it is',
    async (_what, bytes, reason) => {
      const r = await runWorker(bytes);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/\[faas-worker\] block blk7 worker 3: /);
      expect(r.stderr).toMatch(reason);
      expect(r.stderr).not.toMatch(/\n\s+at /); // a reason, not an uncaught exception's stack
    },
    60_000,
  );

  it('a malformed challenge: the worker exits with code 1 before saying hello', async () => {
    const r = await runWorker(undefined, frame(KIND_CONTROL, JSON.stringify({ type: 'challenge', nonce: 5 })));
    expect(r.seen).toEqual([]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /block blk7 worker 3: the agent at 127\.0\.0\.1:\d+ sent a "challenge" control message: nonce must be string/,
    );
  }, 60_000);
});
