/**
 * The live view in a real browser (Debian's chromium driven by playwright-core; scripts/ci/setup-
 * chromium.sh installs it): real `run-analysis --serve` processes, local and on a FaaS cluster with two
 * endpoints (one of whose worker processes is killed mid-run). The runs are held at a gate file (see
 * fixtures/view-processor.ts) so the test, not a clock, decides when the numbers move. Screenshots go to out/test-artifacts/view/ (gitignored).
 * Without /usr/bin/chromium the tests are skipped, except under CI=true, where they fail.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalCluster } from '../../executors/faas/local-cluster.ts';
import { readDirect, ROOT_FILE } from '../runner/helpers.ts';
import { repoRoot } from '../shared.ts';
import { workerOf } from './fixtures/processes.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(repoRoot, 'out', 'test-artifacts', 'view');
const suite = existsSync(CHROMIUM) || process.env.CI === 'true' ? describe : describe.skip;
const PROCESSOR = join(repoRoot, 'test', 'view', 'fixtures', 'view-processor.ts');

let browser: Browser;
let dir: string;
let expected: { events: number; muons: number };
const children = new Set<ChildProcess>();

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: run scripts/ci/setup-chromium.sh (apt-get install -y chromium)`);
  browser = await chromium.launch({ executablePath: CHROMIUM });
  dir = await mkdtemp(join(tmpdir(), 'ristretto-view-browser-'));
  await mkdir(ARTIFACTS, { recursive: true });
  // what the page must end up showing, read straight from the file
  const d = await readDirect(ROOT_FILE());
  expected = { events: d.met.length, muons: d.muonCounts.reduce((a, b) => a + b, 0) };
}, 120_000);

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await browser?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Start run-analysis with --serve; resolves with the view's URL once it is printed. */
async function startRun(
  name: string,
  extra: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ proc: ChildProcess; url: string; gate: string; waiting: string; log: () => string }> {
  const gate = join(dir, `${name}.go`);
  const waiting = join(dir, `${name}-waiting`);
  await mkdir(waiting, { recursive: true });
  const ds = join(dir, `${name}.json`);
  await writeFile(
    ds,
    JSON.stringify({
      SingleMu: { files: { [ROOT_FILE()]: 'Events' }, metadata: { isData: true } },
      MC: { files: { [ROOT_FILE()]: 'Events' }, metadata: { gate, waiting, sleepMs: 100 } },
    }),
  );
  const args = [
    join(repoRoot, 'bin', 'run-analysis.mjs'),
    ds,
    PROCESSOR,
    '--chunksize',
    '2500',
    '-o',
    join(dir, `${name}-out`),
    '--serve',
    '127.0.0.1:0',
    ...extra,
  ];
  const proc = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
  let log = '';
  const url = await new Promise<string>((resolve, reject) => {
    proc.stderr.on('data', (d: Buffer) => {
      log += d.toString();
      const m = /live view: (http:\/\/\S+)/.exec(log);
      if (m) resolve(m[1]);
    });
    proc.once('exit', (code) => reject(new Error(`run-analysis exited with ${code} before serving:\n${log}`)));
  });
  return { proc, url, gate, waiting, log: () => log };
}

async function openPage(url: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(url);
  await page.waitForFunction(
    () => (window as unknown as { __ristrettoView?: { ready?: boolean } }).__ristrettoView?.ready === true,
    null,
    { timeout: 60_000 },
  );
  return { page, errors };
}

const num = async (page: Page, selector: string, attr: string) =>
  Number(await page.locator(selector).getAttribute(attr));

/** The page while the run waits at the gate, then after it: drawn, numbers moving, final numbers right. */
async function watchRun(page: Page, gate: string, shot: string): Promise<void> {
  // SingleMu's chunks are merged, MC waits at the gate: the page shows the half-way state
  await page.waitForFunction(() => Number(document.querySelector('#summary')?.getAttribute('data-events')) > 0, null, {
    timeout: 180_000,
  });
  for (const key of ['met', 'muon_pt', 'muon_etaphi']) {
    // JSROOT draws into an SVG canvas with the histogram as paths
    await page.locator(`.card[data-key="${key}"] .plot svg.root_canvas path`).first().waitFor({ timeout: 60_000 });
  }
  const before = await num(page, '#summary', 'data-events');
  const metBefore = await num(page, '.card[data-key="met"]', 'data-total');
  const versionBefore = await num(page, '.card[data-key="met"]', 'data-version');
  expect(before).toBeLessThan(2 * expected.events);
  expect(metBefore).toBeLessThan(2 * expected.events);
  expect(await page.locator('#state').textContent()).toBe('running');

  await writeFile(gate, 'go');
  await page.waitForFunction(() => document.querySelector('#state')?.textContent === 'done', null, {
    timeout: 120_000,
  });
  // the merged state of the whole run, as read from the file by a plain loop
  await page.waitForFunction(
    (n) => Number(document.querySelector('.card[data-key="met"]')?.getAttribute('data-total')) === n,
    2 * expected.events,
    { timeout: 30_000 },
  );
  expect(await num(page, '#summary', 'data-events')).toBe(2 * expected.events);
  // the card shows the new total when the update arrives and its version once the redraw is done
  await page.waitForFunction(
    (v) => Number(document.querySelector('.card[data-key="met"]')?.getAttribute('data-version')) > v,
    versionBefore,
    { timeout: 30_000 },
  );
  await page.waitForFunction(
    (n) => Number(document.querySelector('.card[data-key="muon_pt"]')?.getAttribute('data-total')) === n,
    2 * expected.muons,
    { timeout: 30_000 },
  );
  const rows = await page.locator('#datasets tbody tr').allTextContents();
  expect(rows).toHaveLength(2);
  expect(rows[0]).toMatch(/^SingleMu/);
  expect(rows[1]).toMatch(/^MC/);

  // stack the datasets: data as points, legend with both
  await page.locator('.card[data-key="muon_pt"] select.mode').selectOption('stack');
  await page.waitForFunction(
    () => {
      const texts = [...document.querySelectorAll('.card[data-key="muon_pt"] svg text')].map((t) => t.textContent);
      return texts.includes('SingleMu') && texts.includes('MC');
    },
    null,
    { timeout: 30_000 },
  );
  await page.locator('.card[data-key="met"] input.log').check();
  await page.waitForFunction(
    () =>
      [...document.querySelectorAll('.card[data-key="met"] svg text')].some((t) => /^10$/.test(t.textContent ?? '')),
    null,
    { timeout: 30_000 },
  );
  await page.screenshot({ path: join(ARTIFACTS, shot), fullPage: true });

  // search narrows list and cards
  await page.locator('#search').fill('etaphi');
  await page.waitForFunction(
    () => document.querySelectorAll('#list li').length === 1 && document.querySelectorAll('.card').length === 1,
  );
  expect(await page.locator('.card').getAttribute('data-key')).toBe('muon_etaphi');
}

async function stop(proc: ChildProcess): Promise<number | null> {
  if (proc.exitCode !== null) return proc.exitCode;
  const exited = new Promise<number | null>((r) => proc.once('exit', (c) => r(c)));
  proc.kill('SIGINT');
  return exited;
}

suite('live view in a browser', () => {
  it('a local run: histograms drawn by JSROOT, numbers that move with the run, no page errors', async () => {
    const run = await startRun('local', []);
    const { page, errors } = await openPage(run.url);
    await watchRun(page, run.gate, 'local-run.png').catch((e: Error) => {
      throw new Error(`${e.message}\n--- run-analysis stderr\n${run.log()}\n--- page errors\n${errors.join('\n')}`);
    });
    expect(errors).toEqual([]);
    expect(
      await page.evaluate(
        () => (window as unknown as { __ristrettoView: { errors: string[] } }).__ristrettoView.errors,
      ),
    ).toEqual([]);
    await page.close();
    expect(run.log()).toContain('stays up; press Ctrl-C to stop');
    expect(await stop(run.proc)).toBe(0);
  }, 240_000);

  it('a FaaS run on two endpoints: per-endpoint rows, a killed worker counted as a retry where it died', async () => {
    const cluster = await LocalCluster.start();
    try {
      await Promise.all([cluster.startEndpoint('site-a'), cluster.startEndpoint('site-b')]);
      // One attempt per task at the service: a task lost with its worker comes back to the executor
      // as a WorkerLostError, counted as a retry on the endpoint it was lost on at once, and the
      // runner's --retries runs it again. (With the service's own reruns the retry is counted when
      // the rerun's result arrives.)
      const config = join(dir, 'faas-config.json');
      await writeFile(config, JSON.stringify({ maxAttempts: 1 }));
      const run = await startRun(
        'faas',
        [
          '--executor',
          'faas',
          '--service',
          cluster.url,
          '--endpoints',
          'site-a,site-b',
          '--faas-config',
          config,
          '--retries',
          '1',
        ],
        cluster.env,
      );
      const { page, errors } = await openPage(run.url);
      const fail = (e: Error) => {
        throw new Error(`${e.message}\n--- run-analysis stderr\n${run.log()}\n--- page errors\n${errors.join('\n')}`);
      };
      await page.locator('#endpoints tbody tr[data-endpoint="site-a"]').waitFor({ timeout: 90_000 });
      await page.locator('#endpoints tbody tr[data-endpoint="site-b"]').waitFor({ timeout: 30_000 });
      expect(await page.locator('#endpoints thead th').allTextContents()).toEqual([
        'endpoint',
        'state',
        'done',
        'running',
        'queued',
        'events/s',
        'retries',
        'tail copies',
        'failures',
      ]);
      // Kill site-a's worker while it holds an MC chunk at the gate (the chunk cannot finish; the
      // endpoint agent forks a new worker). Which chunks run first is the service's choice: with one
      // worker per endpoint a held MC chunk may start before a SingleMu chunk, so the test waits for
      // the worker's own "held here" file rather than for SingleMu to be merged.
      let worker = 0;
      const deadline = Date.now() + 180_000;
      for (;;) {
        const pid = workerOf(cluster.endpoints.get('site-a')!.pid!);
        if (existsSync(join(run.waiting, String(pid)))) {
          worker = pid;
          break;
        }
        if (Date.now() > deadline) fail(new Error(`site-a's worker (pid ${pid}) never held an MC chunk at the gate`));
        await new Promise((r) => setTimeout(r, 100));
      }
      await page
        .waitForFunction(
          () =>
            Number(
              document
                .querySelector('#endpoints tr[data-endpoint="site-a"] td[data-col="running"]')
                ?.getAttribute('data-value'),
            ) >= 1,
          null,
          { timeout: 120_000 },
        )
        .catch(fail);
      process.kill(worker, 'SIGKILL');
      // the page shows the retry on site-a while the run still waits at the gate
      await page
        .waitForFunction(
          () =>
            document
              .querySelector('#endpoints tr[data-endpoint="site-a"] td[data-col="retries"]')
              ?.getAttribute('data-value') === '1',
          null,
          { timeout: 60_000 },
        )
        .catch(fail);
      await page.screenshot({ path: join(ARTIFACTS, 'faas-worker-killed.png'), fullPage: true });
      await watchRun(page, run.gate, 'faas-run.png').catch(fail);
      const cell = (ep: string, col: string) =>
        page
          .locator(`#endpoints tr[data-endpoint="${ep}"] td[data-col="${col}"]`)
          .getAttribute('data-value')
          .then(Number);
      expect(await cell('site-a', 'retries')).toBe(1);
      expect(await cell('site-b', 'retries')).toBe(0);
      // every chunk was won by exactly one of the two endpoints; nothing failed, nothing left in flight
      expect((await cell('site-a', 'done')) + (await cell('site-b', 'done'))).toBe(8);
      for (const ep of ['site-a', 'site-b'])
        for (const col of ['failures', 'running', 'queued']) expect(await cell(ep, col)).toBe(0);
      await page.locator('#search').fill('');
      await page.locator('.card[data-key="muon_pt"] select.mode').selectOption('stack');
      await page.waitForFunction(
        () =>
          [...document.querySelectorAll('.card[data-key="muon_pt"] svg text')].some(
            (t) => t.textContent === 'SingleMu',
          ),
        null,
        { timeout: 30_000 },
      );
      await page.locator('.card[data-key="met"] .plot svg.root_canvas').first().waitFor({ timeout: 30_000 });
      await page.screenshot({ path: join(ARTIFACTS, 'faas-run-endpoints.png'), fullPage: true });
      expect(errors).toEqual([]);
      await page.close();
      expect(await stop(run.proc)).toBe(0);
      // the same table in metrics.json
      const metrics = JSON.parse(await readFile(join(dir, 'faas-out', 'metrics.json'), 'utf8')) as {
        faas: {
          endpoints: Array<{ name: string; done: number; retries: number; failures: number; tailCopies: number }>;
        };
      };
      const rows = Object.fromEntries(metrics.faas.endpoints.map((e) => [e.name, e]));
      expect(rows['site-a'].done + rows['site-b'].done).toBe(8);
      expect([rows['site-a'].retries, rows['site-b'].retries]).toEqual([1, 0]);
      expect([rows['site-a'].failures, rows['site-b'].failures]).toEqual([0, 0]);
    } finally {
      await cluster.close();
    }
  }, 300_000);
});
