/**
 * Axis <-> UHI axis dictionary. The same dictionaries describe axes in the binary header, so both
 * serializations agree. Conventions follow boost-histogram's writer so Python reads them back as the
 * same axes: Integer is a `regular` axis tagged `orig_type: Integer`, a log Regular axis is a
 * `variable` axis tagged with its transform, growth is a writer_info flag, and `name`/`label` are
 * axis metadata (as the `hist` package keeps them).
 */
import {
  BooleanAxis,
  IntCategory,
  Integer,
  Regular,
  StrCategory,
  Variable,
  type Axis,
  type AxisOptions,
  type Metadata,
} from './axes.ts';
import { HistFormatError, UnsupportedHistError } from './errors.ts';

/** Scalar metadata values as UHI allows them. */
export type UHIMetadata = Record<string, string | number | boolean>;
/** Per-library writer information. */
export type UHIWriterInfo = Record<string, UHIMetadata>;

interface UHIAxisCommon {
  metadata?: UHIMetadata;
  writer_info?: UHIWriterInfo;
}

/** One axis of a UHI histogram. */
export type UHIAxis =
  | (UHIAxisCommon & {
      type: 'regular';
      lower: number;
      upper: number;
      bins: number;
      underflow: boolean;
      overflow: boolean;
      circular: boolean;
    })
  | (UHIAxisCommon & {
      type: 'variable';
      edges: number[] | string;
      underflow: boolean;
      overflow: boolean;
      circular: boolean;
    })
  | (UHIAxisCommon & { type: 'category_str'; categories: string[]; flow: boolean })
  | (UHIAxisCommon & { type: 'category_int'; categories: number[]; flow: boolean })
  | (UHIAxisCommon & { type: 'boolean' });

const BH = 'boost-histogram';

function axisMetadata(a: Axis): UHIMetadata | undefined {
  const m: UHIMetadata = { ...a.metadata };
  if (a.name) m['name'] = a.name;
  if (a.label) m['label'] = a.label;
  return Object.keys(m).length ? m : undefined;
}

function withCommon<T extends object>(d: T, a: Axis, bh: UHIMetadata): T & UHIAxisCommon {
  const out: T & UHIAxisCommon = { ...d };
  if (Object.keys(bh).length) out.writer_info = { [BH]: bh };
  const m = axisMetadata(a);
  if (m) out.metadata = m;
  return out;
}

/** The UHI `regular` dictionary of an axis with uniform bins (Regular without transform, Integer). */
function regularUHI(a: Axis & { lower: number; upper: number }, bh: UHIMetadata): UHIAxis {
  const d = { type: 'regular' as const, lower: a.lower, upper: a.upper, bins: a.size };
  return withCommon({ ...d, underflow: a.underflow, overflow: a.overflow, circular: false }, a, bh);
}

/** The UHI `variable` dictionary of an axis with these edges (a log-transformed Regular keeps its spec in `bh`). */
function variableUHI(a: Axis, edges: ArrayLike<number>, bh: UHIMetadata): UHIAxis {
  const d = { type: 'variable' as const, edges: Array.from(edges) };
  return withCommon({ ...d, underflow: a.underflow, overflow: a.overflow, circular: false }, a, bh);
}

/** The UHI dictionary of an axis. */
export function axisToUHI(a: Axis): UHIAxis {
  switch (a.kind) {
    case 'regular':
      if (a.transform === 'log')
        return variableUHI(a, a.edges, { transform: 'log', bins: a.size, lower: a.lower, upper: a.upper });
      return regularUHI(a, {});
    case 'integer':
      return regularUHI(a, { orig_type: 'Integer' });
    case 'variable':
      return variableUHI(a, a.edges, {});
    case 'int_category':
      return withCommon(
        { type: 'category_int' as const, categories: [...a.categories], flow: a.overflow },
        a,
        a.growth ? { growth: true } : {},
      );
    case 'str_category':
      return withCommon(
        { type: 'category_str' as const, categories: [...a.categories], flow: a.overflow },
        a,
        a.growth ? { growth: true } : {},
      );
    case 'boolean':
      return withCommon({ type: 'boolean' as const }, a, {});
  }
}

function optionsFrom(d: UHIAxisCommon): AxisOptions {
  const meta: Metadata = { ...(d.metadata ?? {}) };
  const name = typeof meta['name'] === 'string' ? meta['name'] : '';
  const label = typeof meta['label'] === 'string' ? meta['label'] : '';
  delete meta['name'];
  delete meta['label'];
  return { name, label, metadata: meta };
}

function need<T>(d: Record<string, unknown>, key: string, check: (v: unknown) => boolean, where: string): T {
  const v = d[key];
  if (!check(v))
    throw new HistFormatError(`${where}: field '${key}' is missing or has the wrong type (${JSON.stringify(v)})`, {
      field: key,
    });
  return v as T;
}

const isNum = (v: unknown): boolean => typeof v === 'number';
const isBool = (v: unknown): boolean => typeof v === 'boolean';

/** Rebuild an axis from its UHI dictionary; `where` prefixes error messages (e.g. "axis 1"). */
export function axisFromUHI(raw: unknown, where = 'axis'): Axis {
  if (typeof raw !== 'object' || raw === null) throw new HistFormatError(`${where} is not an object`, {});
  const d = raw as Record<string, unknown> & UHIAxisCommon;
  const bh = (d.writer_info?.[BH] ?? {}) as UHIMetadata;
  const opts = optionsFrom(d);
  const growth = bh['growth'] === true;
  switch (d['type']) {
    case 'regular': {
      if (d['circular'] === true)
        throw new UnsupportedHistError(
          `${where}: circular axes are not supported`,
          { where },
          'convert it to a non-circular axis before export',
        );
      const lower = need<number>(d, 'lower', isNum, where);
      const upper = need<number>(d, 'upper', isNum, where);
      const bins = need<number>(d, 'bins', isNum, where);
      const flow = {
        underflow: need<boolean>(d, 'underflow', isBool, where),
        overflow: need<boolean>(d, 'overflow', isBool, where),
      };
      if (bh['orig_type'] === 'Integer') return new Integer(lower, upper, { ...opts, ...flow });
      return new Regular(bins, lower, upper, { ...opts, ...flow });
    }
    case 'variable': {
      if (d['circular'] === true)
        throw new UnsupportedHistError(
          `${where}: circular axes are not supported`,
          { where },
          'convert it to a non-circular axis before export',
        );
      const flow = {
        underflow: need<boolean>(d, 'underflow', isBool, where),
        overflow: need<boolean>(d, 'overflow', isBool, where),
      };
      if (
        bh['transform'] === 'log' &&
        typeof bh['bins'] === 'number' &&
        typeof bh['lower'] === 'number' &&
        typeof bh['upper'] === 'number'
      )
        return new Regular(bh['bins'], bh['lower'], bh['upper'], { ...opts, ...flow, transform: 'log' });
      const edges = d['edges'];
      if (!Array.isArray(edges))
        throw new UnsupportedHistError(
          `${where}: edges given as a path (${JSON.stringify(edges)}) are not supported`,
          { where },
          'inline the edges as a number array',
        );
      return new Variable(edges as number[], { ...opts, ...flow });
    }
    case 'category_int':
      return new IntCategory(need<number[]>(d, 'categories', Array.isArray, where), {
        ...opts,
        growth,
        overflow: need<boolean>(d, 'flow', isBool, where),
      });
    case 'category_str':
      return new StrCategory(need<string[]>(d, 'categories', Array.isArray, where), {
        ...opts,
        growth,
        overflow: need<boolean>(d, 'flow', isBool, where),
      });
    case 'boolean':
      return new BooleanAxis(opts);
    default:
      throw new HistFormatError(
        `${where}: unknown axis type ${JSON.stringify(d['type'])}`,
        { type: d['type'] },
        'expected one of regular, variable, category_int, category_str, boolean',
      );
  }
}
