/** Options of the FaaS executor, checked up front; every message names the option. */
import type { FaasClient } from '../../src/faas/client/index.ts';
import { checkEndpointPolicy, type EndpointPolicy } from '../../src/faas/endpoint-policy.ts';
import type { ExecutorOptions } from '../base.ts';
import { FaasOptionError } from './errors.ts';
import type { PathMap } from './paths.ts';

export interface FaasExecutorOptions extends ExecutorOptions {
  /** Service URL, e.g. `http://127.0.0.1:8470`. */
  service: string;
  /** Endpoint names or UUIDs. */
  endpoints: readonly string[];
  /**
   * Which endpoint gets a chunk when several could (default `data-local`): `fastest` where it is
   * expected to finish first (speed learnt during the run), `cheapest` only the endpoints with the
   * lowest `cost=` tag (the others when those leave). See src/faas/endpoint-policy.ts.
   */
  endpointPolicy?: EndpointPolicy;
  /** Token file; by default the token comes from RISTRETTO_TOKEN or ~/.config/ristretto/token (never a CLI argument). */
  tokenFile?: string;
  /** An existing client to use (the caller closes it). */
  client?: FaasClient;
  /**
   * Tail policy sent with every chunk (the service decides, src/faas/service/scheduler.ts): seconds
   * after which a running chunk gets a copy in an idle slot of one of its alternate endpoints.
   */
  tailTimeout?: number;
  /** ... or after this many times the median recent chunk run time, whichever is shorter (default 3). */
  stragglerFactor?: number;
  /** Never call a chunk a straggler before this many seconds (default 0.2). */
  minStraggler?: number;
  /** Copies of one chunk at most, the first included (default 3). */
  maxCopies?: number;
  /** An endpoint this many times slower per event than the fastest gets no new work (default 4). */
  slowFactor?: number;
  /** A slow endpoint gets a probe chunk this often, seconds (default 10). */
  probeSeconds?: number;
  /** Stage-out location for large results: a directory shared with the endpoints, or an http(s) object store URL. */
  stageout?: string;
  /** Results of at least this many bytes are staged out (default 1 MiB; 0 stages every result). */
  stageoutThreshold?: number;
  /** Per-endpoint storage mounts: `{ endpoint: { clientPrefix: localPrefix } }` for input files and the stage-out directory. */
  pathMap?: PathMap;
  /** Tasks kept in flight per endpoint beyond its capacity (default 1). */
  ahead?: number;
  /** Endpoint status poll interval, seconds (default 1). */
  pollSeconds?: number;
  /** An endpoint offline this long is given up on and its chunks move (default 3 s). */
  offlineGraceSeconds?: number;
  /** How long to wait for the service while it is unreachable (default 120 s). */
  servicePatienceSeconds?: number;
  /** How long to wait at start for one of the endpoints to be online (default 30 s). */
  connectTimeoutSeconds?: number;
  /**
   * Times a chunk may be moved off an endpoint that went offline, or whose task the service forgot
   * (default 5). A chunk the service lost for good (its worker died on every run the service allows)
   * fails with WorkerLostError, which `retries` may retry, as with the threads executor.
   */
  maxMoves?: number;
  /** Runs the service allows one task when workers die (default: the service's). */
  maxAttempts?: number;
  /** Informational messages (endpoint lost, service unreachable). */
  onNote?: (message: string) => void;
}

export interface ResolvedFaasOptions extends ExecutorOptions {
  service: string;
  endpoints: string[];
  endpointPolicy: EndpointPolicy;
  tailTimeoutMs: number | undefined;
  stragglerFactor: number;
  minStragglerMs: number;
  maxCopies: number;
  slowFactor: number;
  probeMs: number;
  stageout: string | undefined;
  stageoutThreshold: number;
  pathMap: PathMap | undefined;
  ahead: number;
  pollMs: number;
  offlineGraceMs: number;
  servicePatienceMs: number;
  connectTimeoutMs: number;
  maxMoves: number;
  maxAttempts: number | undefined;
  onNote: ((message: string) => void) | undefined;
}

function num(name: string, v: number | undefined, dflt: number, min: number, integer = false): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || (integer && !Number.isInteger(v))) {
    throw new FaasOptionError(
      `${name} must be ${integer ? 'an integer' : 'a number'} ≥ ${min}, got ${JSON.stringify(v)}`,
      { option: name, value: v },
    );
  }
  return v;
}

/** Check options and fill in defaults. */
export function resolveFaasOptions(o: FaasExecutorOptions): ResolvedFaasOptions {
  if (!o || typeof o.service !== 'string' || !/^https?:\/\/[^/]/.test(o.service)) {
    throw new FaasOptionError(
      `service must be the FaaS service URL, got ${JSON.stringify(o?.service)}`,
      { option: 'service' },
      'e.g. --service http://127.0.0.1:8470',
    );
  }
  const endpoints = [...(o.endpoints ?? [])].map((e) => String(e).trim()).filter(Boolean);
  if (endpoints.length === 0)
    throw new FaasOptionError(
      'endpoints must name at least one endpoint',
      { option: 'endpoints' },
      'e.g. --endpoints site-a,site-b (names or UUIDs; `ristretto faas endpoint list` shows them)',
    );
  if (o.stageout !== undefined && (typeof o.stageout !== 'string' || !o.stageout.trim())) {
    throw new FaasOptionError(
      'stageout must be a directory or an http(s) URL',
      { option: 'stageout' },
      'e.g. --stageout /shared/scratch/ristretto or --stageout http://store:8480/blobs',
    );
  }
  if (o.pathMap !== undefined) {
    for (const [ep, m] of Object.entries(o.pathMap)) {
      if (!m || typeof m !== 'object' || Object.values(m).some((v) => typeof v !== 'string')) {
        throw new FaasOptionError(
          `pathMap.${ep} must map path prefixes to path prefixes`,
          { option: 'pathMap', endpoint: ep },
          'e.g. {"site-a": {"/mnt/shared/": "/hadoop/store/"}}',
        );
      }
    }
  }
  return {
    retries: o.retries,
    onRetry: o.onRetry,
    service: o.service.replace(/\/+$/, ''),
    endpoints,
    endpointPolicy:
      o.endpointPolicy === undefined ? 'data-local' : checkEndpointPolicy(o.endpointPolicy, 'endpointPolicy'),
    tailTimeoutMs: o.tailTimeout === undefined ? undefined : num('tailTimeout', o.tailTimeout, 0, 0) * 1000,
    stragglerFactor: num('stragglerFactor', o.stragglerFactor, 3, 1),
    minStragglerMs: num('minStraggler', o.minStraggler, 0.2, 0) * 1000,
    maxCopies: num('maxCopies', o.maxCopies, 3, 1, true),
    slowFactor: num('slowFactor', o.slowFactor, 4, 1),
    probeMs: num('probeSeconds', o.probeSeconds, 10, 0) * 1000,
    stageout: o.stageout?.trim(),
    stageoutThreshold: num('stageoutThreshold', o.stageoutThreshold, 1024 * 1024, 0, true),
    pathMap: o.pathMap,
    ahead: num('ahead', o.ahead, 1, 0, true),
    pollMs: num('pollSeconds', o.pollSeconds, 1, 0.05) * 1000,
    offlineGraceMs: num('offlineGraceSeconds', o.offlineGraceSeconds, 3, 0) * 1000,
    servicePatienceMs: num('servicePatienceSeconds', o.servicePatienceSeconds, 120, 0) * 1000,
    connectTimeoutMs: num('connectTimeoutSeconds', o.connectTimeoutSeconds, 30, 0) * 1000,
    maxMoves: num('maxMoves', o.maxMoves, 5, 0, true),
    maxAttempts: o.maxAttempts === undefined ? undefined : num('maxAttempts', o.maxAttempts, 3, 1, true),
    onNote: o.onNote,
  };
}
