/**
 * The worker runtime as one plain-JS file: esbuild bundles worker-main.ts and the Ristretto modules it
 * uses (npm packages stay external), so a new worker loads a single module instead of compiling every
 * TypeScript file through tsx. Built once and kept under `bundleDir` while its sources are unchanged
 * (build-cache.mjs), so a run normally starts no esbuild for it. When esbuild is unavailable the
 * tsx-registering `worker.mjs` is used instead.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cachedBuild } from '../../src/processor/build-cache.mjs';
import { WorkerRuntimeError } from './errors.ts';
import { prestartedRuntime } from './prestart.mjs';

const ENTRY = fileURLToPath(new URL('./worker-main.ts', import.meta.url));
const FALLBACK = new URL('./worker.mjs', import.meta.url);

let runtime: Promise<URL> | undefined;

/** URL of the worker entry module (bundled runtime, or the tsx fallback). */
export function workerRuntime(): Promise<URL> {
  // The launcher already looked the build up to start workers early: no second lookup (it hashes every input).
  const early = prestartedRuntime();
  if (early) runtime ??= Promise.resolve(early);
  runtime ??= buildRuntime().catch(() => FALLBACK);
  return runtime;
}

async function buildRuntime(): Promise<URL> {
  const built = await cachedBuild(ENTRY, 'runtime');
  // A cache folder that cannot be written holds no file to start workers from: the tsx fallback then.
  if (!existsSync(built.file))
    throw new WorkerRuntimeError(
      `the worker runtime could not be stored as ${built.file}`,
      { file: built.file },
      'make the cache folder writable to start workers without tsx',
    );
  return pathToFileURL(built.file);
}
