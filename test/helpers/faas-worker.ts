/**
 * Whether a process is a FaaS endpoint worker (Linux, from /proc): one runs either worker.ts through tsx
 * (its command line names src/faas/endpoint/worker.ts) or the cached plain-JS build of it, which the
 * agent starts with RISTRETTO_BUILT_WORKER=1 in its environment (src/faas/endpoint/pool.ts). Processes a
 * worker starts itself (esbuild's service) inherit that environment: callers look at the agent's children,
 * or drop marked processes whose parent is marked too.
 */
import { readFileSync } from 'node:fs';

export function isFaasWorkerProcess(pid: number): boolean {
  try {
    if (/endpoint\/worker\.ts/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8'))) return true;
    return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes('RISTRETTO_BUILT_WORKER=1');
  } catch {
    return false; // exited meanwhile
  }
}
