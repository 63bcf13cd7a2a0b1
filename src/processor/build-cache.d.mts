/** Types of build-cache.mjs (plain JavaScript, so that the bin/ launchers can use it before any TypeScript loader). */

/** Root of the Ristretto installation. */
export declare const ristrettoRoot: string;
/** The project that installed Ristretto (or Ristretto itself). */
export declare const projectRoot: string;
/** `<project>/node_modules/.cache/ristretto/bundles`: bundles are imported from here so bare imports resolve. */
export declare const bundleDir: string;

/**
 * What a build may contain. `processor`: shipped to any worker, so it must not reach modules that load files
 * of this installation (jsroot's vendored modules), and has a source map beside it (`<file>.map`);
 * `runtime`: loaded on this machine only (the thread pool's worker, the fit pool's), so those modules are
 * imported from this installation by path and each file keeps its own `import.meta.url`; `command`: a
 * `runtime` build split at each dynamic `import()` into chunks in a folder (`file` is its `main.mjs`), so
 * a CLI loads the npm packages of a subcommand only when that subcommand runs.
 */
export type BundleKind = 'processor' | 'runtime' | 'command';

/** One build: the ESM code, its sha256, the file holding it and the sha256 of every input file's bytes. */
export interface Build {
  readonly code: string;
  readonly hash: string;
  readonly file: string;
  readonly inputs: Readonly<Record<string, string>>;
  /** Source map of a fresh `processor` build that could not be stored beside the file (read-only cache). */
  readonly map?: string;
}

/** Build `entry` now (esbuild), without the cache. */
export declare function buildFresh(
  entry: string,
  kind: BundleKind,
): Promise<{ code: string; inputs: Record<string, string>; files?: Record<string, string>; map?: string }>;

/** The cached build of `entry` when every input file still has the bytes it was built from. */
export declare function lookupBuild(entry: string, kind: BundleKind, dir?: string): Build | undefined;

/**
 * The build of `entry` from the cache, or built and stored now (`cached: false`).
 *
 * @example
 * ```ts
 * const b = await cachedBuild('/path/to/processor.ts', 'processor');
 * console.log(b.cached ? 'reused' : 'built', b.hash);
 * ```
 */
export declare function cachedBuild(entry: string, kind: BundleKind, dir?: string): Promise<Build & { cached: boolean }>;

/**
 * Remove cache entries no build refers to any more and not used for `graceMs` (default one hour; split
 * command builds `folderGraceMs`, default one day), and the manifests of builds whose entry file is gone. Runs by itself when a new build is stored (at most every
 * ten minutes); safe beside concurrent runs. Returns the removed names.
 *
 * @example
 * ```ts
 * console.log(pruneCache(bundleDir, { graceMs: 0 }));
 * ```
 */
export declare function pruneCache(dir?: string, opts?: { graceMs?: number; folderGraceMs?: number }): string[];

/** Run a TypeScript entry from its cached build, or through tsx when that is not possible. */
export declare function launch(entry: URL): Promise<void>;
