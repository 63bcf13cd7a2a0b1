/**
 * The processor as it travels to workers: esbuild bundles the processor file, the files it imports and
 * the Ristretto modules it uses (`import ... from 'ristretto'`, resolved to this installation's sources)
 * into one self-contained ESM string, identified by the sha256 of that string. Workers (threads, remote
 * endpoints) load each bundle once and keep it warm.
 *
 * Other npm packages (hyparquet, apache-arrow, the user's own dependencies) stay bare imports: every
 * worker runs inside a project that installed Ristretto and resolves them from that project's
 * node_modules. A bundle is therefore loaded from a file under `<project>/node_modules/.cache/ristretto/`
 * (not from a data: URL, which cannot resolve bare specifiers), where `<project>` is the folder whose
 * node_modules holds this Ristretto (or this repository itself) — never inside `node_modules/ristretto`.
 * Bundled modules must not locate files through `import.meta.url`.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readFile, rename, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isMainThread } from 'node:worker_threads';
import { type BundleKind, bundleDir, cachedBuild, ristrettoRoot } from './build-cache.mjs';
import { asProcessor, ProcessorLoadError, processorFile } from './load.ts';
import { rememberSourceMap } from './stack.ts';
import type { Processor } from './types.ts';

export { type BundleKind, bundleDir, projectRoot, ristrettoRoot } from './build-cache.mjs';

/** A self-contained processor: ESM source plus its content hash. Plain data, safe to post or send. */
export interface ProcessorBundle {
  /** One ESM module whose default export is the processor. */
  readonly code: string;
  /** sha256 (hex) of `code`. */
  readonly hash: string;
  /** The file it was built from, for messages. */
  readonly source: string;
}

/**
 * One self-contained ESM module for Node 20 from `entry`, the files it imports and the Ristretto
 * sources it uses; other npm packages stay external (workers resolve them from their own project).
 * Reused from the on-disk cache while none of those files changed (see build-cache.mjs).
 */
export async function bundleESM(entry: string, kind: BundleKind = 'processor'): Promise<string> {
  return (await cachedBuild(entry, kind)).code;
}

/**
 * Bundles of this process by entry file. Analyses started together (or one after another from a
 * script) share one build (or one cache lookup); eight at once spent ~90 ms bundling the same processor
 * one after the other before any of them could start. The on-disk cache decides whether the files changed.
 */
const building = new Map<string, Promise<ProcessorBundle>>();

/**
 * Bundle a processor file (.ts or .js) with everything it imports except npm packages. A second run
 * with the same files takes the bundle from the on-disk cache without starting esbuild.
 */
export async function bundleProcessor(path: string): Promise<ProcessorBundle> {
  const abs = processorFile(path);
  let pending = building.get(abs);
  if (!pending) {
    pending = buildBundle(path, abs);
    building.set(abs, pending);
    // Only concurrent callers share a promise: a later call looks at the files again.
    void pending.then(
      () => building.delete(abs),
      () => building.delete(abs),
    );
  }
  return pending;
}

async function buildBundle(path: string, abs: string): Promise<ProcessorBundle> {
  try {
    const { code, hash, map } = await cachedBuild(abs, 'processor');
    if (map) rememberSourceMap(hash, map);
    return { code, hash, source: abs };
  } catch (e) {
    const errs = (e as { errors?: Array<{ text: string; location?: { file: string; line: number } | null }> }).errors;
    const first = errs?.[0];
    const loc = first?.location; // esbuild's file is relative to Ristretto's root, not to the user's cwd
    const where = loc ? ` (${resolve(ristrettoRoot, loc.file)}:${loc.line})` : '';
    throw new ProcessorLoadError(
      `cannot bundle processor ${path}: ${first ? asImported(first.text) + where : (e as Error).message}`,
      { file: abs },
      'fix the import or syntax error in the processor',
      { cause: e },
    );
  }
}

/**
 * esbuild names Ristretto's own entry files (`No matching export in "src/index.ts" for import "X"`); the
 * user wrote `from 'ristretto'`: show the specifier from package.json's exports instead.
 */
function asImported(text: string): string {
  return text.replace(/"(src\/[^"]+)"/g, (whole, file: string) => {
    const key = Object.entries(packageExports()).find(([, target]) => target === `./${file}`)?.[0];
    return key ? `'${key === '.' ? 'ristretto' : `ristretto${key.slice(1)}`}'` : whole;
  });
}

function packageExports(): Record<string, string> {
  try {
    const pkg = JSON.parse(readFileSync(join(ristrettoRoot, 'package.json'), 'utf8')) as { exports?: unknown };
    return typeof pkg.exports === 'object' && pkg.exports !== null ? (pkg.exports as Record<string, string>) : {};
  } catch {
    return {};
  }
}

/** Write `code` to `dir/name` unless it exists (names are content hashes, so an existing file is the same). */
export async function writeContentAddressed(dir: string, name: string, code: string): Promise<string> {
  const file = join(dir, name);
  // A file under the name with other bytes (damaged, or rewritten by a task on a shared endpoint) is
  // replaced: its loader refuses it by hash, and keeping it would refuse the bundle for good.
  if (!existsSync(file) || (await readFile(file, 'utf8').catch(() => '')) !== code) {
    await mkdir(dir, { recursive: true });
    const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    await writeFile(tmp, code);
    await rename(tmp, file); // concurrent writers produce the same bytes
  }
  return file;
}

const NOT_WRITABLE = new Set(['EACCES', 'EPERM', 'EROFS']);
const fallbackDirs = new Map<string, Promise<string>>();

/**
 * Write a bundle where it can be imported: into `dir`, or — when `dir` cannot be written (a read-only
 * node_modules) — into a private temp folder of this process (shared by its worker threads, removed by
 * the main thread at exit) whose `node_modules` links to the one `dir` lies in, so the bundle's bare
 * imports still resolve from the same project. The folder must be ours and closed to others: nobody
 * else may plant a file under a bundle's name.
 */
async function writeBundleFile(dir: string, name: string, code: string): Promise<string> {
  try {
    return await writeContentAddressed(dir, name, code);
  } catch (e) {
    if (!NOT_WRITABLE.has((e as NodeJS.ErrnoException).code ?? '')) throw e;
  }
  let base = fallbackDirs.get(dir);
  if (!base) {
    base = privateProcessDir(`ristretto-bundles-${process.pid}`).then(async (made) => {
      const marker = `${sep}node_modules${sep}`;
      const at = dir.lastIndexOf(marker);
      if (at >= 0)
        await symlink(dir.slice(0, at + marker.length - 1), join(made, 'node_modules'), 'dir').catch(
          (e: NodeJS.ErrnoException) => {
            if (e.code !== 'EEXIST') throw e;
          },
        );
      return made;
    });
    fallbackDirs.set(dir, base);
  }
  return writeContentAddressed(join(await base, 'bundles'), name, code);
}

/** `tmpdir()/name`, made 0700 by this user (or found so), else a fresh mkdtemp folder. */
async function privateProcessDir(name: string): Promise<string> {
  const path = join(tmpdir(), name);
  try {
    await mkdir(path, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    const st = await lstat(path);
    const mine = st.isDirectory() && st.uid === process.getuid?.() && (st.mode & 0o077) === 0;
    if (!mine) return mkdtemp(join(tmpdir(), 'ristretto-bundles-'));
  }
  if (isMainThread) process.once('exit', () => rmSync(path, { recursive: true, force: true }));
  return path;
}

const loaded = new Map<string, Promise<Processor<unknown>>>();

export interface LoadBundleOptions {
  /** Folder for the bundle file; must lie inside a Ristretto installation's node_modules (default `bundleDir`). */
  dir?: string;
  /**
   * How to import the written file (default: `import()`). The single-executable endpoint passes its
   * own (`src/faas/endpoint/import-module.ts`): its embedded script has no module loader.
   */
  importer?: (url: string) => Promise<unknown>;
}

/** Import a bundle (once per hash per thread) and return its processor. */
export function loadBundle(
  bundle: Pick<ProcessorBundle, 'code' | 'hash'> & { source?: string },
  opts: LoadBundleOptions = {},
): Promise<Processor<unknown>> {
  let p = loaded.get(bundle.hash);
  if (!p) {
    p = importBundle(bundle, opts.dir ?? bundleDir, opts.importer);
    loaded.set(bundle.hash, p);
    p.catch(() => loaded.delete(bundle.hash));
  }
  return p;
}

/** True when this thread already imported the bundle with this hash. */
export function isBundleLoaded(hash: string): boolean {
  return loaded.has(hash);
}

async function importBundle(
  bundle: Pick<ProcessorBundle, 'code' | 'hash'> & { source?: string },
  dir: string,
  importer?: (url: string) => Promise<unknown>,
): Promise<Processor<unknown>> {
  const actual = createHash('sha256').update(bundle.code).digest('hex');
  if (actual !== bundle.hash) {
    throw new ProcessorLoadError(
      `processor bundle hash mismatch (expected ${bundle.hash}, got ${actual})`,
      { hash: bundle.hash },
      'the bundle was corrupted in transit; rerun',
    );
  }
  const file = await writeBundleFile(dir, `${bundle.hash}.mjs`, bundle.code);
  const source = bundle.source ?? `bundle ${bundle.hash.slice(0, 12)}`;
  let mod: unknown;
  try {
    mod = await (importer ? importer(pathToFileURL(file).href) : import(pathToFileURL(file).href));
  } catch (e) {
    throw loadError(e, source, bundle.hash, dir);
  }
  return asProcessor(mod, source);
}

/**
 * Node names the cached bundle as the importer of a package it cannot find, a path the user never wrote;
 * say instead which package the processor imports and in which project it must be installed (bundles
 * resolve packages from the project that holds this Ristretto, on an endpoint from the endpoint's).
 */
function loadError(e: unknown, source: string, hash: string, dir: string): ProcessorLoadError {
  const missing =
    (e as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND'
      ? /Cannot find package '([^']+)'/.exec((e as Error).message)?.[1]
      : undefined;
  if (missing === undefined) {
    return new ProcessorLoadError(
      `cannot load processor ${source}: ${(e as Error).message}`,
      { file: source, hash },
      'fix the error in the processor module, or install the packages it imports',
      { cause: e },
    );
  }
  const at = dir.lastIndexOf(`${sep}node_modules${sep}`);
  const project = at >= 0 ? dir.slice(0, at) : dir;
  return new ProcessorLoadError(
    `cannot load processor ${source}: it imports the package '${missing}', which is not installed in ${project}`,
    { file: source, hash, package: missing, project },
    `run \`npm install ${missing}\` in ${project} (for a FaaS endpoint: in the endpoint's project)`,
    { cause: e },
  );
}
