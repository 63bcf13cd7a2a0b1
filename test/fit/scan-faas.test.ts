/**
 * Fit scans on a real FaaS service on loopback with two real endpoint processes: results equal the
 * in-process scan exactly, the workspace is staged once per endpoint (cached by hash in the endpoint's
 * function cache folder), a worker stopped mid-scan is covered by the service's tail copies, and a
 * lost endpoint costs no patch. Each test starts endpoints of its own (killed after it): a worker
 * stopped or an endpoint killed in one test is never met by another.
 */
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  loadWorkspace,
  readPatches,
  readResults,
  scan,
  testPatch,
  workspaceHash,
  type FaasScanStats,
  type NamedPatch,
  type ScanRecord,
  type WorkspaceSpec,
} from '../../src/fit/index.ts';
import { FaasClient } from '../../src/faas/client/index.ts';
import { childPids, endpointsPerTest, Procs } from '../faas/helpers.ts';
import { jsonLines, runNode } from '../helpers/cli.ts';
import { repoRoot } from '../shared.ts';
import { extractAtlas, removeDir } from './helpers.ts';
import { isFaasWorkerProcess } from '../helpers/faas-worker.ts';

let dir = '';
let bkg: WorkspaceSpec;
let patches: NamedPatch[];
const procs = new Procs();
let url = '';
let token = '';
/** Start an endpoint (one worker) for the running test alone (killed after it). */
const startOwn = endpointsPerTest(procs);
const ownEndpoint = (name: string) => startOwn(url, token, name, ['--workers', '1']);

beforeAll(async () => {
  dir = extractAtlas();
  bkg = loadWorkspace(join(dir, 'RegionA', 'BkgOnly.json'));
  patches = readPatches(join(dir, 'RegionA')).patches.filter((_, i) => i % 25 === 0);
  token = await procs.addUser('fitter');
  ({ url } = await procs.startService());
}, 120_000);
afterAll(async () => {
  await procs.cleanup();
  removeDir(dir);
});

function essence(r: ScanRecord): unknown {
  const { seconds: _s, where: _w, ...rest } = r;
  return rest;
}

const broken: NamedPatch = {
  name: 'sbottom_broken_1',
  values: [1],
  patch: [{ op: 'remove', path: '/channels/0/samples/42' }],
};

describe('fit scan on two FaaS endpoints', () => {
  it('equals the in-process scan exactly; the workspace is cached by hash on each endpoint', async () => {
    await Promise.all([ownEndpoint('eq-a'), ownEndpoint('eq-b')]);
    const all = [...patches, broken];
    const expected = new Map(all.map((p) => [p.name, testPatch(bkg, p)]));
    const warnings: string[] = [];
    let stats: FaasScanStats | undefined;
    const summary = await scan(bkg, all, {
      executor: 'faas',
      faas: {
        serviceUrl: url,
        endpoints: ['eq-a', 'eq-b'],
        token,
        onWarning: (m) => warnings.push(m),
        onStats: (s) => (stats = s),
      },
    });
    expect(warnings).toEqual([]);
    expect(stats).toMatchObject({ staged: 2, stagedCached: 0 });
    // Tasks carry only their patch: at most one worker per endpoint (one each here) can start a
    // patch before its endpoint's stage task and ask for the workspace.
    expect(stats!.workspaceResends).toBeLessThanOrEqual(2);
    expect(summary.results).toHaveLength(all.length);
    for (const r of summary.results) expect(essence(r)).toEqual(essence(expected.get(r.name)!));
    expect(summary.failed.map((r) => r.name)).toEqual(['sbottom_broken_1']);
    const where = new Set(summary.results.map((r) => r.where));
    expect([...where].every((w) => w === 'endpoint eq-a' || w === 'endpoint eq-b')).toBe(true);
    // Staged on both endpoints, in the function cache folder, under the workspace's hash.
    const hash = workspaceHash(bkg);
    for (const site of ['eq-a', 'eq-b']) {
      const cache = join(procs.dir, `cache-${site}`);
      const files = readdirSync(cache, { recursive: true }) as string[];
      expect(
        files.some((f) => f.endsWith(join('fit-workspaces', `${hash}.json`))),
        `${site}: ${files.join(', ')}`,
      ).toBe(true);
    }
    // A second scan on the same endpoints: both answer the stage task from their cache.
    let again: FaasScanStats | undefined;
    const second = await scan(bkg, patches.slice(0, 2), {
      executor: 'faas',
      faas: { serviceUrl: url, endpoints: ['eq-a', 'eq-b'], token, onStats: (s) => (again = s) },
    });
    expect(second.failed).toEqual([]);
    expect(again).toMatchObject({ staged: 2, stagedCached: 2, workspaceResends: 0 });
  }, 240_000);

  it('a worker stopped mid-scan: the service copies its patches to the other endpoint, one result per patch', async () => {
    const [, stopB] = await Promise.all([ownEndpoint('stop-a'), ownEndpoint('stop-b')]);
    const some = patches.slice(0, 9);
    let stats: FaasScanStats | undefined;
    const out = join(dir, 'tail-copies');
    const emitted: string[] = [];
    const stopped: number[] = [];
    const summary = await scan(bkg, some, {
      executor: 'faas',
      faas: {
        serviceUrl: url,
        endpoints: ['stop-a', 'stop-b'],
        token,
        // Every patch in flight is a straggler at once: copied as soon as the other endpoint idles.
        tailFactor: 1,
        tailMinMs: 0,
        tailTimeoutMs: 0,
        onStats: (s) => (stats = s),
      },
      out,
      onResult: (r) => {
        emitted.push(r.name);
        // After the first result, stop-b's worker stops for good (SIGSTOP): whatever it holds or is
        // sent next never finishes there, so the scan can only end through the service's copies. The
        // endpoint is killed after the test, stopped worker and all.
        if (stopped.length === 0)
          for (const pid of childPids(stopB.proc.pid!).filter(isFaasWorkerProcess)) {
            process.kill(pid, 'SIGSTOP');
            stopped.push(pid);
          }
      },
    });
    expect(stopped.length).toBe(1);
    // The workspace was staged on both endpoints.
    expect(stats).toMatchObject({ staged: 2 });
    // Tail copies made by the service really ran and delivered results...
    expect(stats!.tailCopies).toBeGreaterThan(0);
    // ...and still exactly one result per patch: reported once, stored once, equal to the in-process one.
    expect(emitted.sort()).toEqual(some.map((p) => p.name).sort());
    expect(summary.failed).toEqual([]);
    expect(summary.results.map((r) => r.name).sort()).toEqual(some.map((p) => p.name).sort());
    expect(
      readResults(join(out, 'results.json'))
        .results.map((r) => r.name)
        .sort(),
    ).toEqual(some.map((p) => p.name).sort());
    for (const r of summary.results)
      expect(essence(r)).toEqual(essence(testPatch(bkg, some.find((p) => p.name === r.name)!)));
  }, 240_000);

  it('ristretto fit scan --executor faas: the CLI streams results and writes results.json', async () => {
    await Promise.all([ownEndpoint('cli-a'), ownEndpoint('cli-b')]);
    const patchDir = join(dir, 'cli-faas');
    mkdirSync(patchDir, { recursive: true });
    for (const p of patches.slice(0, 2)) copyFileSync(p.file!, join(patchDir, basename(p.file!)));
    const out = join(dir, 'cli-faas-out');
    const { code, stdout, stderr } = await runNode(
      [
        join(repoRoot, 'bin', 'ristretto.mjs'),
        'fit',
        'scan',
        join(dir, 'RegionA', 'BkgOnly.json'),
        '--patchset',
        patchDir,
        '--executor',
        'faas',
        '--service',
        url,
        '--endpoints',
        'cli-a,cli-b',
        '--out',
        out,
        '--plot',
        'none',
        '--json',
      ],
      { env: { ...process.env, RISTRETTO_TOKEN: token } },
    );
    expect(code, stderr).toBe(0);
    const lines = jsonLines(stdout);
    expect(lines.at(-1)).toMatchObject({ summary: { patches: 2, tested: 2, failed: 0 } });
    const file = readResults(join(out, 'results.json'));
    for (const r of file.results)
      expect(essence(r)).toEqual(essence(testPatch(bkg, patches.find((p) => p.name === r.name)!)));
    expect(stderr).toMatch(/\[2\/2\] .*ETA 0 s/);
  }, 240_000);

  it('an unknown endpoint is a clear error before anything runs', async () => {
    // site-a is known to the service (no agent needed); site-zz is not.
    const fx = new FaasClient({ serviceUrl: url, token });
    await fx.registerEndpoint('site-a');
    await fx.close();
    await expect(
      scan(bkg, patches.slice(0, 1), {
        executor: 'faas',
        faas: { serviceUrl: url, endpoints: ['site-a', 'site-zz'], token },
      }),
    ).rejects.toThrow(/unknown endpoint site-zz at http:\/\/127\.0\.0\.1:\d+.*ristretto faas endpoint list/);
  });

  it('an endpoint killed mid-scan costs no patch: its tasks finish elsewhere, results unchanged', async () => {
    const [{ proc }] = await Promise.all([ownEndpoint('kill-c'), ownEndpoint('kill-b')]);
    const some = patches.slice(0, 6);
    let killed = false;
    const summary = await scan(bkg, some, {
      executor: 'faas',
      faas: { serviceUrl: url, endpoints: ['kill-c', 'kill-b'], token },
      onResult: () => {
        if (!killed) {
          killed = true;
          void procs.kill(proc);
        }
      },
    });
    expect(killed).toBe(true);
    expect(summary.failed).toEqual([]);
    expect(summary.results.map((r) => r.name).sort()).toEqual(some.map((p) => p.name).sort());
    for (const r of summary.results)
      expect(essence(r)).toEqual(essence(testPatch(bkg, some.find((p) => p.name === r.name)!)));
  }, 240_000);
});
