/**
 * Bytes do not bound what parsing JSON costs: 60 MiB of `{},` took the service 16-21 CPU-s (issue 14,
 * probe D4). A real service on loopback refuses an HTTP body or a stream message with more than
 * MAX_JSON_CONTAINERS objects and arrays as PayloadTooLarge naming the limit, before parsing it, and
 * stays at everyone's service; scalars are not counted.
 */
import { describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { HttpApi } from '../../src/faas/client/http.ts';
import { FaasRequestError } from '../../src/faas/errors.ts';
import { serviceWithUsers, until } from './helpers.ts';

// Real processes on a machine that may be busy: generous limits, never timing assertions.
vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

/** The bound, written out here rather than imported: the test checks the number the docs state. */
const LIMIT = 1_000_000;

const svc = serviceWithUsers(['mallory']);

/** `{"tasks":[<n> × unit]}`: one container for the object, one for the array, n for the units. */
const body = (n: number, unit: string) => `{"tasks":[${Array(n).fill(unit).join(',')}]}`;

async function post(text: string): Promise<FaasRequestError> {
  const api = new HttpApi(svc.url, svc.token);
  try {
    await api.request('POST', '/v1/tasks', text);
    throw new Error('accepted');
  } catch (e) {
    if (!(e instanceof FaasRequestError)) throw e;
    return e;
  } finally {
    api.close();
  }
}

describe('parse cost of untrusted JSON', () => {
  it('an HTTP body over the limit is refused as too large, naming it; one at the limit is parsed', async () => {
    const over = await post(body(LIMIT - 1, '{}'));
    expect(over.status).toBe(413);
    expect(over.code).toBe('PayloadTooLarge');
    expect(over.message).toMatch(/more than 1000000 objects and arrays/);
    expect(over.details).toMatchObject({ limit_containers: LIMIT });

    // At the limit it is parsed and then refused for what it is: too many tasks for one batch, or
    // (an empty object not being a task) a bad request; never for its parse cost.
    const at = await post(body(LIMIT - 2, '{}'));
    expect(at.message).not.toMatch(/objects and arrays/);
    // Scalars do not count: 1.5 M numbers are parsed, and refused as a bad request (not a task list).
    const numbers = await post(`[${Array(1_500_000).fill(7).join(',')}]`);
    expect(numbers.status).toBe(400);
    expect(numbers.message).not.toMatch(/objects and arrays/);
  });

  it('a stream message over the limit is answered with the same error; the stream and service go on', async () => {
    const ws = new WebSocket(`${svc.url.replace(/^http/, 'ws')}/v1/stream`, {
      headers: { authorization: `Bearer ${svc.token}` },
      maxPayload: 0,
    });
    const inbox: unknown[] = [];
    ws.on('message', (d, binary) => inbox.push(binary ? d : JSON.parse(String(d))));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.send(`{"type":"watch","req":7,"task_ids":[${Array(LIMIT).fill('[]').join(',')}]}`);
    const err = await until(async () => inbox.find((m) => (m as { type?: string }).type === 'error'), 'the refusal');
    expect(err).toMatchObject({ type: 'error', code: 'PayloadTooLarge', req: 7, details: { limit_containers: LIMIT } });
    // The same stream still serves a watch.
    ws.send(JSON.stringify({ type: 'watch', task_ids: ['01a24f00-0000-7000-8000-000000000001'] }));
    await until(async () => inbox.find((m) => Buffer.isBuffer(m)), 'an answer to the watch');
    ws.close();
    const api = new HttpApi(svc.url, svc.token);
    expect(await api.request<{ user: string }>('GET', '/v1/whoami')).toMatchObject({ user: 'mallory' });
    api.close();
  });
});
