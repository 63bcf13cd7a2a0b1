// Entry of the sync-read helper thread (see sync-read.ts). Registers tsx inside this thread (loader hooks
// are per thread in Node 20, as in executors/threads/worker.mjs) and starts serving. A helper that cannot
// start says so through the shared counter, so the thread blocked on its first read wakes up with the error.
import { workerData } from 'node:worker_threads';

const { port, flag } = workerData;
try {
  const { register } = await import('tsx/esm/api');
  register();
  const { serve } = await import('./sync-read-helper.ts');
  serve(port, flag);
} catch (e) {
  port.postMessage({
    type: 'fatal',
    error: {
      name: 'SyncReadHelperError',
      message: `the sync-read helper thread could not start: ${e && e.message ? e.message : String(e)}`,
      stack: e && e.stack,
    },
  });
  Atomics.add(flag, 0, 1);
  Atomics.notify(flag, 0);
}
