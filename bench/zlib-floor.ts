/**
 * The zlib floor of a ROOT query: inflate alone over every basket a query reads, against the whole command.
 *
 *     npx tsx bench/zlib-floor.ts --file D/adl-20M-zlib.root [--branches Q1=MET_pt,Q3=Jet_pt+Jet_eta]
 *       [--reps 5] [--modules DIR]
 *
 * For each query's branch list (defaults: the branches ADL Q1, Q3 and Q6 read from a ROOT file; the sum
 * of their baskets' bytes equals `bytesRead` in run-analysis's metrics.json: jagged fields take their
 * sizes from their own baskets, not from the count branch), every basket of those branches is read into
 * memory first (not timed) and split into ROOT's compression blocks. Then, per repetition and inflater, every `ZL` block is inflated into one reused
 * array, as the reader does: this thread's CPU time (`process.threadCpuUsage` where present, else the
 * process's) and wall time, best of `--reps`, interleaved between the inflaters. Inflaters:
 *
 * - `node:zlib handle` — `inflateInto` (src/io/codecs/inflate.ts): one reset zlib handle per thread, into place;
 * - `node:zlib inflateSync` — Node's public call (new handle and output Buffer per block) plus a copy;
 * - `fflate` and `pako`, when `--modules DIR` holds them (`npm install fflate pako` in DIR): their zlib
 *   decoders, fflate's into the caller's array (`out`), pako's with a copy.
 *
 * Every output is checked against `inflateInto`'s on the first repetition (bytes equal). With `--levels`,
 * the inflated bytes of every block are deflated again at each level (zlib format) and inflated by the
 * handle: does the writer's level change the reader's cost?
 */
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { deflateSync, inflateSync } from 'node:zlib';
import { inflateInto } from '../src/io/codecs/inflate.ts';
import { benchArgs, int, ints, text, usageFail, words } from './lib.ts';
import { type Frame, rootBlocks } from './pages.ts';

const a = benchArgs('Inflate alone over the baskets of ADL queries, per inflater.', {
  file: text('ROOT file with zlib baskets', undefined, '<file>'),
  branches: words<string>('NAME=branch+branch per query', [
    'Q1=MET_pt',
    'Q3=Jet_eta+Jet_pt',
    'Q6=Jet_btag+Jet_eta+Jet_mass+Jet_phi+Jet_pt',
  ]),
  reps: int('repetitions (best of)', 5, 1),
  modules: text('folder whose node_modules holds fflate and/or pako', undefined, '<dir>'),
  levels: ints('also: the same bytes deflated again at these zlib levels, inflated by the handle', [], 1),
});
if (!a.file) usageFail('give --file F (a ROOT file with zlib baskets, e.g. adl-20M-zlib.root)');

type Inflate = (src: Uint8Array, dst: Uint8Array) => number;
const inflaters: [string, Inflate][] = [
  ['node:zlib handle', (src, dst) => inflateInto(src, dst)],
  [
    'node:zlib inflateSync',
    (src, dst) => {
      const r = inflateSync(src);
      dst.set(r);
      return r.length;
    },
  ],
];
if (a.modules) {
  const req = createRequire(join(resolve(a.modules), 'package.json'));
  try {
    const fflate = req('fflate') as { unzlibSync(d: Uint8Array, o?: { out?: Uint8Array }): Uint8Array };
    inflaters.push(['fflate (into place)', (src, dst) => fflate.unzlibSync(src, { out: dst }).length]);
  } catch (e) {
    process.stderr.write(`fflate: ${(e as Error).message}\n`);
  }
  try {
    const pako = req('pako') as { inflate(d: Uint8Array): Uint8Array };
    inflaters.push([
      'pako',
      (src, dst) => {
        const r = pako.inflate(src);
        dst.set(r);
        return r.length;
      },
    ]);
  } catch (e) {
    process.stderr.write(`pako: ${(e as Error).message}\n`);
  }
}

const threadCpu = (): number => {
  const u = (process as { threadCpuUsage?: () => NodeJS.CpuUsage }).threadCpuUsage?.() ?? process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

console.log(
  `# ${a.file}; ${cpus()[0]?.model}, node ${process.version}, load ${loadavg()[0].toFixed(1)}; best of ${a.reps}`,
);
console.log('| query | branches | ZL blocks | MB in → out | inflater | CPU [s] | wall [s] | MB/s out (CPU) |');
console.log('| --- | --- | ---: | ---: | --- | ---: | ---: | ---: |');
for (const spec of a.branches) {
  const [name, list] = spec.split('=');
  const branches = list.split('+');
  const all = await rootBlocks(a.file, branches, Number.POSITIVE_INFINITY);
  const blocks: Frame[] = all.filter((b) => b.tag === 'ZL');
  const inBytes = blocks.reduce((s, b) => s + b.body.length, 0);
  const outBytes = blocks.reduce((s, b) => s + b.size, 0);
  const max = Math.max(...blocks.map((b) => b.size));
  // The ZL block body is the zlib stream (2-byte header, deflate, adler32) after ROOT's 9-byte header.
  const ref = new Uint8Array(max + 64);
  const dst = new Uint8Array(max + 64);
  const best = inflaters.map(() => ({ cpu: Number.POSITIVE_INFINITY, wall: Number.POSITIVE_INFINITY }));
  for (let rep = 0; rep < a.reps; rep++)
    for (let k = 0; k < inflaters.length; k++) {
      const f = inflaters[(k + rep) % inflaters.length];
      const at = inflaters.indexOf(f);
      if (rep === 0 && at > 0)
        for (const b of blocks) {
          const n = f[1](b.body, dst);
          const m = inflateInto(b.body, ref);
          if (n !== b.size || m !== b.size || Buffer.compare(dst.subarray(0, n), ref.subarray(0, m)) !== 0)
            throw new Error(`${f[0]}: output differs from inflateInto's`);
        }
      const c0 = threadCpu();
      const t0 = performance.now();
      let total = 0;
      for (const b of blocks) total += f[1](b.body, dst);
      const wall = (performance.now() - t0) / 1000;
      const cpu = threadCpu() - c0;
      if (total !== outBytes) throw new Error(`${f[0]}: ${total} bytes out, expected ${outBytes}`);
      best[at].cpu = Math.min(best[at].cpu, cpu);
      best[at].wall = Math.min(best[at].wall, wall);
    }
  for (let k = 0; k < inflaters.length; k++)
    console.log(
      `| ${name} | ${branches.join(', ')} | ${blocks.length} | ${(inBytes / 1e6).toFixed(0)} → ${(outBytes / 1e6).toFixed(0)} | ${inflaters[k][0]} | ${best[k].cpu.toFixed(3)} | ${best[k].wall.toFixed(3)} | ${(outBytes / 1e6 / best[k].cpu).toFixed(0)} |`,
    );
  for (const level of a.levels) {
    const again = blocks.map((b) => {
      const n = inflateInto(b.body, ref);
      return { body: new Uint8Array(deflateSync(ref.subarray(0, n), { level })), size: n };
    });
    const inL = again.reduce((s, b) => s + b.body.length, 0);
    let cpu = Number.POSITIVE_INFINITY;
    let wall = Number.POSITIVE_INFINITY;
    for (let rep = 0; rep < a.reps; rep++) {
      const c0 = threadCpu();
      const t0 = performance.now();
      for (const b of again) inflateInto(b.body, dst);
      wall = Math.min(wall, (performance.now() - t0) / 1000);
      cpu = Math.min(cpu, threadCpu() - c0);
    }
    console.log(
      `| ${name} | ${branches.join(', ')} | ${again.length} | ${(inL / 1e6).toFixed(0)} → ${(outBytes / 1e6).toFixed(0)} | node:zlib handle, deflated again at level ${level} | ${cpu.toFixed(3)} | ${wall.toFixed(3)} | ${(outBytes / 1e6 / cpu).toFixed(0)} |`,
    );
  }
  if (all.length !== blocks.length) console.log(`(${all.length - blocks.length} blocks of other codecs left out)`);
}
