/**
 * The RNTuple schema: header envelope (fields, columns, alias columns, extra type information), the
 * footer's schema extension and cluster groups. Pure parsing of envelope payloads into plain records;
 * field IDs and physical column IDs are the positions in serialization order (header, then extension).
 */
import type { Cursor, EnvelopeLink } from './envelope.ts';
import { hex } from './envelope.ts';
import { RNTupleFormatError, RNTupleUnsupportedError } from './errors.ts';

export const ROLE = { leaf: 0, collection: 1, record: 2, variant: 3, streamer: 4 } as const;

export interface FieldDesc {
  readonly id: number;
  readonly fieldVersion: number;
  readonly typeVersion: number;
  /** Equal to `id` for top-level fields. */
  readonly parentId: number;
  readonly role: number;
  readonly flags: number;
  readonly name: string;
  readonly typeName: string;
  readonly typeAlias: string;
  readonly description: string;
  /** Fixed-size arrays (flag 0x01). */
  readonly arraySize?: number;
  /** Projected fields (flag 0x02): the field they present. */
  readonly sourceFieldId?: number;
  readonly typeChecksum?: number;
}

export interface ColumnDesc {
  /** Physical column ID (position among the physical columns). */
  readonly id: number;
  readonly type: number;
  readonly bitsOnStorage: number;
  readonly fieldId: number;
  readonly flags: number;
  readonly representationIndex: number;
  /** Deferred columns (flag 0x01): elements before this index read as zeros. Negative: deferred and suppressed. */
  readonly firstElementIndex?: number;
  readonly min?: number;
  readonly max?: number;
}

export interface AliasColumnDesc {
  readonly physicalColumnId: number;
  readonly fieldId: number;
}

export interface SchemaPart {
  readonly fields: FieldDesc[];
  readonly columns: ColumnDesc[];
  readonly aliases: AliasColumnDesc[];
}

export interface Header extends SchemaPart {
  readonly featureFlags: number[];
  readonly name: string;
  readonly description: string;
  readonly writer: string;
}

export interface ClusterGroupDesc {
  readonly minEntry: number;
  readonly entrySpan: number;
  readonly numClusters: number;
  readonly pageList: EnvelopeLink;
}

export interface Footer {
  readonly featureFlags: number[];
  readonly headerChecksum: bigint;
  readonly extension: SchemaPart;
  readonly clusterGroups: ClusterGroupDesc[];
}

/** Refuse files that set feature flags: none is defined in format 1.0, so any set bit is unknown. */
function checkFlags(c: Cursor, flags: number[]): void {
  if (flags.length) {
    throw new RNTupleUnsupportedError(
      `${c.where.file}: ${c.where.what} sets feature flag${flags.length > 1 ? 's' : ''} ${flags.join(', ')}, unknown to this reader`,
      { file: c.where.file, featureFlags: flags },
      'the file needs a newer RNTuple reader',
    );
  }
}

function readSchemaLists(c: Cursor, firstFieldId: number, firstColumnId: number): SchemaPart {
  const fields = c.list((f, i) =>
    f.record((r) => {
      const fieldVersion = r.u32();
      const typeVersion = r.u32();
      const parentId = r.u32();
      const role = r.u16();
      const flags = r.u16();
      const name = r.string();
      const typeName = r.string();
      const typeAlias = r.string();
      const description = r.string();
      const d: FieldDesc = {
        id: firstFieldId + i,
        fieldVersion,
        typeVersion,
        parentId,
        role,
        flags,
        name,
        typeName,
        typeAlias,
        description,
        ...(flags & 0x01 ? { arraySize: r.u64() } : {}),
        ...(flags & 0x02 ? { sourceFieldId: r.u32() } : {}),
        ...(flags & 0x04 ? { typeChecksum: r.u32() } : {}),
      };
      return d;
    }),
  );
  const columns = c.list((f, i) =>
    f.record((r) => {
      const type = r.u16();
      const bitsOnStorage = r.u16();
      const fieldId = r.u32();
      const flags = r.u16();
      const representationIndex = r.u16();
      const d: ColumnDesc = {
        id: firstColumnId + i,
        type,
        bitsOnStorage,
        fieldId,
        flags,
        representationIndex,
        ...(flags & 0x01 ? { firstElementIndex: r.i64() } : {}),
        ...(flags & 0x02 ? { min: r.f64(), max: r.f64() } : {}),
      };
      return d;
    }),
  );
  const aliases = c.list((f) => f.record((r) => ({ physicalColumnId: r.u32(), fieldId: r.u32() })));
  c.list((f) => f.record(() => undefined)); // extra type information: not needed to read values
  return { fields, columns, aliases };
}

export function parseHeader(c: Cursor): Header {
  const featureFlags = c.featureFlags();
  checkFlags(c, featureFlags);
  const name = c.string();
  const description = c.string();
  const writer = c.string();
  return { featureFlags, name, description, writer, ...readSchemaLists(c, 0, 0) };
}

export function parseFooter(c: Cursor, header: Header, headerChecksum: bigint): Footer {
  const featureFlags = c.featureFlags();
  checkFlags(c, featureFlags);
  const stored = c.u64big();
  if (stored !== headerChecksum) {
    throw new RNTupleFormatError(
      `${c.where.file}: the footer belongs to another header (footer names header checksum ${hex(stored)}, the header's is ${hex(headerChecksum)})`,
      { file: c.where.file },
      'the file is damaged',
    );
  }
  const extension = c.record((r) =>
    r.remaining === 0
      ? { fields: [], columns: [], aliases: [] }
      : readSchemaLists(r, header.fields.length, header.columns.length),
  );
  const clusterGroups = c.list((f) =>
    f.record((r) => ({ minEntry: r.u64(), entrySpan: r.u64(), numClusters: r.u32(), pageList: r.envelopeLink() })),
  );
  return { featureFlags, headerChecksum: stored, extension, clusterGroups };
}

/** Header and extension combined: all fields, physical columns and alias columns by ID. */
export interface Schema {
  readonly fields: readonly FieldDesc[];
  readonly columns: readonly ColumnDesc[];
  readonly aliases: readonly AliasColumnDesc[];
}

export function combineSchema(header: Header, footer: Footer): Schema {
  return {
    fields: [...header.fields, ...footer.extension.fields],
    columns: [...header.columns, ...footer.extension.columns],
    aliases: [...header.aliases, ...footer.extension.aliases],
  };
}
