/** Errors of the thread-pool executor. Each names the option or the build involved and says what to do. */
import { RistrettoError } from '../../src/errors/index.ts';

/**
 * A `ThreadsExecutor` option is out of range; the message names the option and the value given.
 *
 * @example
 * ```ts
 * try {
 *   new ThreadsExecutor({ workers: 0 });
 * } catch (e) {
 *   if (e instanceof ThreadsOptionError) console.error(e.message); // "workers must be a positive integer, got 0 — ..."
 * }
 * ```
 */
export class ThreadsOptionError extends RistrettoError {}

/**
 * The bundled worker runtime could not be stored in the build cache (a read-only folder): the pool then
 * starts its workers from the TypeScript sources through tsx instead, which this error is caught for.
 */
export class WorkerRuntimeError extends RistrettoError {}
