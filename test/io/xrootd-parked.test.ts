/**
 * Connections parked for the next file of a server (src/io/xrootd/idle.ts) against a real xrootd that is
 * SIGKILLed and started again on the same port while this thread does not turn its event loop (as when a
 * worker runs a long chunk): the kernel has the dead server's FIN, but no socket event has run. The next
 * open must not take the dead connection — that cost a failed attempt and its backoff, and with no retries
 * left the open failed although the server was back — but connect anew and read the file.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeParkedConnections } from '../../src/io/xrootd/idle.ts';
import { XrootdSource, xrootdCounters } from '../../src/io/xrootd/index.ts';
import { xrootdMissingFor } from '../helpers/xrootd-missing.ts';
import { startXrootd, type XrootdServer } from '../helpers/xrootd-server.ts';
import { sharedPath } from '../shared.ts';

const missing = xrootdMissingFor('root:// parked connections');

const NANO = sharedPath('data', 'Run2012B_SingleMu_10000.root');

/**
 * SIGKILL `server` and start a second xrootd with its configuration (same port, same data), all in one
 * blocking call: this thread's event loop does not turn until the new server accepts logins. Returns the
 * new server's pid.
 */
function replaceBlocking(server: XrootdServer): number {
  const pid = server.proc.pid ?? 0;
  // the helper's command line: [-R nobody] -c <cfg> -l <log>, run in the folder above the data
  const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).slice(1);
  const log = args[args.indexOf('-l') + 1];
  const seen = readFileSync(log).length;
  const script = [
    `kill -9 ${pid}`,
    // dead once a zombie (its sockets are closed then; its parent, this process, reaps it later)
    `while [ -e /proc/${pid} ] && ! grep -q '^State:.*Z' /proc/${pid}/status; do sleep 0.02; done`,
    'xrootd "$@" >/dev/null 2>&1 &',
    'new=$!',
    `until tail -c +${seen + 1} '${log}' | grep -q 'initialization completed'; do`,
    '  kill -0 $new || exit 1',
    '  sleep 0.05',
    'done',
    'echo $new',
  ].join('\n');
  const out = execFileSync('sh', ['-c', script, 'sh', ...args], {
    cwd: dirname(dirname(log)),
    encoding: 'utf8',
    timeout: 120_000,
  });
  return Number(out.trim());
}

describe.skipIf(missing !== undefined)('root:// parked connections when the server is replaced', () => {
  let server: XrootdServer;
  let replacement = 0;
  beforeAll(async () => {
    server = await startXrootd([NANO]);
  }, 120_000);
  afterAll(async () => {
    closeParkedConnections();
    if (replacement) {
      try {
        process.kill(replacement, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await server?.stop();
  });

  it('a server killed and back on its port before any socket event: the next open connects anew', async () => {
    closeParkedConnections(); // none left over from other tests of this worker
    const url = server.url('Run2012B_SingleMu_10000.root');
    const local = readFileSync(join(server.dataDir, 'Run2012B_SingleMu_10000.root'));
    // No retries: an open that takes a dead connection fails instead of trying again.
    const opts = { retries: 0, timeoutMs: 60_000 };
    const readHead = async () => {
      const src = await XrootdSource.open(url, opts);
      try {
        return Buffer.from(await src.read(0, 70_000));
      } finally {
        await src.close(); // parks its connection
      }
    };
    const c0 = xrootdCounters.connections;
    expect(await readHead()).toStrictEqual(local.subarray(0, 70_000));
    // the second open takes the first one's parked connection: the path under test is taken
    expect(await readHead()).toStrictEqual(local.subarray(0, 70_000));
    expect(xrootdCounters.connections - c0).toBe(1);

    replacement = replaceBlocking(server);
    expect(await readHead()).toStrictEqual(local.subarray(0, 70_000));
    expect(xrootdCounters.connections - c0).toBe(2);
  }, 180_000);
});
