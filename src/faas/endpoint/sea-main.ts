/**
 * Entry of the single-executable endpoint (`npm run build:endpoint` → dist/ristretto-endpoint): the
 * agent and, started again by it with RISTRETTO_SEA_ROLE=worker, its workers, with Node built in.
 *
 *     RISTRETTO_TOKEN=... ./ristretto-endpoint start --service URL --name NAME [--workers K]
 *         [--concurrency C] [--cache-dir DIR] [--token-file FILE] [--tag T ...] [--local-path P ...]
 *         [--provider slurm|local --partition P --account A --walltime HH:MM:SS --min-blocks N
 *          --init-blocks N --max-blocks N --workers-per-block W --cores-per-worker C
 *          --idle-timeout S --worker-init CMDS --sbatch-option OPT ... --block-dir DIR
 *          --agent-address HOST --listen-port PORT]
 *
 * The provider options mean what they mean for `ristretto faas endpoint start` (one shared module,
 * providers/block-options.ts); block workers run this same executable (`env RISTRETTO_SEA_ROLE=worker
 * ristretto-endpoint`), so compute nodes need the file at the same path, and no Node.
 * Functions arrive through the function cache as before. The executable's entry is
 * executors/faas/sea-entry.ts, which adds the worker side of the Ristretto chunk function (ROOT and
 * Parquet reading, processor bundles kept under `<cache-dir>/bundles`), so `run-analysis --executor
 * faas` needs no Ristretto installation on the machine either.
 */
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { RistrettoError } from '../../errors/index.ts';
import { SEA_ROLE_ENV } from './sea-role.ts';

// ws would try to require its optional native add-ons, which an embedded script cannot load (a warning).
process.env.WS_NO_BUFFER_UTIL ??= '1';
process.env.WS_NO_UTF_8_VALIDATE ??= '1';

const USAGE =
  'usage: ristretto-endpoint start --service URL --name NAME [--workers K] [--concurrency C] [--cache-dir DIR] [--token-file FILE] [--tag T] [--local-path P] [--provider slurm|local [--partition P] [--account A] [--walltime HH:MM:SS] [--min-blocks N] [--init-blocks N] [--max-blocks N] [--workers-per-block W] [--cores-per-worker C] [--idle-timeout S] [--worker-init CMDS] [--sbatch-option OPT] [--block-dir DIR] [--agent-address HOST] [--listen-port PORT]]';

/** An integer option ≥ min, or a RistrettoError naming it. */
function int(name: string, v: string | undefined, dflt: number, min: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!/^\s*\d+\s*$/.test(v) || !Number.isInteger(n) || n < min)
    throw new RistrettoError(`--${name} must be an integer >= ${min}, got "${v}"`);
  return n;
}

async function agent(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      service: { type: 'string' },
      name: { type: 'string' },
      workers: { type: 'string', default: '1' },
      concurrency: { type: 'string', default: '1' },
      'cache-dir': { type: 'string' },
      'token-file': { type: 'string' },
      tag: { type: 'string', multiple: true },
      'local-path': { type: 'string', multiple: true },
      provider: { type: 'string' },
      partition: { type: 'string' },
      account: { type: 'string' },
      walltime: { type: 'string' },
      'sbatch-option': { type: 'string', multiple: true },
      'min-blocks': { type: 'string' },
      'init-blocks': { type: 'string' },
      'max-blocks': { type: 'string' },
      'workers-per-block': { type: 'string' },
      'cores-per-worker': { type: 'string' },
      'idle-timeout': { type: 'string' },
      'worker-init': { type: 'string' },
      'block-dir': { type: 'string' },
      'agent-address': { type: 'string' },
      'listen-port': { type: 'string' },
    },
  });
  if (positionals[0] !== 'start' || !values.service || !values.name) throw new RistrettoError(USAGE);
  const { resolveToken } = await import('../token.ts');
  const { EndpointAgent } = await import('./agent.ts');
  const { defaultCacheDir } = await import('./function-cache.ts');
  const { checkLocalPaths, checkTags } = await import('../capabilities.ts');
  const { blockOptions } = await import('./providers/block-options.ts');
  const tags = checkTags(values.tag ?? []);
  const localPaths = checkLocalPaths(values['local-path'] ?? []);
  const cacheDir = resolve(values['cache-dir'] ?? defaultCacheDir());
  // The workers (forked or block) write processor bundles beside the function cache.
  process.env.RISTRETTO_BUNDLE_DIR ??= join(cacheDir, 'bundles');
  const idle = values['idle-timeout'] === undefined ? 120 : Number(values['idle-timeout']);
  // Checked before attaching: a missing sbatch or an unknown partition is an error now.
  const blocks = await blockOptions(
    {
      name: values.name,
      ...(values.provider !== undefined ? { provider: values.provider as 'local' | 'slurm' } : {}),
      ...(values.partition !== undefined ? { partition: values.partition } : {}),
      ...(values.account !== undefined ? { account: values.account } : {}),
      ...(values.walltime !== undefined ? { walltime: values.walltime } : {}),
      ...(values['sbatch-option'] !== undefined ? { sbatchOption: values['sbatch-option'] } : {}),
      minBlocks: int('min-blocks', values['min-blocks'], 0, 0),
      ...(values['init-blocks'] !== undefined ? { initBlocks: int('init-blocks', values['init-blocks'], 0, 0) } : {}),
      maxBlocks: int('max-blocks', values['max-blocks'], 1, 1),
      workersPerBlock: int('workers-per-block', values['workers-per-block'], 1, 1),
      coresPerWorker: int('cores-per-worker', values['cores-per-worker'], 1, 1),
      idleTimeout: idle,
      ...(values['worker-init'] !== undefined ? { workerInit: values['worker-init'] } : {}),
      ...(values['block-dir'] !== undefined ? { blockDir: values['block-dir'] } : {}),
      ...(values['agent-address'] !== undefined ? { agentAddress: values['agent-address'] } : {}),
      ...(values['listen-port'] !== undefined ? { listenPort: int('listen-port', values['listen-port'], 0, 1) } : {}),
    },
    cacheDir,
  );
  const a = new EndpointAgent({
    serviceUrl: values.service,
    token: resolveToken(values['token-file'] ? { tokenFile: values['token-file'] } : {}),
    name: values.name,
    workers: int('workers', values.workers, 1, 1),
    concurrency: int('concurrency', values.concurrency, 1, 1),
    cacheDir,
    ...(tags.length ? { tags } : {}),
    ...(localPaths.length ? { localPaths } : {}),
    ...(blocks ? { blocks } : {}),
    onAttached: (id) => process.stdout.write(`endpoint ${values.name} attached id=${id}\n`),
  });
  const stop = async () => {
    await a.stop();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await a.start();
}

if (process.env[SEA_ROLE_ENV] === 'worker') {
  void import('./worker.ts');
} else {
  agent().catch((e: unknown) => {
    process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
