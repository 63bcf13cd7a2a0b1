/**
 * A FaaS run over root:// against the same run on the local file: the bytes the endpoint workers read
 * (the run's `bytesRead`), their CPU and the histograms. With several workers a read-ahead that guesses
 * the next chunk reads other workers' chunks for nothing; one told its task's plan reads what the local
 * run reads.
 *
 *     npx tsx bench/faas-xrootd.ts --file D/adl-20M-lz4.root --query 3 --workers 2 --reps 2
 *     npx tsx bench/faas-xrootd.ts --repo /tmp/before --file D/adl-20M-lz4.root   # another checkout's endpoint
 *
 * Starts an xrootd on a free loopback port serving the file in place (as root: `-R nobody`; the file must
 * be readable by nobody), and a FaaS service (`LocalCluster`) of the checkout given by `--repo`; per run a
 * fresh endpoint of `--workers` worker processes, so each run opens the file anew. Per repetition the
 * local and the root:// run alternate in order. CPU seconds: the endpoint's process group (agent and
 * workers), the xrootd server, and this process (the client). For an A/B, run it once per checkout,
 * alternating.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchArgs, int, processCpuSeconds, text, usageFail } from './lib.ts';

const thisRepo = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const a = benchArgs('FaaS over root:// vs the local file: bytes read by the endpoint, CPU, histograms.', {
  repo: text('checkout whose service, endpoint and runner run', thisRepo, '<dir>'),
  file: text('ROOT or Parquet file (served in place)', undefined, '<file>'),
  query: int('ADL query', 3, 1),
  workers: int('endpoint worker processes', 2, 1),
  reps: int('repetitions', 1, 1),
  chunksize: int('events per chunk (default: the runner default)', undefined, 1),
});
if (!a.file) usageFail('--file is required');
const file = resolve(a.file);
const repo = resolve(a.repo);

type Mod<T> = Promise<T>;
const load = <T>(path: string): Mod<T> => import(join(repo, path)) as Mod<T>;
const { FaasExecutor } = await load<typeof import('../executors/faas/index.ts')>('executors/faas/index.ts');
const { LocalCluster } = await load<typeof import('../executors/faas/local-cluster.ts')>(
  'executors/faas/local-cluster.ts',
);
const { runAnalysis } = await load<typeof import('../src/runner/run.ts')>('src/runner/run.ts');
const { encode } = await load<typeof import('../src/accumulate/index.ts')>('src/accumulate/index.ts');
const { startXrootd } = await load<typeof import('../test/helpers/xrootd-server.ts')>('test/helpers/xrootd-server.ts');
// Chunk results are decoded into that checkout's histogram class: register its decoder.
await load('src/hist/hist.ts');

/** CPU seconds of every process in process group `pgid` (an endpoint runs in its own group). */
function groupCpuSeconds(pgid: number): number {
  let s = 0;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(f[2]) === pgid) s += (Number(f[11]) + Number(f[12])) / 100;
    } catch {
      // gone meanwhile
    }
  }
  return s;
}
const selfCpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

console.log(
  `repo ${repo}, file ${file}, Q${a.query}, ${a.workers} workers, load ${loadavg().map((x) => x.toFixed(1))}`,
);
const server = await startXrootd([]);
const cluster = await LocalCluster.start();
process.env.RISTRETTO_TOKEN = cluster.token;
const dir = mkdtempSync(join(tmpdir(), 'ristretto-faas-xrootd-'));
const proc = join(repo, 'processors', 'adl', `query-${a.query}.ts`);
const rows: string[] = [];
let n = 0;
try {
  for (let rep = 0; rep < a.reps; rep++) {
    const sides = [
      ['local', file],
      ['root://', server.url(file)],
    ] as const;
    const hashes: string[] = [];
    for (const [side, path] of rep % 2 ? [...sides].reverse() : sides) {
      const name = `bench-${n++}`;
      const ep = await cluster.startEndpoint(name, { workers: a.workers });
      const json = join(dir, `${name}.json`);
      writeFileSync(json, JSON.stringify({ D: { files: [path], metadata: { isData: true } } }));
      const faas = await FaasExecutor.connect({ service: cluster.url, endpoints: [name], pollSeconds: 0.25 });
      const c0 = { ep: groupCpuSeconds(ep.pid ?? 0), xr: processCpuSeconds(server.proc.pid ?? 0), me: selfCpu() };
      try {
        const r = await runAnalysis({
          fileset: json,
          processor: proc,
          executor: faas,
          cacheFile: false,
          postprocess: false,
          ...(a.chunksize ? { chunksize: a.chunksize } : {}),
        });
        const cpu = [
          groupCpuSeconds(ep.pid ?? 0) - c0.ep,
          processCpuSeconds(server.proc.pid ?? 0) - c0.xr,
          selfCpu() - c0.me,
        ];
        hashes.push(createHash('sha1').update(encode(r.accumulator)).digest('hex'));
        rows.push(
          `| ${rep + 1} | ${side} | ${r.metrics.chunks} | ${(r.metrics.bytesRead / 1e6).toFixed(2)} | ${r.metrics.wallSeconds.toFixed(1)} | ${cpu.map((c) => c.toFixed(1)).join(' / ')} |`,
        );
      } finally {
        await faas.close();
        await cluster.killEndpoint(name);
      }
    }
    if (hashes[0] !== hashes[1]) throw new Error(`repetition ${rep + 1}: the histograms differ`);
  }
} finally {
  await cluster.close();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
console.log('| rep | file | chunks | MB read | wall [s] | CPU endpoint / xrootd / client [s] |');
console.log('| ---: | --- | ---: | ---: | ---: | --- |');
for (const r of rows) console.log(r);
console.log(`histograms equal per repetition; load after ${loadavg().map((x) => x.toFixed(1))}`);
