// @ts-check
/**
 * esbuild builds of processors and of Ristretto's own entry points (the CLIs, the thread pool's worker
 * runtime), kept on disk and reused while the bytes of every file that went into them are unchanged.
 *
 * Plain JavaScript on purpose: the command launchers in bin/ use it before any TypeScript loader exists,
 * which is the point (loading the CLI through tsx cost ~1.1 CPU-s per command; a cached build loads
 * in ~0.4). Types are in build-cache.d.mts.
 *
 * Layout under `dir` (default `bundleDir`, in the installing project — never inside the installed package,
 * which may be shared or read-only — where the bundles' npm imports resolve): `<sha256 of code>.mjs`, and `builds/<key>.json` per (entry, kind) listing the
 * sha256 of each input file's bytes exactly as esbuild read them (an onLoad hook reads every file, so a
 * file edited during a build cannot leave a stale entry behind). A lookup re-hashes a file only when its
 * stat (size, mtime, ctime, inode) differs from the one the manifest holds — re-hashing the CLI's ~170
 * inputs and its chunks cost 30-80 ms per command; any difference in bytes, a missing or corrupted code file,
 * another esbuild version or another build format means a new build.
 */
import { createHash } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Root of the Ristretto installation this module belongs to. */
export const ristrettoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The project that installed Ristretto: the folder holding the outermost `node_modules` above it, or Ristretto itself. */
export const projectRoot = (() => {
  const marker = `${sep}node_modules${sep}`;
  const at = ristrettoRoot.indexOf(marker);
  return at < 0 ? ristrettoRoot : ristrettoRoot.slice(0, at);
})();

/** Where bundles are written before import: the installing project's node_modules cache, so bare imports resolve. */
export const bundleDir = join(projectRoot, 'node_modules', '.cache', 'ristretto', 'bundles');

/** Bump when the build options below change what a build produces (old cache entries are then ignored). */
const FORMAT = 6;

/**
 * npm packages that declare `"sideEffects": false` and are expensive to load: esbuild is told so, and drops
 * an import of them that nothing in the bundle uses. `ristretto` re-exports `toArrow`/`fromArrow`, so every
 * processor bundle imported apache-arrow (0.4–0.6 s per thread, in each pool worker too) even when the
 * processor never converts a column to Arrow; a processor that does keeps the import.
 */
const PURE_PACKAGES = /^apache-arrow$/;

/**
 * npm packages that Ristretto's own builds (the CLIs, the worker runtime) carry inside rather than import
 * at run time: small packages every run loads (the Parquet decoder's parts, the I/O queue, the zstd
 * fallback, the xxhash wasm, the argument parser). Importing them from node_modules costs each thread a
 * module resolution (package.json exports, realpath) and an asynchronous file read per module, ~30 ms
 * of CPU in all; bundled, they are part of the one file (commander is CommonJS: its `require` of Node's
 * modules goes through the `require` the builds' banner makes). Everything else stays external: native
 * addons must load from disk, large packages loaded on demand keep their own files, and a processor's
 * bundle keeps every package external (it resolves in the user's project).
 */
const INLINE_PACKAGES = new Set([
  'hyparquet',
  'p-queue',
  'p-timeout',
  'eventemitter3',
  'fzstd',
  'xxhash-wasm',
  'commander',
]);

const REQUIRE_BANNER =
  "import { createRequire as __ristrettoRequire } from 'node:module'; const require = __ristrettoRequire(import.meta.url);";

/** The package a bare import specifier names (`@scope/name/sub` → `@scope/name`), or undefined. */
function packageOf(/** @type {string} */ spec) {
  if (/^(\.|\/|node:|#|[a-zA-Z]:[\\/])/.test(spec)) return undefined;
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/**
 * esbuild's output folder. Nothing is written there (`write: false`); it only names the outputs, and the
 * source map's `sources` are relative to it.
 */
const OUT_DIR = join(ristrettoRoot, 'node_modules', '.cache', 'ristretto', 'out');

/** @typedef {import('./build-cache.d.mts').BundleKind} BundleKind */

const sha256 = (/** @type {string | Buffer} */ data) => createHash('sha256').update(data).digest('hex');

/** The installed esbuild's version, without loading esbuild (a cache hit must not start its service). */
/** @type {string | undefined} */
let esbuildVersion;
function esbuildVer() {
  if (esbuildVersion === undefined) {
    // Where npm puts it (beside Ristretto, or hoisted to the project) before asking the resolver, which is slower.
    const candidates = [join(ristrettoRoot, 'node_modules'), join(projectRoot, 'node_modules')].map((d) =>
      join(d, 'esbuild', 'package.json'),
    );
    esbuildVersion = 'none';
    for (const f of candidates) {
      try {
        esbuildVersion = String(JSON.parse(readFileSync(f, 'utf8')).version);
        break;
      } catch {}
    }
    if (esbuildVersion === 'none')
      try {
        const req = createRequire(join(ristrettoRoot, 'package.json'));
        esbuildVersion = String(JSON.parse(readFileSync(req.resolve('esbuild/package.json'), 'utf8')).version);
      } catch {}
  }
  return esbuildVersion;
}

/** @type {Record<string, string> | undefined} */
let exportsMap;
/** @param {string} subpath */
function ristrettoExport(subpath) {
  exportsMap ??= JSON.parse(readFileSync(join(ristrettoRoot, 'package.json'), 'utf8')).exports;
  const target = exportsMap?.[subpath];
  return typeof target === 'string' ? resolve(ristrettoRoot, target) : undefined;
}

/** @type {Record<string, 'ts' | 'tsx' | 'js' | 'jsx' | 'json'>} */
const LOADERS = {
  '.ts': 'ts',
  '.mts': 'ts',
  '.cts': 'ts',
  '.tsx': 'tsx',
  '.js': 'js',
  '.mjs': 'js',
  '.cjs': 'js',
  '.jsx': 'jsx',
  '.json': 'json',
};

/**
 * Resolves `ristretto` and `ristretto/<subpath>` to this installation's sources (bundled in) and `#jsroot/*`
 * per `kind`; reads every file itself so that `inputs` holds the hash of exactly the bytes bundled. In a
 * `runtime` build each file's `import.meta.url` is its own source URL (the build runs on this machine only),
 * so modules that find files next to them keep working.
 * @param {'processor' | 'runtime'} kind
 * @param {Map<string, string>} inputs file → sha256, filled while building
 * @param {typeof import('esbuild')} esbuild
 * @returns {import('esbuild').Plugin}
 */
function ristrettoPlugin(kind, inputs, esbuild) {
  return {
    name: 'ristretto',
    setup(b) {
      b.onResolve({ filter: PURE_PACKAGES }, (args) => ({ path: args.path, external: true, sideEffects: false }));
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
      b.onLoad({ filter: /\.([mc]?[jt]sx?|json)$/ }, async (args) => {
        const loader = LOADERS[extname(args.path)];
        if (!loader) return undefined;
        const bytes = readFileSync(args.path);
        inputs.set(args.path, sha256(bytes));
        const text = bytes.toString('utf8');
        if (kind === 'runtime' && loader !== 'json' && text.includes('import.meta.url')) {
          // esbuild's define works on the syntax tree: strings that merely contain the words stay as they are.
          const out = await esbuild.transform(text, {
            loader,
            sourcefile: args.path,
            format: 'esm',
            define: { 'import.meta.url': JSON.stringify(pathToFileURL(args.path).href) },
          });
          return { contents: out.code, loader: 'js' };
        }
        return { contents: text, loader };
      });
    },
  };
}

/**
 * For Ristretto's own builds: npm packages stay external (imported from node_modules at run time) except
 * INLINE_PACKAGES, which are bundled in.
 * @returns {import('esbuild').Plugin}
 */
function inlineSomePackages() {
  return {
    name: 'ristretto-inline-packages',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (args) => {
        const pkg = packageOf(args.path);
        if (pkg === undefined || pkg === 'ristretto' || INLINE_PACKAGES.has(pkg)) return undefined;
        return { path: args.path, external: true };
      });
    },
  };
}

/**
 * Build `entry` with esbuild for Node 20; npm packages stay external. `processor` and `runtime` builds are
 * one ESM module (`code`); a `processor` build also has a source map (`map`, `sources` as absolute paths),
 * kept beside it so that an error in a user's process() can name the user's file and line. A `command`
 * build (a CLI, run on this machine only) is split at every dynamic `import()` into `files` (name → code,
 * entry `main.mjs`): a module imported only when needed (the FaaS client and its ws/ajv, the service's
 * SQLite) keeps its npm imports in its own chunk, which one module would hoist into every start.
 * @param {string} entry absolute path
 * @param {BundleKind} kind
 * @returns {Promise<{ code: string; inputs: Record<string, string>; files?: Record<string, string>; map?: string }>}
 */
export async function buildFresh(entry, kind) {
  // Imported here: a cache hit, workers and the single-executable endpoint never load esbuild.
  const esbuild = await import('esbuild');
  /** @type {Map<string, string>} */
  const inputs = new Map();
  const out = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    ...(kind === 'processor'
      ? { packages: 'external' }
      : // A `require` for the CommonJS packages bundled in (esbuild's ESM output calls it for Node's modules).
        { banner: { js: REQUIRE_BANNER } }),
    plugins: [
      ristrettoPlugin(kind === 'processor' ? 'processor' : 'runtime', inputs, esbuild),
      ...(kind === 'processor' ? [] : [inlineSomePackages()]),
    ],
    // Fixed working directory: the path comments esbuild writes (and therefore the hash) do not depend on the caller's cwd.
    absWorkingDir: ristrettoRoot,
    outdir: OUT_DIR,
    entryNames: 'main',
    chunkNames: 'chunk-[hash]',
    outExtension: { '.js': '.mjs' },
    splitting: kind === 'command',
    // External: the code (and its hash) stays the same whether or not a map is wanted, and workers never load it.
    sourcemap: kind === 'processor' ? 'external' : false,
    sourcesContent: false,
    // Classes keep their names when the bundle renames them to avoid clashes (`Hist`, not `_Hist`, in
    // console.dir, constructor.name and error messages).
    keepNames: true,
    logLevel: 'silent',
    metafile: true,
  });
  // Files esbuild loaded itself (an extension the hook does not take): hashed now.
  for (const f of Object.keys(out.metafile.inputs)) {
    const abs = resolve(ristrettoRoot, f);
    if (!inputs.has(abs)) inputs.set(abs, sha256(readFileSync(abs)));
  }
  inputs.set(join(ristrettoRoot, 'package.json'), sha256(readFileSync(join(ristrettoRoot, 'package.json'))));
  /** @type {Record<string, string>} */
  const files = {};
  /** @type {string | undefined} */
  let map;
  for (const f of out.outputFiles) {
    const name = relative(OUT_DIR, f.path);
    if (name.endsWith('.map')) {
      const m = JSON.parse(f.text);
      m.sources = m.sources.map((/** @type {string} */ s) => resolve(OUT_DIR, s));
      map = JSON.stringify(m);
    } else files[name] = f.text;
  }
  const code = files['main.mjs'];
  return {
    code,
    inputs: Object.fromEntries(inputs),
    ...(kind === 'command' ? { files } : {}),
    ...(map ? { map } : {}),
  };
}

/**
 * @param {string} entry
 * @param {BundleKind} kind
 */
const manifestName = (entry, kind) => `${sha256(`${FORMAT}\u0000${kind}\u0000${resolve(entry)}`)}.json`;

/** A split build's identity: the hash of its file names and their contents' hashes. */
const splitHash = (/** @type {Record<string, string>} */ fileHashes) =>
  sha256(
    Object.keys(fileHashes)
      .sort()
      .map((n) => `${n}\u0000${fileHashes[n]}`)
      .join('\u0000'),
  );

/** Mark a cache entry as used now, so that pruning leaves it alone for a while (best effort). */
function touch(/** @type {string} */ path) {
  try {
    const now = new Date();
    utimesSync(path, now, now);
  } catch {}
}

/**
 * Stats younger than this are not trusted: a file written again within the same timestamp tick (coarse on
 * Linux: a few ms) keeps its mtime, so a stat taken that close to a write could hide a later edit (git's
 * "racily clean" entries). Such files are hashed until a later lookup can record an older stat.
 */
const RACY_MS = 2000;

/**
 * A file's stat as a string, or '' when it is too fresh to vouch for the bytes (see RACY_MS). Taken
 * before the file is read, so an edit between the stat and the read only costs a re-hash next time.
 * @param {string} file
 */
function statKey(file) {
  const st = statSync(file);
  if (!(Date.now() - Math.max(st.mtimeMs, st.ctimeMs) > RACY_MS)) return '';
  return `${st.size}:${st.mtimeMs}:${st.ctimeMs}:${st.ino}`;
}

/**
 * True when `file` still has the bytes of sha256 `hash`: by its stat when `stats` holds the same one,
 * else by hashing it (and then its stat goes into `fresh`, for the manifest).
 * @param {string} file
 * @param {string} hash
 * @param {Record<string, unknown>} stats recorded stats
 * @param {Record<string, string>} fresh stats to record
 */
function unchanged(file, hash, stats, fresh) {
  const key = statKey(file);
  if (key && stats[file] === key) {
    fresh[file] = key;
    return true;
  }
  if (sha256(readFileSync(file)) !== hash) return false;
  if (key) fresh[file] = key;
  return true;
}

/**
 * The cached build of (entry, kind) if every input still has the bytes it was built from.
 * @param {string} entry
 * @param {BundleKind} kind
 * @param {string} [dir]
 * @returns {{ code: string; hash: string; file: string; inputs: Record<string, string> } | undefined}
 */
export function lookupBuild(entry, kind, dir = bundleDir) {
  let m;
  try {
    m = JSON.parse(readFileSync(join(dir, 'builds', manifestName(entry, kind)), 'utf8'));
  } catch {
    return undefined;
  }
  if (m?.format !== FORMAT || m.esbuild !== esbuildVer() || typeof m.hash !== 'string' || typeof m.inputs !== 'object')
    return undefined;
  /** @type {Record<string, unknown>} */
  const stats = m.stats && typeof m.stats === 'object' ? m.stats : {};
  /** @type {Record<string, string>} */
  const fresh = {};
  try {
    for (const [f, h] of Object.entries(m.inputs)) if (!unchanged(f, h, stats, fresh)) return undefined;
    /** @type {{ code: string; hash: string; file: string; inputs: Record<string, string> }} */
    let hit;
    if (kind === 'command') {
      if (!m.files || typeof m.files !== 'object' || splitHash(m.files) !== m.hash) return undefined;
      const base = join(dir, m.hash);
      for (const [name, h] of Object.entries(m.files))
        if (!unchanged(join(base, name), h, stats, fresh)) return undefined; // truncated or edited: rebuild
      const file = join(base, 'main.mjs');
      // read on demand: the launcher imports main.mjs by its path and never needs the text
      hit = {
        get code() {
          return readFileSync(file, 'utf8');
        },
        hash: m.hash,
        file,
        inputs: m.inputs,
      };
      touch(base);
    } else {
      const file = join(dir, `${m.hash}.mjs`);
      if (!unchanged(file, m.hash, stats, fresh)) return undefined; // truncated or edited: rebuild (and rewrite it)
      hit = { code: readFileSync(file, 'utf8'), hash: m.hash, file, inputs: m.inputs };
      touch(file);
    }
    // Files hashed this time (new stats) are recorded, so the next lookup only stats them. A concurrent
    // rebuild's manifest may be overwritten by this older one: its stats still only vouch for the bytes hashed.
    if (
      Object.keys(fresh).length !== Object.keys(stats).length ||
      Object.keys(fresh).some((f) => stats[f] !== fresh[f])
    )
      try {
        writeAtomic(join(dir, 'builds', manifestName(entry, kind)), JSON.stringify({ ...m, stats: fresh }));
      } catch {}
    return hit;
  } catch {
    return undefined; // an input is gone
  }
}

/**
 * Write `text` to `file` through a temporary file and a rename, so a concurrent reader sees all or nothing.
 * @param {string} file
 * @param {string} text
 */
function writeAtomic(file, text) {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

/**
 * Write a split build's files into `dir/<hash>/`, all or nothing: into a temporary folder renamed into
 * place. A folder already there with every file intact (another process stored the same build) is kept.
 * @param {string} dir
 * @param {string} hash
 * @param {Record<string, string>} files
 * @param {Record<string, string>} fileHashes
 */
function writeSplit(dir, hash, files, fileHashes) {
  const base = join(dir, hash);
  const intact = () => {
    try {
      return Object.entries(fileHashes).every(([n, h]) => sha256(readFileSync(join(base, n))) === h);
    } catch {
      return false;
    }
  };
  if (intact()) return;
  const tmp = `${base}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  mkdirSync(tmp, { recursive: true });
  for (const [n, text] of Object.entries(files)) writeFileSync(join(tmp, n), text);
  try {
    rmSync(base, { recursive: true, force: true }); // a damaged one (intact() said no)
    renameSync(tmp, base);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    if (!intact()) throw e; // else a concurrent writer put the same build there first
  }
}

/**
 * The build of `entry` from the cache, or built now and stored. `cached` tells which. A cache that cannot
 * be written (read-only installation) only costs the build next time. Storing a new build also prunes
 * the cache (see pruneCache), at most every few minutes.
 * @param {string} entry
 * @param {BundleKind} kind
 * @param {string} [dir]
 * @returns {Promise<{ code: string; hash: string; file: string; inputs: Record<string, string>; cached: boolean }>}
 */
export async function cachedBuild(entry, kind, dir = bundleDir) {
  const abs = resolve(entry);
  const hit = lookupBuild(abs, kind, dir);
  if (hit) return Object.assign(hit, { cached: true }); // not a spread: it would read a command's code
  const { code, inputs, files, map } = await buildFresh(abs, kind);
  /** @type {Record<string, string> | undefined} */
  const fileHashes = files ? Object.fromEntries(Object.entries(files).map(([n, t]) => [n, sha256(t)])) : undefined;
  const hash = fileHashes ? splitHash(fileHashes) : sha256(code);
  const file = files ? join(dir, hash, 'main.mjs') : join(dir, `${hash}.mjs`);
  let stored = false;
  try {
    if (files && fileHashes) writeSplit(dir, hash, files, fileHashes);
    else {
      let same = false;
      try {
        same = sha256(readFileSync(file)) === hash;
      } catch {}
      if (!same) writeAtomic(file, code);
      if (map) writeAtomic(`${file}.map`, map);
    }
    writeAtomic(
      join(dir, 'builds', manifestName(abs, kind)),
      JSON.stringify({
        format: FORMAT,
        esbuild: esbuildVer(),
        entry: abs,
        kind,
        hash,
        inputs,
        ...(fileHashes ? { files: fileHashes } : {}),
      }),
    );
    stored = true;
    maybePrune(dir);
  } catch {
    // not writable: the caller still has the code
  }
  // A map that could not be stored (read-only cache) goes to the caller, to keep in memory for error stacks.
  return { code, hash, file, inputs, cached: false, ...(map && !stored ? { map } : {}) };
}

/** Unused cache entries younger than this stay: a concurrent run may have looked one up a moment ago. */
const PRUNE_GRACE_MS = 60 * 60 * 1000;
/**
 * The same for a split command build: a long-running command (`ristretto faas service start`) imports
 * some of its chunks only when first needed, hours after it started.
 */
const PRUNE_FOLDER_GRACE_MS = 24 * 60 * 60 * 1000;
/** Prune at most this often per cache folder (a stamp file's mtime). */
const PRUNE_EVERY_MS = 10 * 60 * 1000;
/** Names pruning may remove: builds, maps, the fit pool's copies, temporaries of interrupted writers. */
const PRUNABLE = /^(?:fit-worker-)?[0-9a-f]{64}(?:\.mjs(?:\.map)?)?(?:\.\d+\.[0-9a-z]+\.tmp)?$/;

function maybePrune(/** @type {string} */ dir) {
  const stamp = join(dir, 'builds', '.pruned');
  try {
    if (Date.now() - lstatSync(stamp).mtimeMs < PRUNE_EVERY_MS) return;
  } catch {}
  writeFileSync(stamp, '');
  pruneCache(dir);
}

/**
 * Remove what no build refers to any more. A build's manifest goes when its entry file is gone (a
 * deleted processor, a test's temporary folder) or it has an older format; a code file, source map or
 * split build folder goes when no manifest names its hash and it was not written or used (lookups touch
 * it) for `graceMs`. Safe beside concurrent runs: every write is a rename of a complete file, a run that
 * holds a build in memory has touched it, and a bundle a worker finds missing is written again from the
 * code the run holds. A split command build (a folder) stays `folderGraceMs` after its last use.
 * Returns the names removed.
 * @param {string} [dir]
 * @param {{ graceMs?: number; folderGraceMs?: number }} [opts]
 * @returns {string[]}
 */
export function pruneCache(dir = bundleDir, { graceMs = PRUNE_GRACE_MS, folderGraceMs = PRUNE_FOLDER_GRACE_MS } = {}) {
  const now = Date.now();
  /** @type {string[]} */
  const removed = [];
  const removeIfOld = (/** @type {string} */ path) => {
    try {
      const st = lstatSync(path);
      if (now - st.mtimeMs < (st.isDirectory() && !path.endsWith('.tmp') ? folderGraceMs : graceMs)) return;
      rmSync(path, { recursive: true, force: true });
      removed.push(relative(dir, path));
    } catch {}
  };
  /** @type {Set<string>} */
  const used = new Set();
  let manifests = [];
  try {
    manifests = readdirSync(join(dir, 'builds'));
  } catch {}
  for (const n of manifests) {
    const path = join(dir, 'builds', n);
    if (n.endsWith('.tmp')) {
      removeIfOld(path);
      continue;
    }
    if (!n.endsWith('.json')) continue;
    let m;
    try {
      m = JSON.parse(readFileSync(path, 'utf8'));
    } catch {
      continue; // written by rename, so unreadable means it went away meanwhile
    }
    if (m?.format !== FORMAT || typeof m.entry !== 'string' || !existsSync(m.entry)) {
      removeIfOld(path);
      continue;
    }
    if (typeof m.hash === 'string') used.add(m.hash);
  }
  let names = [];
  try {
    names = readdirSync(dir);
  } catch {}
  for (const n of names) {
    if (!PRUNABLE.test(n)) continue;
    const hash = /** @type {RegExpMatchArray} */ (n.match(/[0-9a-f]{64}/))[0];
    if (n.endsWith('.tmp') || !used.has(hash)) removeIfOld(join(dir, n));
  }
  return removed;
}

/**
 * Run a command's TypeScript entry (bin/ launchers): from its cached build when possible, otherwise through
 * tsx (no esbuild, a cache folder that cannot be written, or `RISTRETTO_TSX=1` to run the sources as they
 * are, e.g. for stack traces with TypeScript line numbers).
 * @param {URL} entry
 */
export async function launch(entry) {
  let url;
  if (!process.env.RISTRETTO_TSX || process.env.RISTRETTO_TSX === '0') {
    try {
      const built = await cachedBuild(fileURLToPath(entry), 'command');
      if (existsSync(built.file)) url = pathToFileURL(built.file); // else not writable: run the sources
    } catch {
      url = undefined;
    }
  }
  if (url) {
    try {
      await import(url.href);
      return;
    } catch (e) {
      // Not found while linking (nothing of the command ran yet): run the sources instead. Anything else
      // is the command's own failure (main() catches and reports its errors, so this is rare).
      const code = /** @type {{ code?: unknown }} */ (e)?.code;
      if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'ERR_PACKAGE_PATH_NOT_EXPORTED') throw e;
    }
  }
  const { register } = await import('tsx/esm/api');
  register();
  await import(entry.href);
}
