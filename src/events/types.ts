/** What processors see: the events object and the shapes of its entries. */
import type { Collection, Jagged, NumericArray } from '../columnar/types.ts';
import type { Column } from '../io/reader.ts';
import type { VectorKind } from './nanoaod.ts';

export type { VectorKind };

/** Members every events object has, whatever the file. */
export interface EventsBase {
  /** Number of events in this chunk (`entryStop - entryStart`). */
  readonly numEvents: number;
  /** First entry of the chunk in the file. */
  readonly entryStart: number;
  /** One past the last entry of the chunk in the file. */
  readonly entryStop: number;
  /**
   * Any branch by its full file name (`Jet_pt`, `run`, `nJet`), as the reader returned it. The escape
   * hatch for generic code and for names the schema groups differently.
   */
  column(name: string): Column;
  /**
   * Adds an event-level column computed from an expression (RDataFrame's `Define`), e.g.
   * `events.define('ht', 'sum(Jet.pt[Jet.pt > 30])')`; then `events.ht` is a Float64Array with one value
   * per event, usable in later expressions too. The text is mathjs syntax with the names `ristretto draw` takes
   * (`Jet.pt` or `Jet_pt`, `Muon_pt[0]`), run as one fused loop. It must give one value per event: reduce
   * collections (`sum`, `count`, `max`); an expression that drops events (`Muon_pt[0]` with no muon) is rejected.
   * The expression parser (mathjs) is loaded on the first call only.
   *
   * @example
   * ```ts
   * const ht = events.define('ht', 'sum(Jet_pt[Jet_pt > 30])');   // also events.ht from now on
   * out.ht.fill(ht);
   * ```
   */
  define(name: string, text: string): Float64Array;
}

/**
 * A NanoAOD collection (`events.Muon`): a `Collection` (shared `offsets` + `fields` of contents) that also
 * exposes each field as a `Jagged` (`events.Muon.pt`) and, for each link field, its global-index version
 * (`events.Jet.muonIdx1G`: indices into `events.Muon` contents, −1 for none).
 *
 * The member names below are reserved; a branch with such a field name (none in NanoAOD) stays reachable
 * through `fields` and `events.column`.
 */
export interface EventCollection extends Collection {
  /** Collection name (`Muon`). */
  readonly name: string;
  /** Objects per event (Int32Array, one per event). */
  readonly counts: Int32Array;
  /** Coordinates the fields hold, for four-vector kernels; `PtEtaPhi` means massless. */
  readonly kind: VectorKind | undefined;
  /** True when the fields describe a full four-vector (`PtEtaPhiM` or `PxPyPzE`). */
  readonly isFourVector: boolean;
  /** Link field (`muonIdx1`) → target collection (`Muon`); `<field>G` gives the global indices. */
  readonly links: Readonly<Record<string, string>>;
  /** Field names in file order (jagged branches `<name>_<field>`). */
  readonly fieldNames: readonly string[];
}

/** `events.Muon`: collection members plus one `Jagged` per field (and `<link>G` per link field). */
export type CollectionView = EventCollection & { readonly [field: string]: Jagged };

/** `events.MET`, `events.HLT`, `events.Flag`: one flat column per field. */
export type FlatRecord = { readonly [field: string]: NumericArray };

/**
 * The static type of `events.<name>`. At run time it is one of: a `CollectionView` (`events.Muon`), a
 * `FlatRecord` (`events.MET`), a flat typed array (`events.run`, `events.nMuon`) or, for the few jagged
 * branches without an underscore, a `Jagged` (`events.LHEPdfWeight`, read it through `events.column`
 * to get that type). The intersection lets each of the usual accesses typecheck without casts.
 */
export type EventsEntry = CollectionView & FlatRecord & NumericArray;

/**
 * A chunk of events, columns loaded lazily. Accessing a branch that does not exist throws
 * `MissingBranchError` naming the closest branches; use `'x' in events.Muon` to probe optional fields.
 */
export type Events = EventsBase & { readonly [name: string]: EventsEntry };
