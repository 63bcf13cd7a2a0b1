/**
 * Start-up of the command-line tools on commands that do almost no work, where the cost is loading the
 * CLI itself: `ristretto --version`, `--help`, `ls` of a small Parquet file, `run-analysis --version`, and
 * `run-analysis` of one ADL query over the 1,000-event nested sample.
 *
 *     npx tsx bench/cli-startup.ts --baseline DIR [--reps 5] [--out res.json]
 *
 * Each command runs in this checkout and in `--baseline DIR`'s (a `git worktree` whose node_modules and
 * vendor/ link to this one's), interleaved per repetition, under `/usr/bin/time`: wall, and CPU = user +
 * system seconds of the process and its threads. The first repetition warms the build caches and is not
 * counted; the table shows the best and the median of the rest, and the load average.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchArgs, int, text, usageFail } from './lib.ts';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const {
  baseline,
  reps,
  out: outFile,
} = benchArgs('Start-up of ristretto and run-analysis on near-empty commands, A/B.', {
  baseline: text('the other checkout (e.g. git worktree add /tmp/before HEAD~3)', '', '<dir>'),
  reps: int('repetitions per command', 5, 1),
  out: text('write the results as JSON here', undefined, '<file>'),
});
if (!baseline) usageFail('give --baseline DIR (e.g. git worktree add /tmp/before HEAD~3)');
const shared = resolve(repo, '..', 'shared', 'data');

const work = mkdtempSync(join(tmpdir(), 'ristretto-cli-startup-'));
const timeFile = join(work, 'time.txt');
const dataset = join(work, 'ds.json');
writeFileSync(dataset, JSON.stringify({ adl: [join(shared, 'Run2012B_SingleMu-restructured-1000.parquet')] }));

const COMMANDS: Array<[string, (root: string) => string[]]> = [
  ['ristretto --version', (r) => [join(r, 'bin', 'ristretto.mjs'), '--version']],
  ['ristretto --help', (r) => [join(r, 'bin', 'ristretto.mjs'), '--help']],
  [
    'ristretto ls (Parquet)',
    (r) => [join(r, 'bin', 'ristretto.mjs'), 'ls', join(shared, 'Run2012B_SingleMu-1000.parquet')],
  ],
  ['run-analysis --version', (r) => [join(r, 'bin', 'run-analysis.mjs'), '--version']],
  [
    'run-analysis Q1, 1k events',
    (r) => [
      join(r, 'bin', 'run-analysis.mjs'),
      '-q',
      '--no-cache',
      '-o',
      join(work, 'out'),
      dataset,
      join(r, 'processors', 'adl', 'query-1.ts'),
    ],
  ],
];

interface Sample {
  who: string;
  cmd: string;
  rep: number;
  wall: number;
  cpu: number;
  load: number;
}
const samples: Sample[] = [];
for (let rep = 0; rep <= reps; rep++) {
  for (const [cmd, args] of COMMANDS) {
    for (const [who, root] of [
      ['baseline', resolve(baseline)],
      ['this', repo],
    ] as const) {
      const load = loadavg()[0];
      const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S', '-o', timeFile, process.execPath, ...args(root)], {
        cwd: root,
        encoding: 'utf8',
        env: { ...process.env, RISTRETTO_TSX: '0' },
      });
      if (r.status !== 0) throw new Error(`${who}: ${cmd} failed (exit ${r.status}):\n${r.stderr}`);
      const [wall, user, sys] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
      if (rep > 0) samples.push({ who, cmd, rep, wall, cpu: user + sys, load });
      console.error(
        `${who.padEnd(8)} ${cmd.padEnd(28)} rep ${rep}: wall ${wall.toFixed(2)} s, CPU ${(user + sys).toFixed(2)} s, load ${load.toFixed(1)}`,
      );
    }
  }
}
rmSync(work, { recursive: true, force: true });

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const min = (xs: number[]) => Math.min(...xs);
console.log('| command | who | CPU best [s] | CPU median [s] | wall best [s] | wall median [s] | load |');
console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: |');
for (const [cmd] of COMMANDS) {
  for (const who of ['baseline', 'this']) {
    const s = samples.filter((x) => x.cmd === cmd && x.who === who);
    const f = (xs: number[]) => xs.map((x) => x.toFixed(2));
    const [cb, cm, wb, wm] = f([
      min(s.map((x) => x.cpu)),
      median(s.map((x) => x.cpu)),
      min(s.map((x) => x.wall)),
      median(s.map((x) => x.wall)),
    ]);
    console.log(`| ${cmd} | ${who} | ${cb} | ${cm} | ${wb} | ${wm} | ${median(s.map((x) => x.load)).toFixed(1)} |`);
  }
}
if (outFile) writeFileSync(outFile, JSON.stringify(samples, null, 1));
