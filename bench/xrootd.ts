/**
 * root:// vs the local file: events/s of ADL queries read through a real xrootd on loopback, and the
 * round trips (kXR_read + kXR_readv requests) per chunk.
 *
 *     npx tsx bench/xrootd.ts                                   # 1M snappy Parquet + 1M zlib ROOT, Q1 Q6, 3 reps
 *     npx tsx bench/xrootd.ts --files D/adl-5M-snappy.parquet --queries 1,3,6 --reps 2
 *     npx tsx bench/xrootd.ts --chunksize 200000 --out res.json
 *     npx tsx bench/xrootd.ts --cli                             # also the whole command, fresh processes
 *     npx tsx bench/xrootd.ts --cli --baseline /tmp/before      # ... and another checkout's command, interleaved
 *
 * Starts its own xrootd (as root: `-R nobody`; the files must be readable by nobody) on a free loopback
 * port, serving the files in place. Each (query, file) cell runs `runAnalysis` in this process with the
 * iterative executor as the CLI builds it (executors/iterative.ts: the sync-read helper thread starts
 * from the bundled worker runtime; one thread, default chunk size, no postprocess, no entry-count
 * cache), local and root:// interleaved with the order alternating per repetition, so load changes hit
 * both alike; the time is the run's `wallSeconds` (preprocessing, every chunk, merge). The histograms of
 * the two runs must be identical. Runs in one process share the helper thread's start-up only within a
 * run: each run's executor ends it when it closes, so every repetition pays it again, as a fresh command
 * does. `--cli` adds the whole command as users time it: `bin/run-analysis.mjs` in a fresh process per
 * run (process start, processor bundle, runtime build, every chunk), its elapsed time and `wallSeconds`. Reported: best events/s of each side, their ratio (goal ≥ 0.8), the same ratio
 * for the chunks after the first ("steady": the first chunk reads the columns the processor touches on
 * the spot — ROOT files over root:// through the relay thread of src/io/xrootd/relay.ts, other formats
 * over a URL through the sync-read helper thread, which local files do without), a read-only ratio (the query's columns read
 * chunk by chunk, no processor), round trips and MiB per chunk over root://, and the share of chunks
 * whose bytes came from a request sent ahead while the chunk before was processed ("prefetched"). Machine, load
 * (before and after) and the command are printed. CPU seconds are reported beside each time, because
 * on a shared machine the wall time also counts other jobs: in-process runs take this process's CPU
 * (all its threads) plus the xrootd server's (from /proc), commands take the waited-for child's CPU
 * (the `cutime`/`cstime` fields of /proc/self/stat), plus the server's for root://.
 */
import { cpus, loadavg, tmpdir } from 'node:os';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { openReader } from '../src/io/open.ts';
import { xrootdCounters } from '../src/io/xrootd/index.ts';
import { readAheadCounters } from '../src/runner/read-ahead.ts';
import { runAnalysis } from '../src/runner/run.ts';
import { IterativeExecutor } from '../executors/iterative.ts';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { startXrootd } from '../test/helpers/xrootd-server.ts';
import { benchArgs, flag, int, ints, text, usageFail, words } from './lib.ts';
// Chunk results are decoded into this thread's copy of the histogram class: register its decoder.
import '../src/hist/hist.ts';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');

interface Args {
  files: string[];
  queries: number[];
  reps: number;
  chunksize: number | undefined;
  out: string | undefined;
  cli: boolean;
  /** Another checkout whose command runs beside this one's (with --cli), interleaved. */
  baseline: string | undefined;
}

function parseArgs(argv: string[]): Args {
  const a = benchArgs(
    'root:// vs the local file: events/s of ADL queries through a real xrootd on loopback, and round trips.',
    {
      files: words('input files (bench/make-adl-dataset.ts, ristretto convert)', []),
      queries: ints('ADL queries', [1, 6], 1),
      reps: int('repetitions', 3, 1),
      chunksize: int("events per chunk (default: run-analysis's)", undefined, 1),
      out: text('write the results as JSON here', undefined, '<file>'),
      cli: flag('also time the whole run-analysis command'),
      baseline: text('another checkout whose command runs beside this one (with --cli)', undefined, '<dir>'),
    },
    {},
    argv,
  );
  if (!a.files.length)
    usageFail(
      'give --files A.parquet,B.root (make them with bench/make-adl-dataset.ts and ristretto convert; see bench/RESULTS.md)',
    );
  return {
    ...a,
    files: a.files.map((f) => resolve(f)),
    out: a.out === undefined ? undefined : resolve(a.out),
    baseline: a.baseline === undefined ? undefined : resolve(a.baseline),
  };
}

interface Run {
  seconds: number;
  /** Chunk times after the first (which pays for the sync-read helper thread and opening the file). */
  steadySeconds: number;
  /** The first chunk's time (it starts the sync-read helper thread where one is needed). */
  firstSeconds: number;
  columns: string[];
  events: number;
  chunks: number;
  requests: number;
  /** Reads answered by a request sent ahead while the chunk before was processed (Parquet row groups, ROOT chunks). */
  prefetched: number;
  bytes: number;
  accumulator: unknown;
  /** CPU seconds of this process (every thread) during the run. */
  cpu: number;
  /** CPU seconds of the xrootd server during the run (0 for local files). */
  serverCpu: number;
}

const TICK = 100; // USER_HZ: /proc reports CPU times in these ticks on Linux
/** CPU seconds (user + system) of a process from /proc/PID/stat; `children` = its waited-for children's. */
function procCpu(pid: number | 'self', children = false): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // the command name (field 2) may hold spaces: count fields after its closing parenthesis
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields 14-17 (utime stime cutime cstime) are at 11-14 after the name
  return children ? (Number(f[13]) + Number(f[14])) / TICK : (Number(f[11]) + Number(f[12])) / TICK;
}
let serverPid = 0;
const serverCpu = () => (serverPid ? procCpu(serverPid) : 0);
const selfCpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

async function run(file: string, query: number, chunksize: number | undefined, tmp: string): Promise<Run> {
  const json = join(tmp, `ds-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(json, JSON.stringify({ ADL: { files: { [file]: 'Events' }, metadata: { isData: true } } }));
  const r0 = xrootdCounters.requests;
  const b0 = xrootdCounters.bytes;
  const p0 = xrootdCounters.prefetchHits + readAheadCounters.hits;
  const c0 = selfCpu();
  const s0 = serverCpu();
  const r = await runAnalysis({
    fileset: json,
    processor: join(repo, 'processors', 'adl', `query-${query}.ts`),
    ...(chunksize ? { chunksize } : {}),
    postprocess: false,
    cacheFile: false,
    executor: (context) => new IterativeExecutor(context),
  });
  return {
    seconds: r.metrics.wallSeconds,
    steadySeconds: r.metrics.chunkSeconds.slice(1).reduce((a, b) => a + b, 0),
    firstSeconds: r.metrics.chunkSeconds[0] ?? 0,
    columns: r.metrics.columns,
    events: r.metrics.events,
    chunks: r.metrics.chunks,
    requests: xrootdCounters.requests - r0,
    prefetched: xrootdCounters.prefetchHits + readAheadCounters.hits - p0,
    bytes: xrootdCounters.bytes - b0,
    accumulator: r.accumulator,
    cpu: selfCpu() - c0,
    serverCpu: serverCpu() - s0,
  };
}

/** The whole command in a fresh process: elapsed seconds and its metrics.json `wallSeconds`. */
function cliRun(
  file: string,
  query: number,
  chunksize: number | undefined,
  tmp: string,
  root = repo,
): { elapsed: number; wall: number; cpu: number; serverCpu: number } {
  const json = join(tmp, `ds-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(json, JSON.stringify({ ADL: { files: { [file]: 'Events' }, metadata: { isData: true } } }));
  const out = join(tmp, `out-${Math.random().toString(36).slice(2)}`);
  const args = [join(root, 'bin', 'run-analysis.mjs'), '-q', '--no-cache', '-o', out];
  if (chunksize) args.push('--chunksize', String(chunksize));
  args.push(json, join(root, 'processors', 'adl', `query-${query}.ts`));
  const c0 = procCpu('self', true);
  const s0 = serverCpu();
  const t = performance.now();
  execFileSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const elapsed = (performance.now() - t) / 1000;
  const cpu = procCpu('self', true) - c0;
  const sCpu = serverCpu() - s0;
  const m = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as { wallSeconds: number };
  rmSync(out, { recursive: true, force: true });
  return { elapsed, wall: m.wallSeconds, cpu, serverCpu: sCpu };
}

/** Only read (and decode) the query's columns chunk by chunk: the byte source without the processor. */
async function readOnly(
  file: string,
  columns: readonly string[],
  chunksize: number,
): Promise<{ seconds: number; requests: number }> {
  const r0 = xrootdCounters.requests;
  const t = performance.now();
  const r = await openReader(file, { treeName: 'Events' });
  for (let a = 0; a < r.numEntries; a += chunksize) await r.read(columns, a, Math.min(r.numEntries, a + chunksize));
  await r.close();
  return { seconds: (performance.now() - t) / 1000, requests: xrootdCounters.requests - r0 };
}

const fmt = (x: number, d = 0) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const tmp = mkdtempSync(join(tmpdir(), 'ristretto-bench-xrootd-'));
  const server = await startXrootd([]);
  serverPid = server.proc.pid ?? 0;
  const load0 = loadavg();
  console.log(`command: npx tsx bench/xrootd.ts ${process.argv.slice(2).join(' ')}`);
  console.log(
    `machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, Node ${process.version}; load before ${load0.map((l) => l.toFixed(1)).join(' ')}`,
  );
  const rows: Record<string, unknown>[] = [];
  try {
    for (const q of args.queries) {
      for (const file of args.files) {
        const url = server.url(file);
        const local: Run[] = [];
        const remote: Run[] = [];
        for (let rep = 0; rep < args.reps; rep++) {
          // alternate which side goes first, so a load change does not always favour one
          const order = rep % 2 === 0 ? ['local', 'root'] : ['root', 'local'];
          for (const side of order) {
            const r = await run(side === 'local' ? file : url, q, args.chunksize, tmp);
            (side === 'local' ? local : remote).push(r);
            console.log(
              `  Q${q} ${basename(file)} ${side.padEnd(5)} rep ${rep + 1}: ${r.seconds.toFixed(2)} s (CPU ${r.cpu.toFixed(2)} s${side === 'root' ? ` + server ${r.serverCpu.toFixed(2)} s` : ''}), ${fmt(r.events / r.seconds)} events/s${side === 'root' ? `, ${r.requests} round trips / ${r.chunks} chunks` : ''}`,
            );
          }
        }
        // the whole command, fresh processes, interleaved the same way
        type Cli = ReturnType<typeof cliRun>;
        const cliL: Cli[] = [];
        const cliR: Cli[] = [];
        const baseL: Cli[] = [];
        const baseR: Cli[] = [];
        for (let rep = 0; args.cli && rep < args.reps; rep++) {
          for (const side of rep % 2 === 0 ? ['local', 'root'] : ['root', 'local']) {
            for (const checkout of args.baseline ? [repo, args.baseline] : [repo]) {
              const x = cliRun(side === 'local' ? file : url, q, args.chunksize, tmp, checkout);
              const base = checkout !== repo;
              (side === 'local' ? (base ? baseL : cliL) : base ? baseR : cliR).push(x);
              console.log(
                `  Q${q} ${basename(file)} command${base ? ' (baseline)' : ''} ${side.padEnd(5)} rep ${rep + 1}: ${x.elapsed.toFixed(2)} s elapsed (CPU ${x.cpu.toFixed(2)} s${side === 'root' ? ` + server ${x.serverCpu.toFixed(2)} s` : ''}), wallSeconds ${x.wall.toFixed(2)}`,
              );
            }
          }
        }
        // the reads alone, interleaved the same way
        const readL: number[] = [];
        const readR: number[] = [];
        let readTrips = 0;
        for (let rep = 0; rep < args.reps; rep++) {
          for (const side of rep % 2 === 0 ? ['local', 'root'] : ['root', 'local']) {
            const x = await readOnly(side === 'local' ? file : url, local[0].columns, args.chunksize ?? 100_000);
            if (side === 'local') readL.push(x.seconds);
            else {
              readR.push(x.seconds);
              readTrips = x.requests;
            }
            console.log(
              `  Q${q} ${basename(file)} read-only ${side.padEnd(5)} rep ${rep + 1}: ${x.seconds.toFixed(2)} s${side === 'root' ? `, ${x.requests} round trips` : ''}`,
            );
          }
        }
        if (!isDeepStrictEqual(local[0].accumulator, remote[0].accumulator))
          throw new Error(`Q${q} ${file}: histograms over root:// differ from the local run`);
        const bestL = Math.min(...local.map((r) => r.seconds));
        const bestR = Math.min(...remote.map((r) => r.seconds));
        const r0 = remote[0];
        rows.push({
          query: `Q${q}`,
          file: basename(file),
          events: r0.events,
          chunks: r0.chunks,
          'local ev/s': fmt(r0.events / bestL),
          'root:// ev/s': fmt(r0.events / bestR),
          'root/local': (bestL / bestR).toFixed(2),
          'first chunk local s': local.map((r) => r.firstSeconds.toFixed(2)).join(' '),
          'first chunk root:// s': remote.map((r) => r.firstSeconds.toFixed(2)).join(' '),
          ...(args.cli
            ? {
                'command root/local': (
                  Math.min(...cliL.map((x) => x.elapsed)) / Math.min(...cliR.map((x) => x.elapsed))
                ).toFixed(2),
                'command local s': cliL.map((x) => x.elapsed.toFixed(2)).join(' '),
                'command root:// s': cliR.map((x) => x.elapsed.toFixed(2)).join(' '),
                'command CPU s local': cliL.map((x) => x.cpu.toFixed(2)).join(' '),
                'command CPU s root:// (+server)': cliR
                  .map((x) => `${x.cpu.toFixed(2)}+${x.serverCpu.toFixed(2)}`)
                  .join(' '),
                ...(args.baseline
                  ? {
                      'baseline command root/local': (
                        Math.min(...baseL.map((x) => x.elapsed)) / Math.min(...baseR.map((x) => x.elapsed))
                      ).toFixed(2),
                      'baseline command local s': baseL.map((x) => x.elapsed.toFixed(2)).join(' '),
                      'baseline command root:// s': baseR.map((x) => x.elapsed.toFixed(2)).join(' '),
                      'baseline command CPU s local': baseL.map((x) => x.cpu.toFixed(2)).join(' '),
                      'baseline command CPU s root:// (+server)': baseR
                        .map((x) => `${x.cpu.toFixed(2)}+${x.serverCpu.toFixed(2)}`)
                        .join(' '),
                    }
                  : {}),
              }
            : {}),
          'steady root/local': (
            Math.min(...local.map((r) => r.steadySeconds)) / Math.min(...remote.map((r) => r.steadySeconds))
          ).toFixed(2),
          'round trips/chunk': (r0.requests / r0.chunks).toFixed(1),
          'prefetched/chunk': (r0.prefetched / r0.chunks).toFixed(2),
          'MiB/chunk': (r0.bytes / r0.chunks / 2 ** 20).toFixed(1),
          'read-only root/local': (Math.min(...readL) / Math.min(...readR)).toFixed(2),
          'read-only trips': readTrips,
          'local s': local.map((r) => r.seconds.toFixed(2)).join(' '),
          'root:// s': remote.map((r) => r.seconds.toFixed(2)).join(' '),
          'CPU s local': local.map((r) => r.cpu.toFixed(2)).join(' '),
          'CPU s root:// (+server)': remote.map((r) => `${r.cpu.toFixed(2)}+${r.serverCpu.toFixed(2)}`).join(' '),
        });
      }
    }
  } finally {
    await server.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
  const load1 = loadavg();
  console.log(`load after ${load1.map((l) => l.toFixed(1)).join(' ')}`);
  console.table(rows);
  if (args.out)
    writeFileSync(args.out, JSON.stringify({ argv: process.argv.slice(2), load: [load0, load1], rows }, null, 2));
  process.exit(0);
}

await main();
