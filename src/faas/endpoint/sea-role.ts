/** Environment variable that makes the single-executable endpoint run as a worker (set by the pool). */
export const SEA_ROLE_ENV = 'RISTRETTO_SEA_ROLE';
/** Environment variable set (to "1") for workers started from the built worker entry (pool.ts). */
export const BUILT_WORKER_ENV = 'RISTRETTO_BUILT_WORKER';
/**
 * Symbol key (`Symbol.for`) under which a worker without a TypeScript loader offers
 * `(file: string) => Promise<module>`: imports a TypeScript module of this installation through a
 * cached esbuild build (worker.ts). Functions that import such a module (the Ristretto chunk
 * function's shim) use it when present.
 */
export const IMPORT_SOURCE = 'ristretto.importSource';
