/**
 * Reader-only CPU cost of a checkout, A/B: `readSync` of a few branches over every row group of a Parquet
 * file (a ROOT file: over chunks of 100 k entries, run-analysis's default) in a fresh process per run
 * (footer / tree metadata included), interleaved between checkouts.
 *
 *     npx tsx bench/reader-cpu.ts --file F.parquet --repos /tmp/before,/tmp/after --reps 3 [--branches Jet_pt,MET_pt,nJet]
 *     npx tsx bench/reader-cpu.ts --file F.root --repos /tmp/before,/tmp/after --reps 3 --branches Jet_pt,Jet_eta
 *
 * Prints CPU seconds (user + system of the child) per run and the best per checkout.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { benchArgs, int, text, usageFail, words } from './lib.ts';

const args = process.argv.slice(2);

if (args[0] === '--child') {
  const [, repo, file, list] = args;
  type Reader = {
    numEntries: number;
    boundaries(): number[];
    readSync?(b: string[], a: number, z: number): Record<string, unknown>;
    close(): Promise<void>;
  };
  const root = file.endsWith('.root');
  const mod = (await import(
    pathToFileURL(resolve(repo, root ? 'src/io/root/index.ts' : 'src/io/parquet/index.ts')).href
  )) as {
    openParquet?(p: string): Promise<Reader>;
    openRoot?(p: string): Promise<Reader>;
  };
  const t0 = process.cpuUsage();
  const r = await (root ? mod.openRoot! : mod.openParquet!)(file);
  // ROOT: the chunks run-analysis cuts by default (ceil(n / 100 k) equal ranges), not the basket starts.
  const count = Math.ceil(r.numEntries / 100_000);
  const size = Math.ceil(r.numEntries / count);
  const b = root ? [...Array.from({ length: count }, (_, i) => i * size), r.numEntries] : r.boundaries();
  for (let g = 0; g + 1 < b.length; g++) r.readSync!(list.split(','), b[g], b[g + 1]);
  await r.close();
  const c = process.cpuUsage(t0);
  console.log(JSON.stringify({ cpu: (c.user + c.system) / 1e6, groups: b.length - 1 }));
} else {
  const a = benchArgs('Reader-only CPU cost of checkouts, A/B, a fresh process per run.', {
    file: text('a Parquet or ROOT file', undefined, '<file>'),
    repos: words('checkouts to compare', []),
    reps: int('runs per checkout', 3, 1),
    branches: words('branches to read', ['Jet_pt', 'MET_pt', 'nJet']),
  });
  if (!a.file || a.repos.length === 0) usageFail('give --file F and --repos A,B');
  const file = resolve(a.file);
  const repos = a.repos.map((p) => resolve(p));
  const { reps } = a;
  const branches = a.branches.join(',');
  const best = new Map<string, number>();
  for (let k = 0; k < reps; k++) {
    for (const repo of repos) {
      const p = spawnSync(
        process.execPath,
        ['--import', 'tsx', import.meta.filename, '--child', repo, file, branches],
        {
          encoding: 'utf8',
          cwd: repo,
        },
      );
      if (p.status !== 0) throw new Error(`${repo}: ${p.stderr}`);
      const { cpu } = JSON.parse(p.stdout.trim().split('\n').at(-1)!) as { cpu: number };
      best.set(repo, Math.min(best.get(repo) ?? Infinity, cpu));
      console.log(`${repo}  run ${k + 1}: ${cpu.toFixed(2)} CPU-s`);
    }
  }
  for (const [repo, cpu] of best) console.log(`best ${repo}: ${cpu.toFixed(2)} CPU-s`);
}
