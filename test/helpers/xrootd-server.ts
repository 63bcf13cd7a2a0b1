/**
 * A real xrootd (Debian's xrootd-server, scripts/ci/setup-xrootd.sh) on a free loopback port, serving
 * copies of the given files from its own temp dir. xrootd refuses to run as root, so as root it runs
 * with `-R nobody`: its admin/pid/log folders belong to nobody and the data copies are world-readable.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { freePort } from './free-port.ts';

/** Why xrootd cannot run here, or undefined when it can. */
export function xrootdMissing(): string | undefined {
  try {
    execFileSync('xrootd', ['-v'], { stdio: 'pipe', timeout: 20_000 });
    return undefined;
  } catch (e) {
    return `no xrootd binary (${(e as Error).message.split('\n')[0]})`;
  }
}

export interface XrootdServer {
  readonly port: number;
  /** Folder holding the served copies. */
  readonly dataDir: string;
  /** The server process (its pid is what SIGKILL hits). */
  readonly proc: ChildProcess;
  /** root:// URL of a served file (by base name) or of any absolute path. */
  url(nameOrPath: string): string;
  /** Start the server again on the same port after a kill (same data). */
  restart(): Promise<void>;
  /** SIGKILL the server and wait until it is gone. */
  kill(): Promise<void>;
  /** Stop the server and remove its folder. */
  stop(): Promise<void>;
}

function nobody(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'nobody'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

/**
 * Start xrootd serving copies of `files` (any readable path can be served in place too: `url` of an
 * absolute path); resolves once it accepts connections.
 */
export async function startXrootd(files: readonly string[]): Promise<XrootdServer> {
  const dir = mkdtempSync(join(tmpdir(), 'ristretto-xrootd-'));
  chmodSync(dir, 0o755);
  const dataDir = join(dir, 'data');
  const adminDir = join(dir, 'admin');
  const logDir = join(dir, 'logs');
  for (const d of [dataDir, adminDir, logDir]) mkdirSync(d, { mode: 0o755 });
  for (const f of files) {
    const copy = join(dataDir, basename(f));
    copyFileSync(f, copy);
    chmodSync(copy, 0o644);
  }
  const user = nobody();
  if (user) for (const d of [adminDir, logDir]) chownSync(d, user.uid, user.gid);
  const port = await freePort();
  const cfg = join(dir, 'xrootd.cfg');
  writeFileSync(cfg, `all.export /\nxrd.port ${port}\nall.adminpath ${adminDir}\nall.pidpath ${adminDir}\n`);
  const log = join(logDir, 'xrootd.log');
  let proc: ChildProcess;

  const launch = async () => {
    const args = [...(user ? ['-R', 'nobody'] : []), '-c', cfg, '-l', log];
    const started = Date.now();
    const seen = existsSync(log) ? readFileSync(log, 'utf8').length : 0;
    proc = spawn('xrootd', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    proc.stdout!.on('data', (d) => (output += d));
    proc.stderr!.on('data', (d) => (output += d));
    // Ready when the log says so; a loaded 2-core machine may take several seconds.
    for (;;) {
      const text = existsSync(log) ? readFileSync(log, 'utf8').slice(seen) : '';
      if (text.includes('initialization completed')) return;
      if (proc.exitCode !== null || proc.signalCode !== null)
        throw new Error(`xrootd exited (${proc.exitCode ?? proc.signalCode}): ${output}${text}`.slice(-2000));
      if (Date.now() - started > 60_000)
        throw new Error(`xrootd did not start within 60 s: ${output}${text}`.slice(-2000));
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const kill = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGKILL');
    await gone;
  };
  await launch();
  return {
    port,
    dataDir,
    get proc() {
      return proc;
    },
    url: (p) => `root://127.0.0.1:${port}/${p.startsWith('/') ? p : join(dataDir, p)}`,
    restart: launch,
    kill,
    stop: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
