/**
 * Entry of the single-executable endpoint (scripts/build-endpoint.mjs): src/faas/endpoint/sea-main.ts
 * (agent, and worker under RISTRETTO_SEA_ROLE=worker) plus the worker side of the Ristretto chunk
 * function, so `run-analysis --executor faas` runs on a machine with neither Node nor Ristretto.
 * It lives in executors/ because it composes the FaaS executor's remote half with the endpoint
 * (src/ never imports executors/).
 */
import { join } from 'node:path';
import { provideSeaPackages } from '../../src/faas/endpoint/import-module.ts';
import { SEA_ROLE_ENV } from '../../src/faas/endpoint/sea-role.ts';
import { BUILT_IN_RUN_TASK } from './function.ts';

if (process.env[SEA_ROLE_ENV] === 'worker') {
  // The chunk function's shim (function.ts) calls this instead of looking for an installation;
  // run-task.ts and the readers load on the first chunk task, not for plain functions.
  (globalThis as Record<symbol, unknown>)[Symbol.for(BUILT_IN_RUN_TASK)] = async (args: never, ctx: never) => {
    // The agent sets it to <cache-dir>/bundles; a worker started some other way uses the default cache.
    process.env.RISTRETTO_BUNDLE_DIR ||= join(
      (await import('../../src/faas/endpoint/function-cache.ts')).defaultCacheDir(),
      'bundles',
    );
    return (await import('./remote/run-task.ts')).runTask(args, ctx);
  };
  // Processor bundles import apache-arrow by name (src/columnar/arrow.ts); the executable has no
  // node_modules, so it lends its own copy (import-module.ts).
  provideSeaPackages({ 'apache-arrow': () => import('apache-arrow') });
}
// After the hook is in place: sea-main starts the agent or the worker.
void import('../../src/faas/endpoint/sea-main.ts');
