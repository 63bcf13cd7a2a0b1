/**
 * `ristretto view OUTDIR`: reading what run-analysis wrote (written here by the real output writer, or
 * by a real run-analysis process).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Hist, Regular, StrCategory } from '../../src/hist/index.ts';
import type { RunMetrics } from '../../src/runner/metrics.ts';
import { writeOutputs } from '../../src/runner/output.ts';
import { ViewError } from '../../src/view/errors.ts';
import { followOutputs, loadOutputs } from '../../src/view/outdir.ts';
import { startViewServer } from '../../src/view/server.ts';
import { ROOT_FILE } from '../runner/helpers.ts';
import { repoRoot } from '../shared.ts';

const PROCESSOR = join(repoRoot, 'test', 'view', 'fixtures', 'view-processor.ts');

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
async function temp(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'ristretto-view-'));
  dirs.push(d);
  return d;
}

const metrics = {
  events: 1234,
  chunks: 3,
  chunksTotal: 3,
  resumedChunks: 0,
  bytesRead: 0,
  columns: [],
  processSeconds: 1,
  chunkSeconds: [0.3, 0.3, 0.4],
  wallSeconds: 2,
  eventsPerSecond: 617,
  retries: 1,
  skippedFiles: [],
  executor: 'threads',
  workers: 2,
  files: 1,
  preprocess: { cacheHits: 0, opened: 1, seconds: 0 },
} as unknown as RunMetrics;

describe('loadOutputs', () => {
  it('shows the histograms, the summary and fit scans of an output folder; unreadable files become notes', async () => {
    const dir = await temp();
    const met = new Hist(new Regular(3, 0, 30, { name: 'met' }));
    met.fill(Float64Array.of(1, 11, 12, 29));
    const mass = new Hist(
      new StrCategory([], { name: 'dataset', growth: true }),
      new Regular(2, 80, 100, { name: 'm' }),
    );
    mass.fill('DY', Float64Array.of(85, 95, 96));
    await writeOutputs({ met, muons: { mass }, cutflow: { all: 4 } }, metrics, dir, ['json', 'root-json']);
    await writeFile(join(dir, 'broken.json'), '{"x": ');
    await writeFile(
      join(dir, 'scan.jsonl'),
      [
        '{"name":"m1000","ok":true,"clsObs":0.03,"clsExp":[0.01,0.02,0.05,0.1,0.2],"muHat":0.1}',
        '{"name":"m1200","ok":false,"error":"did not converge"}',
        '{"summary":{"patches":2}}',
      ].join('\n'),
    );
    await mkdir(join(dir, 'fit'));
    await writeFile(
      join(dir, 'fit', 'results.json'),
      JSON.stringify({
        format: 'ristretto-fit-scan',
        version: 1,
        identity: {},
        total: 1,
        results: [{ name: 'm900', ok: true, clsObs: 0.2, clsExp: [0.1, 0.2, 0.3, 0.4, 0.5], muHat: 0 }],
      }),
    );
    await mkdir(join(dir, '.ristretto-cache'));
    await writeFile(join(dir, '.ristretto-cache', 'preprocess.json'), '{}');

    const state = await loadOutputs(dir);
    const snap = state.snapshot();
    expect(snap.hists.map((h) => h.key).sort()).toEqual(['met', 'muons/mass']);
    expect(Array.from(state.hist('met')!.values())).toEqual([1, 2, 1]);
    expect(Array.from(state.hist('muons/mass')!.values())).toEqual([1, 2]);
    expect(snap.progress).toMatchObject({
      state: 'finished',
      events: 1234,
      done: 3,
      total: 3,
      retries: 1,
      executor: 'threads',
    });
    expect(state.notes).toHaveLength(1);
    expect(state.notes[0]).toMatch(/^broken\.json: not shown/);
    expect(state.scans).toEqual([
      { file: 'fit/results.json', results: [expect.objectContaining({ name: 'm900', clsObs: 0.2 })] },
      {
        file: 'scan.jsonl',
        results: [
          expect.objectContaining({ name: 'm1000', clsObs: 0.03 }),
          expect.objectContaining({ name: 'm1200', ok: false }),
        ],
      },
    ]);
  });

  it('refuses a missing folder and one without histograms, saying what to give', async () => {
    const missing = await loadOutputs('/nonexistent/out').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ViewError);
    expect((missing as Error).message).toContain('no output folder /nonexistent/out');
    const dir = await temp();
    await writeFile(join(dir, 'metrics.json'), JSON.stringify(metrics));
    const empty = await loadOutputs(dir).catch((e: unknown) => e);
    expect(empty).toBeInstanceOf(ViewError);
    expect((empty as Error).message).toMatch(/holds no histogram JSON.*--format json.*fit scan --out/);
  });
});

describe('followOutputs', () => {
  it('reloads when run-analysis rewrites the folder, and open pages hear only what changed', async () => {
    const dir = await temp();
    const met = new Hist(new Regular(3, 0, 30, { name: 'met' }));
    const eta = new Hist(new Regular(2, -1, 1, { name: 'eta' }));
    met.fill(Float64Array.of(1));
    eta.fill(Float64Array.of(0.5));
    await writeOutputs({ met, eta }, metrics, dir, ['json']);
    const state = await loadOutputs(dir);
    const stop = followOutputs(dir, state, 20);
    try {
      const update = new Promise<string[]>((resolve) => state.subscribe((u) => resolve(u.hists.map((h) => h.key))));
      met.fill(Float64Array.of(25, 25));
      // metrics.json is written last: its new mtime triggers the reload of the whole new state
      await writeOutputs({ met, eta }, { ...metrics, events: 3 } as RunMetrics, dir, ['json']);
      const later = new Date(Date.now() + 10_000); // distinct even on file systems with coarse mtimes
      await utimes(join(dir, 'metrics.json'), later, later);
      expect(await update).toEqual(['met']);
      expect(Array.from(state.hist('met')!.values())).toEqual([1, 0, 2]);
      expect(state.progress.events).toBe(3);
    } finally {
      stop();
    }
  });
});

describe('which datasets are data', () => {
  /** Run the real run-analysis CLI into a folder: SingleMu is data, MC simulation (same file twice). */
  async function runAnalysisInto(dir: string): Promise<string> {
    const ds = join(dir, 'datasets.json');
    await writeFile(
      ds,
      JSON.stringify({
        SingleMu: { files: { [ROOT_FILE()]: 'Events' }, metadata: { isData: true } },
        MC: { files: { [ROOT_FILE()]: 'Events' }, metadata: { xsec: 1.5 } },
      }),
    );
    const out = join(dir, 'out');
    const r = spawnSync(
      process.execPath,
      [join(repoRoot, 'bin', 'run-analysis.mjs'), ds, PROCESSOR, '--chunksize', '5000', '-o', out, '-q'],
      { encoding: 'utf8', timeout: 180_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    return out;
  }

  /** The stack of `muon_pt` as /api/draw sends it: titles of the stacked layers and of the point sets. */
  async function stackOf(url: string): Promise<{ stacked: string[]; points: string[] }> {
    const c = (await (await fetch(new URL('/api/draw?key=muon_pt&mode=stack', url))).json()) as {
      fPrimitives: {
        arr: Array<{ _typename: string; fTitle?: string; fHists?: { arr: Array<{ fTitle: string }> } }>;
        opt: string[];
      };
    };
    const prims = c.fPrimitives.arr;
    return {
      stacked: prims.filter((p) => p._typename === 'THStack').flatMap((p) => p.fHists!.arr.map((h) => h.fTitle)),
      points: prims
        .filter((p, i) => p._typename.startsWith('TH1') && /\bp\b/.test(c.fPrimitives.opt[i]))
        .map((p) => p.fTitle!),
    };
  }

  it('ristretto view learns isData from the datasets.meta.json run-analysis wrote; --data overrides it', async () => {
    const out = await runAnalysisInto(await temp());
    const meta = JSON.parse(await readFile(join(out, 'datasets.meta.json'), 'utf8')) as Record<string, unknown>;
    expect(meta).toEqual({
      SingleMu: { isData: true, files: 1, metadata: { isData: true } },
      MC: { isData: false, files: 1, metadata: { xsec: 1.5 } },
    });

    const state = await loadOutputs(out);
    expect(state.data).toEqual(['SingleMu']);
    expect(state.notes).toEqual([]);
    expect(state.snapshot().hists.map((h) => h.key)).not.toContain('datasets.meta');
    const plain = await startViewServer(state, { listen: '127.0.0.1:0' });
    const told = await startViewServer(state, { listen: '127.0.0.1:0', data: ['MC'] });
    try {
      expect(((await (await fetch(new URL('/api/state', plain.url))).json()) as { data: string[] }).data).toEqual([
        'SingleMu',
      ]);
      expect(await stackOf(plain.url)).toEqual({ stacked: ['MC'], points: ['SingleMu'] });
      expect(await stackOf(told.url)).toEqual({ stacked: ['SingleMu'], points: ['MC'] });
    } finally {
      await plain.close();
      await told.close();
    }

    // the CLI says which datasets it draws as data
    const view = spawn(
      process.execPath,
      [join(repoRoot, 'bin', 'ristretto.mjs'), 'view', out, '--serve', '127.0.0.1:0'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let log = '';
    try {
      await new Promise<void>((resolve, reject) => {
        view.stderr.on('data', (d: Buffer) => {
          log += d.toString();
          if (/ristretto view: http/.test(log)) resolve();
        });
        view.once('exit', (code) => reject(new Error(`ristretto view exited with ${code}:\n${log}`)));
      });
      expect(log).toMatch(/\(3 histograms; data: SingleMu; Ctrl-C to stop\)/);
    } finally {
      view.kill('SIGINT');
    }
  }, 240_000);

  it('a damaged datasets.meta.json is a note on the page, not a failure', async () => {
    const dir = await temp();
    const met = new Hist(new Regular(3, 0, 30, { name: 'met' }));
    await writeOutputs({ met }, metrics, dir, ['json'], {
      datasets: [{ name: 'A', files: [], metadata: { isData: true } }],
    });
    expect((await loadOutputs(dir)).data).toEqual(['A']);
    await writeFile(join(dir, 'datasets.meta.json'), '[1, 2');
    const state = await loadOutputs(dir);
    expect(state.data).toEqual([]);
    expect(state.notes).toEqual([
      expect.stringMatching(
        /^datasets\.meta\.json: not read \(.*\); data datasets are drawn like the others unless given with --data$/,
      ),
    ]);
    expect(state.snapshot().hists.map((h) => h.key)).toEqual(['met']);
    // valid JSON of the wrong shape: the same kind of note, saying what was expected
    await writeFile(join(dir, 'datasets.meta.json'), '[1, 2]');
    const wrongShape = await loadOutputs(dir);
    expect(wrongShape.data).toEqual([]);
    expect(wrongShape.notes).toEqual([
      'datasets.meta.json: not read (expected an object of datasets); data datasets are drawn like the others unless given with --data',
    ]);
  });
});

describe('legend text from metadata.label', () => {
  /** Legend labels and stacked titles of `/api/draw?mode=stack` for one key. */
  async function legendOf(url: string, key: string): Promise<{ legend: string[]; stacked: string[] }> {
    const c = (await (await fetch(new URL(`/api/draw?key=${key}&mode=stack`, url))).json()) as {
      fPrimitives: {
        arr: Array<{
          _typename: string;
          fHists?: { arr: Array<{ fTitle: string }> };
          fPrimitives?: { arr: Array<{ fLabel: string }> };
        }>;
      };
    };
    const prims = c.fPrimitives.arr;
    return {
      legend: prims.filter((p) => p._typename === 'TLegend').flatMap((p) => p.fPrimitives!.arr.map((e) => e.fLabel)),
      stacked: prims.filter((p) => p._typename === 'THStack').flatMap((p) => p.fHists!.arr.map((h) => h.fTitle)),
    };
  }

  function byDataset(): Hist {
    const h = new Hist(new StrCategory([], { name: 'dataset', growth: true }), new Regular(4, 0, 40, { name: 'pt' }));
    h.fill('DY', Float64Array.of(5, 15, 25))
      .fill('SingleMu', Float64Array.of(5, 35))
      .fill('TT', Float64Array.of(12));
    return h;
  }

  it('ristretto view names stack layers and legend entries with each dataset label; data stays points', async () => {
    const dir = await temp();
    await writeOutputs({ pt: byDataset() }, metrics, dir, ['json'], {
      datasets: [
        { name: 'DY', files: [], metadata: { label: 'Z/#gamma*#rightarrow#mu#mu' } },
        { name: 'SingleMu', files: [], metadata: { isData: true, label: 'Data' } },
        { name: 'TT', files: [], metadata: { label: 42 } }, // not a string: the name stays
      ],
    });
    const state = await loadOutputs(dir);
    expect(state.data).toEqual(['SingleMu']);
    expect(state.legend).toEqual({ DY: 'Z/#gamma*#rightarrow#mu#mu', SingleMu: 'Data' });
    const server = await startViewServer(state, { listen: '127.0.0.1:0' });
    try {
      const { legend, stacked } = await legendOf(server.url, 'pt');
      expect(stacked).toEqual(['Z/#gamma*#rightarrow#mu#mu', 'TT']);
      expect(legend).toEqual(['Data', 'TT', 'Z/#gamma*#rightarrow#mu#mu']);
    } finally {
      await server.close();
    }
  });

  it('the live view of run-analysis --serve takes the labels from the dataset JSON', async () => {
    const { LiveView } = await import('../../src/view/live.ts');
    const view = await LiveView.start({ listen: '127.0.0.1:0', data: ['SingleMu'], legend: { DY: 'Drell-Yan' } });
    try {
      view.state.setAccumulator({ pt: byDataset() });
      view.state.flush();
      let got = { legend: [] as string[], stacked: [] as string[] };
      for (let i = 0; i < 100 && !got.legend.length; i++) {
        const r = await fetch(new URL('/api/draw?key=pt&mode=stack', view.url));
        if (r.ok) got = await legendOf(view.url, 'pt');
        else await new Promise((res) => setTimeout(res, 50));
      }
      expect(got.stacked).toEqual(['Drell-Yan', 'TT']);
      expect(got.legend).toEqual(['SingleMu', 'TT', 'Drell-Yan']);
    } finally {
      await view.close();
    }
  });
});
