/**
 * The commands a user runs on root:// URLs, as child processes against a real xrootd on loopback:
 * `ristretto convert root://… out.parquet` writes the bytes the local convert writes, and `run-analysis`
 * with a dataset JSON of root:// URLs (a ROOT and a Parquet file) writes the histograms of the local run,
 * iterative and on two worker threads. With CI=true a missing xrootd fails these tests; elsewhere they are
 * skipped with the reason.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openReader } from '../../src/io/open.ts';
import { runNode } from '../helpers/cli.ts';
import { tempDir } from '../helpers/files.ts';
import { xrootdMissingFor } from '../helpers/xrootd-missing.ts';
import { startXrootd, type XrootdServer } from '../helpers/xrootd-server.ts';
import { repoRoot, sharedPath } from '../shared.ts';
import { expectSameColumn } from './root/compare.ts';

const missing = xrootdMissingFor('XRootD commands');

const NANO = sharedPath('data', 'Run2012B_SingleMu_10000.root');
const DIMUON = sharedPath('data', 'nano_dimuon.root');
const NESTED_PQ = sharedPath('data', 'Run2012B_SingleMu-restructured-1000.parquet');
const dir = tempDir('xrootd-cli');
const env = { ...process.env, RISTRETTO_DEBUG: '' };
const ristretto = (...args: string[]) => runNode([join(repoRoot, 'bin', 'ristretto.mjs'), ...args], { env, cwd: dir });
const runAnalysis = (...args: string[]) =>
  runNode([join(repoRoot, 'bin', 'run-analysis.mjs'), ...args], { env, cwd: dir });

describe.skipIf(missing !== undefined)('root:// through the commands, against a real xrootd', () => {
  let server: XrootdServer;

  beforeAll(async () => {
    server = await startXrootd([NANO, DIMUON, NESTED_PQ]);
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('`ristretto convert root://… out.parquet` writes the bytes converting the local file writes', async () => {
    const remoteOut = join(dir, 'remote.parquet');
    const localOut = join(dir, 'local.parquet');
    const remote = await ristretto('convert', server.url('nano_dimuon.root'), remoteOut);
    expect(remote.code, remote.stderr).toBe(0);
    const local = await ristretto('convert', DIMUON, localOut);
    expect(local.code, local.stderr).toBe(0);
    expect(readFileSync(remoteOut).equals(readFileSync(localOut))).toBe(true);
    // and the columns are the input's, read back from the local ROOT file
    const input = await openReader(DIMUON);
    const output = await openReader(remoteOut);
    try {
      const names = ['MET_pt', 'Muon_pt', 'Muon_charge'];
      const want = await input.read(names, 0, input.numEntries);
      const got = await output.read(names, 0, output.numEntries);
      expect(output.numEntries).toBe(input.numEntries);
      for (const n of names) expectSameColumn(got[n], want[n], n);
    } finally {
      await input.close();
      await output.close();
    }
  }, 180_000);

  it('`run-analysis` on a dataset JSON of root:// URLs writes the histograms of the local run', async () => {
    const remoteJson = join(dir, 'remote.json');
    const localJson = join(dir, 'local.json');
    writeFileSync(
      remoteJson,
      JSON.stringify({ SingleMu: { files: [server.url('Run2012B_SingleMu_10000.root'), server.url(NESTED_PQ)] } }),
    );
    writeFileSync(localJson, JSON.stringify({ SingleMu: { files: [NANO, NESTED_PQ] } }));
    const proc = join(repoRoot, 'processors', 'adl', 'query-5.ts');
    const local = await runAnalysis(
      localJson,
      proc,
      '-q',
      '--no-cache',
      '--chunksize',
      '2000',
      '-o',
      join(dir, 'local'),
    );
    expect(local.code, local.stderr).toBe(0);
    const want = readFileSync(join(dir, 'local', 'query-5.json'));
    // some events of these files pass Q5: the comparison is not of two empty histograms
    expect(JSON.parse(want.toString())['query-5'].writer_info.ristretto.entries).toBeGreaterThan(0);
    for (const executor of [[], ['-e', 'threads', '--workers', '2']]) {
      const out = join(dir, `remote${executor.length}`);
      const r = await runAnalysis(remoteJson, proc, '-q', '--no-cache', '--chunksize', '2000', '-o', out, ...executor);
      expect(r.code, `${executor.join(' ')}: ${r.stderr}`).toBe(0);
      expect(readFileSync(join(out, 'query-5.json')).equals(want), executor.join(' ') || 'iterative').toBe(true);
    }
  }, 300_000);
});
