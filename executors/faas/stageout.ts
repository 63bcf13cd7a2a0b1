/**
 * Stage-out of large chunk results, so they do not travel through the FaaS service: the worker writes
 * the bytes to a shared directory or PUTs them to an HTTP object store and returns a reference; the
 * client fetches, checks (size + sha256) and deletes them.
 *
 * A location is either a directory (absolute path or `file://` URL) or an `http(s)://` base URL of an
 * object store answering `PUT/GET/DELETE <base>/<key>` (executors/faas/blob-store.ts is one). Blobs are
 * named `<runId>/<name>.bin`. If `RISTRETTO_STAGEOUT_TOKEN` is set, it is sent as a bearer token.
 *
 * On an endpoint the location comes from the user's task, so an endpoint admin lists where its workers
 * may write (`RISTRETTO_STAGEOUT_ALLOW`, set by `faas endpoint start --stageout-allow`): other locations
 * are refused, and the site's token is sent only to allowed ones — never to a URL a user made up.
 *
 * A run's folder is opened by the client before any task runs and closed (removed) at the end; a copy
 * cancelled too late to stop may still try to write after that, so a closed run refuses writes: workers
 * never create the run folder in a directory, and the HTTP store remembers closed prefixes (410 Gone).
 */
import { createHash } from 'node:crypto';
import { access, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RistrettoError } from '../../src/errors/index.ts';
import type { StagedRef } from './wire.ts';

/** Writing, reading or deleting a staged result failed. */
export class StageOutError extends RistrettoError {}

/** Environment variable with an optional bearer token for an HTTP stage-out store. */
export const STAGEOUT_TOKEN_ENV = 'RISTRETTO_STAGEOUT_TOKEN';

export function isHttpLocation(location: string): boolean {
  return /^https?:\/\//i.test(location);
}

/** Directory of a filesystem location (`file://` URLs and relative paths resolved). */
export function directoryOf(location: string): string {
  if (!/^file:\/\//i.test(location)) return isAbsolute(location) ? location : resolve(location);
  try {
    return fileURLToPath(location);
  } catch (e) {
    // A file URL naming another host (file://server/dir) has no path on this machine.
    throw new StageOutError(
      `stage-out location ${location} is not a directory of this machine: ${(e as Error).message}`,
      { location },
      'give a directory path, or a file:/// URL with no host',
      { cause: e },
    );
  }
}

function blobUrl(location: string, key: string): string {
  return `${location.replace(/\/+$/, '')}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

/**
 * Environment variable with the stage-out locations this process may use (comma-separated directories
 * or http(s) base URLs). Unset: any location (a client staging to its own store). Set but empty: none.
 */
export const STAGEOUT_ALLOW_ENV = 'RISTRETTO_STAGEOUT_ALLOW';

/** The allowed locations, or undefined when any is allowed. */
export function allowedLocations(env: NodeJS.ProcessEnv = process.env): string[] | undefined {
  const v = env[STAGEOUT_ALLOW_ENV];
  if (v === undefined) return undefined;
  return v
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
}

/** `location` lies at or under `base`, compared by URL origin and path, or by resolved directory. */
export function isUnder(location: string, base: string): boolean {
  if (isHttpLocation(location) !== isHttpLocation(base)) return false;
  if (isHttpLocation(location)) {
    let a: URL;
    let b: URL;
    try {
      a = new URL(location);
      b = new URL(base);
    } catch {
      return false;
    }
    if (a.origin !== b.origin || a.search || a.hash) return false;
    // Segments are compared after URL normalisation, so "/store/../etc" cannot climb out of "/store".
    const prefix = b.pathname.replace(/\/+$/, '');
    return a.pathname === prefix || a.pathname.startsWith(`${prefix}/`) || prefix === '';
  }
  // resolve() also normalises absolute paths: "/allowed/../etc" must not pass as under "/allowed".
  let dir: string;
  let root: string;
  try {
    dir = resolve(directoryOf(location));
    root = resolve(directoryOf(base));
  } catch {
    return false; // a file URL of another host lies under nothing here
  }
  return dir === root || dir.startsWith(root === '/' ? '/' : `${root}/`);
}

/** Refuse a location the endpoint's admin did not allow. */
function checkAllowed(location: string): void {
  const allowed = allowedLocations();
  if (allowed === undefined || allowed.some((b) => isUnder(location, b))) return;
  throw new StageOutError(
    `this endpoint does not stage out to ${location}: ${allowed.length ? `it allows ${allowed.join(', ')}` : 'it allows no stage-out location'}`,
    { location, allowed },
    allowed.length
      ? 'pass one of the allowed locations as --stageout, or ask the endpoint admin to add yours (--stageout-allow)'
      : 'run without --stageout, or ask the endpoint admin to allow your location (--stageout-allow)',
  );
}

/** The bearer token for `location`: only where this process may stage out at all. */
function authHeaders(location: string): Record<string, string> {
  const t = process.env[STAGEOUT_TOKEN_ENV]?.trim();
  if (!t) return {};
  const allowed = allowedLocations();
  if (allowed !== undefined && !allowed.some((b) => isUnder(location, b))) return {};
  return { authorization: `Bearer ${t}` };
}

// A key is exactly `<runId>/<name>`, each segment starting with a letter, digit or "_": the run id comes
// from the user's task, and "victim/.ssh" or ".." must not steer an endpoint's write elsewhere.
const SEGMENT = '\\w[\\w.-]{0,199}';
const KEY = new RegExp(`^${SEGMENT}/${SEGMENT}$`);
const RUN_ID = new RegExp(`^${SEGMENT}$`);

function checkKey(key: string, pattern = KEY): void {
  if (!pattern.test(key)) {
    throw new StageOutError(
      `invalid stage-out key "${key.slice(0, 200)}"`,
      { key: key.slice(0, 200) },
      'keys are <runId>/<name>.bin made of letters, digits, ".", "_" and "-", each part starting with a letter, digit or "_"',
    );
  }
}

/** Worker side: store `bytes` under `key` at `location` and return the reference. */
export async function stageOut(location: string, key: string, bytes: Uint8Array): Promise<StagedRef> {
  checkKey(key);
  checkAllowed(location);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (isHttpLocation(location)) {
    const url = blobUrl(location, key);
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'PUT',
        body: new Blob([bytes as Uint8Array<ArrayBuffer>]),
        headers: { 'content-type': 'application/octet-stream', ...authHeaders(location) },
      });
    } catch (e) {
      throw new StageOutError(
        `cannot PUT the result to ${url}: ${(e as Error).message}`,
        { location, key },
        'check that the stage-out store is reachable from the endpoint',
        { cause: e },
      );
    }
    if (!res.ok)
      throw new StageOutError(
        `stage-out store answered ${res.status} to PUT ${url}`,
        { location, key, status: res.status },
        'check the store URL and RISTRETTO_STAGEOUT_TOKEN at the endpoint',
      );
    await res.arrayBuffer();
  } else {
    const file = join(directoryOf(location), ...key.split('/'));
    try {
      // The run folder is the client's (openRun): if it is gone, the run has ended and nobody will
      // fetch this result, so writing it would leave an orphan.
      await access(dirname(file));
    } catch (e) {
      throw new StageOutError(
        `cannot write the result to ${file}: its run folder does not exist (the run has ended, or the stage-out directory is not the same storage as the client's)`,
        { location, key },
        'check that the stage-out directory is mounted at the endpoint (see pathMap)',
        { cause: e },
      );
    }
    try {
      // Write then rename: the client never reads a half-written result.
      const tmp = `${file}.${process.pid}.tmp`;
      await writeFile(tmp, bytes);
      await rename(tmp, file);
    } catch (e) {
      throw new StageOutError(
        `cannot write the result to ${file}: ${(e as Error).message}`,
        { location, key },
        'check that the stage-out directory is mounted and writable at the endpoint (see pathMap)',
        { cause: e },
      );
    }
  }
  return { key, size: bytes.byteLength, sha256 };
}

/** Client side: read a staged result and check its size and hash. */
export async function fetchStaged(location: string, ref: StagedRef): Promise<Uint8Array> {
  checkKey(ref.key);
  let bytes: Uint8Array;
  if (isHttpLocation(location)) {
    const url = blobUrl(location, ref.key);
    let res: Response;
    try {
      res = await fetch(url, { headers: authHeaders(location) });
    } catch (e) {
      throw new StageOutError(
        `cannot GET the staged result ${url}: ${(e as Error).message}`,
        { location, key: ref.key },
        'check that the stage-out store is reachable from here',
        { cause: e },
      );
    }
    if (!res.ok)
      throw new StageOutError(
        `stage-out store answered ${res.status} to GET ${url}`,
        { location, key: ref.key, status: res.status },
        'the blob may have been deleted or the store restarted without its data',
      );
    bytes = new Uint8Array(await res.arrayBuffer());
  } else {
    const file = join(directoryOf(location), ...ref.key.split('/'));
    try {
      const buf = await readFile(file);
      bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength).slice();
    } catch (e) {
      throw new StageOutError(
        `cannot read the staged result ${file}: ${(e as Error).message}`,
        { location, key: ref.key },
        'check that the stage-out directory is the same storage here as at the endpoint',
        { cause: e },
      );
    }
  }
  const sha = createHash('sha256').update(bytes).digest('hex');
  if (bytes.byteLength !== ref.size || sha !== ref.sha256) {
    throw new StageOutError(
      `staged result ${ref.key} is corrupt: ${bytes.byteLength} bytes with sha256 ${sha.slice(0, 12)}…, expected ${ref.size} bytes with ${ref.sha256.slice(0, 12)}…`,
      { location, key: ref.key },
      'rerun; if it persists, check the stage-out storage',
    );
  }
  return bytes;
}

/** Client side: delete a staged result (missing is fine). Returns false when the deletion failed. */
export async function deleteStaged(location: string, key: string): Promise<boolean> {
  try {
    checkKey(key);
    checkAllowed(location);
    if (isHttpLocation(location)) {
      const res = await fetch(blobUrl(location, key), { method: 'DELETE', headers: authHeaders(location) });
      await res.arrayBuffer();
      return res.ok || res.status === 404;
    }
    await rm(join(directoryOf(location), ...key.split('/')), { force: true });
    return true;
  } catch {
    return false;
  }
}

/**
 * Client side, before the first task: create the run's folder in a stage-out directory (workers write
 * only into an existing one). Fails with a clear error when the directory itself is missing. HTTP
 * stores need nothing.
 */
export async function openRun(location: string, runId: string): Promise<void> {
  checkKey(runId, RUN_ID);
  if (isHttpLocation(location)) return;
  const dir = directoryOf(location);
  try {
    await access(dir);
    await mkdir(join(dir, runId));
  } catch (e) {
    throw new StageOutError(
      `cannot use the stage-out directory ${dir}: ${(e as Error).message}`,
      { location },
      'create the directory (shared with the endpoints) or pass another --stageout',
      { cause: e },
    );
  }
}

/**
 * Client side, at the end of a run: remove the run's folder with anything left in it (a result staged
 * by a cancelled copy in the moment its cancellation arrived). For an HTTP store this is a DELETE of
 * the run prefix, after which blob-store.ts refuses writes under it; stores that do not support prefix
 * deletion keep such leftovers (best effort).
 */
export async function cleanupRun(location: string, runId: string): Promise<void> {
  // One plain segment only: "" or ".." would remove the whole location or what is above it.
  if (!/^[\w.-]{1,200}$/.test(runId) || runId === '.' || runId === '..')
    throw new StageOutError(
      `invalid run id ${JSON.stringify(runId.slice(0, 200))}: use letters, digits, ".", "_" or "-"`,
      { runId: runId.slice(0, 200) },
    );
  if (isHttpLocation(location)) {
    await fetch(blobUrl(location, runId), { method: 'DELETE', headers: authHeaders(location) })
      .then((r) => r.arrayBuffer())
      .catch(() => undefined);
    return;
  }
  const dir = join(directoryOf(location), runId);
  // A worker may rename a result into the folder while it is being removed (ENOTEMPTY); once the folder
  // is gone no worker can write into it again.
  for (let i = 0; i < 5; i++) {
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    if (
      !(await access(dir).then(
        () => true,
        () => false,
      ))
    )
      return;
  }
}
