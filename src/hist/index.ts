/**
 * Ristretto histograms, after boost-histogram: axes, storages, fill, merge, reductions, UHI JSON.
 * ROOT objects and plots are in `ristretto/plot` (they need jsroot, which processors never load).
 *
 * @example
 * import { Hist, Regular, StrCategory, Weight, toUHI } from 'ristretto/hist';
 * const h = new Hist(
 *   new StrCategory([], { name: 'dataset', growth: true }),
 *   new Regular(100, 0, 200, { name: 'pt', label: 'p_{T} [GeV]' }),
 *   { storage: new Weight() },
 * );
 * h.fill('DY', muonPt, { weight: 0.7 });
 * const pt = h.project('pt');          // sum over datasets
 * const json = toUHI(pt);              // hist / boost-histogram can read it
 */
export {
  Regular,
  Variable,
  Integer,
  IntCategory,
  StrCategory,
  BooleanAxis,
  BooleanAxis as Boolean,
  isCategory,
  isContinuous,
  binLabels,
  type Axis,
  type AxisKind,
  type AxisOptions,
  type CategoryOptions,
  type FlowOptions,
  type Metadata,
  type RegularOptions,
} from './axes.ts';
export { Double, Int64, Weight, Mean, WeightedMean, type Storage, type StorageKind } from './storage.ts';
export {
  Hist,
  type AxisRef,
  type BinSum,
  type FillOptions,
  type FillValue,
  type FillWeights,
  type FlowOption,
  type HistOptions,
} from './hist.ts';
export type { JaggedInput } from './fill-jagged.ts';
export {
  toUHI,
  fromUHI,
  uhiDocument,
  fromUHIDocument,
  stringifyUHI,
  parseUHI,
  tlatexToMathtext,
  type UHIOptions,
  type UHIHistogram,
  type UHIStorage,
  type UHIAxis,
  type NDArray,
} from './uhi.ts';
export {
  HistError,
  IncompatibleHistogramsError,
  FillError,
  AxisNotFoundError,
  UnsupportedHistError,
  InvalidAxisError,
  HistFormatError,
} from './errors.ts';
