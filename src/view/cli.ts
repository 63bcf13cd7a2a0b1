/**
 * `ristretto view OUTDIR [--serve [HOST:]PORT]`: the live view's page for the finished outputs of a run
 * (and fit scan results), served until Ctrl-C.
 */
import type { Command } from 'commander';
import { followOutputs, loadOutputs } from './outdir.ts';
import { startViewServer } from './server.ts';

/** Add `view` to the ristretto program. */
export function registerViewCommand(program: Command): void {
  program
    .command('view <outdir>')
    .description('serve the histograms (and fit scan results) of an output folder as a web page until Ctrl-C')
    .option(
      '--serve <[host:]port>',
      'where to listen (default 127.0.0.1 and a free port; 0.0.0.0:PORT to share on the network)',
      '127.0.0.1:0',
    )
    .option(
      '--data <list>',
      'categories drawn as data points over stacks, e.g. --data SingleMu (default: the isData datasets, as run-analysis wrote them to datasets.meta.json)',
      (v: string) =>
        v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
    )
    .action(async (outdir: string, o: { serve: string; data?: string[] }) => {
      const state = await loadOutputs(outdir);
      for (const n of state.notes) process.stderr.write(`note: ${n}\n`);
      const server = await startViewServer(state, { listen: o.serve, ...(o.data ? { data: o.data } : {}) });
      // outputs rewritten meanwhile (run-analysis --watch, a rerun) show up on open pages
      const unfollow = followOutputs(outdir, state);
      const data = o.data ?? state.data;
      process.stderr.write(
        `ristretto view: ${server.url}  (${state.snapshot().hists.length} histograms${data.length ? `; data: ${data.join(', ')}` : ''}; Ctrl-C to stop)\n`,
      );
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop).off('SIGTERM', stop);
          resolve();
        };
        process.on('SIGINT', stop).on('SIGTERM', stop);
      });
      unfollow();
      await server.close();
    });
}
