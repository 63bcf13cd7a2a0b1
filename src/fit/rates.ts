/**
 * Why a likelihood is not finite: the bins whose expected rate is negative (or zero with events
 * observed) at some parameter values, each with the samples that pull it below zero. Used by the fit
 * engine to turn a NaN/∞ likelihood into an {@link InvalidLikelihoodError} that says where and what to do.
 */
import { InvalidLikelihoodError } from './errors.ts';
import type { Model, ModelData } from './model.ts';
import { NllWorkspace, expectedAux, expectedMain } from './nll.ts';

/** One bin whose Poisson term has no finite value. */
export interface BadBin {
  channel: string;
  /** Bin index inside the channel. */
  bin: number;
  /** Total expected rate λ (negative, zero with events observed, or not finite). */
  rate: number;
  observed: number;
  /** Samples with a negative rate in this bin: name, rate, JSON path of the nominal yield. */
  samples: { name: string; rate: number; path: string }[];
}

/** The main bins whose Poisson term is not finite at `pars` (empty when all are fine). */
export function badBins(model: Model, data: ModelData, pars: Float64Array): BadBin[] {
  const ws = new NllWorkspace(model);
  const lambda = expectedMain(model, pars, ws);
  const out: BadBin[] = [];
  for (const ch of model.channels) {
    for (let i = 0; i < ch.nbins; i++) {
      const b = ch.offset + i;
      const l = lambda[b];
      if (l > 0 || (l === 0 && data.main[b] === 0)) continue;
      const samples: BadBin['samples'] = [];
      for (let k = 0; k < model.sbBin.length; k++) {
        if (model.sbBin[k] !== b) continue;
        const rate = ws.zeros[k] > 0 ? 0 : ws.base[k] * ws.prodNZ[k];
        if (rate < 0 || !Number.isFinite(rate))
          samples.push({
            name: model.samples[model.sbSample[k]],
            rate,
            path: `/channels/${ch.specIndex}/samples/${model.sbSpecSample[k]}/data/${i}`,
          });
      }
      out.push({ channel: ch.name, bin: i, rate: l, observed: data.main[b], samples });
    }
  }
  return out;
}

/** The parameters of `pars` away from the model's nominal values, as `name=value` (at most `max`). */
function awayFromNominal(model: Model, pars: Float64Array, max = 8): { list: string[]; more: number } {
  const init = model.suggestedInit();
  const names = model.parNames();
  const list: string[] = [];
  let n = 0;
  for (let i = 0; i < pars.length; i++) {
    if (Object.is(pars[i], init[i]) || Math.abs(pars[i] - init[i]) < 1e-12) continue;
    if (n++ < max) list.push(`${names[i]}=${Number.isFinite(pars[i]) ? pars[i].toPrecision(4) : String(pars[i])}`);
  }
  return { list, more: Math.max(0, n - max) };
}

const fmt = (x: number): string => (Number.isFinite(x) ? String(Number(x.toPrecision(6))) : String(x));

/**
 * The error for a likelihood that is not finite at `pars`, naming the first bad bins and their
 * negative samples. `where` says which point it is ("at the starting values", "at the best fit").
 *
 * @example
 * ```ts
 * import { buildModel, invalidLikelihood, uncorrelatedBackground } from 'ristretto/fit';
 * const model = buildModel(uncorrelatedBackground([1, 1], [-5, 3], [1, 1], [4, 5]));
 * invalidLikelihood(model, model.observedData(), model.suggestedInit(), 'at the starting values').message;
 * // "the likelihood is not finite at the starting values (the nominal parameters): channel singlechannel bin 0 …"
 * ```
 */
export function invalidLikelihood(
  model: Model,
  data: ModelData,
  pars: Float64Array,
  where: string,
): InvalidLikelihoodError {
  const away = awayFromNominal(model, pars);
  const at =
    away.list.length === 0
      ? where.includes('nominal')
        ? where
        : `${where} (the nominal parameters)`
      : `${where} (${away.list.join(', ')}${away.more ? `, and ${away.more} more away from nominal` : ''})`;
  if ([...pars].some((x) => !Number.isFinite(x)))
    return new InvalidLikelihoodError(
      `the fit ended at non-finite parameter values ${at}`,
      { parameters: away.list },
      'this should not happen with a valid model; check the workspace (e.g. a zero constraint width) and report it if the workspace is fine',
    );
  const bins = badBins(model, data, pars);
  const ctx = { at: where, parameters: away.list, bins: bins.slice(0, 5) };
  if (bins.length > 0) {
    const describe = (b: BadBin): string => {
      const why =
        b.rate < 0
          ? `expected rate ${fmt(b.rate)} < 0`
          : `expected rate ${fmt(b.rate)} with ${fmt(b.observed)} events observed`;
      const who = b.samples.length
        ? `; negative: ${b.samples.map((s) => `sample ${s.name} ${fmt(s.rate)} (${s.path})`).join(', ')}`
        : '';
      return `channel ${b.channel} bin ${b.bin}: ${why}${who}`;
    };
    const shown = bins.slice(0, 3).map(describe).join('; ');
    const more = bins.length > 3 ? `; and ${bins.length - 3} more bins` : '';
    const hint =
      away.list.length === 0
        ? 'a Poisson rate must be positive: fix the yields of those samples (the sum of the samples in each bin must be > 0), or add a sample that covers the bin'
        : "the model is valid at the nominal parameters but not at these values: narrow those parameters' bounds in the measurement config (parameters[].bounds) so every bin stays positive, or fix the variations (histosys lo_data/hi_data) that go negative";
    return new InvalidLikelihoodError(`the likelihood is not finite ${at}: ${shown}${more}`, ctx, hint);
  }
  const aux = expectedAux(model, pars);
  const badAux = [...aux].findIndex((a, j) => model.auxType[j] === 1 && !(a > 0));
  const names = model.parNames();
  return new InvalidLikelihoodError(
    `the likelihood is not finite ${at}${badAux >= 0 ? `: the Poisson constraint of ${names[model.auxPar[badAux]]} has rate ${fmt(aux[badAux])}` : ''}`,
    ctx,
    'check the constraint data of the workspace (shapesys/staterror widths) and the parameter bounds',
  );
}

const nominalChecked = new WeakMap<Model, InvalidLikelihoodError | null>();

/**
 * Throws when an expected rate is negative at the model's nominal parameters: such a workspace has no
 * valid likelihood (pyhf computes NaN), so no fit of it starts. Checked once per model.
 */
export function checkNominalRates(model: Model): void {
  let e = nominalChecked.get(model);
  if (e === undefined) {
    const init = model.suggestedInit();
    const lambda = expectedMain(model, init);
    // Data-independent: only negative (or non-finite) rates; zero rates depend on the data (checked per fit).
    const bad = lambda.some((l) => l < 0 || !Number.isFinite(l));
    e = bad
      ? invalidLikelihood(
          model,
          { main: new Float64Array(model.nbins), aux: model.auxDefault },
          init,
          'at the nominal parameters',
        )
      : null;
    nominalChecked.set(model, e);
  }
  if (e) throw e;
}

/**
 * A sentence naming the bins whose rate is negative at `pars` (clipped to 0 in the likelihood), or
 * undefined when every rate is ≥ 0. `ws` holds any state; it is evaluated again at `pars`.
 */
export function clippedAt(model: Model, pars: Float64Array, ws?: NllWorkspace): string | undefined {
  const lambda = expectedMain(model, pars, ws);
  if (!lambda.some((l) => l < 0)) return undefined;
  const bins = badBins(model, { main: new Float64Array(model.nbins), aux: model.auxDefault }, pars).filter(
    (b) => b.rate < 0,
  );
  const away = awayFromNominal(model, pars);
  const list = bins
    .slice(0, 3)
    .map(
      (b) =>
        `channel ${b.channel} bin ${b.bin} (rate ${fmt(b.rate)}${b.samples.length ? `; ${b.samples.map((s) => `sample ${s.name} ${fmt(s.rate)}`).join(', ')}` : ''})`,
    )
    .join('; ');
  return `the best fit (${away.list.join(', ')}${away.more ? ', …' : ''}) has negative expected rates, clipped to 0 as pyhf's clip_bin_data=0 does: ${list}${bins.length > 3 ? `; and ${bins.length - 3} more bins` : ''}`;
}
