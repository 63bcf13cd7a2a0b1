// npx tsx bench/faas-dispatch-frames.ts [--repo DIR] [--functions 24] [--mib 8] [--pad x|ctl|cjk] [--seconds 120]
//
// How the service sends large function code to an agent: a real service on loopback (`ristretto faas
// serve` of --repo: default this checkout; another one, e.g. the commit before, for an A/B), one
// user registering --functions functions whose registration bodies are about --mib MiB each (the
// service takes 8 MiB + 64 KiB), a task of each queued while the endpoint is offline, then a raw agent
// with a real agent's message limit (100 MiB) saying hello with room for them all. --pad is what fills
// the code: `x` (one byte a character, as written), `ctl` (a control character: six bytes escaped in
// JSON), `cjk` (three bytes of UTF-8 a character). Printed: the tasks the agent got, its frames (count,
// largest), how often its connection was dropped for a message over its limit (it reconnects, as a
// real agent does, until --seconds pass), and the service's peak RSS over its RSS before the hello.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { decodeFrameRaw } from '../src/faas/codec.ts';
import { httpCall, startServiceWithUsers, thisRepo } from './faas-procs.ts';
import { benchArgs, choice, int, text } from './lib.ts';

const o = benchArgs('How the service sends large function code to an agent.', {
  repo: text('checkout whose CLI runs the service', thisRepo, '<dir>'),
  functions: int('functions registered, a task of each', 24, 1),
  mib: int('MiB of each registration body', 8, 1),
  pad: choice('what fills the code', ['x', 'ctl', 'cjk'], 'x'),
  seconds: int('how long the agent may try', 120, 1),
});

const MiB = 1024 * 1024;
const dir = mkdtempSync(join(tmpdir(), 'ristretto-dispatch-frames-'));
const procs: ChildProcess[] = [];

/** Status lines of `/proc/PID/status` in bytes. */
function memory(pid: number): { rss: number; peak: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(s)?.[1] ?? Number.NaN) * 1024;
  return { rss: kib('VmRSS'), peak: kib('VmHWM') };
}

try {
  const { url, tokens, service } = await startServiceWithUsers(procs, join(dir, 'faas.db'), ['owner'], {
    repo: o.repo,
    extra: ['--heartbeat', '30'],
  });
  const token = tokens.owner ?? '';
  const http = new Agent({ keepAlive: true });
  const call = (path: string, body: unknown) => httpCall(url, 'POST', path, token, http, JSON.stringify(body));
  const e = await call('/v1/endpoints', { name: 'frames-ep' });
  if (e.status !== 200) throw new Error(`endpoint: ${e.status} ${e.text}`);
  // Room for the code's text in a body of --mib MiB (less the JSON around it).
  const budget = o.mib * MiB - 4096;
  const [ch, wire] = o.pad === 'x' ? ['x', 1] : o.pad === 'ctl' ? ['\u0001', 6] : ['中', 3];
  const pad = ch.repeat(Math.floor(budget / wire));
  for (let i = 0; i < o.functions; i++) {
    const f = await call('/v1/functions', { code: `export default () => ${i} + "${pad}".length;` });
    if (f.status !== 200) throw new Error(`function ${i}: ${f.status} ${f.text.slice(0, 300)}`);
    const id = JSON.parse(f.text).function_id;
    const t = await call('/v1/tasks', { function_id: id, endpoint: 'frames-ep', tasks: [{ args: 0 }] });
    if (t.status !== 200) throw new Error(`task ${i}: ${t.status} ${t.text.slice(0, 300)}`);
  }
  const pid = service.pid ?? 0;
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
  const before = memory(pid).rss;

  const got = new Set<string>();
  const frames: number[] = [];
  const closes: number[] = [];
  const end = Date.now() + o.seconds * 1000;
  const t0 = performance.now();
  while (got.size < o.functions && Date.now() < end) {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/agent`, {
      headers: { authorization: `Bearer ${token}` },
      maxPayload: 100 * MiB,
    });
    ws.on('error', () => {});
    ws.on('open', () =>
      ws.send(
        JSON.stringify({
          type: 'hello',
          name: 'frames-ep',
          capacity: o.functions,
          prefetch: 0,
          cached_hashes: [],
          holding: [...got],
          agent_version: 'bench',
          hostname: 'h',
          instance: 'frames-bench',
          pid: process.pid,
        }),
      ),
    );
    ws.on('message', (data, binary) => {
      if (!binary) return;
      frames.push((data as Buffer).byteLength);
      for (const t of JSON.parse(decodeFrameRaw(data as Buffer).json).tasks) got.add(t.task_id);
    });
    const code = await new Promise<number>((res) => {
      const timer = setInterval(() => {
        if (got.size >= o.functions || Date.now() >= end) ws.close();
      }, 100);
      ws.once('close', (c) => {
        clearInterval(timer);
        res(c);
      });
    });
    if (code !== 1000 && code !== 1005) closes.push(code);
    if (closes.length && got.size < o.functions) await new Promise((r) => setTimeout(r, 500));
  }
  const peak = memory(pid).peak;
  console.log(
    `${o.functions} functions of ~${o.mib} MiB bodies (pad ${o.pad}): agent got ${got.size} tasks in ${frames.length} frames (largest ${(Math.max(0, ...frames) / MiB).toFixed(1)} MiB) in ${((performance.now() - t0) / 1000).toFixed(1)} s; dropped connections ${closes.length}${closes.length ? ` (codes ${[...new Set(closes)].join(',')})` : ''}; service peak RSS ${((peak - before) / MiB).toFixed(0)} MiB over ${(before / MiB).toFixed(0)} MiB`,
  );
  http.destroy();
} finally {
  for (const p of procs) p.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}
