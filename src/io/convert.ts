/**
 * Format converter: streams an EventReader's branches, chunk by chunk, into Parquet (list<T> for
 * jagged branches), Arrow IPC (List<T>, zero-copy) or a ROOT TTree (NanoAOD-style `x[nX]/F` leaves
 * with counter branches), keeping counts branches. Also defines the `ristretto convert IN OUT` subcommand.
 */
import { realpathSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { segmentRegExp } from '../dataset/glob.ts';
import { isEntryRange, RistrettoError } from '../errors/index.ts';
import { closestNames } from '../errors/suggest.ts';
import { ArrowFileWriter } from './arrow/write.ts';
import { ParquetFileWriter } from './parquet/write.ts';
import { prepareCompression, type RootCodec } from './root-write/compress.ts';
import { RootTreeWriter } from './root-write/tree.ts';
import type { BranchDescription, BranchInfo, Column, DType, EventReader } from './reader.ts';
import { isUrl } from './source.ts';
import { assertOutputFile } from './output-path.ts';

export class ConvertError extends RistrettoError {}

export type ConvertFormat = 'parquet' | 'arrow' | 'root';

export interface ConvertOptions {
  /**
   * Branches to write (default: all), as names or glob patterns (`Muon_*`, `HLT_IsoMu?4`, `Jet_[ep]*`):
   * a pattern stands for every readable branch it matches, in the file's order. Counts branches of
   * selected jagged branches are added. A pattern that matches nothing is an error naming close names.
   */
  branches?: readonly string[];
  entryStart?: number;
  entryStop?: number;
  /** Output format; default from the extension of `outPath` (.parquet, .arrow, .feather). */
  format?: ConvertFormat;
  /** Target entries per chunk (one Parquet row group / Arrow record batch / ROOT cluster each); default 100,000. */
  chunkSize?: number;
  /** ROOT output: basket codec (default zlib) and level (default 1 for zlib, 4 for LZ4, 5 for ZSTD). */
  compression?: RootCodec;
  compressionLevel?: number;
  /** ROOT output: tree name (default: the input's tree name for ROOT input, else `Events`). */
  treeName?: string;
}

export interface ConvertResult {
  readonly path: string;
  readonly format: ConvertFormat;
  readonly entries: number;
  readonly branches: readonly string[];
  readonly chunks: number;
  /** Branches left out of an all-branches conversion to ROOT because the TTree writer cannot hold them yet (lists of lists). */
  readonly skipped?: readonly string[];
  /**
   * Branches of the file that Ristretto cannot read (maps, vectors of strings, ...; `ristretto ls` says why
   * for each), left out of an all-branches conversion or of the glob patterns that match them. Objects split
   * into sub-branches are not listed: their members are branches of their own.
   */
  readonly unreadable?: readonly string[];
}

/** The format implied by a file name, or undefined. */
export function formatOfPath(path: string): ConvertFormat | undefined {
  const ext = extname(path).toLowerCase();
  if (ext === '.parquet' || ext === '.pq') return 'parquet';
  if (ext === '.arrow' || ext === '.feather' || ext === '.ipc') return 'arrow';
  if (ext === '.root') return 'root';
  return undefined;
}

/**
 * Chunk edges over [start, stop): chunks of at most `target` entries that end on the reader's
 * boundaries (row groups, clusters) when one is available, and split a longer stretch evenly otherwise.
 */
export function chunkEdges(boundaries: readonly number[], start: number, stop: number, target: number): number[] {
  const edges = [start];
  let prev = start; // last boundary seen since the current chunk started
  const cuts = [...boundaries.filter((b) => b > start && b < stop), stop];
  for (const b of cuts) {
    let last = edges[edges.length - 1];
    if (b - last > target && prev > last) edges.push((last = prev));
    while (b - last > target) edges.push((last += target));
    prev = b;
  }
  if (edges[edges.length - 1] !== stop) edges.push(stop);
  return edges;
}

/**
 * Convert [entryStart, entryStop) of `reader` into `outPath`. Refuses (ConvertError) when `outPath` is
 * the input file under any spelling; writes a temporary file beside `outPath` and renames it at the end,
 * removing it on failure.
 */
export async function convert(reader: EventReader, outPath: string, opts: ConvertOptions = {}): Promise<ConvertResult> {
  const format = opts.format ?? formatOfPath(outPath);
  if (!format) {
    throw new ConvertError(
      `cannot tell the output format of ${outPath}`,
      { file: outPath },
      'name the output *.parquet, *.arrow, *.feather or *.root, or pass format',
    );
  }
  const start = opts.entryStart ?? 0;
  const stop = opts.entryStop ?? reader.numEntries;
  const target = opts.chunkSize ?? 100_000;
  if (!(Number.isInteger(target) && target > 0))
    throw new ConvertError(
      `chunkSize must be a positive integer, got ${target}`,
      { chunkSize: target },
      'pass e.g. 100000',
    );
  if (!isEntryRange(start, stop, reader.numEntries)) {
    throw new ConvertError(
      `entry range [${start}, ${stop}) is outside [0, ${reader.numEntries}] of ${reader.path}`,
      { file: reader.path, entryStart: start, entryStop: stop, numEntries: reader.numEntries },
      `use START:STOP with 0 <= START <= STOP <= ${reader.numEntries}`,
    );
  }
  refuseSameFile(reader.path, outPath);
  const infos = new Map(reader.branches().map((b) => [b.name, b]));
  // Lists of lists (ROOT vector<vector<T>>) and strings go to Parquet (list<list<T>>, UTF8) and Arrow
  // (List<List<T>>, Utf8); the TTree writer writes strings (TLeafC) but has no leaf for lists of lists
  // yet: left out of "all", refused by name.
  const nested = (n: string) => format === 'root' && infos.get(n)?.kind === 'jagged2';
  const skipped = opts.branches ? [] : [...infos.keys()].filter(nested);
  const cannotRead = unreadableBranches(reader).filter((n) => !infos.has(n));
  refuseOnlyUnreadable(opts.branches ?? [], [...infos.keys()], cannotRead, reader.path);
  const requested = expandBranchPatterns(
    opts.branches ?? [...infos.keys()].filter((n) => !nested(n)),
    [...infos.keys()],
    reader,
  );
  const refusedNested = requested.filter(nested);
  if (refusedNested.length) {
    throw new ConvertError(
      `cannot convert ${refusedNested.join(', ')} of ${reader.path}: lists of lists (std::vector<std::vector<T>>) are not written to ${format} yet`,
      { file: reader.path, branches: refusedNested },
      'leave these branches out of --branches',
    );
  }
  const names = selectBranches(requested, infos);
  const unreadable = cannotRead.filter((n) => matchedByRequest(n, opts.branches));
  const dtypes: Record<string, DType> = {};
  const kinds: Record<string, 'string' | 'jagged2'> = {};
  for (const n of names) {
    const info = infos.get(n);
    if (info) dtypes[n] = info.dtype;
    if (info?.kind === 'string' || info?.kind === 'jagged2') kinds[n] = info.kind;
  }

  // Written beside the output under a temporary name and renamed at the end: a failed conversion
  // leaves no partial file, and an existing OUT stays intact until the new one is complete.
  const tmpPath = join(dirname(outPath), `.${basename(outPath)}.${process.pid}.${Date.now().toString(36)}.partial`);
  const edges = chunkEdges(reader.boundaries(), start, stop, target);
  let chunks = 0;
  let writer: { write(c: Record<string, Column>): void; close(): Promise<void>; abort?(): void } | undefined;
  // the zstd wasm loads asynchronously, once, before anything is written (basket compression is sync)
  if (format === 'root' && opts.compression === 'zstd')
    await prepareCompression({ codec: 'zstd', level: opts.compressionLevel ?? DEFAULT_LEVEL.zstd });
  try {
    writer =
      format === 'parquet'
        ? new ParquetFileWriter(tmpPath, dtypes, kinds)
        : format === 'arrow'
          ? new ArrowFileWriter(tmpPath, dtypes, kinds)
          : rootWriter(tmpPath, outPath, reader, names, infos, opts);
    if (start === stop) writer.write(await reader.read(names, start, stop));
    for (let i = 0; i + 1 < edges.length; i++) {
      const cols = await reader.read(names, edges[i], edges[i + 1]);
      writer.write(orderColumns(cols, names));
      chunks++;
    }
    await writer.close();
    refuseSameFile(reader.path, outPath); // OUT may have been re-pointed at IN meanwhile (a symlink)
    renameSync(tmpPath, outPath);
  } catch (e) {
    writer?.abort?.(); // a ROOT file keeps its descriptor open until close
    rmSync(tmpPath, { force: true });
    throw e;
  }
  return {
    path: outPath,
    format,
    entries: stop - start,
    branches: names,
    chunks,
    ...(skipped.length ? { skipped } : {}),
    ...(unreadable.length ? { unreadable } : {}),
  };
}

/**
 * Branches the file has and the reader cannot read, in the file's order: from ROOT TTrees and RNTuples,
 * which describe their branches (shadowed duplicates and objects read through their members are not
 * counted: nothing of theirs is missing from a conversion), and from Parquet and Arrow readers, which list
 * the columns they leave out (strings, lists of lists).
 */
function unreadableBranches(reader: EventReader): string[] {
  const describe = (reader as { describe?: () => readonly BranchDescription[] }).describe;
  if (typeof describe !== 'function') return [...(reader.unreadableNames?.() ?? [])];
  const out = new Set<string>();
  for (const d of describe.call(reader))
    if (!d.info && !d.shadowed && !d.hidden && d.unsupportedKind !== 'members') out.add(d.name);
  return [...out];
}

/** A glob pattern that matches no readable branch but some unreadable ones: say so, not "matches no branch". */
function refuseOnlyUnreadable(
  requested: readonly string[],
  readable: readonly string[],
  unreadable: readonly string[],
  path: string,
): void {
  for (const r of requested) {
    if (!isBranchPattern(r) || readable.includes(r)) continue;
    const re = segmentRegExp(r);
    const hits = unreadable.filter((n) => re.test(n));
    if (hits.length && !readable.some((n) => re.test(n)))
      throw new ConvertError(
        `branch pattern '${r}' matches only branches Ristretto cannot read: ${hits.join(', ')}`,
        { file: path, pattern: r, branches: hits },
        `\`ristretto ls ${path}\` says why for each`,
      );
  }
}

/** True when `name` is part of what was asked for: every branch (no list), or a glob pattern of the list matches it. */
function matchedByRequest(name: string, requested: readonly string[] | undefined): boolean {
  if (!requested) return true;
  return requested.some((r) => isBranchPattern(r) && r !== name && segmentRegExp(r).test(name));
}

/**
 * The line `convert` prints about branches it did not write, or undefined when it wrote them all. One
 * line for both reasons, so that a conversion that looks complete never silently is not.
 *
 * @example
 * leftOutLine({ branches: ['a'], unreadable: ['map_int32_int16'] }, 'stl.root');
 * // "left out 1 branch Ristretto cannot read: map_int32_int16 (`ristretto ls stl.root` says why)"
 */
export function leftOutLine(res: Pick<ConvertResult, 'skipped' | 'unreadable'>, input: string): string | undefined {
  const plural = (n: number) => `${n} branch${n === 1 ? '' : 'es'}`;
  const parts: string[] = [];
  if (res.unreadable?.length)
    parts.push(
      `${plural(res.unreadable.length)} Ristretto cannot read: ${res.unreadable.join(', ')} (\`ristretto ls ${input}\` says why)`,
    );
  if (res.skipped?.length)
    parts.push(
      `${plural(res.skipped.length)} (lists of lists) the ROOT writer cannot hold yet: ${res.skipped.join(', ')}`,
    );
  return parts.length ? `left out ${parts.join('; and ')}` : undefined;
}

/** ROOT's defaults per codec (fCompress 101, 404, 505). */
const DEFAULT_LEVEL: Record<RootCodec, number> = { zlib: 1, lz4: 4, zstd: 5, none: 0 };

/** The TTree writer for `names`: kinds and counters from the reader's branch metadata. */
function rootWriter(
  tmpPath: string,
  outPath: string,
  reader: EventReader,
  names: readonly string[],
  infos: ReadonlyMap<string, BranchInfo>,
  opts: ConvertOptions,
): RootTreeWriter {
  const codec = opts.compression ?? 'zlib';
  if (!['zlib', 'lz4', 'zstd', 'none'].includes(codec))
    throw new ConvertError(
      `unknown ROOT compression '${codec}'`,
      { compression: codec },
      'choose zlib, lz4, zstd or none',
    );
  const level = opts.compressionLevel ?? DEFAULT_LEVEL[codec];
  if (!(Number.isInteger(level) && level >= 0 && level <= 9))
    throw new ConvertError(
      `compression level must be 0..9, got ${level}`,
      { level },
      'pass e.g. 1 (fast) to 9 (small)',
    );
  const columns = names.map((n) => {
    const info = infos.get(n);
    if (!info)
      throw new ConvertError(
        `no branch '${n}' in ${reader.path}`,
        { file: reader.path, branch: n },
        '`ristretto ls FILE` lists every branch',
      );
    return {
      name: n,
      dtype: info.dtype,
      kind: info.kind as 'flat' | 'jagged' | 'string',
      ...(info.countBranch ? { countBranch: info.countBranch } : {}),
    };
  });
  const treeName = opts.treeName ?? (reader.treeName && /\.root$/i.test(reader.path) ? reader.treeName : 'Events');
  return new RootTreeWriter(tmpPath, columns, { treeName, compression: { codec, level } }, basename(outPath));
}

/** `p` with symlinks resolved; for a file that does not exist yet, its resolved directory + name. */
function canonicalPath(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    try {
      return join(realpathSync(dirname(resolve(p))), basename(p));
    } catch {
      return resolve(p);
    }
  }
}

/** True when `a` and `b` name the same local file (any spelling, symlink or hard link). */
export function isSameFile(a: string, b: string): boolean {
  if (isUrl(a) || isUrl(b)) return a === b;
  if (canonicalPath(a) === canonicalPath(b)) return true;
  try {
    const sa = statSync(a);
    const sb = statSync(b);
    return sa.dev === sb.dev && sa.ino === sb.ino;
  } catch {
    return false;
  }
}

/** Throws ConvertError when the output would overwrite the input. */
export function refuseSameFile(input: string, output: string): void {
  if (isSameFile(input, output)) {
    throw new ConvertError(
      `the output ${output} is the input file ${input}; refusing to overwrite it`,
      { file: input, output },
      'write the conversion to another file name',
    );
  }
}

/** True when a requested branch is a glob pattern (`*`, `?` or `[...]`). */
export function isBranchPattern(name: string): boolean {
  return /[*?[]/.test(name);
}

/**
 * Replace each glob pattern in `requested` by the names it matches (in the order of `available`);
 * plain names pass through. A pattern matching nothing throws ConvertError listing close names.
 */
export function expandBranchPatterns(
  requested: readonly string[],
  available: readonly string[],
  where?: { path: string; treeName: string },
): string[] {
  const out: string[] = [];
  const exact = new Set(available);
  for (const r of requested) {
    if (!isBranchPattern(r) || exact.has(r)) {
      // ROOT names may contain brackets themselves (`ArrayI16[10]`): an exact name is taken literally.
      out.push(r);
      continue;
    }
    const re = segmentRegExp(r);
    const hits = available.filter((n) => re.test(n));
    if (hits.length === 0) {
      const ci = new RegExp(re.source, 'i');
      const caseOnly = available.filter((n) => ci.test(n));
      const near = caseOnly.length
        ? caseOnly.slice(0, 5)
        : closestNames(r.replace(/[*?]|\[[^\]]*\]/g, ''), available, 5);
      const inFile = where ? ` in tree '${where.treeName}' of ${where.path}` : '';
      throw new ConvertError(
        `branch pattern '${r}' matches no branch${inFile}; closest: ${near.join(', ') || '(none)'}`,
        { pattern: r, closest: near, ...(where ? { file: where.path, tree: where.treeName } : {}) },
        caseOnly.length
          ? 'names are case-sensitive'
          : '`ristretto ls FILE` lists every branch; * matches any run of characters, ? one character',
      );
    }
    out.push(...hits);
  }
  return out;
}

/** Requested names plus the counts branches of the jagged ones, counts placed before their collection. */
function selectBranches(requested: readonly string[], infos: ReadonlyMap<string, { countBranch?: string }>): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const add = (n: string) => {
    if (!seen.has(n)) {
      seen.add(n);
      out.push(n);
    }
  };
  for (const n of requested) {
    const count = infos.get(n)?.countBranch;
    if (count && infos.has(count)) add(count);
    add(n); // unknown names are left for the reader, which throws its typed not-found error
  }
  return out;
}

function orderColumns(cols: Record<string, Column>, names: readonly string[]): Record<string, Column> {
  const out: Record<string, Column> = {};
  for (const n of names) out[n] = cols[n];
  return out;
}

/** Parse `zlib`, `lz4:4`, `zstd:5`, `none` (the --compression option). */
export function parseCompression(text: string): { compression: RootCodec; compressionLevel?: number } {
  const m = /^\s*(zlib|lz4|zstd|none)\s*(?::\s*(\d))?\s*$/i.exec(text);
  if (!m)
    throw new ConvertError(
      `cannot parse compression "${text}"`,
      { compression: text },
      'use zlib, lz4, zstd or none, optionally with a level: zlib:6, lz4:4, zstd:5',
    );
  return { compression: m[1].toLowerCase() as RootCodec, ...(m[2] ? { compressionLevel: Number(m[2]) } : {}) };
}

/** Parse `START:STOP` (either side may be empty). */
export function parseEntryRange(text: string): { entryStart?: number; entryStop?: number } {
  const m = /^\s*(\d*)\s*:\s*(\d*)\s*$/.exec(text);
  if (!m)
    throw new ConvertError(
      `cannot parse entry range "${text}"`,
      { entries: text },
      'use START:STOP, e.g. 0:1000 or 500: (either side may be empty)',
    );
  return { ...(m[1] ? { entryStart: Number(m[1]) } : {}), ...(m[2] ? { entryStop: Number(m[2]) } : {}) };
}

/**
 * Define `convert IN OUT [--branches a,b] [--entries START:STOP] [--treename T]` on `program`.
 * `openReader` opens IN (any format the caller supports); the output format comes from OUT's extension.
 */
export function registerConvertCommand(
  program: Command,
  openReader: (path: string, opts: { treeName?: string }) => Promise<EventReader>,
): void {
  program
    .command('convert')
    .description(
      'convert events to Parquet, Arrow IPC or a ROOT TTree (format from the OUT extension: .parquet, .arrow, .feather, .root)',
    )
    .argument('<in>', 'input file or URL (http(s):// or root://)')
    .argument('<out>', 'output file (.parquet, .arrow, .feather or .root)')
    .option(
      '--branches <list>',
      "comma-separated branches or glob patterns to write, e.g. 'Muon_*,MET_pt,HLT_IsoMu2?' (default: all; counts of jagged branches are added)",
    )
    .option('--entries <START:STOP>', 'entry range to write, e.g. 0:1000')
    .option('--treename <name>', "tree inside a ROOT file (default: Events, or the file's only tree)")
    .option(
      '--compression <codec[:level]>',
      'ROOT output: basket compression zlib, lz4, zstd or none, optionally with a level 1-9 (default zlib:1; lz4:4, zstd:5 as in ROOT)',
    )
    .action(
      async (
        input: string,
        output: string,
        o: { branches?: string; entries?: string; treename?: string; compression?: string },
      ) => {
        refuseSameFile(input, output); // before opening anything
        assertOutputFile(output, 'output');
        if (!formatOfPath(output)) {
          throw new ConvertError(
            `cannot tell the output format of ${output}`,
            { file: output },
            'name the output *.parquet, *.arrow, *.feather or *.root',
          );
        }
        const comp = o.compression ? parseCompression(o.compression) : {};
        if (o.compression && formatOfPath(output) !== 'root')
          throw new ConvertError(
            '--compression applies to ROOT output only',
            { compression: o.compression },
            'name the output *.root or leave --compression out',
          );
        const range = o.entries ? parseEntryRange(o.entries) : {};
        const branches = o.branches
          ?.split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        const reader = await openReader(input, o.treename ? { treeName: o.treename } : {});
        try {
          const t0 = performance.now();
          const res = await convert(reader, output, { ...range, ...comp, ...(branches ? { branches } : {}) });
          const s = (performance.now() - t0) / 1000;
          process.stdout.write(
            `wrote ${res.entries} entries × ${res.branches.length} branches to ${res.path} (${res.format}, ${res.chunks} chunk${res.chunks === 1 ? '' : 's'}) in ${s.toFixed(2)} s\n`,
          );
          const leftOut = leftOutLine(res, input);
          if (leftOut) process.stdout.write(`${leftOut}\n`);
        } finally {
          await reader.close();
        }
      },
    );
}
