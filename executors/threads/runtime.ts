/**
 * The worker runtime as one plain-JS file: esbuild bundles worker-main.ts and the Ristretto modules it
 * uses (npm packages stay external), so a new worker loads a single module instead of compiling every
 * TypeScript file through tsx. Built once per process, content-addressed under `bundleDir`. When
 * esbuild is unavailable the tsx-registering `worker.mjs` is used instead.
 */
import { createHash } from 'node:crypto';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bundleDir, bundleESM, writeContentAddressed } from '../../src/processor/bundle.ts';

const ENTRY = fileURLToPath(new URL('./worker-main.ts', import.meta.url));
const FALLBACK = new URL('./worker.mjs', import.meta.url);

let runtime: Promise<URL> | undefined;

/** URL of the worker entry module (bundled runtime, or the tsx fallback). */
export function workerRuntime(): Promise<URL> {
  runtime ??= buildRuntime().catch(() => FALLBACK);
  return runtime;
}

async function buildRuntime(): Promise<URL> {
  const code = await bundleESM(ENTRY, 'runtime');
  const hash = createHash('sha256').update(code).digest('hex');
  return pathToFileURL(await writeContentAddressed(bundleDir, `worker-${hash}.mjs`, code));
}
