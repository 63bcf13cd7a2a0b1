/**
 * The remote half of a fit scan: one module, bundled with esbuild, that thread workers and FaaS
 * endpoint workers load once and keep warm. Its default export takes one task message:
 *
 * - `stage`: the background-only workspace, kept in memory by its content hash (and, on a FaaS
 *   endpoint, in a file next to the function module, where the endpoint's other workers find it);
 * - `test`: one signal patch, tested against the workspace named by its hash.
 *
 * A `test` whose workspace this worker has never seen replies `missing-workspace`; the client then
 * resends that patch with the workspace attached. So a task carries only its patch in the common case
 * and never fails because of where it ran.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NamedPatch } from './patchset.ts';
import { testPatch, type ScanItem, type ScanOptions } from './scan.ts';
import type { WorkspaceSpec } from './spec.ts';

/**
 * Revision of the task messages; client and worker must agree. 2: optimizer 'slsqp' means the
 * analytic gradient (1: finite differences, now 'slsqp-fd').
 */
export const FIT_TASK_VERSION = 2;

export interface FitStageArgs {
  v: number;
  op: 'stage';
  wsHash: string;
  workspace: WorkspaceSpec;
}

export interface FitTestArgs {
  v: number;
  op: 'test';
  wsHash: string;
  patch: NamedPatch;
  options?: ScanOptions;
  /** Attached only when a worker reported the workspace missing. */
  workspace?: WorkspaceSpec;
}

export type FitTaskArgs = FitStageArgs | FitTestArgs;

export type FitTaskReply =
  | { kind: 'staged'; wsHash: string; cached: boolean }
  | { kind: 'result'; item: ScanItem }
  | { kind: 'missing-workspace'; wsHash: string }
  | { kind: 'version-mismatch'; workerVersion: number }
  | { kind: 'bad-request'; message: string };

/** Content hash of a workspace: sha256 of its JSON text. */
export function workspaceHash(ws: WorkspaceSpec): string {
  return createHash('sha256').update(JSON.stringify(ws)).digest('hex');
}

const workspaces = new Map<string, WorkspaceSpec>();

/**
 * Folder for staged workspaces: next to this module when it runs from a FaaS endpoint's function
 * cache (a file named by its sha256), where the endpoint's other workers look. Anywhere else (worker
 * threads, this module imported from the source tree) memory only, so nothing lands in a source tree.
 */
function cacheDir(): string | undefined {
  try {
    const url = import.meta.url;
    if (!url.startsWith('file:')) return undefined;
    const file = fileURLToPath(url);
    return /^[0-9a-f]{64}\.mjs$/.test(basename(file)) ? join(dirname(file), 'fit-workspaces') : undefined;
  } catch {
    return undefined;
  }
}

function remember(hash: string, ws: WorkspaceSpec): boolean {
  // A hash that does not match would silently test patches against another background.
  if (workspaceHash(ws) !== hash) return false;
  workspaces.set(hash, ws);
  return true;
}

function fromDisk(hash: string): WorkspaceSpec | undefined {
  const dir = cacheDir();
  if (!dir || !/^[0-9a-f]{64}$/.test(hash)) return undefined;
  try {
    const ws = JSON.parse(readFileSync(join(dir, `${hash}.json`), 'utf8')) as WorkspaceSpec;
    return remember(hash, ws) ? ws : undefined;
  } catch {
    return undefined;
  }
}

function toDisk(hash: string, ws: WorkspaceSpec): void {
  const dir = cacheDir();
  if (!dir) return;
  try {
    mkdirSync(dir, { recursive: true });
    // Write then rename: another worker never reads a half-written file.
    const tmp = join(dir, `${hash}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
    writeFileSync(tmp, JSON.stringify(ws));
    renameSync(tmp, join(dir, `${hash}.json`));
  } catch {
    // Memory still holds it; other workers of the endpoint will ask for it once each.
  }
}

/**
 * Runs one fit task (see the module comment). Never throws for a bad patch or model: the reply's
 * `item` carries the error, naming the patch.
 */
export default function runFitTask(args: FitTaskArgs): FitTaskReply {
  if (!args || typeof args !== 'object' || args.v !== FIT_TASK_VERSION)
    return { kind: 'version-mismatch', workerVersion: FIT_TASK_VERSION };
  if (typeof args.wsHash !== 'string') return { kind: 'bad-request', message: 'wsHash must be a string' };
  if (args.op === 'stage') {
    const cached = workspaces.has(args.wsHash);
    if (!cached) {
      if (!remember(args.wsHash, args.workspace))
        return { kind: 'bad-request', message: `the workspace does not match its hash ${args.wsHash}` };
      toDisk(args.wsHash, args.workspace);
    }
    return { kind: 'staged', wsHash: args.wsHash, cached };
  }
  if (args.op !== 'test')
    return { kind: 'bad-request', message: `unknown op ${JSON.stringify((args as { op: unknown }).op)}` };
  if (args.workspace && !workspaces.has(args.wsHash)) {
    if (!remember(args.wsHash, args.workspace))
      return { kind: 'bad-request', message: `the workspace does not match its hash ${args.wsHash}` };
    toDisk(args.wsHash, args.workspace);
  }
  const ws = workspaces.get(args.wsHash) ?? fromDisk(args.wsHash);
  if (!ws) return { kind: 'missing-workspace', wsHash: args.wsHash };
  return { kind: 'result', item: testPatch(ws, args.patch, args.options) };
}
