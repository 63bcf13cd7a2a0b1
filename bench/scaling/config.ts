/** The JSON description of a scaling study, checked up front (messages name the field). */
import { readFileSync } from 'node:fs';
import { RistrettoError } from '../../src/errors/index.ts';

/** Sleep-padded chunks (measure scaling on any machine) or CPU-bound chunks of a real processor (measure overhead). */
export type ChunkSpec =
  | {
      kind: 'sleep';
      /** Sleep per chunk, ms. */
      sleepMs: number;
      /** Chunks per analysis. */
      perAnalysis: number;
      /** Events per chunk (read from the shared Run2012B file). */
      eventsPerChunk: number;
    }
  | {
      kind: 'cpu';
      /** Processor path, relative to the repository. */
      processor: string;
      /** Input files, relative to the repository (e.g. ../shared/data/...). */
      files: string[];
      chunksize: number;
      /** Times the file list is repeated per analysis (as separate datasets). */
      copies: number;
    };

export interface StudyConfig {
  name: string;
  description?: string;
  executors: Array<'threads' | 'faas'>;
  chunks: ChunkSpec;
  /** Strong scaling: fixed work, total workers varied; `concurrent` analyses share them. */
  strong?: { workers: number[]; concurrent?: number[] };
  /** Weak scaling: `concurrent` analyses, each with `workersPerAnalysis` workers (total grows with them). */
  weak?: { concurrent: number[]; workersPerAnalysis: number };
  /** FaaS endpoints the workers are split across. */
  endpoints: number;
  /**
   * Where each endpoint gets its workers (default all `local`: forked processes): `slurm` makes that
   * endpoint hold one warm Slurm block (`--provider slurm --min-blocks 1 --max-blocks 1`) whose worker
   * runs the endpoint's slots. Needs a running Slurm (scripts/ci/setup-slurm.sh).
   */
  providers?: Array<'local' | 'slurm'>;
  repeats: number;
  /** Output folder (default bench/scaling/out, gitignored). */
  out?: string;
  /** FaaS tail timeout, seconds (default: the executor's k x median rule). */
  tailTimeout?: number;
}

export class StudyConfigError extends RistrettoError {}

const ints = (v: unknown) => Array.isArray(v) && v.length > 0 && v.every((x) => Number.isInteger(x) && x >= 1);

export function readStudyConfig(file: string): StudyConfig {
  let c: StudyConfig;
  try {
    c = JSON.parse(readFileSync(file, 'utf8')) as StudyConfig;
  } catch (e) {
    throw new StudyConfigError(
      `cannot read study config ${file}: ${(e as Error).message}`,
      { file },
      'see bench/scaling/quick.json',
    );
  }
  const bad = (field: string, what: string) =>
    new StudyConfigError(`${file}: ${field} must be ${what}`, { file, field }, 'see bench/scaling/quick.json');
  if (typeof c.name !== 'string' || !/^[\w.-]+$/.test(c.name))
    throw bad('name', 'a word (letters, digits, ".", "_", "-")');
  if (
    !Array.isArray(c.executors) ||
    c.executors.length === 0 ||
    c.executors.some((e) => e !== 'threads' && e !== 'faas')
  )
    throw bad('executors', 'a non-empty list of "threads" and "faas"');
  const k = c.chunks;
  if (k?.kind === 'sleep') {
    if (
      !(k.sleepMs >= 0) ||
      !Number.isInteger(k.perAnalysis) ||
      k.perAnalysis < 1 ||
      !Number.isInteger(k.eventsPerChunk) ||
      k.eventsPerChunk < 1
    ) {
      throw bad('chunks', '{kind:"sleep", sleepMs ≥ 0, perAnalysis ≥ 1, eventsPerChunk ≥ 1}');
    }
  } else if (k?.kind === 'cpu') {
    if (
      typeof k.processor !== 'string' ||
      !Array.isArray(k.files) ||
      k.files.length === 0 ||
      !(k.chunksize >= 1) ||
      !Number.isInteger(k.copies) ||
      k.copies < 1
    ) {
      throw bad('chunks', '{kind:"cpu", processor, files:[...], chunksize ≥ 1, copies ≥ 1}');
    }
  } else throw bad('chunks.kind', '"sleep" or "cpu"');
  if (!c.strong && !c.weak) throw bad('strong/weak', 'present (at least one of them)');
  if (c.strong && (!ints(c.strong.workers) || (c.strong.concurrent !== undefined && !ints(c.strong.concurrent))))
    throw bad('strong', '{workers: [n, ...], concurrent?: [k, ...]} of positive integers');
  if (
    c.weak &&
    (!ints(c.weak.concurrent) || !Number.isInteger(c.weak.workersPerAnalysis) || c.weak.workersPerAnalysis < 1)
  )
    throw bad('weak', '{concurrent: [k, ...], workersPerAnalysis: n} of positive integers');
  if (!Number.isInteger(c.endpoints) || c.endpoints < 1) throw bad('endpoints', 'a positive integer');
  if (!Number.isInteger(c.repeats) || c.repeats < 1) throw bad('repeats', 'a positive integer');
  if (
    c.providers !== undefined &&
    (!Array.isArray(c.providers) ||
      c.providers.length !== c.endpoints ||
      c.providers.some((p) => p !== 'local' && p !== 'slurm'))
  ) {
    throw bad('providers', `a list of ${c.endpoints} entries "local" or "slurm" (one per endpoint)`);
  }
  return c;
}
