/**
 * Statistical inference on HistFactory likelihoods in pyhf's JSON format: model building, JSON
 * patches and patch sets, maximum-likelihood fits, asymptotic CLs and upper limits.
 *
 * @example
 * ```ts
 * import { loadWorkspace, buildModel, hypotest } from 'ristretto/fit';
 * const ws = loadWorkspace('RegionA/BkgOnly.json', { patches: ['RegionA/patch.sbottom_1300_850_60.json'] });
 * const r = hypotest(buildModel(ws), 1.0);
 * console.log(r.clsObs, r.clsExp);
 * ```
 * @module
 */
export * from './errors.ts';
export type * from './spec.ts';
export { applyPatch, parsePointer } from './jsonpatch.ts';
export { validateAgainstSchema, findSchemaDir } from './schema.ts';
export { checkWorkspaceStructure, checkJsonPatchStructure, checkPatchSetStructure } from './structure.ts';
export {
  INTERP_CODES,
  makeInterpTable,
  interpolate,
  isMultiplicative,
  type InterpCode,
  type InterpTable,
} from './interpolation.ts';
export {
  buildModel,
  Model,
  DEFAULT_INTERP,
  type ModelData,
  type ModelOptions,
  type InterpSettings,
  type ParameterSet,
} from './model.ts';
export { nll, NllWorkspace, expectedData, expectedMain, expectedAux } from './nll.ts';
export { minimizeBounded, type MinimizeOptions, type MinimizeResult } from './optimize.ts';
export {
  DEFAULT_OPTIMIZER,
  DEFAULT_SCAN_OPTIMIZER,
  FIT_OPTIMIZERS,
  fit,
  fixedPoiFit,
  fitWithErrors,
  type FitOptions,
  type FitOptimizer,
  type FitResult,
  type FitWithErrors,
} from './mle.ts';
export { minimizeSlsqp, type SlsqpOptions, type SlsqpResult } from './slsqp.ts';
export {
  hypotest,
  testStatistic,
  asimovData,
  upperLimit,
  type HypotestResult,
  type HypotestOptions,
  type TestStatistic,
  type UpperLimitResult,
} from './infer.ts';
export { normalCdf, lgamma } from './special.ts';
export { badBins, checkNominalRates, clippedAt, invalidLikelihood, type BadBin } from './rates.ts';
export * from './patchset.ts';
export { registerFitCommands, parseInterp } from './cli.ts';
export { scanPatches, testPatch, type ScanItem, type ScanOptions } from './scan.ts';
export { uncorrelatedBackground } from './simplemodels.ts';
export { scan, type ScanRunOptions, type ScanSummary, type ScanProgress, type ScanExecutor } from './scan-run.ts';
export {
  readResults,
  ResultsWriter,
  RESULTS_FORMAT,
  type ScanResultsFile,
  type ScanRecord,
  type ScanIdentity,
} from './scan-results.ts';
export { FaasRunner, FIT_TASK_MODULE, type FaasScanOptions, type FaasScanStats } from './scan-faas.ts';
export { ThreadPoolRunner, type PatchRunner } from './pool.ts';
export { workspaceHash, FIT_TASK_VERSION, type FitTaskArgs, type FitTaskReply } from './task.ts';
export { massPlaneSVG, brazilSVG, scanPlotSVG, writeScanPlot, niceTicks, type ScanPlotOptions } from './plot-scan.ts';
export { delaunay, contourBands, contourSegments } from './contour.ts';
