/**
 * The same reader over http:// against a real loopback server: identical columns to local reads,
 * retries through transient failures, and clear errors (URL + cause) when the server is gone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRoot, BasketReadError, RootError, RootFileError } from '../../../src/io/root/index.ts';
import { caught } from '../../helpers/caught.ts';
import { serveDirectory, type TestServer } from '../../helpers/http-server.ts';
import { sharedDir, sharedPath } from '../../shared.ts';
import { expectSameColumn } from './compare.ts';

const RUN2012 = sharedPath('data', 'Run2012B_SingleMu_10000.root');
const HZZ_LZ4 = sharedPath('data', 'uproot-HZZ-lz4.root');
const FAST_RETRY = { retries: 3, backoffMs: 5 };

let server: TestServer;
beforeAll(async () => {
  server = await serveDirectory(sharedDir);
});
afterAll(() => server.close());

describe('reading ROOT over HTTP', () => {
  for (const [file, tree, range] of [
    [RUN2012, 'Events', [1234, 8765]],
    [HZZ_LZ4, 'events', [0, 2421]],
  ] as const) {
    it(`${file.split('/').pop()} gives the same columns as the local file`, async () => {
      const local = await openRoot(file, { treeName: tree });
      const remote = await openRoot(`${server.url}/data/${file.split('/').pop()}`, {
        treeName: tree,
        http: FAST_RETRY,
      });
      try {
        expect(remote.numEntries).toBe(local.numEntries);
        expect(remote.boundaries()).toEqual(local.boundaries());
        const names = local.branches().map((b) => b.name);
        const [a, b] = range;
        const want = await local.read(names, a, b);
        const got = await remote.read(names, a, b);
        for (const n of names) expectSameColumn(got[n], want[n], n);
        expect(remote.bytesRead).toBeGreaterThan(0);
      } finally {
        await local.close();
        await remote.close();
      }
    });
  }

  it('coalesces neighbouring baskets into few requests', async () => {
    const remote = await openRoot(`${server.url}/data/Run2012B_SingleMu_10000.root`, { http: FAST_RETRY });
    try {
      const before = server.requests;
      const jets = ['nJet', 'Jet_pt', 'Jet_eta', 'Jet_phi', 'Jet_mass'];
      await remote.read(jets, 0, 10000);
      expect(server.requests - before).toBeLessThan(jets.length);
    } finally {
      await remote.close();
    }
  });

  it('retries through transient failures, at open and at read', async () => {
    server.failNext(2);
    const before = server.failures;
    const remote = await openRoot(`${server.url}/data/Run2012B_SingleMu_10000.root`, { http: FAST_RETRY });
    try {
      server.failNext(2);
      const got = await remote.read(['MET_pt'], 0, 10000);
      expect(server.failures - before).toBe(4);
      const local = await openRoot(RUN2012);
      expectSameColumn(got.MET_pt, (await local.read(['MET_pt'], 0, 10000)).MET_pt, 'MET_pt');
      await local.close();
    } finally {
      await remote.close();
    }
  });

  it('a missing remote file is an HTTP 404, not retried', async () => {
    const before = server.requests;
    const e = await caught(openRoot(`${server.url}/data/nope.root`, { http: FAST_RETRY }));
    expect(e).toBeInstanceOf(RootFileError);
    expect(e.message).toContain(`${server.url}/data/nope.root`);
    expect(e.message).toContain('404');
    expect(server.requests - before).toBe(1);
  });

  it('a dead server names the URL and the cause after the last retry', async () => {
    const dead = await serveDirectory(sharedDir);
    const url = `${dead.url}/data/Run2012B_SingleMu_10000.root`;
    await dead.close();
    const e = await caught(openRoot(url, { http: { retries: 2, backoffMs: 5 } }));
    expect(e).toBeInstanceOf(RootFileError);
    expect(e.message).toContain(url);
    expect(e.message).toMatch(/after 3 attempts/);
    expect(e.message).toMatch(/ECONNREFUSED/);
  });

  it('a server that dies after open fails the read with branch and URL context', async () => {
    const dying = await serveDirectory(sharedDir);
    const url = `${dying.url}/data/Run2012B_SingleMu_10000.root`;
    const remote = await openRoot(url, { http: { retries: 1, backoffMs: 5 } });
    try {
      await dying.close();
      const e = await caught(remote.read(['Jet_pt'], 0, 100));
      expect(e).toBeInstanceOf(BasketReadError);
      expect(e.message).toContain(url);
      expect(e.message).toMatch(/ECONNREFUSED/);
      expect((e as RootError).context).toMatchObject({
        tree: 'Events',
        branches: ['Jet_pt'],
        entryStart: 0,
        entryStop: 100,
      });
    } finally {
      await remote.close();
    }
  });
});
