/**
 * Dataset JSON in coffea's fileset forms, resolved to absolute paths (or URLs) and tree names:
 *
 *     { "name": ["a.root", "dir/*.root"] }            tree from --treename, else Events or the file's only tree
 *     { "name": { "files": { "a.root": "Events" }, "metadata": { ... } } }
 *     { "name": { "files": ["a.root"], "treename": "events", "metadata": { ... } } }
 *     { "name": { "files": { "a.root": { "object_path": "Events" } } } }     coffea 2024 form
 *
 * Relative paths are relative to the JSON file; globs are expanded; http(s) and root:// URLs pass through.
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { RistrettoError } from '../errors/index.ts';
import { jsonSyntaxMessage } from '../errors/json-location.ts';
import { isUrl } from '../io/source.ts';
import { glob, hasGlob } from './glob.ts';

/** One input file of a dataset. */
export interface FileSpec {
  /** Absolute local path, http(s) or root:// URL. */
  readonly path: string;
  /**
   * Tree (ROOT) name; Parquet/Arrow readers ignore it. Absent when neither the JSON nor the caller
   * names one: the reader then takes `Events`, or the file's only tree.
   */
  readonly tree?: string;
  /**
   * Where `tree` was written, when the dataset JSON names it: the JSON (as given) and the key, e.g.
   * `{ json: 'datasets.json', key: 'SingleMu.treename' }` (or `SingleMu.files`: the file's own entry). Messages about a tree that is not in the file
   * point there (`--treename` does not apply to such files). Absent for a tree from the caller's `treeName`.
   */
  readonly treeFrom?: { readonly json: string; readonly key: string };
}

export interface Dataset {
  readonly name: string;
  readonly files: readonly FileSpec[];
  /** Free-form metadata from the JSON (cross-section, isData...), handed to the processor. */
  readonly metadata: Readonly<Record<string, unknown>>;
}

/**
 * Each dataset's legend text: its `metadata.label` when that is a string (TLatex, as `ristretto init`
 * writes it). Figures, the live view and `ristretto view` name the categories with it.
 *
 * @example
 * datasetLegend([{ name: 'DY', files: [], metadata: { label: 'Z/#gamma*#rightarrow#mu#mu' } }]);
 * // { DY: 'Z/#gamma*#rightarrow#mu#mu' }
 */
export function datasetLegend(
  datasets: ReadonlyArray<Pick<Dataset, 'name' | 'metadata'>> = [],
): Record<string, string> {
  const legend: Record<string, string> = {};
  for (const d of datasets) if (typeof d.metadata.label === 'string') legend[d.name] = d.metadata.label;
  return legend;
}

/** Malformed dataset JSON; `context.key` names the offending key path. */
export class DatasetError extends RistrettoError {}

export interface FilesetOptions {
  /** Tree name for files given without one (default: none, so the reader takes `Events` or the file's only tree). */
  treeName?: string;
}

const SHAPES =
  'expected {"<dataset>": ["file", ...]} or {"<dataset>": {"files": {"file": "tree"} | ["file", ...], "treename"?: "...", "metadata"?: {...}}}';

/** Read and resolve a dataset JSON file. */
export async function loadFileset(jsonPath: string, opts: FilesetOptions = {}): Promise<Dataset[]> {
  let text: string;
  try {
    text = await readFile(jsonPath, 'utf8');
  } catch (e) {
    throw new DatasetError(
      `cannot read dataset file ${jsonPath}: ${(e as Error).message}`,
      { file: jsonPath },
      'check the path to the dataset JSON',
      { cause: e },
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new DatasetError(
      `dataset file ${jsonPath} is not valid JSON: ${jsonSyntaxMessage(text, e)}`,
      { file: jsonPath },
      SHAPES,
      { cause: e },
    );
  }
  return resolveFileset(value, dirname(resolve(jsonPath)), { ...opts, source: jsonPath });
}

/**
 * Validate and resolve an already-parsed fileset. `baseDir` anchors relative paths; `source` names the
 * JSON in messages.
 */
export async function resolveFileset(
  value: unknown,
  baseDir: string,
  opts: FilesetOptions & { source?: string } = {},
): Promise<Dataset[]> {
  const source = opts.source ?? '<fileset>';
  const defaultTree: string | undefined = opts.treeName || undefined;
  const bad = (key: string, what: string, hint: string = SHAPES): never => {
    throw new DatasetError(`${source}: ${key ? `"${key}" ` : ''}${what}`, { file: source, key }, hint);
  };
  if (!isPlainObject(value))
    bad('', `top level must be an object mapping dataset names to files, got ${describe(value)}`);
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) bad('', 'contains no datasets');

  const out: Dataset[] = [];
  for (const [name, spec] of entries) {
    let tree = defaultTree;
    let treeKey: string | undefined; // the JSON key that named the tree
    let metadata: Record<string, unknown> = {};
    let raw: Array<[string, string | undefined, string, string | undefined]> = []; // [path, tree, key, treeKey]
    if (Array.isArray(spec)) {
      raw = spec.map((f, i) => [checkPath(f, `${name}[${i}]`, bad), tree, `${name}[${i}]`, undefined]);
    } else if (isPlainObject(spec)) {
      const s = spec as Record<string, unknown>;
      for (const k of Object.keys(s)) {
        if (k !== 'files' && k !== 'metadata' && k !== 'treename')
          bad(`${name}.${k}`, `is not a known key (known: files, treename, metadata)`);
      }
      if (s.treename !== undefined) {
        if (typeof s.treename !== 'string' || !s.treename)
          bad(`${name}.treename`, `must be a non-empty string, got ${describe(s.treename)}`);
        tree = s.treename as string;
        treeKey = `${name}.treename`;
      }
      if (s.metadata !== undefined) {
        if (!isPlainObject(s.metadata)) bad(`${name}.metadata`, `must be an object, got ${describe(s.metadata)}`);
        metadata = s.metadata as Record<string, unknown>;
      }
      const files = s.files;
      if (files === undefined) bad(name, 'has no "files" key');
      if (Array.isArray(files)) {
        raw = files.map((f, i) => [checkPath(f, `${name}.files[${i}]`, bad), tree, `${name}.files[${i}]`, treeKey]);
      } else if (isPlainObject(files)) {
        raw = Object.entries(files as Record<string, unknown>).map(
          ([f, t]): [string, string | undefined, string, string | undefined] => {
            const key = `${name}.files["${f}"]`;
            if (!f) bad(key, 'is an empty file name');
            if (typeof t === 'string' && t) return [f, t, key, `${name}.files`];
            if (isPlainObject(t) && typeof (t as Record<string, unknown>).object_path === 'string')
              return [f, (t as { object_path: string }).object_path, key, `${name}.files`];
            return bad(key, `must map to a tree name (string) or {"object_path": "..."}, got ${describe(t)}`);
          },
        );
      } else bad(`${name}.files`, `must be a list of files or an object {"file": "tree"}, got ${describe(files)}`);
    } else {
      bad(name, `must be a list of files or an object with "files", got ${describe(spec)}`);
    }
    if (raw.length === 0) bad(name, 'lists no files');

    // Every file once per dataset, by identity (device and inode for local files, so that
    // `/a/./f.root`, `/a//f.root`, symlinks and hard links are one file): processing a file twice
    // would double its events in the dataset without any error. Two datasets may share a file (the
    // same events under other metadata); their results stay apart.
    const seenAt = new Map<string, string>();
    const files: FileSpec[] = [];
    for (const [p, t, key, tk] of raw) {
      for (const path of await expand(p, baseDir, key, bad)) {
        const id = await fileKey(path);
        const earlier = seenAt.get(id);
        if (earlier !== undefined) {
          bad(
            key,
            `is the same file as ${earlier} (${path}); each file may appear once per dataset, or its events would be counted twice`,
          );
        }
        seenAt.set(id, key);
        files.push(
          t === undefined
            ? { path }
            : tk === undefined
              ? { path, tree: t }
              : { path, tree: t, treeFrom: { json: source, key: tk } },
        );
      }
    }
    out.push({ name, files, metadata });
  }
  return out;
}

/** What makes two entries the same file: device and inode when the file exists locally, else the path/URL. */
async function fileKey(path: string): Promise<string> {
  if (isUrl(path)) return path;
  try {
    const st = await stat(path);
    return `inode:${st.dev}:${st.ino}`;
  } catch {
    return `path:${path}`; // missing files are reported (or skipped) when they are opened
  }
}

async function expand(
  p: string,
  baseDir: string,
  key: string,
  bad: (k: string, w: string, hint?: string) => never,
): Promise<string[]> {
  if (isUrl(p)) return [p];
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(p))
    bad(key, `uses an unsupported URL scheme (${p.split(':')[0]}); use a local path, http(s) or root://`);
  const abs = isAbsolute(p) ? p : resolve(baseDir, p);
  if (!hasGlob(p)) return [abs];
  const matches = await glob(abs);
  if (matches.length === 0)
    bad(
      key,
      `pattern ${p} matched no files (relative to ${baseDir})`,
      'check the pattern and that the files exist (relative patterns start at the dataset JSON’s folder)',
    );
  return matches;
}

function checkPath(f: unknown, key: string, bad: (k: string, w: string, hint?: string) => never): string {
  if (typeof f !== 'string' || !f) return bad(key, `must be a file path or URL (non-empty string), got ${describe(f)}`);
  return f;
}

function isPlainObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${JSON.stringify(v)}`;
}
