/**
 * The one generic FaaS function every analysis uses: "process a chunk". Its module is a small, fixed
 * shim, so it registers once per user (the service deduplicates by content hash) and endpoints cache it.
 *
 * The shim does not carry Ristretto inside it. Like the coffea function of the funcX paper, it imports
 * the analysis framework installed at the endpoint (the endpoint agent runs from a Ristretto checkout
 * or package): it finds that installation from `RISTRETTO_HOME`, or else by walking up from the worker
 * process's entry script, and calls `executors/faas/remote/run-task.ts` there. The single-executable
 * endpoint carries that module itself and offers it as `globalThis[Symbol.for(BUILT_IN_RUN_TASK)]`,
 * which the shim prefers (no installation needed there). Client and endpoint must
 * agree on the message revision (`CHUNK_WIRE_VERSION`); a mismatch comes back as a clear error.
 */

import { IMPORT_SOURCE } from '../../src/faas/endpoint/sea-role.ts';

/** Path of the worker-side module inside a Ristretto installation. */
export const REMOTE_MODULE = 'executors/faas/remote/run-task.ts';

/** Symbol key (`Symbol.for`) under which an endpoint that carries run-task.ts offers its `runTask`. */
export const BUILT_IN_RUN_TASK = 'ristretto.runTask';

/** Name under which the function is registered. */
export const CHUNK_FUNCTION_NAME = 'ristretto-process-chunk';

/** The module source registered with the service (stable text, hence a stable function id). */
export const CHUNK_FUNCTION_SOURCE = `// Ristretto: process one work item on this endpoint (see executors/faas/function.ts).
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const REMOTE = ${JSON.stringify(REMOTE_MODULE)};
let remote;

function locate() {
  const home = process.env.RISTRETTO_HOME;
  if (home) {
    if (existsSync(join(home, REMOTE))) return join(home, REMOTE);
    throw new Error('RISTRETTO_HOME=' + home + ' has no ' + REMOTE + '; point it at a Ristretto installation');
  }
  for (let dir = dirname(resolve(process.argv[1] || '.')); ; dir = dirname(dir)) {
    if (existsSync(join(dir, REMOTE))) return join(dir, REMOTE);
    if (dirname(dir) === dir) break;
  }
  throw new Error('no Ristretto installation found above ' + process.argv[1] + '; set RISTRETTO_HOME for the endpoint');
}

export default async function ristrettoProcessChunk(args, ctx) {
  // The single-executable endpoint has run-task.ts built in.
  const builtIn = globalThis[Symbol.for(${JSON.stringify(BUILT_IN_RUN_TASK)})];
  if (typeof builtIn === 'function') return builtIn(args, ctx);
  // A worker without a TypeScript loader builds the module instead (src/faas/endpoint/sea-role.ts).
  const viaBuild = globalThis[Symbol.for(${JSON.stringify(IMPORT_SOURCE)})];
  remote ??= (typeof viaBuild === 'function' ? viaBuild(locate()) : import(pathToFileURL(locate()).href)).catch((e) => {
    remote = undefined;
    throw e;
  });
  return (await remote).runTask(args, ctx);
}
`;
