/**
 * What the commands print when a file cannot be opened or read, for each kind of source (local path,
 * http(s), root:// against a real xrootd): the message names the file once — not "cannot open FILE: FILE:
 * …" — and the advice fits the command: `ristretto ls` and an open in run-analysis' preprocessing say to
 * check the server, with no word of --retries (which retries chunks); a chunk read that finds the server
 * gone says --retries N retries it, iterative and on a worker thread. A server that accepts but never
 * answers (SIGSTOPped xrootd) costs two request timeouts to open, with a line on stderr per retry.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convert } from '../../src/io/convert.ts';
import { openReader } from '../../src/io/open.ts';
import { SourceUnreachableError } from '../../src/io/source.ts';
import { XrootdSource } from '../../src/io/xrootd/index.ts';
import { caught } from '../helpers/caught.ts';
import { runNode } from '../helpers/cli.ts';
import { tempDir } from '../helpers/files.ts';
import { serveDirectory, type TestServer } from '../helpers/http-server.ts';
import { xrootdMissingFor } from '../helpers/xrootd-missing.ts';
import { startXrootd, type XrootdServer } from '../helpers/xrootd-server.ts';
import { repoRoot, sharedPath } from '../shared.ts';
import { freePort } from '../helpers/free-port.ts';

const missing = xrootdMissingFor('source messages over root://');

const NANO = sharedPath('data', 'Run2012B_SingleMu_10000.root');
const dir = tempDir('source-messages');
const env = { ...process.env, RISTRETTO_DEBUG: '' };
const ristretto = (...args: string[]) => runNode([join(repoRoot, 'bin', 'ristretto.mjs'), ...args], { env, cwd: dir });
const runAnalysis = (args: string[], killWhen?: () => boolean) =>
  runNode([join(repoRoot, 'bin', 'run-analysis.mjs'), ...args], { env, cwd: dir, killWhen });
const COUNT = join(repoRoot, 'test', 'fixtures', 'processors', 'count-events.ts');

/** The command's error message: its first line that starts with the command's name (retry warnings come before it). */
function messageOf(stderr: string): string {
  return stderr.split('\n').find((l) => /^(ristretto|run-analysis): /.test(l)) ?? '';
}

/** How often `name` occurs in the error message of `stderr` (or in a message itself). */
function mentions(stderr: string, name: string): number {
  const message = /^(ristretto|run-analysis): /m.test(stderr) ? messageOf(stderr) : stderr;
  return message.split(name).length - 1;
}

/** A dataset JSON of one file, written into the test folder. */
function dataset(file: string, metadata: Record<string, unknown> = {}): string {
  const json = join(dir, `ds-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(json, JSON.stringify({ A: { files: [file], metadata } }));
  return json;
}

describe('an open error names the file once', () => {
  it('a local path: ls, convert and run-analysis', async () => {
    const path = join(dir, 'nope.root');
    for (const args of [
      ['ls', path],
      ['convert', path, join(dir, 'x.parquet')],
    ]) {
      const r = await ristretto(...args);
      expect(r.code, args[0]).toBe(1);
      expect(mentions(r.stderr, path), r.stderr).toBe(1);
      expect(r.stderr).toContain('file not found');
    }
    const r = await runAnalysis([dataset(path), COUNT, '-q', '--no-cache']);
    expect(r.code).toBe(1);
    expect(mentions(r.stderr, path), r.stderr).toBe(1);
    expect(r.stderr).toContain('file not found');
  }, 120_000);

  describe('http(s)', () => {
    let http: TestServer;
    beforeAll(async () => {
      http = await serveDirectory(dir);
    });
    afterAll(async () => {
      await http?.close();
    });

    it('ls and run-analysis on a URL the server does not have (HTTP 404)', async () => {
      const url = `${http.url}/nope.root`;
      const ls = await ristretto('ls', url);
      expect(ls.code).toBe(1);
      expect(mentions(ls.stderr, url), ls.stderr).toBe(1);
      expect(ls.stderr).toContain('HTTP 404');
      const r = await runAnalysis([dataset(url), COUNT, '-q', '--no-cache']);
      expect(r.code).toBe(1);
      expect(mentions(r.stderr, url), r.stderr).toBe(1);
      expect(r.stderr).toContain('HTTP 404');
    }, 120_000);
  });
});

describe.skipIf(missing !== undefined)('root:// messages against a real xrootd', () => {
  let server: XrootdServer;
  /** A copy of NANO with a cluster per 500 entries: a run reads the file chunk by chunk. */
  const CLUSTERED = join(dir, 'clustered.parquet');

  beforeAll(async () => {
    const r = await openReader(NANO);
    await convert(r, CLUSTERED, { chunkSize: 500, branches: ['MET_pt', 'Muon_pt'] });
    await r.close();
    server = await startXrootd([NANO, CLUSTERED]);
  }, 120_000);
  afterAll(async () => {
    if (server && alive(server)) process.kill(server.proc.pid!, 'SIGCONT');
    await server?.stop();
  });

  it('a missing file: ls, convert and run-analysis name the URL once', async () => {
    for (const name of ['nope.root', 'nope.parquet']) {
      const url = server.url(name);
      for (const args of [
        ['ls', url],
        ['convert', url, join(dir, name.endsWith('.root') ? 'x.parquet' : 'x.root')],
      ]) {
        const r = await ristretto(...args);
        expect(r.code, args.join(' ')).toBe(1);
        expect(mentions(r.stderr, url), r.stderr).toBe(1);
        expect(r.stderr).toContain('kXR_NotFound');
      }
      const r = await runAnalysis([dataset(url), COUNT, '-q', '--no-cache']);
      expect(r.code).toBe(1);
      expect(mentions(r.stderr, url), r.stderr).toBe(1);
      expect(r.stderr).toContain('kXR_NotFound');
    }
  }, 180_000);

  it('a server that is down: ls and the open in run-analysis say to check it, with no --retries', async () => {
    // a port nobody listens on: the server's, after it is stopped for this test only, would race the restart
    const port = await freePort();
    const url = `root://127.0.0.1:${port}/${NANO}`;
    const ls = await ristretto('ls', url);
    expect(ls.code).toBe(1);
    expect(mentions(ls.stderr, url), ls.stderr).toBe(1);
    expect(messageOf(ls.stderr)).toContain('check that the XRootD server is up');
    expect(ls.stderr).not.toContain('--retries');
    // refused connections fail at once: their retries are quick and say nothing (a hung server's do)
    expect(ls.stderr).not.toContain('RISTRETTO_XROOTD_RETRY');
    const r = await runAnalysis([dataset(url), COUNT, '-q', '--no-cache']);
    expect(r.code).toBe(1);
    expect(mentions(r.stderr, url), r.stderr).toBe(1);
    expect(messageOf(r.stderr)).toContain('check that the XRootD server is up');
    expect(r.stderr).not.toContain('--retries');
    expect(messageOf(r.stderr)).toContain('--skipbadfiles');
  }, 180_000);

  for (const executor of [[], ['-e', 'threads', '--workers', '1']]) {
    it(`a server killed during a run (${executor.join(' ') || 'iterative'}): the chunk read names the URL once and offers --retries`, async () => {
      if (!alive(server)) await server.restart();
      const url = server.url('clustered.parquet');
      const markers = tempDir('source-messages-marker');
      const json = dataset(url, { waitAt: 1000, markerDir: markers });
      const proc = join(repoRoot, 'test', 'fixtures', 'processors', 'waits-at.ts');
      const out = join(markers, 'out');
      const run = runAnalysis([json, proc, '-q', '--no-cache', '--chunksize', '500', '-o', out, ...executor]);
      // The run holds chunk [1000, 1500) until `go`: the server goes away meanwhile, so the reads of the
      // chunks after the one read ahead find it gone.
      while (!existsSync(join(markers, 'waiting'))) await new Promise((r) => setTimeout(r, 50));
      await server.kill();
      try {
        writeFileSync(join(markers, 'go'), '');
        const r = await run;
        expect(r.code, r.stderr).toBe(1);
        const message = messageOf(r.stderr);
        expect(message).toMatch(/cannot read dataset A, file .*, entries \[\d+, \d+\): /);
        expect(mentions(r.stderr, url), message).toBe(1);
        expect(message).toContain('check that the XRootD server is up');
        expect(message).toContain('--retries N retries the chunk later');
        expect(message).toContain('--skipbadfiles');
      } finally {
        await server.restart();
      }
    }, 240_000);
  }

  it('a server that accepts but never answers: the open stops after two timeouts, saying so on stderr', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    if (!alive(server)) await server.restart();
    process.on('warning', onWarning);
    process.kill(server.proc.pid!, 'SIGSTOP');
    try {
      const url = server.url('clustered.parquet');
      const e = await caught(XrootdSource.open(url, { timeoutMs: 1500, retries: 5, backoffMs: 20 }));
      expect(e).toBeInstanceOf(SourceUnreachableError);
      // two attempts, not six: the second ends more than a timeout after the first failure
      expect(e.message).toContain('after 2 attempts');
      expect(e.message).toContain('no answer from');
      expect(mentions(e.message, url)).toBe(1);
      await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
      expect(warnings.filter((w) => w.startsWith(`${url}: `) && w.includes('trying again'))).toHaveLength(1);
    } finally {
      process.kill(server.proc.pid!, 'SIGCONT');
      process.off('warning', onWarning);
    }
  }, 120_000);
});

function alive(server: XrootdServer): boolean {
  return server.proc.exitCode === null && server.proc.signalCode === null;
}
