/**
 * The `--executor faas` option group of run-analysis, kept here so the runner's CLI needs only a hook:
 *
 *   run-analysis DATASET PROCESSOR --executor faas --service URL --endpoints A,B [--tail-timeout S]
 *                [--endpoint-policy data-local|fastest|cheapest]
 *                [--stageout DIR|URL] [--stageout-threshold BYTES] [--faas-config FILE]
 *
 * The token comes from RISTRETTO_TOKEN or ~/.config/ristretto/token, never from the command line.
 * `--faas-config` is a JSON file with the less common options (see FAAS_CONFIG_KEYS), e.g. the
 * per-endpoint path mapping `{"pathMap": {"site-a": {"/mnt/data/": "/hadoop/store/"}}}`.
 */
import { readFileSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { checkEndpointPolicy, ENDPOINT_POLICIES, type EndpointPolicy } from '../../src/faas/endpoint-policy.ts';
import type { ProgressReporter } from '../../src/runner/progress.ts';
import type { RunMetrics } from '../../src/runner/metrics.ts';
// Types only: the executor (ws, ajv, esbuild) loads when --executor faas is chosen, not with every run-analysis.
import type { FaasExecutor, FaasExecutorOptions } from './executor.ts';
import { FaasOptionError } from './errors.ts';
import { faasProgress, faasSummary } from './progress.ts';

/** Keys accepted in the --faas-config JSON file. */
export const FAAS_CONFIG_KEYS = [
  'pathMap',
  'stageoutThreshold',
  'stragglerFactor',
  'minStraggler',
  'maxCopies',
  'slowFactor',
  'probeSeconds',
  'ahead',
  'pollSeconds',
  'offlineGraceSeconds',
  'servicePatienceSeconds',
  'connectTimeoutSeconds',
  'maxMoves',
  'maxAttempts',
  'tokenFile',
] as const;

/** Values of the option group as commander parses them. */
export interface FaasCliValues {
  executor?: string;
  service?: string;
  endpoints?: string[];
  endpointPolicy?: EndpointPolicy;
  tailTimeout?: number;
  stageout?: string;
  stageoutThreshold?: number;
  faasConfig?: string;
  tokenFile?: string;
  retries?: number;
}

function seconds(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!v.trim() || !Number.isFinite(n) || n <= 0)
      throw new InvalidArgumentError(`${name} must be a positive number of seconds, got "${v}"`);
    return n;
  };
}

/** Add the FaaS options to a run-analysis command. */
export function addFaasOptions(cmd: Command): Command {
  return cmd
    .option(
      '--service <url>',
      'FaaS service URL for --executor faas (token from RISTRETTO_TOKEN or ~/.config/ristretto/token)',
    )
    .option(
      '--endpoints <list>',
      'comma-separated endpoint names (owner/name for one another user shares with you), UUIDs or tag selectors (tag:gpu, tag:site=T2_US) for --executor faas',
      (v: string) =>
        v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
    )
    .option(
      '--endpoint-policy <name>',
      `which endpoint gets a chunk when several could: ${ENDPOINT_POLICIES.join(' | ')} (default data-local: files read locally first; fastest: where it finishes first; cheapest: lowest cost= tag only)`,
      (v: string) => {
        try {
          return checkEndpointPolicy(v);
        } catch (e) {
          throw new InvalidArgumentError((e as Error).message);
        }
      },
    )
    .option(
      '--tail-timeout <s>',
      'the service copies a chunk running longer than this to an idle alternate endpoint; the first result wins (default: 3 x the median recent chunk time)',
      seconds('--tail-timeout'),
    )
    .option(
      '--stageout <dir|url>',
      'large results go through this shared directory or http(s) object store instead of the service',
    )
    .option(
      '--stageout-threshold <bytes>',
      'stage out results of at least this size (default 1048576)',
      (v: string) => {
        const n = Number(v);
        if (!/^\s*\d+\s*$/.test(v))
          throw new InvalidArgumentError(`--stageout-threshold must be a byte count, got "${v}"`);
        return n;
      },
    )
    .option(
      '--token-file <file>',
      'read the FaaS API token from this file instead of RISTRETTO_TOKEN / ~/.config/ristretto/token',
    )
    .option('--faas-config <file>', `JSON file with further FaaS executor options (${FAAS_CONFIG_KEYS.join(', ')})`);
}

const FAAS_ONLY: ReadonlyArray<[keyof FaasCliValues, string]> = [
  ['service', '--service'],
  ['endpoints', '--endpoints'],
  ['endpointPolicy', '--endpoint-policy'],
  ['tailTimeout', '--tail-timeout'],
  ['stageout', '--stageout'],
  ['stageoutThreshold', '--stageout-threshold'],
  ['faasConfig', '--faas-config'],
  ['tokenFile', '--token-file'],
];

/** Read and check the --faas-config file. */
export function readFaasConfig(file: string): Partial<FaasExecutorOptions> {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new FaasOptionError(
      `cannot read --faas-config ${file}: ${(e as Error).message}`,
      { option: '--faas-config', file },
      'give a JSON object file',
    );
  }
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new FaasOptionError(`--faas-config ${file} must hold a JSON object`, { option: '--faas-config', file });
  const unknown = Object.keys(value).filter((k) => !(FAAS_CONFIG_KEYS as readonly string[]).includes(k));
  if (unknown.length) {
    throw new FaasOptionError(
      `--faas-config ${file} has unknown key(s) ${unknown.join(', ')}`,
      { option: '--faas-config', file, unknown },
      `known keys: ${FAAS_CONFIG_KEYS.join(', ')}`,
    );
  }
  return value as Partial<FaasExecutorOptions>;
}

/** What the hook hands to runAnalysis: nothing for local executors, the executor and hooks for faas. */
export interface FaasRunExtras {
  executor?: FaasExecutor;
  hooks?: ProgressReporter;
}

/**
 * Run `run` with a FaaS executor when `--executor faas` was chosen (closing it afterwards, adding its
 * counters to `metrics.faas` and printing the per-endpoint table), or plainly otherwise. Refuses FaaS
 * options given without `--executor faas`.
 */
export async function withFaasExecutor<R extends { metrics: RunMetrics }>(
  o: FaasCliValues & { quiet?: boolean },
  reporter: ProgressReporter,
  run: (extras: FaasRunExtras) => Promise<R>,
): Promise<R> {
  if (o.executor !== 'faas') {
    const stray = FAAS_ONLY.filter(([k]) => o[k] !== undefined).map(([, flag]) => flag);
    if (stray.length)
      throw new FaasOptionError(
        `${stray.join(', ')} ${stray.length === 1 ? 'applies' : 'apply'} only to --executor faas`,
        { options: stray },
        `add --executor faas, or drop ${stray.length === 1 ? 'it' : 'them'}`,
      );
    return run({});
  }
  if (!o.service)
    throw new FaasOptionError(
      '--executor faas needs --service URL',
      { option: '--service' },
      'e.g. --service http://127.0.0.1:8470',
    );
  if (!o.endpoints?.length)
    throw new FaasOptionError(
      '--executor faas needs --endpoints A,B',
      { option: '--endpoints' },
      'names or UUIDs, see `ristretto faas endpoint list`',
    );
  const config = o.faasConfig ? readFaasConfig(o.faasConfig) : {};
  const { FaasExecutor } = await import('./executor.ts');
  const executor = await FaasExecutor.connect({
    ...config,
    service: o.service,
    endpoints: o.endpoints,
    ...(o.tailTimeout !== undefined ? { tailTimeout: o.tailTimeout } : {}),
    ...(o.endpointPolicy !== undefined ? { endpointPolicy: o.endpointPolicy } : {}),
    ...(o.stageout !== undefined ? { stageout: o.stageout } : {}),
    ...(o.stageoutThreshold !== undefined ? { stageoutThreshold: o.stageoutThreshold } : {}),
    ...(o.tokenFile !== undefined ? { tokenFile: o.tokenFile } : {}),
    retries: o.retries,
    onRetry: reporter.onRetry?.bind(reporter),
    onNote: reporter.onNote?.bind(reporter),
  });
  try {
    const hooks = faasProgress(reporter, executor, { quiet: o.quiet });
    const result = await run({ executor, hooks });
    hooks.finish();
    Object.assign(result.metrics, { faas: executor.report() });
    if (!o.quiet) reporter.onNote?.(faasSummary(executor));
    return result;
  } finally {
    await executor.close();
  }
}
