/**
 * `ristretto fit ...`: hypothesis tests, upper limits and best fits of pyhf JSON workspaces.
 *
 * Register with `registerFitCommands(program)` in the `ristretto` CLI. Output is a short table, or with
 * `--json` one JSON object on stdout.
 */
import type { Command } from 'commander';
import { FitOptionsError, ScanError, WorkspaceError } from './errors.ts';
import { hypotest, upperLimit, type TestStatistic } from './infer.ts';
import { INTERP_CODES, type InterpCode } from './interpolation.ts';
import { DEFAULT_OPTIMIZER, DEFAULT_SCAN_OPTIMIZER, FIT_OPTIMIZERS, fitWithErrors, type FitOptimizer } from './mle.ts';
import { buildModel, type InterpSettings, type Model } from './model.ts';
import { loadWorkspace, readPatches } from './patchset.ts';
import { basename, join } from 'node:path';
import { writeScanPlot } from './plot-scan.ts';
import type { FaasScanOptions } from './scan-faas.ts';
import { scan, type ScanExecutor } from './scan-run.ts';
import { assertOutputFolder } from '../io/output-path.ts';
import { reportCommandError } from '../errors/report.ts';

function collect(v: string, prev: string[] = []): string[] {
  return [...prev, v];
}

/** Parses `normsys=code4,histosys=code4p`. */
export function parseInterp(spec: string | undefined): Partial<InterpSettings> {
  const out: Partial<InterpSettings> = {};
  if (!spec) return out;
  for (const part of spec.split(',').filter(Boolean)) {
    const [k, v] = part.split('=').map((s) => s.trim());
    if ((k !== 'normsys' && k !== 'histosys') || !INTERP_CODES.includes(v as InterpCode)) {
      throw new WorkspaceError(
        `--interp expects normsys=CODE,histosys=CODE with CODE one of ${INTERP_CODES.join(', ')}; got "${part}"`,
        '',
      );
    }
    out[k] = v as InterpCode;
  }
  return out;
}

function finite(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n)) throw new WorkspaceError(`${name} must be a number, got "${v}"`, '');
    return n;
  };
}

/** Checked in the action (not as a commander parser) so the error is one line like the others. */
function positiveInt(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new ScanError(`${name} must be a positive integer, got "${v}"`, {});
  return n;
}

interface ScanCliOptions {
  patchset: string;
  measurement?: string;
  interp?: string;
  poiTest: number;
  testStat: string;
  optimizer?: string;
  executor: string;
  workers?: string;
  service?: string;
  endpoints?: string;
  out?: string;
  resume?: boolean;
  plot: string;
  labels?: string;
  json?: boolean;
}

interface CommonOpts {
  patch?: string[];
  measurement?: string;
  interp?: string;
  optimizer?: string;
  json?: boolean;
}

function modelFrom(file: string, o: CommonOpts): Model {
  const ws = loadWorkspace(file, { patches: o.patch ?? [] });
  return buildModel(ws, { measurement: o.measurement, interp: parseInterp(o.interp), source: file });
}

/** `--optimizer`: slsqp-fd (pyhf's numbers), slsqp (pyhf's algorithm, analytic gradient) or lbfgsb (exact optimum). */
function optimizerOf(name: string | undefined, fallback: FitOptimizer = DEFAULT_OPTIMIZER): FitOptimizer {
  const v = (name ?? fallback) as FitOptimizer;
  if (!FIT_OPTIMIZERS.includes(v)) {
    throw new WorkspaceError(
      `unknown --optimizer "${name}" (slsqp-fd: pyhf's SLSQP with finite differences, pyhf's numbers; slsqp: the same on the analytic gradient, ~2x faster on RegionA scans; lbfgsb: converged optimum)`,
      '',
    );
  }
  return v;
}

const OPTIMIZER_HELP =
  "slsqp-fd (pyhf's SLSQP, finite differences: pyhf's numbers), slsqp (the same, analytic gradient: faster on big models) or lbfgsb (converged optimum)";

function out(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : text + '\n');
}

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toPrecision(6) : String(x);
}

function withCommon(cmd: Command): Command {
  return cmd
    .option('-p, --patch <file>', 'JSON Patch file applied to the workspace (repeatable, in order)', collect)
    .option('--measurement <name>', 'measurement to use (default: the first)')
    .option('--interp <spec>', 'interpolation codes, e.g. normsys=code4,histosys=code4p (pyhf defaults)')
    .option('--optimizer <name>', OPTIMIZER_HELP, DEFAULT_OPTIMIZER)
    .option('--json', 'print one JSON object');
}

/**
 * The shared reporter (src/errors/report.ts), with this command's prefix: our errors (RistrettoError
 * subclasses) are one line and exit code 1; anything else is a bug: "internal error", the stack, a
 * request to report it, exit code 70.
 */
function reportError(e: unknown): void {
  process.exitCode = reportCommandError('ristretto fit', e);
}

/** Run a command body through `reportError`. */
function action<A extends unknown[]>(fn: (...args: A) => void) {
  return (...args: A): void => {
    try {
      fn(...args);
    } catch (e) {
      reportError(e);
    }
  };
}

/** As `action`, for async bodies (commander awaits them with parseAsync). */
function asyncAction<A extends unknown[]>(fn: (...args: A) => Promise<void>) {
  return async (...args: A): Promise<void> => {
    try {
      await fn(...args);
    } catch (e) {
      reportError(e);
    }
  };
}

/**
 * Adds `fit cls`, `fit limit`, `fit scan` and `fit mle` to a commander program.
 *
 * @example
 * ```ts
 * import { Command } from 'commander';
 * import { registerFitCommands } from 'ristretto/fit';
 * const program = new Command('ristretto');
 * registerFitCommands(program);
 * await program.parseAsync(['node', 'ristretto', 'fit', 'cls', 'BkgOnly.json', '-p', 'patch.json', '--json']);
 * ```
 */
export function registerFitCommands(program: Command): void {
  const fitCmd = program
    .command('fit')
    .description('statistical inference on pyhf JSON workspaces (CLs, limits, best fits)');

  withCommon(
    fitCmd.command('cls <workspace>').description('asymptotic CLs for one POI value (observed and expected band)'),
  )
    .option('--poi-test <value>', 'POI value to test (default 1; q0 tests 0)', finite('--poi-test'))
    .option('--poi-value <value>', 'alias of --poi-test', finite('--poi-value'))
    .option('--test-stat <name>', 'qtilde, q (CLs of an exclusion test) or q0 (p0 of a discovery test)', 'qtilde')
    .action(
      action((file: string, o: CommonOpts & { poiTest?: number; poiValue?: number; testStat: string }) => {
        const asked = o.poiValue ?? o.poiTest;
        // q0 tests the background-only hypothesis μ = 0 (pyhf resets any other value to 0 with a warning).
        if (o.testStat === 'q0' && asked !== undefined && asked !== 0)
          throw new FitOptionsError(
            `--test-stat q0 tests μ = 0 (discovery), not --poi-test ${asked}`,
            { poiTest: asked },
            'drop --poi-test, or use --test-stat qtilde or q for an exclusion test of that value',
          );
        const poi = asked ?? (o.testStat === 'q0' ? 0 : 1);
        const model = modelFrom(file, o);
        const t0 = performance.now();
        const r = hypotest(model, poi, model.observedData(), {
          testStat: o.testStat as TestStatistic,
          optimizer: optimizerOf(o.optimizer),
        });
        const seconds = (performance.now() - t0) / 1000;
        const { freeData, fixedData, freeAsimov, fixedAsimov } = r.fits;
        const warnings = [...new Set([freeData, fixedData, freeAsimov, fixedAsimov].flatMap((f) => f.clipped ?? []))];
        // q0 is a discovery test: what it gives is p0 (pyhf's hypotest returns CLs+b for it); the ratio
        // CLs+b/CLb means nothing there, so it is not printed as a CLs.
        const discovery = r.testStat === 'q0';
        const result = {
          poi: model.poiName,
          poi_test: poi,
          test_stat: r.testStat,
          ...(discovery
            ? { p0_obs: r.clsbObs, p0_exp: r.clsbExp }
            : { cls_obs: r.clsObs, cls_exp: r.clsExp, clsb_obs: r.clsbObs, clb_obs: r.clbObs }),
          mu_hat: r.muHat,
          seconds,
          ...(warnings.length ? { warnings } : {}),
        };
        for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
        if (o.json) return out(JSON.stringify(result));
        out(`${model.poiName} = ${poi} (${r.testStat}${discovery ? ', discovery' : ''}), μ̂ = ${fmt(r.muHat)}`);
        if (discovery) {
          out(`p0 observed: ${fmt(r.clsbObs)}`);
          out(`p0 expected (−2σ, −1σ, median, +1σ, +2σ): ${r.clsbExp.map(fmt).join(', ')}`);
          return;
        }
        out(`CLs observed: ${fmt(r.clsObs)}`);
        out(`CLs expected (−2σ, −1σ, median, +1σ, +2σ): ${r.clsExp.map(fmt).join(', ')}`);
      }),
    );

  withCommon(
    fitCmd
      .command('limit <workspace>')
      .description('upper limits on the POI (observed and expected band) at CLs = level'),
  )
    .option('--level <alpha>', 'CLs level', finite('--level'), 0.05)
    .option('--test-stat <name>', 'qtilde or q', 'qtilde')
    .action(
      action((file: string, o: CommonOpts & { level: number; testStat: string }) => {
        const model = modelFrom(file, o);
        const t0 = performance.now();
        const r = upperLimit(model, model.observedData(), {
          level: o.level,
          testStat: o.testStat as TestStatistic,
          optimizer: optimizerOf(o.optimizer),
        });
        const seconds = (performance.now() - t0) / 1000;
        // upperLimit gives NaN for a limit not reached inside the POI's bounds: that is "above the upper
        // bound", printed as such (null in JSON, with the bound), never as NaN.
        const hi = model.suggestedBounds().upper[model.poiIndex];
        const lim = (x: number): string => (Number.isNaN(x) ? `> ${fmt(hi)}` : fmt(x));
        const notReached = [r.obs, ...r.exp].some(Number.isNaN)
          ? `a limit shown as > ${fmt(hi)} is not reached inside the bounds of ${model.poiName} (upper ${fmt(hi)}): widen them (measurement config parameters[].bounds) to find it`
          : undefined;
        if (notReached) process.stderr.write(`note: ${notReached}\n`);
        if (o.json)
          return out(
            JSON.stringify({
              poi: model.poiName,
              level: r.level,
              obs: r.obs,
              exp: r.exp,
              tests: r.tests,
              seconds,
              ...(notReached ? { poi_upper_bound: hi, note: notReached } : {}),
            }),
          );
        out(`upper limit on ${model.poiName} at CLs = ${r.level}: observed ${lim(r.obs)}`);
        out(`expected (−2σ, −1σ, median, +1σ, +2σ): ${r.exp.map(lim).join(', ')}`);
      }),
    );

  fitCmd
    .command('scan <workspace>')
    .description('one hypotest per signal patch, results streamed as they finish (JSON lines with --json)')
    .requiredOption('--patchset <fileOrDir>', 'pyhf patch set file, or a directory of patch.*.json files')
    .option('--measurement <name>', 'measurement to use (default: the first)')
    .option('--interp <spec>', 'interpolation codes, e.g. normsys=code4,histosys=code4p (pyhf defaults)')
    .option('--poi-test <value>', 'POI value to test', finite('--poi-test'), 1)
    .option('--test-stat <name>', 'qtilde or q', 'qtilde')
    .option('--optimizer <name>', OPTIMIZER_HELP, DEFAULT_SCAN_OPTIMIZER)
    .option('--executor <name>', 'iterative (this process), threads or faas', 'iterative')
    .option('--workers <n>', 'threads for --executor threads (default: the number of cores)')
    .option('--service <url>', 'FaaS service URL for --executor faas (token from RISTRETTO_TOKEN)')
    .option('--endpoints <names>', 'FaaS endpoints for --executor faas, comma-separated')
    .option('--out <dir>', 'write results.json (after every patch) and the scan plot there')
    .option('--resume', 'keep the finished patches of --out/results.json and test only the rest')
    .option('--plot <format>', 'scan plot format with --out: svg, png or none', 'svg')
    .option(
      '--labels <names>',
      'axis titles of the patch parameters, comma-separated (e.g. "m(b1) [GeV],m(chi2) [GeV]"); default: the patch set\'s metadata.labels, else m1, m2, ...',
    )
    .option('--json', 'one JSON object per patch, then a summary object')
    .action(
      asyncAction(async (file: string, o: ScanCliOptions) => {
        if (o.testStat === 'q0')
          throw new FitOptionsError(
            'fit scan makes exclusion scans (CLs per point, contours at CLs = 0.05); q0 gives discovery p-values',
            { testStat: 'q0' },
            'use --test-stat qtilde or q; for the p0 of one point run fit cls --test-stat q0 with its patch',
          );
        if (!['iterative', 'threads', 'faas'].includes(o.executor))
          throw new ScanError(`unknown --executor "${o.executor}"`, {}, 'use iterative, threads or faas');
        const workers = positiveInt('--workers', o.workers);
        if (o.resume && !o.out)
          throw new ScanError('--resume needs --out DIR (the folder of the earlier results.json)', {});
        if (o.out) assertOutputFolder(o.out, '--out');
        if (!['svg', 'png', 'none'].includes(o.plot))
          throw new ScanError(`unknown --plot "${o.plot}"`, {}, 'use svg, png or none');
        let faas: FaasScanOptions | undefined;
        if (o.executor === 'faas') {
          const endpoints = (o.endpoints ?? '')
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean);
          if (!o.service || endpoints.length === 0)
            throw new ScanError('--executor faas needs --service URL and --endpoints A,B', {});
          faas = { serviceUrl: o.service, endpoints, onWarning: (m) => process.stderr.write(`warning: ${m}\n`) };
        } else if (o.service || o.endpoints)
          throw new ScanError('--service and --endpoints go with --executor faas', {});
        const bkg = loadWorkspace(file);
        const { patches, errors, labels } = readPatches(o.patchset);
        for (const e of errors)
          out(
            o.json
              ? JSON.stringify({ name: e.file, ok: false, error: e.error.message })
              : `${e.file}: ${e.error.message}`,
          );
        // Ctrl-C: results.json already holds every finished patch (rewritten after each), so say where
        // and how to continue, as run-analysis does, then exit 130 (what a shell reports for SIGINT).
        let done = 0;
        const onInterrupt = (): void => {
          const where = o.out
            ? `the finished ones are in ${join(o.out, 'results.json')} — rerun the same command with --resume to test only the rest`
            : 'nothing was saved — rerun with --out DIR to keep results (and --resume to continue them)';
          process.stderr.write(`ristretto fit: interrupted after ${done} of ${patches.length} patches; ${where}\n`);
          process.exit(130);
        };
        process.once('SIGINT', onInterrupt);
        const summary = await scan(bkg, patches, {
          poiTest: o.poiTest,
          testStat: o.testStat as TestStatistic,
          optimizer: optimizerOf(o.optimizer, DEFAULT_SCAN_OPTIMIZER),
          model: { measurement: o.measurement, interp: parseInterp(o.interp) },
          executor: o.executor as ScanExecutor,
          workers,
          faas,
          out: o.out,
          resume: o.resume,
          workspaceName: basename(file),
          onResult: (r, p) => {
            done++;
            if (o.json) out(JSON.stringify(r));
            const what = r.ok ? `CLs ${fmt(r.clsObs)} (expected ${fmt(r.clsExp[2])})` : `failed: ${r.error}`;
            const eta = p.etaSeconds === undefined ? '' : `, ETA ${p.etaSeconds.toFixed(0)} s`;
            const line = `[${p.done}/${p.total}] ${r.name}: ${what}${eta}`;
            if (o.json) process.stderr.write(line + '\n');
            else out(line);
          },
        });
        process.off('SIGINT', onInterrupt);
        const failed = [
          ...errors.map((e) => ({ name: e.file, error: e.error.message })),
          ...summary.failed.map((r) => ({ name: r.name, error: r.ok ? '' : r.error })),
        ];
        let plotFile: string | undefined;
        let noPlot: string | undefined;
        if (o.out && o.plot !== 'none')
          plotFile = await writeScanPlot(summary.results, o.out, o.plot as 'svg' | 'png', {
            poiTest: o.poiTest,
            // --labels, else the patch set's metadata.labels (a directory of patch files has none).
            labels: o.labels?.split(',').map((x) => x.trim()) ?? labels,
            onSkipped: (reason) => (noPlot = reason),
          });
        const s = {
          patches: patches.length + errors.length,
          tested: summary.results.length - summary.skipped,
          skipped: summary.skipped,
          failed: failed.length,
          seconds: summary.seconds,
          results: summary.file ?? null,
          plot: plotFile ?? null,
          ...(noPlot ? { noPlot } : {}),
        };
        // A scan with failed patches is not a finished scan: exit 1 (scripts must see it), the others' results kept.
        if (failed.length > 0) process.exitCode = 1;
        const verdict =
          failed.length === 0
            ? undefined
            : `ristretto fit: ${failed.length} of ${s.patches} patches failed (${failed
                .slice(0, 5)
                .map((f) => basename(f.name))
                .join(', ')}${failed.length > 5 ? ', …' : ''})${
                failed.length === s.patches
                  ? '; nothing was tested'
                  : s.results
                    ? `; the results of the other ${s.patches - failed.length} are in ${s.results} (fix the failures, then rerun with --resume to test only them)`
                    : `; the other ${s.patches - failed.length} results are printed above (pass --out DIR to keep them)`
              }\n`;
        if (o.json) {
          out(JSON.stringify({ summary: s, failures: failed }));
          if (verdict) process.stderr.write(verdict);
          return;
        }
        for (const f of failed)
          out(`FAILED ${f.name}: ${f.error.startsWith(`${f.name}: `) ? f.error.slice(f.name.length + 2) : f.error}`);
        out(
          `${s.patches} patches, ${s.tested} tested, ${s.skipped} resumed, ${s.failed} failed, ${s.seconds.toFixed(1)} s${s.results ? `; results in ${s.results}` : ''}${plotFile ? `; plot ${plotFile}` : ''}${noPlot ? `; no plot: ${noPlot}` : ''}`,
        );
        if (verdict) process.stderr.write(verdict);
      }),
    );

  withCommon(fitCmd.command('mle <workspace>').description('best fit with uncertainties and correlations')).action(
    action((file: string, o: CommonOpts) => {
      const model = modelFrom(file, o);
      const r = fitWithErrors(model, model.observedData(), { optimizer: optimizerOf(o.optimizer) });
      const n = model.npars;
      if (r.clipped) process.stderr.write(`warning: ${r.clipped}\n`);
      if (o.json) {
        const correlation: number[][] = [];
        for (let i = 0; i < n; i++) correlation.push(Array.from(r.correlation.subarray(i * n, (i + 1) * n)));
        return out(
          JSON.stringify({
            names: r.names,
            values: Array.from(r.pars),
            errors: Array.from(r.errors),
            nll: r.nll,
            twice_nll: 2 * r.nll,
            correlation,
            ...(r.clipped ? { warnings: [r.clipped] } : {}),
          }),
        );
      }
      const width = Math.max(...r.names.map((s) => s.length));
      for (let i = 0; i < n; i++)
        out(`${r.names[i].padEnd(width)}  ${fmt(r.pars[i]).padStart(12)} ± ${fmt(r.errors[i])}`);
      out(`twice NLL at the best fit: ${fmt(2 * r.nll)}`);
    }),
  );
}
