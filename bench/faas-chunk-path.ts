// npx tsx bench/faas-chunk-path.ts [--tasks 400] [--spin-ms 5] [--touch-mb 0] [--rounds 1] [--syscalls] [--cpu-prof DIR]
//
// The FaaS message path as a CPU-bound chunk stream sees it: one endpoint with one worker, tasks
// submitted one by one with two in flight (what the FaaS executor keeps per slot), each spinning the
// worker's CPU for --spin-ms and returning a 1.4 kB result shaped like a chunk reply. Nothing is
// batched, so every task pays every message: client → service → agent → worker and back, acks and
// running notices. Prints CPU µs per task of the service, the agent (without its worker) and this
// client process, from /proc (Linux). `bench/faas-bench.ts` measures the batched case instead.
// --syscalls: one more round with `strace -c` on the service's and the agent's main threads, printing
// per task the event-loop wake-ups (epoll_pwait), socket writes (WebSocket/IPC frames out), WAL writes
// (pwrite64) and SQLite lock calls (fcntl). strace slows the processes: CPU of that round is not kept.
// --touch-mb N: the worker spends its --spin-ms reading and writing an N MB array instead of spinning in
// registers, as a chunk decoding columns does: the service and the agent then run with caches the
// worker has emptied (a real ADL chunk costs them about twice what a spinning one does).
// --cpu-prof DIR: the service and the agent write V8 CPU profiles (.cpuprofile) into DIR on exit.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { LocalCluster } from '../executors/faas/local-cluster.ts';
import { FaasClient } from '../src/faas/client/index.ts';
import { benchArgs, flag, int, num, text } from './lib.ts';

const a = benchArgs('The FaaS message path of a CPU-bound chunk stream: one endpoint, one worker, two in flight.', {
  tasks: int('tasks per round', 400, 1),
  'spin-ms': num('CPU each task spins (ms)', 5, 0),
  'touch-mb': num('memory each task touches (MB)', 0, 0),
  rounds: int('rounds', 1, 1),
  syscalls: flag('count system calls of the service and agent (strace)'),
  'cpu-prof': text('service and agent write V8 CPU profiles into this folder', undefined, '<dir>'),
});
const N = a.tasks;
const SPIN_MS = a['spin-ms'];
const TOUCH_MB = a['touch-mb'];
const ROUNDS = a.rounds;
const SYSCALLS = a.syscalls;
const PROF = a['cpu-prof'];

/** System calls of one thread, counted by `strace -c` while attached; `stop()` resolves with counts by name. */
function countSyscalls(pid: number): { stop: () => Promise<Map<string, number>> } {
  const p = spawn(
    'strace',
    ['-c', '-p', String(pid), '-e', 'trace=epoll_pwait,epoll_wait,write,writev,pwrite64,fcntl,sendmsg'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let err = '';
  p.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return {
    stop: () =>
      new Promise((resolve) => {
        p.once('exit', () => {
          const counts = new Map<string, number>();
          // Summary rows: % time, seconds, usecs/call, calls, [errors,] syscall
          for (const line of err.split('\n')) {
            const f = line.trim().split(/\s+/);
            if (f.length >= 5 && /^\d+$/.test(f[3]) && /^[a-z_0-9]+$/.test(f[f.length - 1]))
              counts.set(f[f.length - 1], Number(f[3]));
          }
          resolve(counts);
        });
        p.kill('SIGINT');
      }),
  };
}

/** CPU seconds in user space and in the kernel of one process. */
function cpuSplit(pid: number): [number, number] {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return [Number(f[11]) / 100, Number(f[12]) / 100];
}

const cluster = await LocalCluster.start(PROF ? { cpuProfileDir: PROF } : {});
try {
  const ep = await cluster.startEndpoint('ep0', { workers: 1 });
  const fx = new FaasClient({ serviceUrl: cluster.url, token: cluster.token });
  const fn = await fx.registerFunction(
    (a: { ms: number; mb: number }) => {
      const t = Date.now();
      if (a.mb > 0) {
        // Stride of one cache line (8 doubles) over the whole array, until the time is up. The array
        // lives on in the worker (allocating and faulting it in would dominate the task).
        const g = globalThis as { touchArray?: Float64Array };
        if (g.touchArray?.length !== a.mb * 131072) g.touchArray = new Float64Array(a.mb * 131072);
        const x = g.touchArray;
        while (Date.now() - t < a.ms) for (let i = 0; i < x.length; i += 8) x[i] += 1;
      } else while (Date.now() - t < a.ms);
      return {
        kind: 'inline',
        accumulator: new Uint8Array(1400),
        metrics: { events: 100_000, bytesRead: 123_456, columnsRead: ['Muon_pt', 'Muon_eta'], seconds: a.ms / 1000 },
      };
    },
    { name: 'spin' },
  );
  // Arguments of the size and shape of a chunk's (a work item and the columns to prefetch).
  const args = {
    v: 1,
    op: 'chunk',
    hash: 'a'.repeat(64),
    item: {
      dataset: 'adl',
      file: '/data/adl-2M.parquet',
      tree: 'Events',
      entryStart: 1e5,
      entryStop: 2e5,
      fileId: 'f'.repeat(40),
    },
    metadata: {},
    prefetch: ['Muon_pt', 'Muon_eta', 'Muon_phi', 'Muon_mass', 'Muon_charge', 'MET_pt'],
    ms: SPIN_MS,
    mb: TOUCH_MB,
  };
  const service = cluster.servicePid!;
  const run = async (n: number) => {
    let next = 0;
    const lane = async () => {
      while (next < n) {
        next++;
        await fx.submit(fn, 'ep0', args);
      }
    };
    await Promise.all([lane(), lane()]);
  };
  await run(100); // warm-up: JIT and the agent's task-length average
  for (let r = 0; r < ROUNDS; r++) {
    const s0 = cpuSplit(service);
    const a0 = cpuSplit(ep.pid!);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await run(N);
    const wall = (performance.now() - t0) / N;
    const c = process.cpuUsage(c0);
    const us = (s: number) => ((s * 1e6) / N).toFixed(0);
    // Total, then in brackets the kernel's part (socket and WAL writes, wake-ups).
    const d = (pid: number, [u0, s0]: [number, number]) => {
      const [u, s] = cpuSplit(pid);
      return `${us(u - u0 + s - s0)} (sys ${us(s - s0)})`;
    };
    console.log(
      `${N} tasks of ${SPIN_MS} ms${TOUCH_MB ? ` over ${TOUCH_MB} MB` : ''}, 2 in flight: ${wall.toFixed(2)} ms/task wall; CPU µs/task: service ${d(service, s0)}, agent ${d(ep.pid!, a0)}, client ${((c.user + c.system) / N).toFixed(0)} (sys ${(c.system / N).toFixed(0)}) (load ${readFileSync('/proc/loadavg', 'utf8').split(' ')[0]})`,
    );
  }
  if (SYSCALLS) {
    const s = countSyscalls(service);
    const a = countSyscalls(ep.pid!);
    await new Promise((r) => setTimeout(r, 500)); // attached
    await run(N);
    const [sc, ac] = [await s.stop(), await a.stop()];
    const per = (m: Map<string, number>, ...names: string[]) =>
      (names.reduce((t, n) => t + (m.get(n) ?? 0), 0) / N).toFixed(2);
    for (const [who, m] of [
      ['service', sc],
      ['agent', ac],
    ] as const)
      console.log(
        `${who} per task: wake-ups (epoll) ${per(m, 'epoll_pwait', 'epoll_wait')}, socket writes ${per(m, 'write', 'writev', 'sendmsg')}, WAL writes ${per(m, 'pwrite64')}, lock calls ${per(m, 'fcntl')}`,
      );
  }
  await fx.close();
} finally {
  await cluster.close();
}
