/** JSON-over-HTTP calls to the service on keep-alive connections, with typed errors. */
import http from 'node:http';
import https from 'node:https';
import { FaasConnectionError, FaasRequestError } from '../errors.ts';
import type { ErrorBody } from '../protocol.ts';
import { retry } from '../../util/retry.ts';

const RETRYABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE']);

export class HttpApi {
  private readonly agent: http.Agent;
  private readonly mod: typeof http | typeof https;
  private readonly base: URL;

  constructor(
    serviceUrl: string,
    private readonly token: string,
  ) {
    this.base = new URL(serviceUrl);
    this.mod = this.base.protocol === 'https:' ? https : http;
    this.agent = new this.mod.Agent({ keepAlive: true, maxSockets: 16 });
  }

  get url(): string {
    return this.base.origin;
  }

  close(): void {
    this.agent.destroy();
  }

  /**
   * Send a request; `body` is an already-serialized JSON text. Connection refusals are retried a few
   * times with jittered backoff (the request never reached the service); resets only for GET (a POST
   * may have been applied).
   */
  request<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: string): Promise<T> {
    return retry(() => this.once<T>(method, path, body), {
      baseMs: 100,
      maxMs: 2000,
      maxAttempts: 6,
      retryable: (e) => {
        const code = (e as NodeJS.ErrnoException).code ?? '';
        return RETRYABLE.has(code) && (code === 'ECONNREFUSED' || method === 'GET');
      },
      giveUp: (e) => e,
    }).catch((e: unknown) => {
      if (e instanceof FaasRequestError) throw e;
      throw new FaasConnectionError(
        `cannot reach the FaaS service at ${this.base.origin} (${method} ${path}): ${(e as Error).message}`,
        { service: this.base.origin, code: (e as NodeJS.ErrnoException).code ?? '' },
        'check that `ristretto faas serve` is running and the URL is right',
        { cause: e },
      );
    });
  }

  private once<T>(method: string, path: string, body?: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const headers: Record<string, string | number> = {
        authorization: `Bearer ${this.token}`,
        accept: 'application/json',
      };
      let payload: Buffer | undefined;
      if (body !== undefined) {
        payload = Buffer.from(body, 'utf8');
        headers['content-type'] = 'application/json';
        headers['content-length'] = payload.length;
      }
      const req = this.mod.request(new URL(path, this.base), { method, headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          let parsed: unknown;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            return reject(
              new FaasRequestError(status, 'BadResponse', `service answered ${status} with non-JSON body`, { path }),
            );
          }
          if (status >= 200 && status < 300) return resolve(parsed as T);
          const err = (parsed as ErrorBody | undefined)?.error;
          reject(
            new FaasRequestError(
              status,
              err?.code ?? `HTTP${status}`,
              err?.message ?? `HTTP ${status}`,
              { method, path, service: this.base.origin },
              err?.details,
            ),
          );
        });
      });
      req.on('error', reject);
      req.end(payload);
    });
  }
}
