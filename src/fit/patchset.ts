/**
 * Loading workspaces and their signal patches: single JSON Patch files, pyhf patch sets (one file
 * with metadata and named patches) and directories of patch files (the layout of published ATLAS
 * likelihood archives: `BkgOnly.json` + `patch.<name>.json`).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { jsonSyntaxMessage } from '../errors/json-location.ts';
import { PatchError, WorkspaceError } from './errors.ts';
import { checkJsonPatchStructure, checkPatchSetStructure, checkWorkspaceStructure } from './structure.ts';
import { applyPatch } from './jsonpatch.ts';
import { validateAgainstSchema } from './schema.ts';
import type { JsonPatchOp, PatchSetSpec, WorkspaceSpec } from './spec.ts';

/** One named signal patch. */
export interface NamedPatch {
  name: string;
  /** Values from the patch set metadata (e.g. masses), or parsed from the file name. */
  values: number[];
  patch: JsonPatchOp[];
  /** File it came from. */
  file?: string;
  /** JSON pointer of the operation list in `file`: `''` for a patch file, `/patches/3/patch` in a patch set. */
  pointer?: string;
}

/** What an fs error means, without the path (the error's source prefix names it). */
export function fsReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'file not found';
  if (code === 'EISDIR') return 'is a folder';
  if (code === 'ENOTDIR') return 'a part of the path is not a folder';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return code ? `cannot read it (${code})` : String((e as Error).message ?? e);
}

function readJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    // The source prefix already names the file: say what went wrong and what to do, not the path again.
    const code = (e as NodeJS.ErrnoException).code;
    throw new WorkspaceError(
      fsReason(e),
      '',
      path,
      code === 'EISDIR'
        ? 'pass the workspace JSON file (a folder of patch files goes to --patchset)'
        : 'check the path to the workspace or patch JSON file',
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new WorkspaceError(`not JSON: ${jsonSyntaxMessage(text, e)}`, '', path);
  }
}

/** Numbers in a patch name such as `sbottom_1300_850_60` → [1300, 850, 60]. */
export function valuesFromName(name: string): number[] {
  return [...name.matchAll(/(?:^|_)(-?\d+(?:\.\d+)?)(?=_|$)/g)].map((m) => Number(m[1]));
}

/**
 * Reads a workspace file, validates it, and applies the given JSON Patch files in order.
 *
 * @example
 * ```ts
 * import { loadWorkspace } from 'ristretto/fit';
 * const ws = loadWorkspace('RegionA/BkgOnly.json', { patches: ['RegionA/patch.sbottom_1300_850_60.json'] });
 * ```
 */
export function loadWorkspace(path: string, opts: { patches?: string[] } = {}): WorkspaceSpec {
  let ws = readJson(path) as WorkspaceSpec;
  checkWorkspaceStructure(ws, path);
  validateAgainstSchema(ws, 'workspace', { source: path });
  for (const p of opts.patches ?? []) {
    const patch = readPatchFile(p);
    ws = applyPatch(ws, patch.patch, { name: patch.name, file: patch.file, pointer: patch.pointer });
  }
  return ws;
}

/** A single JSON Patch file (validated against pyhf's jsonpatch schema). */
export function readPatchFile(path: string): NamedPatch {
  const doc = readJson(path);
  checkJsonPatchStructure(doc, path);
  validateAgainstSchema(doc, 'jsonpatch', { source: path });
  const name = basename(path)
    .replace(/^patch\./, '')
    .replace(/\.json$/, '');
  return { name, values: valuesFromName(name), patch: doc as JsonPatchOp[], file: path, pointer: '' };
}

/** The patches of a pyhf patch set file. */
export function readPatchSet(path: string): { metadata: PatchSetSpec['metadata']; patches: NamedPatch[] } {
  const doc = readJson(path) as PatchSetSpec;
  checkPatchSetStructure(doc, path);
  validateAgainstSchema(doc, 'patchset', { source: path });
  const names = new Set<string>();
  const patches = doc.patches.map((p, i) => {
    if (names.has(p.metadata.name))
      throw new WorkspaceError(`duplicate patch name "${p.metadata.name}"`, `/patches/${i}/metadata/name`, path);
    names.add(p.metadata.name);
    const values = p.metadata.values.map((v) => Number(v));
    return { name: p.metadata.name, values, patch: p.patch, file: path, pointer: `/patches/${i}/patch` };
  });
  return { metadata: doc.metadata, patches };
}

/**
 * Signal patches from a patch set file or a directory of `patch.*.json` files (sorted by name).
 * Files that cannot be read are reported in `errors`, never fatal. `labels` names the values (a
 * patch set's `metadata.labels`, e.g. `["m1", "m2"]`); a directory has none.
 */
export function readPatches(pathOrDir: string): {
  patches: NamedPatch[];
  errors: { file: string; error: Error }[];
  labels?: string[];
} {
  let isDir: boolean;
  try {
    isDir = statSync(pathOrDir).isDirectory();
  } catch (e) {
    throw new WorkspaceError(
      fsReason(e),
      '',
      pathOrDir,
      'give --patchset a pyhf patch set JSON file or a folder of patch.<name>.json files',
    );
  }
  if (!isDir) {
    const { metadata, patches } = readPatchSet(pathOrDir);
    return { patches, errors: [], labels: metadata.labels.map(String) };
  }
  const patches: NamedPatch[] = [];
  const errors: { file: string; error: Error }[] = [];
  let files: string[];
  try {
    files = readdirSync(pathOrDir)
      .filter((f) => /^patch\..*\.json$/.test(f))
      .sort();
  } catch (e) {
    throw new WorkspaceError(fsReason(e), '', pathOrDir, 'check that the --patchset folder is readable');
  }
  if (files.length === 0)
    throw new WorkspaceError(
      'the folder holds no patch.<name>.json files',
      '',
      pathOrDir,
      'give --patchset a folder of patch.<name>.json files (one JSON Patch per signal point) or a pyhf patch set JSON file',
    );
  for (const f of files) {
    try {
      patches.push(readPatchFile(join(pathOrDir, f)));
    } catch (e) {
      errors.push({ file: join(pathOrDir, f), error: e as Error });
    }
  }
  return { patches, errors };
}

/** Applies one named patch to the background-only workspace (the input is not modified). */
export function patchWorkspace(bkgOnly: WorkspaceSpec, patch: NamedPatch): WorkspaceSpec {
  try {
    return applyPatch(bkgOnly, patch.patch, { name: patch.name, file: patch.file, pointer: patch.pointer });
  } catch (e) {
    if (e instanceof PatchError) throw e;
    // Not an operation's failure (e.g. `patch` is not a list): still name the patch and its file.
    throw new PatchError((e as Error).message, '', -1, { name: patch.name, file: patch.file });
  }
}
