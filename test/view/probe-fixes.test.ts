/**
 * What an outside probe found in `ristretto view` and the live view, checked in a real browser (Debian's
 * chromium driven by playwright-core) and with real processes:
 * - outputs read back carry mathtext labels (`$m_{\mu\mu}$`); with the network blocked (every request that is
 *   not to loopback aborted) every frame still draws, and no request leaves the machine (JSROOT would fetch
 *   MathJax from a CDN for them);
 * - a folder of `ristretto draw --out x.json` files (UHI documents; bare histograms from older versions) is
 *   shown, named after the files;
 * - with the iterative executor and chunks that hold the main thread, the page loads within a few chunk
 *   boundaries (counted by the processor, not timed), updates while the run goes on, labels a weighted
 *   histogram's total Σw, and shows "interrupted" after Ctrl-C.
 * Without /usr/bin/chromium the browser tests are skipped, except under CI=true, where they fail.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Hist, Regular, StrCategory, stringifyUHI, toUHI, Weight } from '../../src/hist/index.ts';
import { figureSVG } from '../../src/hist/publication.ts';
import type { RunMetrics } from '../../src/runner/metrics.ts';
import { writeOutputs } from '../../src/runner/output.ts';
import { mathtextToTLatex } from '../../src/view/labels.ts';
import { loadOutputs } from '../../src/view/outdir.ts';
import { startViewServer } from '../../src/view/server.ts';
import { ROOT_FILE } from '../runner/helpers.ts';
import { repoRoot } from '../shared.ts';

const CHROMIUM = '/usr/bin/chromium';
const suite = existsSync(CHROMIUM) || process.env.CI === 'true' ? describe : describe.skip;
const BUSY = join(repoRoot, 'test', 'view', 'fixtures', 'busy-processor.ts');

let dir: string;
const children = new Set<ChildProcess>();
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ristretto-view-probe-'));
});
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  if (dir) await rm(dir, { recursive: true, force: true });
});

const metrics = { events: 4, chunks: 1, chunksTotal: 1, wallSeconds: 1, retries: 0 } as unknown as RunMetrics;

it('mathtext labels become TLatex for JSROOT (no backslash left, so no MathJax)', () => {
  expect(mathtextToTLatex('$m_{\\mu\\mu}$ [GeV]')).toBe('m_{#mu#mu} [GeV]');
  expect(mathtextToTLatex('$E_{T}^{\\mathrm{miss}}$ [GeV]')).toBe('E_{T}^{miss} [GeV]');
  expect(mathtextToTLatex('$p_T^\\mu$')).toBe('p_{T}^{#mu}');
  expect(mathtextToTLatex('$\\Delta\\phi(j,\\ \\mu)$')).toBe('#Delta#phi(j, #mu)');
  expect(mathtextToTLatex('m_{#mu#mu} [GeV]')).toBe('m_{#mu#mu} [GeV]');
  expect(mathtextToTLatex('MET [GeV]')).toBe('MET [GeV]');
});

it('a folder of draw --out JSON files (UHI documents, older ones bare histograms) is shown, named after the files', async () => {
  const out = join(dir, 'draws');
  await mkdir(out, { recursive: true });
  const file = sharedFile();
  for (const [name, expr] of [
    ['met', 'MET_pt'],
    ['ht', 'sum(Jet_pt[Jet_pt > 30])'],
  ]) {
    const r = spawnSync(
      process.execPath,
      [
        join(repoRoot, 'bin', 'ristretto.mjs'),
        'draw',
        file,
        expr,
        '--bins',
        '10,0,200',
        '--out',
        join(out, `${name}.json`),
      ],
      { cwd: repoRoot, encoding: 'utf8' },
    );
    expect(r.status, r.stderr).toBe(0);
  }
  // older versions of draw wrote one bare histogram per file
  const bare = new Hist(new Regular(4, 0, 4, { name: 'x' }));
  bare.fill([0.5, 1.5, 1.5]);
  await writeFile(join(out, 'old.json'), stringifyUHI(toUHI(bare)));
  const state = await loadOutputs(out);
  expect(state.notes).toEqual([]);
  const met = state.hist('met');
  const ht = state.hist('ht');
  expect(met).toBeDefined();
  expect(ht).toBeDefined();
  expect(Array.from(state.hist('old')?.values() ?? [])).toEqual([1, 2, 0, 0]);
  // the totals are what draw wrote in the files: { "met": histogram }, as run-analysis writes
  const written = JSON.parse(await readFile(join(out, 'met.json'), 'utf8')) as Record<
    string,
    { storage: { values: number[] } }
  >;
  expect(Object.keys(written)).toEqual(['met']);
  const sum = (a: ArrayLike<number>) => Array.from(a).reduce((x, y) => x + y, 0);
  expect(sum(met?.values({ flow: true }) ?? [])).toBe(sum(written.met.storage.values));
});

it('a figure with an experiment label draws the ×10^k multiplier beside it, not under it', () => {
  const h = new Hist(new Regular(20, 0, 200, { name: 'met' }), { storage: new Weight() });
  const x = Float64Array.from({ length: 20_000 }, (_, i) => (i * 7919) % 200);
  h.fill(x, { weight: new Float64Array(x.length).fill(700) }); // 7e5 per bin: a ×10^5 axis
  const svg = figureSVG(h, { label: 'CMS Open Data', lumi: 11.6, sqrts: 8 });
  const multiplier = /<text x="([\d.]+)" y="([\d.]+)"[^>]*text-anchor="end"[^>]*>×10/.exec(svg);
  const label = /<text x="([\d.]+)" y="([\d.]+)"[^>]*><tspan font-weight="bold">CMS/.exec(svg);
  expect(multiplier, 'the multiplier ends where it is placed').not.toBeNull();
  expect(label).not.toBeNull();
  // the multiplier ends (anchor end) left of where the label starts: no overlap on the same line
  expect(Number(multiplier?.[1])).toBeLessThan(Number(label?.[1]));
});

function sharedFile(): string {
  return ROOT_FILE();
}

suite('in a browser', () => {
  let browser: Browser;
  beforeAll(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(`${CHROMIUM} is missing: run scripts/ci/setup-chromium.sh (apt-get install -y chromium)`);
    browser = await chromium.launch({ executablePath: CHROMIUM });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
  });

  /** A page whose requests off loopback are aborted (and recorded). */
  async function offlinePage(): Promise<{ page: Page; blocked: string[]; errors: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const blocked: string[] = [];
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.route('**/*', (route) => {
      const host = new URL(route.request().url()).hostname;
      if (host === '127.0.0.1' || host === 'localhost' || host === '[::1]') return route.continue();
      blocked.push(route.request().url());
      return route.abort();
    });
    return { page, blocked, errors };
  }

  const ready = (page: Page) =>
    page.waitForFunction(
      () => (window as unknown as { __ristrettoView?: { ready?: boolean } }).__ristrettoView?.ready === true,
      null,
      { timeout: 120_000 },
    );

  it('ristretto view of run-analysis outputs (mathtext labels) draws every frame offline', async () => {
    const out = join(dir, 'mathtext');
    const mass = new Hist(
      new StrCategory([], { name: 'dataset', growth: true }),
      new Regular(10, 60, 120, { name: 'mass', label: 'm_{#mu#mu} [GeV]' }),
    );
    mass.fill('DY', Float64Array.of(85, 91, 92, 95)).fill('data', Float64Array.of(90, 91));
    const met = new Hist(new Regular(10, 0, 100, { name: 'met', label: 'E_{T}^{miss} [GeV]' }));
    met.fill(Float64Array.of(5, 15, 15, 55));
    await writeOutputs({ mass, met }, metrics, out, ['json']);
    // as run-analysis writes them: mathtext, for Python readers
    expect(await readFile(join(out, 'mass.json'), 'utf8')).toContain('$m_{\\\\mu\\\\mu}$');
    const server = await startViewServer(await loadOutputs(out));
    const { page, blocked, errors } = await offlinePage();
    try {
      await page.goto(server.url);
      await ready(page);
      for (const key of ['mass', 'met']) {
        // drawn: JSROOT's frame holds the histogram as paths, and the axis title was typeset (μ from #mu)
        await page.locator(`.card[data-key="${key}"] .plot svg.root_canvas path`).first().waitFor({ timeout: 60_000 });
      }
      await page.waitForFunction(
        () =>
          [...document.querySelectorAll('.card[data-key="mass"] svg text')].some((t) =>
            (t.textContent ?? '').includes('μμ'),
          ),
        null,
        { timeout: 60_000 },
      );
      expect(blocked).toEqual([]);
      expect(errors).toEqual([]);
      expect(
        await page.evaluate(
          () => (window as unknown as { __ristrettoView: { errors: string[] } }).__ristrettoView.errors,
        ),
      ).toEqual([]);
    } finally {
      await page.close();
      await server.close();
    }
  }, 240_000);

  it('the live view of an iterative run with long chunks: loads within a few chunks, updates, Σw, interrupted', async () => {
    const gate = join(dir, 'busy.go');
    const started = join(dir, 'busy-started');
    await mkdir(started, { recursive: true });
    const ds = join(dir, 'busy.json');
    await writeFile(
      ds,
      JSON.stringify({ MC: { files: { [ROOT_FILE()]: 'Events' }, metadata: { gate, started, busyMs: 1500 } } }),
    );
    // 100 chunks of 1.5 s: the run outlasts the test unless the page needs a chunk per request
    const proc = spawn(
      process.execPath,
      [
        join(repoRoot, 'bin', 'run-analysis.mjs'),
        ds,
        BUSY,
        '--chunksize',
        '100',
        '-o',
        join(dir, 'busy-out'),
        '--serve',
        '127.0.0.1:0',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    children.add(proc);
    proc.once('exit', () => children.delete(proc));
    let log = '';
    const url = await new Promise<string>((resolve, reject) => {
      proc.stderr?.on('data', (d: Buffer) => {
        log += d.toString();
        const m = /live view: (http:\/\/\S+)/.exec(log);
        if (m) resolve(m[1]);
      });
      proc.once('exit', (code) => reject(new Error(`run-analysis exited with ${code} before serving:\n${log}`)));
    });
    const chunks = () => readdirSync(started).length;
    // wait until chunks run (the thread is busy), then load the page
    for (let i = 0; chunks() < 2; i++) {
      if (i > 6000) throw new Error(`no chunk started:\n${log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const { page, errors } = await offlinePage();
    try {
      const before = chunks();
      await page.goto(url, { timeout: 200_000 });
      await ready(page);
      await page.locator('.card[data-key="met"] .plot svg.root_canvas path').first().waitFor({ timeout: 200_000 });
      const boundaries = chunks() - before;
      // before: one request answered per chunk (about 35 chunks for the page and a first drawing, measured);
      // now a chunk boundary answers a loading page's round trips until it goes quiet
      expect(boundaries, `page loaded and drew after ${boundaries} chunks`).toBeLessThanOrEqual(15);
      expect(await page.locator('#state').textContent()).toBe('running');
      // updates while the run goes on
      const done = Number(await page.locator('#summary').getAttribute('data-done'));
      await page.waitForFunction(
        (d) => Number(document.querySelector('#summary')?.getAttribute('data-done')) > d,
        done,
        { timeout: 200_000 },
      );
      // a weighted histogram's total is Σw, not entries
      expect(await page.locator('.card[data-key="wmet"] .total').textContent()).toMatch(/^Σw /);
      expect(await page.locator('.card[data-key="met"] .total').textContent()).toMatch(/ entries$/);
      // Ctrl-C: the page says interrupted, not just disconnected
      const exited = new Promise<number | null>((r) => proc.once('exit', (c) => r(c)));
      proc.kill('SIGINT');
      await page.waitForFunction(() => document.querySelector('#state')?.textContent?.startsWith('interrupted'), null, {
        timeout: 120_000,
      });
      expect(await exited).toBe(130);
      expect(errors).toEqual([]);
    } catch (e) {
      throw new Error(`${(e as Error).message}\n--- run-analysis stderr\n${log}`);
    } finally {
      await writeFile(gate, 'go');
      await page.close();
    }
  }, 400_000);
});
