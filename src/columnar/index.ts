/**
 * Ristretto's columnar kernels, one family per module, gathered into one namespace for analysis code.
 *
 * @example
 * ```ts
 * import * as ak from '../columnar/index.ts';
 *
 * const muons = events.Muon;                                   // Collection {offsets, fields: {pt, eta, phi, mass, charge}}
 * const good = ak.selectObjects(muons, ak.gt(ak.field(muons, 'pt'), 10));
 * const pairs = ak.oppositeChargePairs(good);
 * const mass = ak.sumMass(pairs, good);                        // Jagged<Float64Array>, one list per event
 * const hasZ = ak.any(ak.and(ak.gt(mass, 60), ak.lt(mass, 120)));
 * const sel = ak.filterEvents({ MET_pt: events.MET_pt, Jet: events.Jet }, hasZ);
 * ```
 */
export type { NumericArray, Mask, FlatColumn, Jagged, Collection, Column, Optional, Combinations } from './types.ts';
export { isStringColumn, lengthOf } from './types.ts';
export type { Operand, BinaryResult, UnaryResult, BinaryKernel, UnaryKernel } from './elementwise.ts';
export {
  ColumnarError,
  LengthMismatchError,
  OffsetsMismatchError,
  FieldNotFoundError,
  InvalidArgumentError,
} from './errors.ts';
export { isFlat, isJagged, isCollection, isCombinations } from './shape.ts';
export {
  add,
  sub,
  mul,
  div,
  pow,
  atan2,
  minimum,
  maximum,
  abs,
  neg,
  sqrt,
  square,
  exp,
  log,
  sin,
  cos,
  sinh,
  cosh,
} from './math.ts';
export { gt, lt, ge, le, eq, ne } from './compare.ts';
export { and, or, xor, not } from './mask.ts';
export { filterEvents, selectObjects } from './select.ts';
export type { Filterable } from './select.ts';
export { counts, flatten, localIndex, broadcast, field } from './structure.ts';
export type { HasOffsets } from './structure.ts';
export { sum, count, any, all, min, max, argmin, argmax } from './reduce.ts';
export { take, firsts, takeFields } from './pick.ts';
export type { OptionalRecord } from './pick.ts';
export { concatenate } from './concat.ts';
export type { ConcatenateOptions } from './concat.ts';
export { combinations, cartesian, oppositeChargePairs, combinationField } from './combinations.ts';
export type { Triples } from './combinations.ts';
export { gather } from './gather.ts';
export {
  wrapPhi,
  deltaPhi,
  deltaR,
  transverseMass,
  px,
  py,
  pz,
  energy,
  sumMass,
  sumPt,
  sumP4,
  pairDeltaPhi,
  pairDeltaR,
  sumCharge,
} from './vector.ts';
export type { VectorResult } from './vector.ts';
export {
  toArrow,
  flatToArrow,
  jaggedToArrow,
  collectionToArrow,
  fromArrow,
  fromArrowBatch,
  ArrowConversionError,
} from './arrow.ts';
export {
  fused,
  compute,
  concat,
  Expr,
  LazyObjects,
  LorentzVector,
  Candidates,
  Best,
  lazyObjects,
  lazyColumn,
  BinnedLookup,
} from './fused/index.ts';
export type { ExprLike, Objects, FusedEvents, NestedNumbers } from './fused/index.ts';
/** The fused layer's free functions (`fx.deltaR`, `fx.transverseMass`, `fx.maximum`, …), apart from the eager kernels of the same names. */
export * as fx from './fused/index.ts';
