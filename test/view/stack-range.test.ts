/**
 * The live view's overlay and stack modes, drawn by JSROOT in a real browser (Debian's chromium via
 * playwright-core): a data point above the stack (the Z peak of a data sample larger than the
 * simulation) keeps its marker and error bar inside the frame and below the legend, linear and log;
 * data are points in the overlay mode too; no JSROOT tool-button square under the plots.
 * Without /usr/bin/chromium the tests are skipped, except under CI=true, where they fail.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Hist, Regular, StrCategory } from '../../src/hist/index.ts';
import type { RunMetrics } from '../../src/runner/metrics.ts';
import { writeOutputs } from '../../src/runner/output.ts';
import { loadOutputs } from '../../src/view/outdir.ts';
import { startViewServer, type ViewServer } from '../../src/view/server.ts';

const CHROMIUM = '/usr/bin/chromium';
const suite = existsSync(CHROMIUM) || process.env.CI === 'true' ? describe : describe.skip;
const metrics = { events: 1, chunks: 1, chunksTotal: 1, wallSeconds: 1, retries: 0 } as unknown as RunMetrics;

/** Counts per bin of the 10 bins [60, 120): a Z peak in bin 5 ([90, 96)). */
const SIM = [20, 40, 90, 400, 2300, 600, 100, 40, 20, 10];
const DATA = [22, 41, 95, 420, 2440, 610, 99, 43, 18, 12];
const PEAK = 4;

function fillCounts(h: Hist, dataset: string, counts: readonly number[]): void {
  const x: number[] = [];
  counts.forEach((n, i) => {
    for (let k = 0; k < n; k++) x.push(63 + 6 * i);
  });
  h.fill(dataset, Float64Array.from(x));
}

interface Geometry {
  ymin: number;
  ymax: number;
  px: number[];
  legendBottom: number;
  drawn: Array<{ title: string; marker: boolean }>;
  toolButtons: number;
}

let dir: string;
let browser: Browser;
let server: ViewServer;

suite('overlay and stack modes in a browser', () => {
  beforeAll(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(`${CHROMIUM} is missing: run scripts/ci/setup-chromium.sh (apt-get install -y chromium)`);
    dir = await mkdtemp(join(tmpdir(), 'ristretto-view-range-'));
    const mass = new Hist(
      new StrCategory([], { name: 'dataset', growth: true }),
      new Regular(10, 60, 120, { name: 'mass', label: 'm_{#mu#mu} [GeV]' }),
    );
    fillCounts(mass, 'DY', SIM);
    fillCounts(mass, 'SingleMu', DATA);
    await writeOutputs({ mass }, metrics, dir, ['json'], {
      dataDatasets: ['SingleMu'],
      datasets: [
        { name: 'SingleMu', files: ['a.root'], metadata: { isData: true } },
        { name: 'DY', files: ['b.root'], metadata: {} },
      ],
    });
    server = await startViewServer(await loadOutputs(dir));
    browser = await chromium.launch({ executablePath: CHROMIUM });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function open(): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(server.url);
    await page.waitForFunction(
      () => (window as unknown as { __ristrettoView?: { ready?: boolean } }).__ristrettoView?.ready === true,
      null,
      { timeout: 120_000 },
    );
    return { page, errors };
  }

  /** Draw in a mode and wait until the legend names both datasets. */
  async function drawAs(page: Page, mode: string, log: boolean): Promise<void> {
    const card = page.locator('.card[data-key="mass"]');
    const draws = () =>
      page.evaluate(() => (window as unknown as { __ristrettoView: { draws: number } }).__ristrettoView.draws);
    const drawn = (n: number) =>
      page.waitForFunction(
        (k) => (window as unknown as { __ristrettoView: { draws: number } }).__ristrettoView.draws >= k,
        n,
        { timeout: 60_000 },
      );
    await drawn(1); // the card's first drawing (overlay, linear)
    if ((await card.locator('select.mode').inputValue()) !== mode) {
      const n = await draws();
      await card.locator('select.mode').selectOption(mode);
      await drawn(n + 1);
    }
    if (log) {
      const n = await draws();
      await card.locator('input.log').check();
      await drawn(n + 1);
    }
  }

  /**
   * Geometry from JSROOT's own painters, y in pixels from the frame's top: the frame's value range, the
   * pixel of each value, the legend box's bottom, and how each drawn histogram is drawn (markers or
   * not). A string, so that the test runner does not rewrite the import().
   */
  async function geometry(page: Page, values: readonly number[]): Promise<Geometry> {
    return page.evaluate(`(async () => {
      const jsroot = await import('/jsroot/main.mjs');
      const div = document.querySelector('.card[data-key="mass"] .plot');
      const cp = jsroot.getElementCanvPainter(div);
      const fp = cp.getFramePainter();
      // client pixels: the frame's border and the legend's box (the canvas may be scaled to the card)
      const frame = div.querySelector('g.root_frame > path').getBoundingClientRect();
      const scale = frame.height / fp.getFrameHeight();
      const box = div.querySelector('g[objtype="TLegend"] > path').getBoundingClientRect();
      const drawn = [];
      cp.forEachPainter((p) => {
        const o = p.getObject?.();
        const opts = p.getOptions?.() ?? p.options;
        if (o?._typename === 'TH1D' && opts) drawn.push({ title: o.fTitle, marker: Boolean(opts.Mark) });
      });
      return {
        ymin: fp.scale_ymin, ymax: fp.scale_ymax,
        px: ${JSON.stringify(values)}.map((v) => fp.gry(v) * scale),
        legendBottom: box.bottom - frame.top,
        drawn,
        toolButtons: div.querySelectorAll('.btns_layer > *, [name="Toggle"]').length,
      };
    })()`);
  }

  const TOP = DATA[PEAK] + Math.sqrt(DATA[PEAK]); // the peak data point's error bar ends here (√N)

  /** The peak's marker and error bar inside the frame, and under the legend's box (pixels from the frame's top). */
  function expectPeakVisible(g: Geometry): void {
    expect(g.ymax).toBeGreaterThan(TOP);
    const [point, top] = g.px;
    expect(top).toBeGreaterThan(g.legendBottom);
    expect(point).toBeGreaterThan(top);
  }

  for (const log of [false, true])
    it(`stack${log ? ', log' : ''}: a data point above the stack keeps its error bar in the frame, under the legend`, async () => {
      const { page, errors } = await open();
      try {
        await drawAs(page, 'stack', log);
        const g = await geometry(page, [DATA[PEAK], TOP]);
        expect(g.drawn).toEqual([
          { title: 'DY', marker: false },
          { title: 'SingleMu', marker: true },
        ]);
        if (log) expect(g.ymin).toBeGreaterThan(0);
        else expect(g.ymin).toBe(0);
        expectPeakVisible(g);
        expect(errors).toEqual([]);
      } finally {
        await page.close();
      }
    }, 120_000);

  it('overlay: the isData dataset is drawn as points, the others as lines, with the same headroom', async () => {
    const { page, errors } = await open();
    try {
      await drawAs(page, 'overlay', false);
      const g = await geometry(page, [DATA[PEAK], TOP]);
      expect(g.drawn).toEqual([
        { title: 'DY', marker: false },
        { title: 'SingleMu', marker: true },
      ]);
      expectPeakVisible(g);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  }, 120_000);

  it('no JSROOT tool-button square under the plots (the card has its own downloads)', async () => {
    const { page, errors } = await open();
    try {
      await drawAs(page, 'stack', false);
      const g = await geometry(page, []);
      expect(g.toolButtons).toBe(0);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  }, 120_000);
});
