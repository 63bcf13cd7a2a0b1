/**
 * The whole ATLAS sbottom RegionA scan (every signal patch, q̃, μ = 1) on each executor: this process
 * (iterative), 2 worker threads, and 2 FaaS endpoints (1 worker each) of a loopback service. The
 * executors alternate in rounds, so load changes on this shared machine hit them alike.
 *
 *   npx tsx bench/fit-scan.ts [rounds=1] [--only iterative,threads,faas] [--optimizers slsqp,lbfgsb]
 *
 * `--optimizers` (default: the scan default, 'slsqp-fd') runs each executor once per optimizer, the
 * optimizers alternating within a round.
 *
 * One JSON line per run: wall seconds of the scan (from the first submission to the last result;
 * FaaS service and endpoint start-up excluded, function registration and workspace staging
 * included), per fit and per core (wall × cores used / patches: the core-seconds one fit costs,
 * start-up and scheduling included), failures, and whether the results equal the first run's
 * exactly. `uptime` before and after, and the pyhf + funcX figure the numbers compare with.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DEFAULT_SCAN_OPTIMIZER,
  FIT_OPTIMIZERS,
  loadWorkspace,
  readPatches,
  scan,
  type FaasScanStats,
  type FitOptimizer,
  type ScanExecutor,
  type ScanRecord,
} from '../src/fit/index.ts';
import { Procs } from '../test/faas/helpers.ts';
import { benchArgs, int, words } from './lib.ts';

const shared = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'shared', 'fit');
const EXECUTORS: ScanExecutor[] = ['iterative', 'threads', 'faas'];
const {
  rounds,
  only: executors,
  optimizers,
} = benchArgs(
  'The whole ATLAS sbottom RegionA scan on each executor, in alternating rounds.',
  {
    only: words('executors', EXECUTORS, EXECUTORS),
    optimizers: words<FitOptimizer>('optimizers', [DEFAULT_SCAN_OPTIMIZER], FIT_OPTIMIZERS),
  },
  { rounds: int('rounds', 1, 1) },
);

// pyhf + funcX (../shared/reference/pyhf-funcx-fitting-slides.txt): all 125 signal points of the
// ATLAS 1Lbb likelihood, `real 2m17.509s`, on 25 worker nodes, one worker per node.
const PEER = { points: 125, seconds: 137.5, workers: 25 };
const uptime = () => execFileSync('uptime', { encoding: 'utf8' }).trim();
console.log(JSON.stringify({ uptime: uptime(), cores: cpus().length, node: process.version }));

const dir = mkdtempSync(join(tmpdir(), 'ristretto-fit-scan-bench-'));
const procs = new Procs();
try {
  execFileSync('tar', ['-xzf', join(shared, 'atlas-sbottom-multib-likelihoods.tar.gz'), '-C', dir]);
  const bkg = loadWorkspace(join(dir, 'RegionA', 'BkgOnly.json'));
  const { patches } = readPatches(join(dir, 'RegionA'));
  let url = '';
  let token = '';
  if (executors.includes('faas')) {
    token = await procs.addUser('bench');
    ({ url } = await procs.startService());
    await procs.startEndpoint(url, token, 'ep-a', ['--workers', '1']);
    await procs.startEndpoint(url, token, 'ep-b', ['--workers', '1']);
  }
  const key = (r: ScanRecord) => JSON.stringify({ ...r, seconds: 0, where: '' });
  const reference = new Map<FitOptimizer, Map<string, string>>();
  for (let round = 0; round < rounds; round++) {
    for (const executor of executors)
      for (const optimizer of optimizers) {
        let stats: FaasScanStats | undefined;
        const load = loadavg()[0].toFixed(1);
        const t0 = performance.now();
        const s = await scan(bkg, patches, {
          executor,
          workers: 2,
          optimizer,
          faas: { serviceUrl: url, endpoints: ['ep-a', 'ep-b'], token, onStats: (x) => (stats = x) },
        });
        const seconds = (performance.now() - t0) / 1000;
        const mine = new Map(s.results.map((r) => [r.name, key(r)]));
        if (!reference.has(optimizer)) reference.set(optimizer, mine);
        const same = [...reference.get(optimizer)!].every(([n, k]) => mine.get(n) === k);
        console.log(
          JSON.stringify({
            round,
            executor,
            optimizer,
            workers: 2,
            patches: patches.length,
            seconds: Number(seconds.toFixed(2)),
            perPatchMs: Number(((seconds * 1000) / patches.length).toFixed(1)),
            // Two cores: threads run 2 workers, FaaS 2 endpoints × 1 worker; iterative uses one.
            coreMsPerFit: Number(((seconds * 1000 * (executor === 'iterative' ? 1 : 2)) / patches.length).toFixed(1)),
            failed: s.failed.length,
            identicalToFirst: same,
            load1min: load,
            ...(stats ? { faas: stats } : {}),
          }),
        );
      }
  }
  const peerPerFit = (PEER.seconds * PEER.workers) / PEER.points;
  console.log(
    JSON.stringify({
      uptime: uptime(),
      peer: {
        ...PEER,
        wallMsPerFit: Number(((PEER.seconds * 1000) / PEER.points).toFixed(1)),
        workerMsPerFit: Math.round(peerPerFit * 1000),
      },
    }),
  );
} finally {
  await procs.cleanup();
  rmSync(dir, { recursive: true, force: true });
}
