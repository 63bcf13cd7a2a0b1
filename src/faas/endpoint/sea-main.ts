/**
 * Entry of the single-executable endpoint (`npm run build:endpoint` → dist/ristretto-endpoint): the
 * agent and, started again by it with RISTRETTO_SEA_ROLE=worker, its workers, with Node built in.
 *
 *     RISTRETTO_TOKEN=... ./ristretto-endpoint start --service URL --name NAME [--workers K]
 *         [--concurrency C] [--cache-dir DIR] [--token-file FILE]
 *
 * Functions arrive through the function cache as before; the Ristretto chunk function still needs a
 * Ristretto installation (RISTRETTO_HOME) on the machine, plain functions do not.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { RistrettoError } from '../../errors/index.ts';
import { SEA_ROLE_ENV } from './sea-role.ts';

// ws would try to require its optional native add-ons, which an embedded script cannot load (a warning).
process.env.WS_NO_BUFFER_UTIL ??= '1';
process.env.WS_NO_UTF_8_VALIDATE ??= '1';

const USAGE =
  'usage: ristretto-endpoint start --service URL --name NAME [--workers K] [--concurrency C] [--cache-dir DIR] [--token-file FILE]';

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
    },
  });
  if (positionals[0] !== 'start' || !values.service || !values.name) throw new RistrettoError(USAGE);
  const { resolveToken } = await import('../token.ts');
  const { EndpointAgent } = await import('./agent.ts');
  const { defaultCacheDir } = await import('./function-cache.ts');
  const a = new EndpointAgent({
    serviceUrl: values.service,
    token: resolveToken(values['token-file'] ? { tokenFile: values['token-file'] } : {}),
    name: values.name,
    workers: Number(values.workers),
    concurrency: Number(values.concurrency),
    cacheDir: resolve(values['cache-dir'] ?? defaultCacheDir()),
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
