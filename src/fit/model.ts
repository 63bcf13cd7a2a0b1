/**
 * A HistFactory model compiled from a pyhf workspace and one of its measurements.
 *
 * Layout follows pyhf so results compare by name: channels and samples in sorted-name order, the main
 * bins of all channels concatenated in that order, parameters grouped by modifier type (histosys,
 * lumi, normfactor, normsys, shapefactor, shapesys, staterror), each group in order of first
 * appearance, vector parameters named `name[i]`. The rates are kept as flat typed arrays over
 * "sample-bins" (each bin of each sample of each channel) for the likelihood kernels in `nll.ts`.
 */
import { brokenInvariant } from '../errors/index.ts';
import { WorkspaceError } from './errors.ts';
import { INTERP_CODES, isMultiplicative, makeInterpTable, type InterpCode, type InterpTable } from './interpolation.ts';
import { validateAgainstSchema } from './schema.ts';
import { checkWorkspaceStructure } from './structure.ts';
import type {
  ChannelSpec,
  MeasurementSpec,
  ModifierSpec,
  ModifierType,
  ParameterConfigSpec,
  WorkspaceSpec,
} from './spec.ts';

/** Interpolation codes per modifier type; pyhf's defaults are normsys code4, histosys code4p. */
export interface InterpSettings {
  normsys: InterpCode;
  histosys: InterpCode;
}
export const DEFAULT_INTERP: Readonly<InterpSettings> = { normsys: 'code4', histosys: 'code4p' };

export interface ModelOptions {
  /** Measurement name; default the first one. */
  measurement?: string;
  /** Override the measurement's POI. */
  poi?: string;
  /** Interpolation codes (pyhf defaults when omitted). */
  interp?: Partial<InterpSettings>;
  /** Validate against pyhf's JSON schema first (default true when the schemas are found). */
  validate?: boolean;
  /** Named in errors (a file name, a patch name). */
  source?: string;
}

/** One named parameter (set) of the model. */
export interface ParameterSet {
  readonly name: string;
  /** Modifier type that defined it (the first one, when a name is shared across types). */
  readonly type: ModifierType;
  readonly n: number;
  /** Scalar parameters are named without an index. */
  readonly scalar: boolean;
  /** Index of the first component in the parameter vector. */
  readonly offset: number;
  readonly inits: number[];
  readonly bounds: [number, number][];
  readonly fixed: boolean[];
  readonly constraint: 'normal' | 'poisson' | null;
  readonly auxdata: number[];
  /** Gaussian widths (normal) — empty otherwise. */
  readonly sigmas: number[];
  /** Poisson scale factors τ (poisson) — empty otherwise. */
  readonly factors: number[];
}

/** Additive (histosys) term on one sample block. */
export interface ShiftTerm {
  readonly par: number;
  readonly k0: number;
  readonly table: InterpTable;
}
/** Scalar multiplicative term on one sample block: linear (normfactor, lumi) or interpolated (normsys). */
export interface ScalarFactorTerm {
  readonly par: number;
  readonly k0: number;
  readonly n: number;
  /** undefined: factor = parameter value. */
  readonly table?: InterpTable;
}
/** Per-bin linear factor (staterror, shapesys, shapefactor) on one sample block; -1 = no parameter. */
export interface BinFactorTerm {
  readonly k0: number;
  readonly pars: Int32Array;
}

/** Main-data bin ranges. */
export interface ChannelInfo {
  readonly name: string;
  readonly nbins: number;
  readonly offset: number;
  /** Index of the channel in the workspace's `channels` array. */
  readonly specIndex: number;
}

const TYPE_ORDER: readonly ModifierType[] = [
  'histosys',
  'lumi',
  'normfactor',
  'normsys',
  'shapefactor',
  'shapesys',
  'staterror',
];

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function checkNumbers(
  values: unknown,
  path: string,
  source: string | undefined,
  what: string,
  nonNegative: boolean,
): void {
  if (!Array.isArray(values)) throw new WorkspaceError(`${what} must be an array of numbers`, path, source);
  values.forEach((v, i) => {
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new WorkspaceError(`${what} must be finite numbers, got ${String(v)}`, `${path}/${i}`, source);
    if (nonNegative && v < 0)
      throw new WorkspaceError(`${what} must not be negative, got ${v}`, `${path}/${i}`, source);
  });
}

interface RawSet {
  name: string;
  type: ModifierType;
  n: number;
  scalar: boolean;
  inits: number[];
  bounds: [number, number][];
  fixed: boolean[];
  constraint: 'normal' | 'poisson' | null;
  auxdata: number[];
  sigmas: number[];
  factors: number[];
}

/**
 * The compiled model. Build it with {@link buildModel}.
 */
export class Model {
  readonly channels: readonly ChannelInfo[];
  readonly samples: readonly string[];
  /** Number of main bins (all channels). */
  readonly nbins: number;
  readonly parSets: readonly ParameterSet[];
  readonly npars: number;
  readonly poiName: string;
  readonly poiIndex: number;
  readonly measurement: string;
  readonly interp: Readonly<InterpSettings>;

  /** Sample-bins: main bin of each, nominal rate of each. */
  readonly sbBin: Int32Array;
  readonly sbNom: Float64Array;
  /** Sample-bins: index of the sample in {@link samples}, and in its channel's `samples` array of the workspace. */
  readonly sbSample: Int32Array;
  readonly sbSpecSample: Int32Array;
  readonly shiftTerms: readonly ShiftTerm[];
  readonly scalarFactors: readonly ScalarFactorTerm[];
  readonly binFactors: readonly BinFactorTerm[];
  /** Constraint terms in parameter order: parameter index, type (0 normal, 1 poisson), width or τ. */
  readonly auxPar: Int32Array;
  readonly auxType: Uint8Array;
  readonly auxScale: Float64Array;
  /** Default auxiliary data (the measurement's auxdata). */
  readonly auxDefault: Float64Array;
  /** Observed main data of the workspace (sorted channel order). */
  readonly observed: Float64Array;

  /** @internal use {@link buildModel}. */
  constructor(
    fields: Omit<
      Model,
      'parNames' | 'suggestedInit' | 'suggestedBounds' | 'suggestedFixed' | 'parIndex' | 'observedData' | 'channelSlice'
    >,
  ) {
    this.channels = fields.channels;
    this.samples = fields.samples;
    this.nbins = fields.nbins;
    this.parSets = fields.parSets;
    this.npars = fields.npars;
    this.poiName = fields.poiName;
    this.poiIndex = fields.poiIndex;
    this.measurement = fields.measurement;
    this.interp = fields.interp;
    this.sbBin = fields.sbBin;
    this.sbNom = fields.sbNom;
    this.sbSample = fields.sbSample;
    this.sbSpecSample = fields.sbSpecSample;
    this.shiftTerms = fields.shiftTerms;
    this.scalarFactors = fields.scalarFactors;
    this.binFactors = fields.binFactors;
    this.auxPar = fields.auxPar;
    this.auxType = fields.auxType;
    this.auxScale = fields.auxScale;
    this.auxDefault = fields.auxDefault;
    this.observed = fields.observed;
  }

  /** Parameter names as pyhf's `model.config.par_names` (`name`, or `name[i]` for vectors). */
  parNames(): string[] {
    const out: string[] = [];
    for (const s of this.parSets) {
      if (s.scalar) out.push(s.name);
      else for (let i = 0; i < s.n; i++) out.push(`${s.name}[${i}]`);
    }
    return out;
  }

  /** Index of a parameter by its pyhf name (`name` or `name[i]`). */
  parIndex(name: string): number {
    const m = /^(.*)\[(\d+)\]$/.exec(name);
    const base = m ? m[1] : name;
    const set = this.parSets.find((s) => s.name === base);
    if (!set) throw new WorkspaceError(`no parameter named "${name}"`, '');
    const i = m ? Number(m[2]) : 0;
    if (i >= set.n) throw new WorkspaceError(`parameter ${base} has ${set.n} components, no [${i}]`, '');
    return set.offset + i;
  }

  suggestedInit(): Float64Array {
    const x = new Float64Array(this.npars);
    for (const s of this.parSets) s.inits.forEach((v, i) => (x[s.offset + i] = v));
    return x;
  }

  suggestedBounds(): { lower: Float64Array; upper: Float64Array } {
    const lower = new Float64Array(this.npars);
    const upper = new Float64Array(this.npars);
    for (const s of this.parSets)
      s.bounds.forEach(([lo, hi], i) => {
        lower[s.offset + i] = lo;
        upper[s.offset + i] = hi;
      });
    return { lower, upper };
  }

  suggestedFixed(): Uint8Array {
    const f = new Uint8Array(this.npars);
    for (const s of this.parSets) s.fixed.forEach((v, i) => (f[s.offset + i] = v ? 1 : 0));
    return f;
  }

  /** Observed data with the default auxiliary data (pyhf's `observations + model.config.auxdata`). */
  observedData(): ModelData {
    return { main: this.observed.slice(), aux: this.auxDefault.slice() };
  }

  /** Main-bin range of a channel. */
  channelSlice(name: string): [number, number] {
    const c = this.channels.find((ch) => ch.name === name);
    if (!c) throw new WorkspaceError(`no channel named "${name}"`, '');
    return [c.offset, c.offset + c.nbins];
  }
}

/** Main counts and auxiliary data, the two halves of pyhf's data vector. */
export interface ModelData {
  main: Float64Array;
  aux: Float64Array;
}

function pickMeasurement(ws: WorkspaceSpec, name: string | undefined, source?: string): MeasurementSpec {
  if (!ws.measurements || ws.measurements.length === 0)
    throw new WorkspaceError('the workspace has no measurement', '/measurements', source);
  if (name === undefined) return ws.measurements[0];
  const m = ws.measurements.find((x) => x.name === name);
  if (!m) {
    throw new WorkspaceError(
      `no measurement named "${name}" (available: ${ws.measurements.map((x) => x.name).join(', ')})`,
      '/measurements',
      source,
    );
  }
  return m;
}

/** Structural checks that pyhf makes while building the model (the schema cannot express them). */
function checkWorkspace(ws: WorkspaceSpec, source?: string): void {
  if (!Array.isArray(ws.channels) || ws.channels.length === 0)
    throw new WorkspaceError('the workspace has no channel', '/channels', source);
  const names = new Set<string>();
  ws.channels.forEach((ch, ci) => {
    const p = `/channels/${ci}`;
    if (names.has(ch.name)) throw new WorkspaceError(`duplicate channel name "${ch.name}"`, `${p}/name`, source);
    names.add(ch.name);
    if (!Array.isArray(ch.samples) || ch.samples.length === 0)
      throw new WorkspaceError(`channel "${ch.name}" has no sample`, `${p}/samples`, source);
    const nb = ch.samples[0].data?.length ?? 0;
    if (nb === 0) throw new WorkspaceError(`channel "${ch.name}" has no bins`, `${p}/samples/0/data`, source);
    const snames = new Set<string>();
    ch.samples.forEach((s, si) => {
      const sp = `${p}/samples/${si}`;
      if (snames.has(s.name))
        throw new WorkspaceError(`duplicate sample "${s.name}" in channel "${ch.name}"`, `${sp}/name`, source);
      snames.add(s.name);
      checkNumbers(s.data, `${sp}/data`, source, 'sample yields', false);
      if (s.data.length !== nb)
        throw new WorkspaceError(
          `sample "${s.name}" has ${s.data.length} bins, channel "${ch.name}" has ${nb}`,
          `${sp}/data`,
          source,
        );
      (s.modifiers ?? []).forEach((m, mi) => {
        const mp = `${sp}/modifiers/${mi}`;
        if (!TYPE_ORDER.includes(m.type)) {
          throw new WorkspaceError(
            `unknown modifier type ${JSON.stringify(m.type)} (pyhf knows ${TYPE_ORDER.join(', ')})`,
            `${mp}/type`,
            source,
          );
        }
        if (m.type === 'histosys') {
          checkNumbers(m.data?.hi_data, `${mp}/data/hi_data`, source, 'histosys hi_data', false);
          checkNumbers(m.data?.lo_data, `${mp}/data/lo_data`, source, 'histosys lo_data', false);
          if (m.data.hi_data.length !== nb || m.data.lo_data.length !== nb)
            throw new WorkspaceError(`histosys "${m.name}" data do not have ${nb} bins`, `${mp}/data`, source);
        } else if (m.type === 'shapesys' || m.type === 'staterror') {
          checkNumbers(m.data, `${mp}/data`, source, `${m.type} uncertainties`, true);
          if (m.data.length !== nb)
            throw new WorkspaceError(
              `${m.type} "${m.name}" has ${m.data.length} values, the sample has ${nb} bins`,
              `${mp}/data`,
              source,
            );
        } else if (m.type === 'normsys') {
          const d = m.data;
          if (!d || !Number.isFinite(d.hi) || !Number.isFinite(d.lo))
            throw new WorkspaceError('normsys data must be {hi, lo} numbers', `${mp}/data`, source);
        }
      });
    });
  });
  const obs = new Map((ws.observations ?? []).map((o, i) => [o.name, i] as const));
  ws.channels.forEach((ch) => {
    const oi = obs.get(ch.name);
    if (oi === undefined) throw new WorkspaceError(`no observation for channel "${ch.name}"`, '/observations', source);
    const o = ws.observations[oi];
    checkNumbers(o.data, `/observations/${oi}/data`, source, 'observed counts', true);
    const nb = ch.samples[0].data.length;
    if (o.data.length !== nb)
      throw new WorkspaceError(
        `observation "${ch.name}" has ${o.data.length} bins, the channel has ${nb}`,
        `/observations/${oi}/data`,
        source,
      );
  });
}

function defaultsFor(m: ModifierSpec, nom: number[]): Omit<RawSet, 'name' | 'type'> {
  const n = nom.length;
  switch (m.type) {
    case 'normfactor':
      return {
        n: 1,
        scalar: true,
        inits: [1],
        bounds: [[0, 10]],
        fixed: [false],
        constraint: null,
        auxdata: [],
        sigmas: [],
        factors: [],
      };
    case 'shapefactor':
      return {
        n,
        scalar: false,
        inits: Array(n).fill(1),
        bounds: Array.from({ length: n }, () => [0, 10] as [number, number]),
        fixed: Array(n).fill(false),
        constraint: null,
        auxdata: [],
        sigmas: [],
        factors: [],
      };
    case 'lumi':
      return {
        n: 1,
        scalar: true,
        inits: [1],
        bounds: [[0, 10]],
        fixed: [false],
        constraint: 'normal',
        auxdata: [1],
        sigmas: [NaN],
        factors: [],
      };
    case 'normsys':
    case 'histosys':
      return {
        n: 1,
        scalar: true,
        inits: [0],
        bounds: [[-5, 5]],
        fixed: [false],
        constraint: 'normal',
        auxdata: [0],
        sigmas: [1],
        factors: [],
      };
    case 'shapesys': {
      const valid = nom.map((v, i) => v > 0 && m.data[i] > 0);
      const factors = nom.map((v, i) => (valid[i] ? (v * v) / (m.data[i] * m.data[i]) : 1));
      return {
        n,
        scalar: false,
        inits: Array(n).fill(1),
        bounds: Array.from({ length: n }, () => [1e-10, 10] as [number, number]),
        fixed: valid.map((v) => !v),
        constraint: 'poisson',
        auxdata: factors.slice(),
        sigmas: [],
        factors,
      };
    }
    case 'staterror':
      // sigmas are filled in once every sample sharing the parameter is known.
      return {
        n,
        scalar: false,
        inits: Array(n).fill(1),
        bounds: Array.from({ length: n }, () => [1e-10, 10] as [number, number]),
        fixed: Array(n).fill(false),
        constraint: 'normal',
        auxdata: Array(n).fill(1),
        sigmas: Array(n).fill(NaN),
        factors: [],
      };
  }
}

function applyUserConfig(set: RawSet, cfg: ParameterConfigSpec, path: string, source?: string): void {
  const sized = <T>(v: T[] | undefined, what: string): T[] | undefined => {
    if (v === undefined) return undefined;
    if (v.length !== set.n)
      throw new WorkspaceError(
        `parameter "${set.name}" has ${set.n} components but ${what} has ${v.length}`,
        `${path}/${what}`,
        source,
      );
    return v.slice();
  };
  set.inits = sized(cfg.inits, 'inits') ?? set.inits;
  set.bounds = sized(cfg.bounds, 'bounds') ?? set.bounds;
  if (cfg.fixed !== undefined) set.fixed = Array(set.n).fill(Boolean(cfg.fixed));
  if (set.constraint !== null) {
    set.auxdata = sized(cfg.auxdata, 'auxdata') ?? set.auxdata;
    if (set.constraint === 'normal') set.sigmas = sized(cfg.sigmas, 'sigmas') ?? set.sigmas;
    else set.factors = sized(cfg.factors, 'factors') ?? set.factors;
  }
  set.bounds.forEach(([lo, hi], i) => {
    if (!(lo <= hi))
      throw new WorkspaceError(`bounds of "${set.name}" are empty: [${lo}, ${hi}]`, `${path}/bounds/${i}`, source);
  });
}

/**
 * Compiles a pyhf workspace (one measurement of it) into a {@link Model}.
 *
 * @example
 * ```ts
 * import { buildModel } from 'ristretto/fit';
 * const model = buildModel({
 *   version: '1.0.0',
 *   channels: [{ name: 'sr', samples: [
 *     { name: 'sig', data: [5], modifiers: [{ name: 'mu', type: 'normfactor', data: null }] },
 *     { name: 'bkg', data: [50], modifiers: [{ name: 'unc', type: 'shapesys', data: [7] }] },
 *   ] }],
 *   observations: [{ name: 'sr', data: [52] }],
 *   measurements: [{ name: 'm', config: { poi: 'mu', parameters: [] } }],
 * });
 * model.parNames(); // ['mu', 'unc[0]']
 * ```
 */
export function buildModel(ws: WorkspaceSpec, opts: ModelOptions = {}): Model {
  const source = opts.source;
  // Our own checks first: they give the clearest messages for the common mistakes, and they are all an
  // installed copy has (pyhf's schema files are optional).
  try {
    checkWorkspace(ws, source);
  } catch (e) {
    // A shape checkWorkspace does not expect (a string where numbers go...): say where, not "cannot read".
    if (!(e instanceof WorkspaceError)) checkWorkspaceStructure(ws, source);
    throw e;
  }
  checkWorkspaceStructure(ws, source);
  if (opts.validate !== false) {
    validateAgainstSchema(ws, 'workspace', { source });
  }
  const interp: InterpSettings = { ...DEFAULT_INTERP, ...(opts.interp ?? {}) };
  for (const [k, v] of Object.entries(interp)) {
    if (!INTERP_CODES.includes(v))
      throw new WorkspaceError(`unknown interpolation code "${v}" for ${k} (one of ${INTERP_CODES.join(', ')})`, '');
  }
  const meas = pickMeasurement(ws, opts.measurement, source);
  const measIndex = ws.measurements.indexOf(meas);

  // Channels and samples in sorted order, as pyhf.
  const chOrder = ws.channels.map((c, i) => ({ c, i })).sort((a, b) => byName(a.c.name, b.c.name));
  const channels: ChannelInfo[] = [];
  let nbins = 0;
  for (const { c, i } of chOrder) {
    const nb = c.samples[0].data.length;
    channels.push({ name: c.name, nbins: nb, offset: nbins, specIndex: i });
    nbins += nb;
  }
  const samples = [...new Set(ws.channels.flatMap((c) => c.samples.map((s) => s.name)))].sort(byName);

  // Parameter sets, per type in order of first appearance over (channel, sample, modifier) sorted.
  const perType = Object.fromEntries(TYPE_ORDER.map((t) => [t, []])) as unknown as Record<ModifierType, RawSet[]>;
  const allSets = new Map<string, RawSet>();
  interface Block {
    ch: ChannelSpec;
    chInfo: ChannelInfo;
    sample: ChannelSpec['samples'][number];
    k0: number;
  }
  const blocks: Block[] = [];
  let nsb = 0;
  for (const info of channels) {
    const ch = ws.channels[info.specIndex];
    const present = new Map(ch.samples.map((s) => [s.name, s] as const));
    for (const sname of samples) {
      const s = present.get(sname);
      if (!s) continue;
      blocks.push({ ch, chInfo: info, sample: s, k0: nsb });
      nsb += info.nbins;
      const mods = [...(s.modifiers ?? [])].sort((a, b) => byName(a.name, b.name) || byName(a.type, b.type));
      for (const m of mods) {
        const existing = allSets.get(m.name);
        if (existing) {
          const scalarNew =
            m.type === 'normfactor' || m.type === 'lumi' || m.type === 'normsys' || m.type === 'histosys';
          const nNew = scalarNew ? 1 : s.data.length;
          if (existing.n !== nNew) {
            throw new WorkspaceError(
              `parameter "${m.name}" is used with ${existing.n} and with ${nNew} components`,
              `/channels/${info.specIndex}/samples`,
              source,
            );
          }
          continue;
        }
        const set: RawSet = { name: m.name, type: m.type, ...defaultsFor(m, s.data) };
        allSets.set(m.name, set);
        perType[m.type].push(set);
      }
    }
  }

  // staterror parameters are registered when pyhf finalizes its builder: in sorted-name order.
  perType.staterror.sort((a, b) => byName(a.name, b.name));

  // staterror widths: per bin, sqrt(sum of squared uncertainties) / sum of nominal rates of the samples sharing it.
  for (const set of perType.staterror) {
    const nom = new Float64Array(set.n);
    const unc2 = new Float64Array(set.n);
    let found = false;
    for (const b of blocks) {
      for (const m of b.sample.modifiers ?? []) {
        if (m.type !== 'staterror' || m.name !== set.name) continue;
        found = true;
        for (let i = 0; i < set.n; i++) {
          nom[i] += b.sample.data[i];
        }
      }
    }
    if (!found) continue;
    for (const b of blocks) {
      for (const m of b.sample.modifiers ?? []) {
        if (m.type !== 'staterror' || m.name !== set.name) continue;
        for (let i = 0; i < set.n; i++) {
          const rel = nom[i] > 0 ? m.data[i] / nom[i] : 0;
          unc2[i] += rel * rel;
        }
      }
    }
    for (let i = 0; i < set.n; i++) {
      const s = Math.sqrt(unc2[i]);
      set.fixed[i] = s === 0;
      set.sigmas[i] = s === 0 ? 1 : s;
    }
  }

  // The measurement's parameter configs.
  const cfgPath = `/measurements/${measIndex}/config/parameters`;
  const seen = new Set<string>();
  (meas.config.parameters ?? []).forEach((cfg, i) => {
    if (seen.has(cfg.name))
      throw new WorkspaceError(`parameter "${cfg.name}" is configured twice`, `${cfgPath}/${i}`, source);
    seen.add(cfg.name);
    const set = allSets.get(cfg.name);
    if (!set) return; // pyhf ignores configs of parameters the model does not have
    applyUserConfig(set, cfg, `${cfgPath}/${i}`, source);
  });
  for (const set of perType.lumi) {
    if (!Number.isFinite(set.sigmas[0])) {
      throw new WorkspaceError(
        `lumi parameter "${set.name}" needs "sigmas" (and auxdata) in the measurement's parameter configs`,
        cfgPath,
        source,
      );
    }
  }

  const ordered: RawSet[] = TYPE_ORDER.flatMap((t) => perType[t]);
  if (ordered.length === 0) throw new WorkspaceError('the model has no parameters', '/channels', source);
  let offset = 0;
  const parSets: ParameterSet[] = ordered.map((s) => {
    const ps: ParameterSet = { ...s, offset };
    offset += s.n;
    return ps;
  });
  const npars = offset;
  const setByName = new Map(parSets.map((s) => [s.name, s] as const));

  const poiName = opts.poi ?? meas.config.poi;
  const poiSet = setByName.get(poiName);
  if (!poiSet) {
    throw new WorkspaceError(
      `the POI "${poiName}" is not a parameter of the model (parameters: ${parSets
        .slice(0, 12)
        .map((s) => s.name)
        .join(', ')}${parSets.length > 12 ? ', ...' : ''})`,
      `/measurements/${measIndex}/config/poi`,
      source,
      // A background-only workspace (pyhf's BkgOnly.json) gets its signal and POI from a patch.
      'pass a signal patch that adds it (-p patch.json; a BkgOnly.json has no signal), or fix config.poi',
    );
  }
  if (poiSet.n !== 1)
    throw new WorkspaceError(
      `the POI "${poiName}" has ${poiSet.n} components; it must be a scalar`,
      `/measurements/${measIndex}/config/poi`,
      source,
    );

  // Sample-bins and the terms acting on them.
  const sbBin = new Int32Array(nsb);
  const sbNom = new Float64Array(nsb);
  const sbSample = new Int32Array(nsb);
  const sbSpecSample = new Int32Array(nsb);
  const shiftTerms: ShiftTerm[] = [];
  const scalarFactors: ScalarFactorTerm[] = [];
  const binFactors: BinFactorTerm[] = [];
  for (const b of blocks) {
    const nb = b.chInfo.nbins;
    for (let i = 0; i < nb; i++) {
      sbBin[b.k0 + i] = b.chInfo.offset + i;
      sbNom[b.k0 + i] = b.sample.data[i];
      sbSample[b.k0 + i] = samples.indexOf(b.sample.name);
      sbSpecSample[b.k0 + i] = b.ch.samples.indexOf(b.sample);
    }
    for (const m of b.sample.modifiers ?? []) {
      const set = setByName.get(m.name) ?? brokenInvariant(`modifier ${m.name} has no parameter set`);
      const p = set.offset;
      switch (m.type) {
        case 'normfactor':
        case 'lumi':
          scalarFactors.push({ par: p, k0: b.k0, n: nb });
          break;
        case 'normsys':
          if (isMultiplicative(interp.normsys) && !(m.data.hi > 0 && m.data.lo > 0)) {
            throw new WorkspaceError(
              `normsys "${m.name}" has hi = ${m.data.hi}, lo = ${m.data.lo}; interpolation ${interp.normsys} needs both > 0 (use an additive code or fix the input)`,
              `/channels/${b.chInfo.specIndex}/samples/${b.ch.samples.indexOf(b.sample)}/modifiers/${b.sample.modifiers.indexOf(m)}/data`,
              source,
            );
          }
          scalarFactors.push({
            par: p,
            k0: b.k0,
            n: nb,
            table: makeInterpTable(interp.normsys, [m.data.lo], [1], [m.data.hi]),
          });
          break;
        case 'histosys':
          if (isMultiplicative(interp.histosys)) {
            const bad = b.sample.data.findIndex((v, i) => v > 0 && !(m.data.hi_data[i] > 0 && m.data.lo_data[i] > 0));
            if (bad >= 0) {
              throw new WorkspaceError(
                `histosys "${m.name}" has a non-positive variation in bin ${bad}; interpolation ${interp.histosys} needs positive hi/lo (use code0, code2 or code4p)`,
                `/channels/${b.chInfo.specIndex}/samples/${b.ch.samples.indexOf(b.sample)}/modifiers/${b.sample.modifiers.indexOf(m)}/data`,
                source,
              );
            }
          }
          shiftTerms.push({
            par: p,
            k0: b.k0,
            table: makeInterpTable(interp.histosys, m.data.lo_data, b.sample.data, m.data.hi_data),
          });
          break;
        case 'shapefactor':
        case 'staterror':
        case 'shapesys': {
          const pars = new Int32Array(nb);
          for (let i = 0; i < nb; i++) {
            // shapesys bins without yield or uncertainty have no effect (their parameter is fixed at 1).
            const active = m.type !== 'shapesys' || (b.sample.data[i] > 0 && m.data[i] > 0);
            pars[i] = active ? p + i : -1;
          }
          binFactors.push({ k0: b.k0, pars });
          break;
        }
      }
    }
  }

  const auxPar: number[] = [];
  const auxType: number[] = [];
  const auxScale: number[] = [];
  const auxDefault: number[] = [];
  for (const s of parSets) {
    if (!s.constraint) continue;
    for (let i = 0; i < s.n; i++) {
      auxPar.push(s.offset + i);
      auxType.push(s.constraint === 'normal' ? 0 : 1);
      auxScale.push(s.constraint === 'normal' ? s.sigmas[i] : s.factors[i]);
      auxDefault.push(s.auxdata[i]);
    }
  }

  const observed = new Float64Array(nbins);
  // checkWorkspace made sure every channel has an observation of its length
  const observation = new Map(ws.observations.map((o) => [o.name, o.data]));
  for (const info of channels) observed.set(observation.get(info.name) ?? [], info.offset);

  return new Model({
    channels,
    samples,
    nbins,
    parSets,
    npars,
    poiName,
    poiIndex: poiSet.offset,
    measurement: meas.name,
    interp,
    sbBin,
    sbNom,
    sbSample,
    sbSpecSample,
    shiftTerms,
    scalarFactors,
    binFactors,
    auxPar: Int32Array.from(auxPar),
    auxType: Uint8Array.from(auxType),
    auxScale: Float64Array.from(auxScale),
    auxDefault: Float64Array.from(auxDefault),
    observed,
  });
}
