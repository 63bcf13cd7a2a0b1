/** The view server over real HTTP on loopback (the page itself is tested in a browser: browser.test.ts). */
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromUHIDocument, Hist, Regular, StrCategory, Weight } from '../../src/hist/index.ts';
import { ViewError } from '../../src/view/errors.ts';
import { parseListen, startViewServer, type ViewServer } from '../../src/view/server.ts';
import { ViewState } from '../../src/view/state.ts';

let state: ViewState;
let server: ViewServer;
const met = new Hist(new Regular(4, 0, 40, { name: 'met' }), { storage: new Weight() });
const byDataset = new Hist(new StrCategory([], { name: 'dataset', growth: true }), new Regular(3, 0, 3, { name: 'n' }));

beforeAll(async () => {
  met.fill(Float64Array.of(5, 15, 15, 35), { weight: Float64Array.of(1, 2, 0.5, 3) });
  byDataset.fill('data', Float64Array.of(0.5, 1.5, 1.5));
  byDataset.fill('DY', Float64Array.of(2.5, 2.5));
  state = new ViewState({ title: 'test', throttleMs: 1e9 });
  state.setAccumulator({ met, jets: { byDataset } });
  state.flush();
  server = await startViewServer(state, { listen: '127.0.0.1:0', data: ['data'] });
});

afterAll(async () => {
  await server?.close();
});

const get = (path: string, init?: RequestInit) => fetch(new URL(path, server.url), init);

type Prim = { _typename: string; fArray?: number[]; fSumw2?: number[]; fHists?: { arr: Prim[] }; fTitle?: string };
const primitives = (c: { fPrimitives: { arr: Prim[]; opt: string[] } }) =>
  c.fPrimitives.arr.map((p, i) => ({ p, opt: c.fPrimitives.opt[i] }));

describe('view server', () => {
  it('listens on 127.0.0.1 by default and parses [HOST:]PORT', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(parseListen('8080')).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(parseListen(':8081')).toEqual({ host: '127.0.0.1', port: 8081 });
    expect(parseListen('0.0.0.0:80')).toEqual({ host: '0.0.0.0', port: 80 });
    expect(parseListen('[::1]:9000')).toEqual({ host: '::1', port: 9000 });
    expect(parseListen(true)).toEqual({ host: '127.0.0.1', port: 0 });
    for (const bad of ['http://x:1', 'host', '70000', 'a:b'])
      expect(() => parseListen(bad)).toThrow(/cannot listen on .*give PORT or HOST:PORT/);
  });

  it('refuses a port in use with a typed error naming it', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const e = await startViewServer(new ViewState(), { listen: `127.0.0.1:${port}` }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(ViewError);
      expect((e as Error).message).toContain(`port ${port} on 127.0.0.1 is already in use`);
    } finally {
      blocker.close();
    }
  });

  it('serves the page and JSROOT from this installation, nothing else from disk', async () => {
    const page = await get('/');
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toContain('src="/app.js"');
    expect(await (await get('/app.js')).text()).toContain("from '/jsroot/main.mjs'");
    const main = await get('/jsroot/main.mjs');
    expect(main.status).toBe(200);
    expect(main.headers.get('content-type')).toMatch(/javascript/);
    expect((await get('/jsroot/..%2F..%2Fpackage.json')).status).toBe(404);
    expect((await get('/jsroot/../package.json')).status).toBe(404);
    expect((await get('/jsroot/VERSION')).status).toBe(404);
    expect((await get('/api/state', { method: 'POST' })).status).toBe(405);
  });

  it('lists the histograms in /api/state', async () => {
    const s = await (await get('/api/state')).json();
    expect(s.title).toBe('test');
    expect(s.data).toEqual(['data']);
    expect(s.hists.map((h: { key: string }) => h.key).sort()).toEqual(['jets/byDataset', 'met']);
  });

  it('draws a weighted 1-D histogram with error bars: bins and Σw² as filled', async () => {
    const c = await (await get('/api/draw?key=met')).json();
    expect(c._typename).toBe('TCanvas');
    const [{ p, opt }] = primitives(c);
    expect(p._typename).toBe('TH1D');
    expect(opt).toBe('hist e1');
    // bins [0,10) [10,20) [20,30) [30,40) with flow at both ends: weights 1 | 2+0.5 | 0 | 3
    expect(p.fArray).toEqual([0, 1, 2.5, 0, 3, 0]);
    expect(p.fSumw2).toEqual([0, 1, 4.25, 0, 9, 0]);
    const log = await (await get('/api/draw?key=met&log=1')).json();
    expect(log.fLogy).toBe(1);
  });

  it('stacks categories with data as points, or overlays them, or draws colz', async () => {
    const stack = await (await get('/api/draw?key=jets%2FbyDataset&mode=stack')).json();
    const prims = primitives(stack);
    expect(prims.map((x) => x.p._typename)).toEqual(['THStack', 'TH1D', 'TLegend']);
    expect(prims[0].p.fHists!.arr.map((h) => [h.fTitle, h.fArray])).toEqual([['DY', [0, 0, 0, 2, 0]]]);
    expect(prims[1].p.fTitle).toBe('data');
    expect(prims[1].p.fArray).toEqual([0, 1, 2, 0, 0]);
    expect(prims[1].opt).toContain('e1 p');
    const overlay = await (await get('/api/draw?key=jets%2FbyDataset&mode=overlay')).json();
    // overlays draw the simulation as lines and data as points, as the stack does
    const over = primitives(overlay);
    expect(over.map((x) => x.p._typename)).toEqual(['THStack', 'TH1D', 'TLegend']);
    expect(over[0].opt).toBe('nostack hist');
    expect(over[0].p.fHists!.arr.map((h) => h.fTitle)).toEqual(['DY']);
    expect(over[1].p.fTitle).toBe('data');
    expect(over[1].opt).toContain('e1 p');
    const colz = await (await get('/api/draw?key=jets%2FbyDataset&mode=colz')).json();
    expect(primitives(colz)[0].p._typename).toBe('TH2D');
  });

  it('answers bad requests with a message', async () => {
    const r = await get('/api/draw?key=nope');
    expect(r.status).toBe(404);
    expect((await r.json()).error).toContain('no histogram "nope"');
    const m = await get('/api/draw?key=met&mode=stack');
    expect(m.status).toBe(400);
    expect((await m.json()).error).toMatch(/draw mode "stack" does not fit this histogram.*hist/);
    const f = await get('/api/download?key=met&format=pdf');
    expect(f.status).toBe(400);
    expect((await f.json()).error).toContain('unknown format "pdf"');
  });

  it('downloads UHI JSON, ROOT JSON and PNG', async () => {
    const uhi = await get('/api/download?key=met&format=uhi');
    expect(uhi.headers.get('content-disposition')).toBe('attachment; filename="met.json"');
    const back = fromUHIDocument(await uhi.json());
    expect(Array.from(back['met'].values())).toEqual([1, 2.5, 0, 3]);
    const root = await (await get('/api/download?key=jets%2FbyDataset&format=root')).json();
    expect(root._typename).toBe('TH2D');
    const png = new Uint8Array(await (await get('/api/download?key=met&format=png')).arrayBuffer());
    expect(Array.from(png.subarray(0, 8))).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  });

  it('pushes a snapshot, then only the histograms that changed', async () => {
    const ac = new AbortController();
    const res = await get('/api/events', { signal: ac.signal });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    let buf = '';
    const next = async (): Promise<{ event: string; data: { hists: Array<{ key: string; total: number }> } }> => {
      for (;;) {
        const end = buf.indexOf('\n\n');
        if (end >= 0) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) return { event, data: JSON.parse(data) };
          continue;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended');
        buf += dec.decode(value, { stream: true });
      }
    };
    const first = await next();
    expect(first.event).toBe('snapshot');
    expect(first.data.hists).toHaveLength(2);
    byDataset.fill('DY', Float64Array.of(0.5));
    state.setAccumulator({ met, jets: { byDataset } });
    state.flush();
    const upd = await next();
    expect(upd.event).toBe('update');
    expect(upd.data.hists.map((h) => [h.key, h.total])).toEqual([['jets/byDataset', 6]]);
    ac.abort();
  });
});
