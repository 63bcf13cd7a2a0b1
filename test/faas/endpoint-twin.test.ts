/**
 * One endpoint name, two agent processes (issue 14): they used to take the endpoint from each other
 * on every reconnect (~150 times in 20 s), losing their tasks over and over. Against a real service
 * on loopback: a second live agent is refused with one line naming the first, and the CLI agent so
 * refused exits 1; the same agent reconnecting, an agent started after the first was killed, or one
 * replacing a connection gone silent, attaches. Nothing asserts timing.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { serviceWithUsers, until } from './helpers.ts';
import { scriptedAgents } from './scripted-agent.ts';

vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

// 2 s heartbeats: a scripted agent (beating every 0.2 s) is not dropped on a busy machine.
const svc = serviceWithUsers(['twins'], { serve: ['--heartbeat', '2'] });
const { procs } = svc;
const agent = scriptedAgents(svc);
let fn = '';

beforeAll(async () => {
  fn = await svc.client.registerFunction((x: number) => 2 * x);
}, 300_000);

const REFUSED = (name: string, host: string, pid: number) =>
  new RegExp(
    `endpoint ${name} is already attached from ${host} pid ${pid} since \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z; stop it first or use another --name`,
  );

describe('two agents with one endpoint name', () => {
  it('refuses a second live agent, naming the first; the first keeps the endpoint', async () => {
    const first = agent();
    expect((await first.hello('twin-ep', [], { instance: 'first', pid: 1111 })).type).toBe('welcome');
    const second = agent();
    const answer = await second.hello('twin-ep', [], { instance: 'second', pid: 2222 });
    expect(answer).toMatchObject({ type: 'error', code: 'Conflict' });
    expect(answer.message).toMatch(REFUSED('twin-ep', 'host-first', 1111));
    expect(await second.closed).toBe(1008);
    // The first still holds the endpoint: a task for it goes there.
    expect(first.ws.readyState).toBe(WebSocket.OPEN);
    const [id] = await svc.client.batchRun([{ functionId: fn, endpoint: 'twin-ep', args: 1 }]);
    await until(async () => (first.dispatched.length ? true : undefined), 'dispatch to the first agent');
    expect(first.dispatched[0].id).toBe(id);
    first.stop();
  });

  it('lets the same agent replace its own old connection, and a new agent replace a silent one', async () => {
    const old = agent();
    expect((await old.hello('back-ep', [], { instance: 'same', pid: 1 })).type).toBe('welcome');
    // The same process reconnecting while the service still sees its old socket open.
    const again = agent();
    expect((await again.hello('back-ep', [], { instance: 'same', pid: 1 })).type).toBe('welcome');
    expect(await old.closed).toBeGreaterThan(0);
    // Its connection falls silent with the socket open (a host or network gone): another agent
    // process is refused while the old one still counts as live, and attaches once it does not.
    again.beating = false;
    await until(async () => {
      const other = agent();
      const a = await other.hello('back-ep', [], { instance: 'restarted', pid: 2 });
      if (a.type !== 'welcome') other.stop();
      return a.type === 'welcome' ? true : undefined;
    }, 'a new agent attached in place of the silent one');
    expect(await again.closed).toBeGreaterThan(0);
    expect((await svc.client.getEndpoint('back-ep')).status).toBe('online');
  });

  it('ristretto faas endpoint start: a second one exits 1 with one line; after the first is killed, one attaches', async () => {
    const { url, token } = svc;
    const first = await procs.startEndpoint(url, token, 'laptop', ['--workers', '1']);
    const before = procs.log.length;
    const second = procs.spawnCli(
      ['endpoint', 'start', '--service', url, '--name', 'laptop', '--workers', '1', '--cache-dir', `${procs.dir}/c2`],
      { RISTRETTO_TOKEN: token },
    );
    const code = await new Promise<number | null>((r) => second.once('exit', (c) => r(c)));
    expect(code).toBe(1);
    const said = procs.log.slice(before);
    expect(said).toMatch(REFUSED('laptop', '\\S+', first.proc.pid!));
    expect(said).not.toMatch(/reconnecting/);
    // The first was not disturbed: it runs a task.
    expect(await svc.client.submit(fn, 'laptop', 4)).toBe(8);
    // A restart after the first died attaches.
    await procs.killEndpoint(first.proc);
    const restarted = await procs.startEndpoint(url, token, 'laptop', ['--workers', '1']);
    expect(restarted.id).toBe(first.id);
    expect(await svc.client.submit(fn, 'laptop', 5)).toBe(10);
  });
});
