/**
 * Page locations: the page list envelopes of the cluster groups, turned into clusters (entry ranges)
 * and, per cluster and physical column, the element offset, compression and the list of pages.
 */
import type { ByteSource } from '../source.ts';
import { ENVELOPE, readEnvelope, hex, type Locator } from './envelope.ts';
import { RNTupleFormatError, RNTupleUnsupportedError } from './errors.ts';
import type { ClusterGroupDesc } from './schema.ts';

export interface PageDesc {
  readonly numElements: number;
  /** An XXH3 checksum of the stored (compressed) page follows the page on disk. */
  readonly hasChecksum: boolean;
  readonly locator: Locator;
}

export interface ColumnRange {
  /** Index of the column's first element in this cluster, counted from the start of the RNTuple. */
  readonly firstElement: number;
  /** Suppressed in this cluster (a secondary representation): no pages. */
  readonly suppressed: boolean;
  /** Compression settings (algorithm * 100 + level); 0 when suppressed. */
  readonly compression: number;
  readonly pages: readonly PageDesc[];
  /** Sum of the pages' elements. */
  readonly numElements: number;
}

export interface ClusterDesc {
  readonly id: number;
  readonly firstEntry: number;
  readonly numEntries: number;
  /** By physical column ID. */
  readonly columns: readonly ColumnRange[];
}

/** Read every cluster group's page list and return the clusters in entry order. */
export async function readClusters(
  src: ByteSource,
  groups: readonly ClusterGroupDesc[],
  headerChecksum: bigint,
  numColumns: number,
  maxKeySize: number,
): Promise<ClusterDesc[]> {
  const lists = await Promise.all(
    groups.map((g, gi) =>
      readEnvelope(src, g.pageList, ENVELOPE.pageList, `page list of cluster group ${gi}`, maxKeySize),
    ),
  );
  const clusters: ClusterDesc[] = [];
  lists.forEach((env, gi) => {
    const c = env.payload;
    const fail = (msg: string): never => {
      throw new RNTupleFormatError(
        `${src.name}: page list of cluster group ${gi}: ${msg}`,
        { file: src.name, clusterGroup: gi },
        'the file is damaged',
      );
    };
    const hc = c.u64big();
    if (hc !== headerChecksum) fail(`names header checksum ${hex(hc)}, the header's is ${hex(headerChecksum)}`);
    const summaries = c.list((f) =>
      f.record((r) => {
        const firstEntry = r.u64();
        const word = r.u64big();
        const flags = Number(word >> 56n);
        if (flags & 0x01) {
          throw new RNTupleUnsupportedError(
            `${src.name}: cluster of group ${gi} is sharded (flag 0x01)`,
            { file: src.name },
            'sharded clusters are not part of format 1.0',
          );
        }
        return { firstEntry, numEntries: Number(word & ((1n << 56n) - 1n)) };
      }),
    );
    if (summaries.length !== groups[gi].numClusters)
      fail(`${summaries.length} cluster summaries, the footer announces ${groups[gi].numClusters}`);
    const perCluster = c.list((fc) =>
      fc.list((fcol) =>
        fcol.listWithTail(
          (p) => {
            const n = p.i32();
            return { numElements: n < 0 ? -n : n, hasChecksum: n < 0, locator: p.locator() };
          },
          (t) => {
            const firstElement = t.i64();
            const suppressed = firstElement < 0;
            const compression = suppressed ? 0 : t.u32();
            return { firstElement, suppressed, compression };
          },
        ),
      ),
    );
    if (perCluster.length !== summaries.length)
      fail(`page locations for ${perCluster.length} clusters, ${summaries.length} summaries`);
    perCluster.forEach((cols, ci) => {
      if (cols.length > numColumns) fail(`cluster ${ci} lists ${cols.length} columns, the schema has ${numColumns}`);
      const columns = cols.map(({ items, tail }) => ({
        firstElement: tail.suppressed ? 0 : tail.firstElement,
        suppressed: tail.suppressed,
        compression: tail.compression,
        pages: items,
        numElements: items.reduce((s, p) => s + p.numElements, 0),
      }));
      clusters.push({ id: clusters.length, ...summaries[ci], columns });
    });
  });
  clusters.sort((a, b) => a.firstEntry - b.firstEntry);
  let next = 0;
  for (const cl of clusters) {
    if (cl.firstEntry !== next) {
      throw new RNTupleFormatError(
        `${src.name}: cluster ${cl.id} starts at entry ${cl.firstEntry}, expected ${next}`,
        { file: src.name, cluster: cl.id },
        'the file is damaged',
      );
    }
    next += cl.numEntries;
  }
  return clusters;
}
