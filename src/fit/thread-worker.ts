/**
 * Entry of a fit worker thread: answers `{ id, args }` messages with `{ id, reply }` by running the
 * fit task module (task.ts). Bundled with its imports into one file (pool.ts), so a thread starts
 * without compiling TypeScript.
 */
import { parentPort } from 'node:worker_threads';
import { internalError } from '../errors/index.ts';
import runFitTask, { type FitTaskArgs } from './task.ts';

if (!parentPort) throw internalError('the fit thread entry was run outside a worker thread');
const port = parentPort;
port.on('message', (m: { id: number; args: FitTaskArgs }) => {
  let reply;
  try {
    reply = runFitTask(m.args);
  } catch (e) {
    // runFitTask catches model and patch errors itself; this is a bug or an out-of-memory.
    reply = { kind: 'bad-request', message: e instanceof Error ? e.message : String(e) };
  }
  port.postMessage({ id: m.id, reply });
});
