/**
 * bench/adl-e2e.ts, run for real on the 1,000-event ADL sample: every run records its whole-command time
 * beside the inner one, DuckDB runs from the plain-Node child, and a DuckDB histogram that differs from
 * Ristretto's in any bin shows as a mismatch in the table (`--report`), also for result files written
 * before the command time existed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, sharedPath } from '../shared.ts';

const FILE = sharedPath('data', 'Run2012B_SingleMu-restructured-1000.parquet');

function bench(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', resolve(repoRoot, 'bench', 'adl-e2e.ts'), ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 300_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** The table row of query `q` in a report. */
const row = (out: string, q: number): string[] => {
  const line = out.split('\n').find((l) => l.startsWith(`| Q${q} |`));
  expect(line, out).toBeDefined();
  return line!.split(' | ').map((x) => x.replace(/^\| | \|$/g, ''));
};

interface Run {
  seconds: number;
  elapsed?: number;
  form?: string;
  importSeconds?: number;
  counts: Record<string, number[]>;
}
interface Cell {
  query: number;
  r1: Run[];
  d1: Run[];
  d2: Run[];
}

describe('bench/adl-e2e.ts', () => {
  let dir: string;
  let out: string;
  let results: { machine: string; cells: Cell[] };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'adl-e2e-test-'));
    out = join(dir, 'res.json');
    const r = bench('--file', FILE, '--queries', '5', '--reps', '1', '--modes', 'r1,duckdb', '--out', out);
    expect(r.code, r.err).toBe(0);
    results = JSON.parse(readFileSync(out, 'utf8'));
  }, 300_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('records the whole command beside the inner time, and DuckDB agrees bin for bin', () => {
    const c = results.cells[0];
    expect(c.query).toBe(5);
    // The process holds the run: its elapsed time cannot be below the time measured inside it.
    for (const x of [...c.r1, ...c.d1, ...c.d2]) expect(x.elapsed).toBeGreaterThan(x.seconds);
    for (const x of [...c.d1, ...c.d2]) {
      expect(x.form).toBe('lists');
      expect(x.importSeconds).toBeGreaterThan(0);
    }
    const r = bench('--report', out);
    expect(r.code, r.err).toBe(0);
    const cols = r.out
      .split('\n')
      .find((l) => l.startsWith('| query |'))!
      .split(' | ');
    const agree = cols.findIndex((x) => x.startsWith('agree bin for bin'));
    expect(row(r.out, 5)[agree]).toBe('— / yes / —');
  });

  it('shows a DuckDB histogram that differs in one bin, or only moves an entry, as a mismatch', () => {
    const edit = (change: (counts: number[]) => void): string => {
      const copy = JSON.parse(JSON.stringify(results)) as typeof results;
      change(copy.cells[0].d2[0].counts['query-5']);
      const p = join(dir, `edited-${Math.random().toString(36).slice(2)}.json`);
      writeFileSync(p, JSON.stringify(copy));
      const r = bench('--report', p);
      expect(r.code, r.err).toBe(0);
      const cols = r.out
        .split('\n')
        .find((l) => l.startsWith('| query |'))!
        .split(' | ');
      return row(r.out, 5)[cols.findIndex((x) => x.startsWith('agree bin for bin'))];
    };
    expect(edit((c) => (c[10] += 1))).toBe('— / NO: 1 bins, totals differ / —');
    // Same total, two bins off: the check before session 16 (totals only) passed this.
    const moved = edit((c) => {
      const i = c.findIndex((v) => v > 0);
      c[i] -= 1;
      c[i + 1] += 1;
    });
    expect(moved).toBe('— / NO: 2 bins, totals equal / —');
  }, 120_000);

  it('reads a result file written before command times existed', () => {
    const old = JSON.parse(JSON.stringify(results)) as typeof results;
    for (const c of old.cells)
      for (const x of [...c.r1, ...c.d1, ...c.d2]) {
        delete x.elapsed;
        delete x.form;
        delete x.importSeconds;
      }
    const p = join(dir, 'old.json');
    writeFileSync(p, JSON.stringify(old));
    const r = bench('--report', p);
    expect(r.code, r.err).toBe(0);
    const cols = r.out
      .split('\n')
      .find((l) => l.startsWith('| query |'))!
      .split(' | ');
    const cells = row(r.out, 5);
    expect(cells[cols.indexOf('R 1 thr: cmd / inner [s]')]).toMatch(/^— \/ \d+\.\d\d$/);
    expect(cells[cols.indexOf('DuckDB÷R 1 thr: cmd / inner')]).toMatch(/^— \/ \d+\.\d\d×$/);
    expect(r.out).toContain('DuckDB runs from before session 16 ran in a tsx child');
  }, 120_000);
});

describe('bench/adl-duckdb.mjs', () => {
  it('runs a spec in plain Node and counts every event of the sample', () => {
    const dir = mkdtempSync(join(tmpdir(), 'adl-duckdb-test-'));
    try {
      const spec = join(dir, 'spec.json');
      const source = `read_parquet('${FILE.replaceAll("'", "''")}', file_row_number = true)`;
      writeFileSync(
        spec,
        JSON.stringify({
          threads: 1,
          macros: [],
          views: [{ name: 'nested', sql: `CREATE VIEW events AS SELECT * FROM ${source}` }],
          sql: 'SELECT 1 AS b1, count(*)::DOUBLE AS n FROM events',
          hists: [{ name: 'all', bins: 1 }],
        }),
      );
      const r = spawnSync(process.execPath, [resolve(repoRoot, 'bench', 'adl-duckdb.mjs'), spec], {
        cwd: repoRoot,
        encoding: 'utf8',
        timeout: 120_000,
      });
      expect(r.status, r.stderr).toBe(0);
      const got = JSON.parse(r.stdout.trim());
      expect(got.counts).toEqual({ all: [0, 1000, 0] });
      expect(got.view).toBe('nested');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
