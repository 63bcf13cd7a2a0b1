/**
 * `run-analysis DATASET.json PROCESSOR.ts [options]`: the command-line face of the runner. Errors are
 * reported as by every `ristretto` command (src/errors/report.ts): a short message naming what failed and
 * what to do, exit 1 (under a failure of the processor's code, the frames of that code); a bug in
 * Ristretto as "internal error" with its stack, exit 70; Ctrl-C exit 130. The whole stack trace with
 * --debug or RISTRETTO_DEBUG=1.
 */
import { availableParallelism } from 'node:os';
import { basename, resolve } from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { EXECUTOR_NAMES, executorFactory } from '../../executors/index.ts';
import { addFaasOptions, withFaasExecutor } from '../../executors/faas/cli-options.ts';
import { packageVersion } from './version.ts';
import { RistrettoError, UserCodeError } from '../errors/index.ts';
import { reportCommandError } from '../errors/report.ts';
import { OUTPUT_FORMATS, parseFormats, writeOutputs } from '../runner/output.ts';
import { progressReporter } from '../runner/progress.ts';
import { CheckpointError, savedChunksNote } from '../runner/checkpoint.ts';
import { MergeChunkError, runAnalysis, RunInterruptedError } from '../runner/run.ts';
import { formatSummary } from '../runner/summary.ts';
import { LiveView } from '../view/live.ts';
import { watchAnalysis } from '../watch/watch.ts';
import type { RunMetrics } from '../runner/metrics.ts';
import { type Dataset, datasetLegend, loadFileset } from '../dataset/fileset.ts';
import { mapStack, thrownInUserCode, userFrame, userFrames } from '../processor/stack.ts';
import { assertOutputFolder } from '../io/output-path.ts';
import { lockOutputFolder, type OutLock } from '../runner/out-lock.ts';
import { countUnsavedChunks } from '../runner/unsaved-chunks.ts';
import { exitDeliberately } from '../runner/exit-guard.ts';

/** `--skipbadfiles` left no file to read: there is no result, and earlier outputs are kept as they were. */
export class NoFilesReadError extends RistrettoError {}

interface CliOptions {
  executor: string;
  workers?: number;
  callerRuns?: boolean;
  chunksize: number;
  maxchunks?: number;
  align?: boolean;
  retries: number;
  skipbadfiles?: boolean;
  treename?: string;
  out: string;
  format: string;
  resume?: boolean;
  checkpointEvery: number;
  checkpointSeconds: number;
  cache: boolean;
  quiet?: boolean;
  debug?: boolean;
  serve?: string | true;
  label?: string;
  lumi?: number;
  sqrts?: number;
  logy?: boolean;
  watch?: boolean;
  watchInterval: number;
}

function integer(name: string, min: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^\s*\d+\s*$/.test(v) || !Number.isSafeInteger(n) || n < min)
      throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}, got "${v}"`);
    return n;
  };
}

function positive(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive number, got "${v}"`);
    return n;
  };
}

export function buildProgram(): Command {
  return addFaasOptions(
    new Command('run-analysis')
      .description('Run a processor over the files of a dataset JSON and write its histograms and metrics.')
      .version(packageVersion(), '-V, --version', 'print the Ristretto version')
      .argument(
        '<dataset>',
        'dataset JSON: {"name": ["file", ...]} or {"name": {"files": {"file": "tree"}, "metadata": {...}}}; paths relative to the JSON, globs allowed, http(s) and root:// URLs pass through',
      )
      .argument(
        '<processor>',
        'processor module (.ts or .js) default-exporting defineProcessor({ accumulator, process, postprocess? })',
      )
      .addOption(
        new Option('-e, --executor <name>', 'where chunks run')
          .choices([...EXECUTOR_NAMES, 'faas'])
          .default('iterative'),
      )
      .option(
        '-w, --workers <n>',
        `runners for --executor threads: worker threads, or this thread and N-1 worker threads with --caller-runs (default: ${availableParallelism()}, the available cores)`,
        integer('--workers', 1),
      )
      .option(
        '--caller-runs',
        '--executor threads: run chunks on the main thread too (one worker thread fewer; 3-10% faster on 2 cores, but a chunk there that crashes or exits ends the run, and Ctrl-C waits for it)',
      )
      .option('--chunksize <n>', 'entries per chunk', integer('--chunksize', 1), 100_000)
      .option(
        '--maxchunks <n>',
        'process only the first N chunks (and preprocess only the files they need)',
        integer('--maxchunks', 1),
      )
      .option('--align', 'cut chunks only at basket/row-group boundaries')
      .option('--retries <n>', 'retry a failed chunk up to N more times (any failure)', integer('--retries', 0), 0)
      .option(
        '--skipbadfiles',
        'leave out files that cannot be opened or read (processor errors still fail); they are listed in the summary and metrics.json',
      )
      .option('--treename <name>', "tree for dataset entries that name none (default: Events, or the file's only tree)")
      .option(
        '-o, --out <dir>',
        'output folder (histograms, accumulator.json, metrics.json, checkpoints, preprocessing cache); one run at a time: a second run into a folder in use is refused',
        'out',
      )
      .option('--format <list>', `comma-separated histogram formats: ${OUTPUT_FORMATS.join(', ')}`, 'json')
      .option('--resume', 'continue from the checkpoint in --out without redoing finished chunks')
      .option(
        '--checkpoint-every <n>',
        'write a checkpoint after this many chunks ...',
        integer('--checkpoint-every', 1),
        20,
      )
      .option(
        '--checkpoint-seconds <s>',
        '... or after this many seconds, whichever comes first',
        positive('--checkpoint-seconds'),
        30,
      )
      .option('--no-cache', 'do not read or write the preprocessing cache (entry counts per file)')
      .option('--label <text>', 'experiment label on svg/png plots, first word bold (e.g. "CMS Open Data")')
      .option('--lumi <fb-1>', 'integrated luminosity in fb⁻¹ written on svg/png plots', positive('--lumi'))
      .option('--sqrts <TeV>', 'centre-of-mass energy in TeV written on svg/png plots', positive('--sqrts'))
      .option('--logy', 'logarithmic value axis on svg/png plots')
      .option(
        '--watch',
        'keep running: process files that appear under the dataset globs (and files that change) as they come, rewriting the outputs; Ctrl-C stops, rerunning continues',
      )
      .option(
        '--watch-interval <s>',
        'seconds between looks for new files with --watch',
        positive('--watch-interval'),
        5,
      )
      .option(
        '--serve [host:port]',
        'live view: serve a web page with the histograms as they fill and the progress, during the run and after it until Ctrl-C (default 127.0.0.1 and a free port)',
      )
      .option('-q, --quiet', 'no progress output')
      .option('--debug', 'print stack traces on errors (also RISTRETTO_DEBUG=1)')
      .showHelpAfterError('(run-analysis --help lists every option)'),
  );
}

/** Run the CLI; resolves with the process exit code. */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<number> {
  const program = buildProgram().exitOverride();
  let debug = Boolean(process.env.RISTRETTO_DEBUG && process.env.RISTRETTO_DEBUG !== '0');
  const reporter = progressReporter({});
  let view: LiveView | undefined;
  let savedIn: string | undefined; // the --out of a run (not a watch) once it starts: its checkpoint is there
  let savedSince = Date.now(); // a checkpoint older than this belongs to another run, unless this one resumed it
  let lock: OutLock | undefined; // held from the start until the outputs are written
  try {
    program.parse([...argv], { from: 'user' });
    const [dataset, processor] = program.processedArgs as [string, string];
    const o = program.opts<CliOptions>();
    debug ||= Boolean(o.debug);
    const formats = parseFormats(o.format);
    const outDir = resolve(o.out);
    assertOutputFolder(o.out, '--out'); // before any work: a run must not end on ENOTDIR
    const reporterQ = o.quiet ? progressReporter({ quiet: true }) : reporter;
    // One run per folder: a second one would replace this one's checkpoint and outputs as they are written.
    lock = lockOutputFolder(outDir, o.out, (m) => reporterQ.onNote?.(m));
    // Ctrl-C / SIGTERM: checkpoint what is merged and exit; a second Ctrl-C exits at once, saying what is lost.
    let unsaved: (() => number) | undefined; // set once a run (not a watch) starts
    const abort = new AbortController();
    const onSignal = (sig: NodeJS.Signals) => {
      if (abort.signal.aborted) {
        const n = unsaved?.();
        reporterQ.onNote?.(
          n === undefined
            ? 'quit at once'
            : n === 0
              ? 'quit without saving: no chunk finished since the last checkpoint'
              : `quit without saving: ${n} finished chunk${n === 1 ? '' : 's'} since the last checkpoint will run again`,
        );
        lock?.release();
        exitDeliberately(130);
      }
      reporterQ.onNote?.(`${sig}: stopping after saving a checkpoint (press Ctrl-C again to quit at once)`);
      abort.abort();
    };
    process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
    if (o.workers !== undefined && o.executor === 'iterative')
      reporterQ.onNote?.('--workers only applies to --executor threads; running in process');
    if (o.callerRuns && o.executor !== 'threads')
      reporterQ.onNote?.('--caller-runs only applies to --executor threads; ignored');
    // The view needs the data datasets (drawn as points over stacks) before the run starts.
    const fileset = o.serve !== undefined ? await loadFileset(dataset, { treeName: o.treename }) : dataset;
    if (o.serve !== undefined) {
      const datasets = fileset as Dataset[];
      const data = datasets.filter((d) => d.metadata.isData === true).map((d) => d.name);
      view = await LiveView.start({
        listen: o.serve === true ? undefined : o.serve,
        title: `${basename(processor)} · ${basename(dataset)}`,
        data,
        legend: datasetLegend(datasets),
      });
      process.stderr.write(`live view: ${view.url}\n`);
    }
    if (o.watch) {
      const plot = { label: o.label, lumi: o.lumi, sqrts: o.sqrts, logy: o.logy };
      await withFaasExecutor(program.opts(), reporterQ, async (faas) => {
        await watchAnalysis({
          datasetFile: dataset,
          processor,
          ...(o.executor === 'faas'
            ? {}
            : { executor: executorFactory(o.executor, { callerRuns: o.callerRuns === true }) }),
          workers: o.workers,
          chunksize: o.chunksize,
          align: o.align,
          retries: o.retries,
          skipBadFiles: o.skipbadfiles,
          treeName: o.treename,
          outDir,
          intervalSeconds: o.watchInterval,
          signal: abort.signal,
          ...faas,
          hooks: view ? view.hooks(faas.hooks ?? reporterQ, faas.executor) : (faas.hooks ?? reporterQ),
          onNote: (m) => reporterQ.onNote?.(m),
          onCycle: async (c) => {
            const dataDatasets = c.datasets.filter((d) => d.metadata.isData === true).map((d) => d.name);
            const written = await writeOutputs(c.accumulator, c.metrics, outDir, formats, {
              dataDatasets,
              datasets: c.datasets,
              plot,
            });
            for (const w of written.warnings) process.stderr.write(`warning: ${w}\n`);
            view?.finished(c.accumulator, `watching: ${c.files} files, ${c.metrics.events} events`, 'watching');
            reporterQ.onNote?.(
              `watch: ${c.processed.length} new or changed file(s)${c.removed.length ? `, ${c.removed.length} removed` : ''}; ${c.files} files, ${c.metrics.events} events in ${o.out}`,
            );
          },
        });
        return { metrics: {} as RunMetrics };
      }).finally(() => process.off('SIGINT', onSignal).off('SIGTERM', onSignal));
      reporterQ.finish();
      reporterQ.onNote?.(`watch stopped; outputs and state are in ${o.out}; rerun with --watch to continue`);
      await view?.close();
      return 0;
    }
    savedIn = o.out;
    if (o.resume) savedSince = 0;
    const result = await withFaasExecutor(program.opts(), reporterQ, (faas) => {
      const tally = countUnsavedChunks(
        view ? view.hooks(faas.hooks ?? reporterQ, faas.executor) : (faas.hooks ?? reporterQ),
      );
      unsaved = tally.unsaved;
      return runAnalysis({
        fileset,
        processor,
        // `--executor faas` arrives through `faas` below (withFaasExecutor builds and closes it).
        ...(o.executor === 'faas'
          ? {}
          : { executor: executorFactory(o.executor, { callerRuns: o.callerRuns === true }) }),
        workers: o.workers,
        chunksize: o.chunksize,
        maxchunks: o.maxchunks,
        align: o.align,
        retries: o.retries,
        skipBadFiles: o.skipbadfiles,
        treeName: o.treename,
        outDir,
        cacheFile: o.cache ? undefined : false,
        checkpointEvery: o.checkpointEvery,
        checkpointSeconds: o.checkpointSeconds,
        resume: o.resume,
        signal: abort.signal,
        ...faas,
        hooks: tally.hooks,
      });
    }).finally(() => process.off('SIGINT', onSignal).off('SIGTERM', onSignal));
    reporterQ.finish();
    // Every file left out is not a result: writing it would replace earlier outputs with empty histograms.
    const skipped = result.metrics.skippedFiles;
    const midRun = new Set(skipped.filter((f) => f.stage === 'process').map((f) => f.file)).size;
    if (skipped.length > 0 && result.metrics.files - midRun <= 0)
      throw new NoFilesReadError(
        `--skipbadfiles left out every file (${skipped.length}); nothing was written to ${o.out}: ${skipped
          .slice(0, 3)
          .map((f) => `${f.file}: ${f.reason}`)
          .join('; ')}${skipped.length > 3 ? '; …' : ''}`,
        { skipped: skipped.length, outDir: o.out },
        'fix or replace the files (each reason is above)',
      );
    const dataDatasets = result.datasets.filter((d) => d.metadata.isData === true).map((d) => d.name);
    const written = await writeOutputs(result.accumulator, result.metrics, outDir, formats, {
      dataDatasets,
      datasets: result.datasets,
      plot: { label: o.label, lumi: o.lumi, sqrts: o.sqrts, logy: o.logy },
    });
    for (const w of written.warnings) process.stderr.write(`warning: ${w}\n`);
    if (!o.quiet)
      process.stderr.write(
        formatSummary(result.metrics, {
          outDir: o.out,
          histograms: written.histograms.length,
          files: written.files.length,
        }) + '\n',
      );
    lock.release(); // the outputs are written: the folder is free while the view stays up
    if (view) {
      view.finished(
        result.accumulator,
        `${result.metrics.chunks} chunks, ${result.metrics.events} events in ${result.metrics.wallSeconds.toFixed(1)} s`,
      );
      process.stderr.write(`live view: ${view.url} stays up; press Ctrl-C to stop\n`);
      await view.untilInterrupted();
      await view.close();
    }
    return 0;
  } catch (thrown) {
    reporter.finish();
    const e = asUserCodeError(thrown);
    if (view && !(e instanceof RunInterruptedError)) {
      // the page keeps the last merged state and shows why the run stopped
      view.failed(e);
      const code = reportRunError(e, debug);
      await noteSavedChunks(e, savedIn, savedSince);
      lock?.release();
      process.stderr.write(`live view: ${view.url} stays up; press Ctrl-C to stop\n`);
      await view.untilInterrupted();
      await view.close();
      return code;
    }
    // Ctrl-C: open pages learn the run was interrupted (sent before the server closes), not just "disconnected"
    if (view && e instanceof RunInterruptedError) view.failed(e, true);
    await view?.close();
    if (e instanceof CommanderError) {
      // Commander already printed the message (or the help / version text).
      return e.exitCode;
    }
    if (e instanceof RunInterruptedError) {
      process.stderr.write(`run-analysis: ${e.message}\n`);
      return 130;
    }
    const code = reportRunError(e, debug);
    await noteSavedChunks(e, savedIn, savedSince);
    return code;
  } finally {
    lock?.release();
  }
}

/**
 * After a failure that the user's own code did not cause (a file that could not be read, a server that
 * went away, a worker lost), say that the merged chunks are kept and how to continue, as Ctrl-C does. A
 * fix to the processor starts over anyway (--resume refuses another processor's partial checkpoint), so
 * failures of the user's code and refusals of a checkpoint get no such line.
 */
async function noteSavedChunks(e: unknown, outDir: string | undefined, sinceMs: number): Promise<void> {
  if (outDir === undefined || e instanceof UserCodeError || e instanceof MergeChunkError) return;
  if (e instanceof CheckpointError || e instanceof RunInterruptedError || e instanceof CommanderError) return;
  const note = await savedChunksNote(outDir, sinceMs).catch(() => undefined);
  if (note) process.stderr.write(`run-analysis: ${note}\n`);
}

/**
 * Print `e` through the reporter every command shares (src/errors/report.ts): exit 1 for Ristretto's own
 * errors, with the frames of the user's code under a processor's failure; 70 for a bug in Ristretto.
 */
function reportRunError(e: unknown, debug: boolean): number {
  return reportCommandError('run-analysis', e, { debug, stack: stackOf, detail: whereInUserCode });
}

/**
 * An error that escaped un-wrapped from the user's own code (its first real frame is theirs) as a
 * {@link UserCodeError}, so that it is not reported as a bug in Ristretto; anything else as it is.
 * The runner wraps what it calls (`process`, `accumulator`, `postprocess`): this is the backstop.
 */
function asUserCodeError(e: unknown): unknown {
  if (e instanceof RistrettoError || !thrownInUserCode(e)) return e;
  const err = e as Error;
  return new UserCodeError(
    `your code threw ${err.name}: ${err.message}`,
    { file: userFrame(err) },
    'fix the processor (or the module it imports)',
    { cause: err },
  );
}

/**
 * `  at processors/x.ts:LINE:COL (in your code)` for each frame of the user's code the error was thrown
 * in (or passed through), innermost first; then, for an error of the user's code, where the whole stack is.
 */
function whereInUserCode(e: RistrettoError): string {
  const frames = userFrames(e).map((at) => `  at ${at} (in your code)\n`);
  return `${frames.join('')}${e instanceof UserCodeError ? '(rerun with --debug for the stack trace)\n' : ''}`;
}

/** The stacks of `e`, its causes and its workers, with frames in processor bundles mapped to the sources. */
function stackOf(e: unknown): string {
  const parts: string[] = [];
  let cur: unknown = e;
  for (let depth = 0; cur instanceof Error && depth < 5; depth++) {
    parts.push(depth === 0 ? String(cur.stack) : `caused by: ${String(cur.stack)}`);
    const remote = (cur as { context?: { remoteStack?: unknown } }).context?.remoteStack;
    // In process (iterative) the "remote" stack is the cause's own, printed next: only once.
    const sameAsCause = cur.cause instanceof Error && cur.cause.stack === remote;
    if (typeof remote === 'string' && !sameAsCause) parts.push(`in the worker: ${remote}`);
    cur = cur.cause;
  }
  return mapStack(parts.join('\n'));
}
