/**
 * CPU seconds of the processes a run uses, by role, from /proc (Linux): the harness itself (the client:
 * runner, executor, merging, the bundler's helper process — and, for the threads executor, its worker
 * threads), and for the FaaS
 * executor the service, the endpoint agents and their worker processes. On a machine with fewer cores
 * than processes the makespan hides where the time went; these numbers say it.
 *
 * Wall-clock CPU profiles (`--cpu-prof`) are no substitute: they charge a process for the time it waits
 * to be scheduled again, e.g. inside a socket write that woke the reader on the same core.
 */
import { readFileSync, readdirSync } from 'node:fs';

export type Role = 'client' | 'service' | 'agents' | 'workers';
export type CpuByRole = Record<Role, number>;

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux on every common platform). */
const USER_HZ = 100;

interface Proc {
  ppid: number;
  role: Exclude<Role, 'client'> | undefined;
  seconds: number;
}

/** Every process below `root`, with its role (by command line) and CPU seconds; empty without /proc. */
function descendants(root: number): Map<number, Proc> {
  const all = new Map<number, Proc>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return all;
  }
  for (const d of entries) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8');
      // Fields after the command: state ppid ... utime (12th) stime (13th).
      all.set(Number(d), { ppid: Number(f[1]), role: roleOf(cmd), seconds: (Number(f[11]) + Number(f[12])) / USER_HZ });
    } catch {
      // exited meanwhile
    }
  }
  // An endpoint worker started from its built entry (a bundle in the cache) is not named by its
  // command line: it is the agent's child with a worker index in its environment.
  for (const [pid, v] of all) {
    if (v.role !== undefined || all.get(v.ppid)?.role !== 'agents') continue;
    try {
      if (readFileSync(`/proc/${pid}/environ`, 'utf8').includes('\0RISTRETTO_WORKER_INDEX=')) v.role = 'workers';
    } catch {
      // exited meanwhile
    }
  }
  const out = new Map<number, Proc>();
  const queue = [root];
  while (queue.length) {
    const p = queue.pop()!;
    for (const [pid, v] of all) {
      if (v.ppid === p && !out.has(pid)) {
        out.set(pid, v);
        queue.push(pid);
      }
    }
  }
  return out;
}

function roleOf(cmdline: string): Proc['role'] {
  if (cmdline.includes('faas\0serve')) return 'service';
  if (cmdline.includes('endpoint\0start')) return 'agents';
  if (cmdline.includes('endpoint/worker.ts')) return 'workers';
  return undefined;
}

/** A snapshot to subtract from a later one. */
export interface CpuSnapshot {
  /** The harness's CPU seconds before and after reading /proc for `procs`. */
  client: number;
  clientAfterScan: number;
  procs: Map<number, Proc>;
}

export function snapshot(): CpuSnapshot {
  const u = process.cpuUsage();
  const procs = descendants(process.pid);
  const v = process.cpuUsage();
  return { client: (u.user + u.system) / 1e6, clientAfterScan: (v.user + v.system) / 1e6, procs };
}

/**
 * CPU seconds used by role between two snapshots, the harness's own reading of /proc excluded. A
 * process that appears only in the later one counts from zero; one that exited in between is not
 * counted (the harness keeps endpoints alive across runs).
 */
export function cpuBetween(a: CpuSnapshot, b: CpuSnapshot): CpuByRole {
  // Not the scans themselves: reading every process's /proc files costs 15-40 ms of CPU on a busy
  // machine (~150 processes), 0.1-0.2 ms per chunk of a 200-chunk run, that no executor spends.
  const out: CpuByRole = { client: b.client - a.clientAfterScan, service: 0, agents: 0, workers: 0 };
  // Other children (esbuild's bundling service) work for the client.
  for (const [pid, p] of b.procs) out[p.role ?? 'client'] += p.seconds - (a.procs.get(pid)?.seconds ?? 0);
  return out;
}
