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
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Plugin } from 'esbuild';
import { asProcessor, assertESMProcessor, ProcessorLoadError } from './load.ts';
import type { Processor } from './types.ts';

/** A self-contained processor: ESM source plus its content hash. Plain data, safe to post or send. */
export interface ProcessorBundle {
  /** One ESM module whose default export is the processor. */
  readonly code: string;
  /** sha256 (hex) of `code`. */
  readonly hash: string;
  /** The file it was built from, for messages. */
  readonly source: string;
}

/** Root of the Ristretto installation this module belongs to. */
export const ristrettoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The project that installed Ristretto: the folder holding the outermost `node_modules` above it, or Ristretto itself. */
export const projectRoot = ((): string => {
  const marker = `${sep}node_modules${sep}`;
  const at = ristrettoRoot.indexOf(marker);
  return at < 0 ? ristrettoRoot : ristrettoRoot.slice(0, at);
})();

/** Where bundles are written before import: the installing project's node_modules cache, so bare imports resolve. */
export const bundleDir = join(projectRoot, 'node_modules', '.cache', 'ristretto', 'bundles');

/**
 * What a bundle may contain. `processor`: shipped to any worker, so it must not reach modules that
 * load files of this installation (jsroot's vendored modules); `runtime`: the thread pool's worker
 * entry, loaded on this machine only, so those modules are imported from this installation by path.
 */
export type BundleKind = 'processor' | 'runtime';

/** The `exports` map of this installation's package.json: subpath ('.', './hist') → file. */
let exportsMap: Record<string, string> | undefined;
function ristrettoExport(subpath: string): string | undefined {
  exportsMap ??= (
    JSON.parse(readFileSync(join(ristrettoRoot, 'package.json'), 'utf8')) as { exports: Record<string, string> }
  ).exports;
  const target = exportsMap[subpath];
  return typeof target === 'string' ? resolve(ristrettoRoot, target) : undefined;
}

/** Resolves `ristretto` and `ristretto/<subpath>` to this installation's sources (bundled in), and jsroot per `kind`. */
function ristrettoPlugin(kind: BundleKind): Plugin {
  return {
    name: 'ristretto',
    setup(b) {
      b.onResolve({ filter: /^ristretto(\/.*)?$/ }, (args) => {
        const subpath = args.path === 'ristretto' ? '.' : `.${args.path.slice('ristretto'.length)}`;
        const file = ristrettoExport(subpath);
        if (!file)
          return {
            errors: [
              {
                text: `"${args.path}" is not a module of Ristretto (its entry points: ${Object.keys(exportsMap ?? {})
                  .map((k) => (k === '.' ? 'ristretto' : `ristretto/${k.slice(2)}`))
                  .join(', ')})`,
              },
            ],
          };
        return { path: file };
      });
      b.onResolve({ filter: /^#jsroot\// }, (args) => {
        if (kind === 'runtime')
          return {
            path: pathToFileURL(join(ristrettoRoot, 'vendor', 'jsroot', `${args.path.slice('#jsroot/'.length)}.mjs`))
              .href,
            external: true,
          };
        return {
          errors: [
            {
              text: `${args.importer} reaches Ristretto's ROOT-file or plotting modules, which do not run inside a processor; a processor imports from 'ristretto' (events, columnar kernels, hist, accumulators) and leaves files and plots to run-analysis`,
            },
          ],
        };
      });
    },
  };
}

/**
 * One self-contained ESM module for Node 20 from `entry`, the files it imports and the Ristretto
 * sources it uses; other npm packages stay external (workers resolve them from their own project).
 */
export async function bundleESM(entry: string, kind: BundleKind = 'processor'): Promise<string> {
  return (await buildESM(entry, kind)).code;
}

/** The bundle and the files it was built from (absolute paths). */
async function buildESM(entry: string, kind: BundleKind): Promise<{ code: string; inputs: string[] }> {
  // Imported here, not at the top: workers only load bundles, and the single-executable endpoint
  // (scripts/build-endpoint.mjs) carries the loading side without esbuild and its native binary.
  const { build } = await import('esbuild');
  const out = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    plugins: [ristrettoPlugin(kind)],
    // Fixed working directory: the path comments esbuild writes (and therefore the hash) do not depend on the caller's cwd.
    absWorkingDir: ristrettoRoot,
    logLevel: 'silent',
    metafile: true,
  });
  return {
    code: out.outputFiles[0].text,
    inputs: Object.keys(out.metafile.inputs).map((f) => resolve(ristrettoRoot, f)),
  };
}

/** Size and modification time of each file ("size:mtime"), or undefined when one is gone. */
function stamps(files: readonly string[]): string[] | undefined {
  const out: string[] = [];
  for (const f of files) {
    try {
      const st = statSync(f);
      out.push(`${st.size}:${st.mtimeMs}`);
    } catch {
      return undefined;
    }
  }
  return out;
}

const mtimeOf = (stamp: string) => Number(stamp.slice(stamp.indexOf(':') + 1));

interface CachedBundle {
  bundle: ProcessorBundle;
  inputs: string[];
  stamps: string[];
}

/**
 * Bundles of this process by entry file. Analyses started together (or one after another from a
 * script) share one esbuild run: eight at once spent ~90 ms bundling the same processor one after
 * the other before any of them could start. An entry is reused while none of its input files changed
 * (size and mtime); a bundle whose inputs were modified while it was built is not kept.
 */
const bundles = new Map<string, Promise<CachedBundle>>();

/** Bundle a processor file (.ts or .js) with everything it imports except npm packages. */
export async function bundleProcessor(path: string): Promise<ProcessorBundle> {
  const abs = resolve(path);
  if (!existsSync(abs))
    throw new ProcessorLoadError(
      `processor file not found: ${path}`,
      { file: abs },
      'check the path to the processor (.ts or .js)',
    );
  assertESMProcessor(abs);
  const known = bundles.get(abs);
  if (known) {
    const cached = await known.catch(() => undefined);
    if (cached && stamps(cached.inputs)?.join() === cached.stamps.join()) return cached.bundle;
    // Another caller may have started a new build meanwhile: share it.
    const newer = bundles.get(abs);
    if (newer && newer !== known) return bundleProcessor(path);
  }
  const pending = buildBundle(path, abs);
  bundles.set(abs, pending);
  try {
    const built = await pending;
    if (stamps(built.inputs)?.join() !== built.stamps.join() && bundles.get(abs) === pending) bundles.delete(abs);
    return built.bundle;
  } catch (e) {
    if (bundles.get(abs) === pending) bundles.delete(abs);
    throw e;
  }
}

async function buildBundle(path: string, abs: string): Promise<CachedBundle> {
  const started = Date.now();
  let code: string;
  let inputs: string[];
  try {
    ({ code, inputs } = await buildESM(abs, 'processor'));
  } catch (e) {
    const errs = (e as { errors?: Array<{ text: string; location?: { file: string; line: number } | null }> }).errors;
    const first = errs?.[0];
    const where = first?.location ? ` (${first.location.file}:${first.location.line})` : '';
    throw new ProcessorLoadError(
      `cannot bundle processor ${path}: ${first ? first.text + where : (e as Error).message}`,
      { file: abs },
      'fix the import or syntax error in the processor',
      { cause: e },
    );
  }
  const bundle: ProcessorBundle = { code, hash: createHash('sha256').update(code).digest('hex'), source: abs };
  // Stamps taken after the build; an input modified since the build started may not be in the code.
  const now = stamps(inputs);
  return { bundle, inputs, stamps: now?.every((st) => mtimeOf(st) < started) ? now : [] };
}

/** Write `code` to `dir/name` unless it exists (names are content hashes, so an existing file is the same). */
export async function writeContentAddressed(dir: string, name: string, code: string): Promise<string> {
  const file = join(dir, name);
  if (!existsSync(file)) {
    await mkdir(dir, { recursive: true });
    const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    await writeFile(tmp, code);
    await rename(tmp, file); // concurrent writers produce the same bytes
  }
  return file;
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
  const file = await writeContentAddressed(dir, `${bundle.hash}.mjs`, bundle.code);
  const source = bundle.source ?? `bundle ${bundle.hash.slice(0, 12)}`;
  let mod: unknown;
  try {
    mod = await (importer ? importer(pathToFileURL(file).href) : import(pathToFileURL(file).href));
  } catch (e) {
    throw new ProcessorLoadError(
      `cannot load processor bundle of ${source}: ${(e as Error).message}`,
      { file: source, hash: bundle.hash },
      'check that the packages the processor imports are installed',
      { cause: e },
    );
  }
  return asProcessor(mod, source);
}
