// npx tsx bench/faas-ipc.ts [--messages 3000] [--rounds 3]
//
// The agent ↔ worker hop of a chunk, alone: a parent sends a 1.1 kB run frame to a child process and
// gets a 1.6 kB done frame back, one message in flight, over
//   ipc    — Node IPC with `serialization: 'advanced'` (what ForkLink uses for forked workers);
//   socket — a Unix socket carrying length-prefixed raw frames (what block workers use, SocketLink).
// Prints CPU µs per round trip of the parent (the agent's side) and of the child (the worker's side).
import { fork } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchArgs, int, processCpuSeconds } from './lib.ts';

const { messages: N, rounds: ROUNDS } = benchArgs(
  'The agent ↔ worker hop of a chunk alone: Node IPC vs a Unix socket.',
  {
    messages: int('round trips per round', 3000, 1),
    rounds: int('rounds', 3, 1),
  },
);

// The child: answers every run frame with a done frame, over IPC or over the socket named in argv.
const CHILD = `
const done = new Uint8Array(1643).fill(9);
const path = process.argv[2];
if (path === 'ipc') process.on('message', () => process.send({ type: 'done', frame: done }));
else {
  const s = require('node:net').connect(path);
  let buf = Buffer.alloc(0);
  s.on('data', (d) => {
    buf = buf.length ? Buffer.concat([buf, d]) : d;
    while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32LE(0)) {
      buf = buf.subarray(4 + buf.readUInt32LE(0));
      const h = Buffer.alloc(4);
      h.writeUInt32LE(done.length);
      s.cork(); s.write(h); s.write(done); s.uncork();
    }
  });
}
`;

const run = new Uint8Array(1100).fill(7);

async function measure(kind: 'ipc' | 'socket', n: number): Promise<[number, number]> {
  const script = join(tmpdir(), `ristretto-faas-ipc-${process.pid}.cjs`);
  writeFileSync(script, CHILD);
  const sockPath = join(tmpdir(), `ristretto-faas-ipc-${process.pid}.sock`);
  let send: () => void;
  let onDone: (() => void) | undefined;
  let close: () => void;
  let childPid: number;
  if (kind === 'ipc') {
    const child = fork(script, ['ipc'], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.on('message', () => onDone?.());
    send = () => child.send({ type: 'run', frame: run });
    close = () => child.kill();
    childPid = child.pid ?? 0;
  } else {
    const server = createServer();
    await new Promise<void>((r) => server.listen(sockPath, r));
    const child = fork(script, [sockPath], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const sock = await new Promise<Socket>((r) => server.once('connection', r));
    let buf: Buffer = Buffer.alloc(0);
    sock.on('data', (d: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32LE(0)) {
        buf = buf.subarray(4 + buf.readUInt32LE(0));
        onDone?.();
      }
    });
    const h = Buffer.alloc(4);
    h.writeUInt32LE(run.length);
    send = () => {
      sock.cork();
      sock.write(Buffer.from(h));
      sock.write(run);
      sock.uncork();
    };
    close = () => {
      child.kill();
      sock.destroy();
      server.close();
    };
    childPid = child.pid ?? 0;
  }
  const trip = () =>
    new Promise<void>((r) => {
      onDone = r;
      send();
    });
  for (let i = 0; i < 300; i++) await trip(); // warm-up
  const c0 = process.cpuUsage();
  const k0 = processCpuSeconds(childPid);
  for (let i = 0; i < n; i++) await trip();
  const c = process.cpuUsage(c0);
  const child = ((processCpuSeconds(childPid) - k0) * 1e6) / n;
  close();
  rmSync(script, { force: true });
  rmSync(sockPath, { force: true });
  return [(c.user + c.system) / n, child];
}

for (let r = 0; r < ROUNDS; r++) {
  const out: string[] = [];
  for (const kind of ['ipc', 'socket'] as const) {
    const [parent, child] = await measure(kind, N);
    out.push(`${kind}: parent ${parent.toFixed(0)} µs, child ${child.toFixed(0)} µs`);
  }
  console.log(`${N} round trips (1.1 kB out, 1.6 kB back), CPU per round trip: ${out.join(' | ')}`);
}
