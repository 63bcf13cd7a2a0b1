/**
 * TypeScript shapes of pyhf's JSON format, version 1.0.0 (workspace, measurement, patch set, JSON Patch).
 * They describe what the schema in `schema.ts` guarantees after validation.
 */

/** One modifier of a sample. `data` depends on `type`. */
export type ModifierSpec =
  | { name: string; type: 'normfactor'; data: null }
  | { name: string; type: 'shapefactor'; data: null }
  | { name: string; type: 'lumi'; data: null }
  | { name: string; type: 'normsys'; data: { hi: number; lo: number } }
  | { name: string; type: 'histosys'; data: { hi_data: number[]; lo_data: number[] } }
  | { name: string; type: 'shapesys'; data: number[] }
  | { name: string; type: 'staterror'; data: number[] };

export type ModifierType = ModifierSpec['type'];

export interface SampleSpec {
  name: string;
  data: number[];
  modifiers: ModifierSpec[];
}

export interface ChannelSpec {
  name: string;
  samples: SampleSpec[];
}

export interface ObservationSpec {
  name: string;
  data: number[];
}

/** User configuration of one parameter (set) in a measurement. */
export interface ParameterConfigSpec {
  name: string;
  inits?: number[];
  bounds?: [number, number][];
  auxdata?: number[];
  factors?: number[];
  sigmas?: number[];
  fixed?: boolean;
}

export interface MeasurementSpec {
  name: string;
  config: { poi: string; parameters: ParameterConfigSpec[] };
}

export interface WorkspaceSpec {
  channels: ChannelSpec[];
  observations: ObservationSpec[];
  measurements: MeasurementSpec[];
  version: string;
}

/** One RFC 6902 operation. */
export type JsonPatchOp =
  | { op: 'add' | 'replace' | 'test'; path: string; value: unknown }
  | { op: 'remove'; path: string }
  | { op: 'move' | 'copy'; path: string; from: string };

export interface PatchSetSpec {
  metadata: {
    name?: string;
    digests: Record<string, string>;
    labels: string[];
    description: string;
    references: Record<string, string>;
  };
  patches: { metadata: { name: string; values: unknown[] }; patch: JsonPatchOp[] }[];
  version: string;
}
