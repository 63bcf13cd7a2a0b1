/**
 * The block settings of `endpoint start --provider ...`, checked and turned into BlockOptions: shared
 * by the `ristretto faas endpoint start` CLI and the single-executable endpoint (sea-main.ts), so both
 * accept the same options and give the same errors.
 *
 * @example
 * ```ts
 * import { blockOptions } from './block-options.ts';
 * // undefined without a provider: the endpoint forks --workers processes as before.
 * console.log(await blockOptions({ name: 'hpc', minBlocks: 0, maxBlocks: 1, workersPerBlock: 1, coresPerWorker: 1, idleTimeout: 120 }, '/tmp/cache'));
 * ```
 */
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { RistrettoError } from '../../../errors/index.ts';
import type { BlockOptions } from '../blocks.ts';

/** The providers an endpoint can get blocks from. */
export const PROVIDER_NAMES = ['local', 'slurm'] as const;

export interface BlockCliOptions {
  /** Endpoint name (names the jobs and the default block folder). */
  name: string;
  provider?: 'local' | 'slurm';
  partition?: string;
  account?: string;
  walltime?: string;
  sbatchOption?: string[];
  minBlocks: number;
  initBlocks?: number;
  maxBlocks: number;
  workersPerBlock: number;
  coresPerWorker: number;
  /** Seconds. */
  idleTimeout: number;
  workerInit?: string;
  blockDir?: string;
  agentAddress?: string;
  listenPort?: number;
}

/** Block settings with the provider checked (`sbatch` present, partition known); undefined without --provider. */
export async function blockOptions(
  o: BlockCliOptions,
  cacheDir: string,
): Promise<Omit<BlockOptions, 'workerCommand'> | undefined> {
  const slurmOnly = (['partition', 'account', 'walltime', 'sbatchOption'] as const).filter((k) => o[k] !== undefined);
  if (o.provider !== 'slurm' && slurmOnly.length) {
    throw new RistrettoError(
      `--${slurmOnly[0].replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} needs --provider slurm`,
      { endpoint: o.name },
    );
  }
  if (o.provider !== undefined && !(PROVIDER_NAMES as readonly string[]).includes(o.provider)) {
    throw new RistrettoError(
      `--provider must be one of ${PROVIDER_NAMES.join(', ')}, got "${String(o.provider).slice(0, 100)}"`,
      { endpoint: o.name },
    );
  }
  if (!o.provider) return undefined;
  if (!(o.idleTimeout >= 0))
    throw new RistrettoError(`--idle-timeout must be a number of seconds >= 0, got ${o.idleTimeout}`);
  if (o.minBlocks > o.maxBlocks)
    throw new RistrettoError(`--min-blocks (${o.minBlocks}) exceeds --max-blocks (${o.maxBlocks})`, {
      endpoint: o.name,
    });
  let provider;
  if (o.provider === 'slurm') {
    const { SlurmProvider } = await import('./slurm.ts');
    provider = new SlurmProvider({
      endpoint: o.name,
      coresPerWorker: o.coresPerWorker,
      ...(o.partition ? { partition: o.partition } : {}),
      ...(o.account ? { account: o.account } : {}),
      ...(o.walltime ? { walltime: o.walltime } : {}),
      ...(o.sbatchOption ? { sbatchOptions: o.sbatchOption } : {}),
    });
  } else {
    const { LocalProvider } = await import('./local.ts');
    provider = new LocalProvider();
  }
  await provider.check();
  return {
    provider,
    workersPerBlock: o.workersPerBlock,
    minBlocks: o.minBlocks,
    maxBlocks: o.maxBlocks,
    ...(o.initBlocks !== undefined ? { initBlocks: o.initBlocks } : {}),
    idleTimeoutMs: Math.round(o.idleTimeout * 1000),
    ...(o.workerInit ? { workerInit: o.workerInit } : {}),
    dir: resolve(o.blockDir ?? join(dirname(cacheDir), 'endpoints', o.name)),
    agentHost: o.agentAddress ?? (o.provider === 'local' ? '127.0.0.1' : hostname()),
    ...(o.listenPort ? { listenPort: o.listenPort } : {}),
    ...(o.provider === 'local' ? { listenHost: '127.0.0.1' } : {}),
  };
}
