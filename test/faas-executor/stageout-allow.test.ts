/**
 * An endpoint writes staged results where the user's task says; its admin limits that with
 * `--stageout-allow`, and the site's RISTRETTO_STAGEOUT_TOKEN goes only to allowed stores — a user
 * pointing `--stageout` at a server of their own must not receive it (an outside probe did). Real
 * HTTP servers on loopback, a real service, endpoint agent and workers.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { FaasExecutor } from '../../executors/faas/index.ts';
import { LocalCluster } from '../../executors/faas/local-cluster.ts';
import { isUnder, STAGEOUT_ALLOW_ENV, STAGEOUT_TOKEN_ENV, stageOut } from '../../executors/faas/stageout.ts';
import type { Dataset } from '../../src/dataset/fileset.ts';
import { runAnalysis } from '../../src/runner/run.ts';
import { repoRoot, sharedPath } from '../shared.ts';

vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

const dir = mkdtempSync(join(tmpdir(), 'ristretto-stageout-allow-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An HTTP server that records every request's method, path and headers and answers 200. */
async function capture(): Promise<{
  url: string;
  seen: { method: string; url: string; headers: IncomingHttpHeaders }[];
  server: Server;
}> {
  const seen: { method: string; url: string; headers: IncomingHttpHeaders }[] = [];
  const server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    req.resume();
    req.on('end', () => res.end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

describe('stage-out locations an endpoint allows', () => {
  it('isUnder compares URL origins and path segments, and resolved directories', () => {
    expect(isUnder('http://h:1/store', 'http://h:1/store')).toBe(true);
    expect(isUnder('http://h:1/store/run', 'http://h:1/store/')).toBe(true);
    expect(isUnder('http://h:1/storex', 'http://h:1/store')).toBe(false);
    expect(isUnder('http://h:1/store/../other', 'http://h:1/store')).toBe(false);
    expect(isUnder('http://h:2/store', 'http://h:1/store')).toBe(false);
    expect(isUnder('https://h:1/store', 'http://h:1/store')).toBe(false);
    expect(isUnder('http://evil@h:1/store', 'http://h:1/store')).toBe(true); // userinfo is not part of the origin
    expect(isUnder('http://h:1/store?x=1', 'http://h:1/store')).toBe(false);
    expect(isUnder('/data/stage', '/data/stage')).toBe(true);
    expect(isUnder('/data/stage/sub', '/data/stage/')).toBe(true);
    expect(isUnder('/data/stage/../../etc', '/data/stage')).toBe(false);
    expect(isUnder('/data/stagex', '/data/stage')).toBe(false);
    expect(isUnder('file:///data/stage/a', '/data/stage')).toBe(true);
    expect(isUnder('http://h:1/data/stage', '/data/stage')).toBe(false);
  });

  describe('in a worker process with the allow list and a token', () => {
    const saved = { ...process.env };
    afterEach(() => {
      process.env[STAGEOUT_ALLOW_ENV] = saved[STAGEOUT_ALLOW_ENV];
      process.env[STAGEOUT_TOKEN_ENV] = saved[STAGEOUT_TOKEN_ENV];
      if (saved[STAGEOUT_ALLOW_ENV] === undefined) delete process.env[STAGEOUT_ALLOW_ENV];
      if (saved[STAGEOUT_TOKEN_ENV] === undefined) delete process.env[STAGEOUT_TOKEN_ENV];
    });

    it('refuses other locations and sends the token only to the allowed store', async () => {
      const site = await capture();
      const user = await capture();
      try {
        const stage = join(dir, 'allowed');
        mkdirSync(join(stage, 'run-1'), { recursive: true });
        mkdirSync(join(dir, 'elsewhere', 'run-1'), { recursive: true });
        process.env[STAGEOUT_ALLOW_ENV] = `${site.url}/store,${stage}`;
        process.env[STAGEOUT_TOKEN_ENV] = 'SITE-SECRET';
        const bytes = new Uint8Array(10).fill(1);
        await expect(stageOut(user.url, 'run-1/t.bin', bytes)).rejects.toThrow(
          /this endpoint does not stage out to http:\/\/127\.0\.0\.1:\d+: it allows .*--stageout-allow/,
        );
        await expect(stageOut(`${site.url}/other`, 'run-1/t.bin', bytes)).rejects.toThrow(/does not stage out to/);
        await expect(stageOut(join(dir, 'elsewhere'), 'run-1/t.bin', bytes)).rejects.toThrow(/does not stage out to/);
        await expect(stageOut(`${stage}/../elsewhere`, 'run-1/t.bin', bytes)).rejects.toThrow(/does not stage out to/);
        expect(user.seen).toEqual([]);
        expect(readdirSync(join(dir, 'elsewhere', 'run-1'))).toEqual([]);
        await stageOut(`${site.url}/store`, 'run-1/t.bin', bytes);
        expect(site.seen.map((s) => [s.method, s.url, s.headers.authorization])).toEqual([
          ['PUT', '/store/run-1/t.bin', 'Bearer SITE-SECRET'],
        ]);
        await stageOut(stage, 'run-1/t.bin', bytes);
        expect(readdirSync(join(stage, 'run-1'))).toEqual(['t.bin']);
      } finally {
        site.server.close();
        user.server.close();
      }
    });

    it('a key is one run folder and one name: a run id of the user cannot reach other folders', async () => {
      const stage = join(dir, 'keys');
      mkdirSync(join(stage, 'victim', '.ssh'), { recursive: true });
      for (const key of ['victim/.ssh/t.bin', 'victim/.ssh', '.hidden/t.bin', 'run/../t.bin', 'run/t.bin/x'])
        await expect(stageOut(stage, key, new Uint8Array(1))).rejects.toThrow(/invalid stage-out key/);
      expect(readdirSync(join(stage, 'victim', '.ssh'))).toEqual([]);
    });

    it('an empty allow list allows nothing', async () => {
      process.env[STAGEOUT_ALLOW_ENV] = '';
      await expect(stageOut(dir, 'run-1/t.bin', new Uint8Array(1))).rejects.toThrow(/it allows no stage-out location/);
    });
  });

  it('endpoint start refuses a stage-out token without --stageout-allow', async () => {
    const p = spawn(
      process.execPath,
      [
        join(repoRoot, 'bin', 'ristretto.mjs'),
        'faas',
        'endpoint',
        'start',
        '--service',
        'http://127.0.0.1:9',
        '--name',
        'tok',
      ],
      {
        env: { ...process.env, RISTRETTO_TOKEN: 'rst_x', [STAGEOUT_TOKEN_ENV]: 'SITE-SECRET' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((r) => p.once('exit', (c) => r(c)));
    expect(code).toBe(1);
    expect(stderr).toContain('endpoint tok: RISTRETTO_STAGEOUT_TOKEN is set but no --stageout-allow');
    expect(stderr).toContain('pass --stageout-allow');
    expect(stderr).not.toContain('SITE-SECRET');
  });

  describe('a run through a real endpoint', () => {
    let cluster: LocalCluster;
    beforeAll(async () => {
      cluster = await LocalCluster.start();
      process.env.RISTRETTO_TOKEN = cluster.token;
    });
    afterAll(async () => {
      await cluster?.close();
    });

    it('a --stageout the endpoint does not allow fails naming it, and the token never leaves', async () => {
      const user = await capture();
      const allowed = join(dir, 'site-stage');
      mkdirSync(allowed);
      try {
        await cluster.startEndpoint('pinned', {
          args: ['--stageout-allow', allowed],
          env: { [STAGEOUT_TOKEN_ENV]: 'SITE-SECRET' },
        });
        const fileset: Dataset[] = [
          {
            name: 'mu',
            files: [{ path: sharedPath('data', 'Run2012B_SingleMu_10000.root'), tree: 'Events' }],
            metadata: {},
          },
        ];
        const processor = resolve(repoRoot, 'test', 'fixtures', 'processors', 'hists.ts');
        const connect = (stageout: string) =>
          FaasExecutor.connect({
            service: cluster.url,
            endpoints: ['pinned'],
            stageout,
            stageoutThreshold: 0,
            maxAttempts: 1,
          });
        const bad = await connect(user.url);
        try {
          await expect(
            runAnalysis({ fileset, processor, executor: bad, chunksize: 5000, cacheFile: false }),
          ).rejects.toThrow(/does not stage out to http:\/\/127\.0\.0\.1:\d+/);
        } finally {
          await bad.close();
        }
        expect(user.seen.filter((s) => s.method !== 'DELETE')).toEqual([]);
        expect(user.seen.some((s) => s.headers.authorization)).toBe(false);
        // The allowed directory works as before.
        const good = await connect(allowed);
        try {
          const r = await runAnalysis({ fileset, processor, executor: good, chunksize: 5000, cacheFile: false });
          expect(r.metrics.chunks).toBe(2);
          expect(good.faas.stagedResults).toBeGreaterThanOrEqual(1);
        } finally {
          await good.close();
        }
        expect(readdirSync(allowed)).toEqual([]);
      } finally {
        user.server.close();
      }
    });
  });
});
