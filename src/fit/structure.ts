/**
 * Ristretto's own structural checks of pyhf JSON (workspace, JSON Patch, patch set), written from the
 * pyhf 1.0.0 format: what pyhf's JSON schemas reject, these reject too, with a one-line
 * {@link WorkspaceError} naming the JSON path. They always run, so an installed copy (which has no
 * schema files) is as safe as the repository; pyhf's schemas, when found (RISTRETTO_PYHF_SCHEMAS),
 * are checked after them.
 */
import { WorkspaceError } from './errors.ts';

type Doc = Record<string, unknown>;

class Checker {
  constructor(
    private readonly what: string,
    private readonly source: string | undefined,
  ) {}

  fail(path: string, msg: string): never {
    throw new WorkspaceError(`not a valid pyhf ${this.what} (1.0.0): ${msg}`, path || '/', this.source);
  }

  object(v: unknown, path: string, required: readonly string[] = []): Doc {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(path, `expected an object, got ${kind(v)}`);
    for (const k of required) if (!Object.hasOwn(v, k)) this.fail(path, `missing property "${k}"`);
    return v as Doc;
  }

  array(v: unknown, path: string, minItems = 0): unknown[] {
    if (!Array.isArray(v)) this.fail(path, `expected an array, got ${kind(v)}`);
    if (v.length < minItems) this.fail(path, `expected at least ${minItems} item${minItems > 1 ? 's' : ''}, got none`);
    return v;
  }

  string(v: unknown, path: string): string {
    if (typeof v !== 'string') this.fail(path, `expected a string, got ${kind(v)}`);
    return v;
  }

  number(v: unknown, path: string): number {
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(path, `expected a number, got ${kind(v)}`);
    return v;
  }

  numbers(v: unknown, path: string, minItems = 1): void {
    this.array(v, path, minItems).forEach((x, i) => this.number(x, `${path}/${i}`));
  }
}

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 20 ? `${v.slice(0, 20)}…` : v)}`;
  if (typeof v === 'object') return 'an object';
  return typeof v === 'number' ? `the number ${v}` : `a ${typeof v}`;
}

const MODIFIER_TYPES = ['histosys', 'lumi', 'normfactor', 'normsys', 'shapefactor', 'shapesys', 'staterror'];

function checkModifier(c: Checker, m: unknown, p: string): void {
  const o = c.object(m, p, ['name', 'type', 'data']);
  c.string(o.name, `${p}/name`);
  const type = o.type;
  if (typeof type !== 'string' || !MODIFIER_TYPES.includes(type))
    c.fail(`${p}/type`, `unknown modifier type ${JSON.stringify(type)} (pyhf knows ${MODIFIER_TYPES.join(', ')})`);
  const d = o.data;
  const dp = `${p}/data`;
  switch (type) {
    case 'normfactor':
    case 'lumi':
    case 'shapefactor':
      if (d !== null) c.fail(dp, `a ${type} modifier has data null, got ${kind(d)}`);
      break;
    case 'normsys': {
      const n = c.object(d, dp, ['hi', 'lo']);
      c.number(n.hi, `${dp}/hi`);
      c.number(n.lo, `${dp}/lo`);
      break;
    }
    case 'histosys': {
      const h = c.object(d, dp, ['hi_data', 'lo_data']);
      c.numbers(h.hi_data, `${dp}/hi_data`);
      c.numbers(h.lo_data, `${dp}/lo_data`);
      break;
    }
    default:
      c.numbers(d, dp);
  }
}

/**
 * Checks the shape of a pyhf workspace: channels of named samples with numeric data and modifiers of
 * known types with data of their type, observations, measurements with a POI, the version.
 *
 * @example
 * ```ts
 * import { checkWorkspaceStructure } from 'ristretto/fit';
 * checkWorkspaceStructure({ channels: [] }, 'ws.json'); // throws: ws.json: at /channels: not a valid pyhf workspace (1.0.0): expected at least 1 item, got none
 * ```
 */
export function checkWorkspaceStructure(doc: unknown, source?: string): void {
  const c = new Checker('workspace', source);
  const ws = c.object(doc, '', ['channels', 'measurements', 'observations', 'version']);
  c.array(ws.channels, '/channels', 1).forEach((ch, i) => {
    const p = `/channels/${i}`;
    const o = c.object(ch, p, ['name', 'samples']);
    c.string(o.name, `${p}/name`);
    c.array(o.samples, `${p}/samples`, 1).forEach((s, j) => {
      const sp = `${p}/samples/${j}`;
      const so = c.object(s, sp, ['name', 'data', 'modifiers']);
      c.string(so.name, `${sp}/name`);
      c.numbers(so.data, `${sp}/data`);
      c.array(so.modifiers, `${sp}/modifiers`).forEach((m, k) => checkModifier(c, m, `${sp}/modifiers/${k}`));
    });
  });
  c.array(ws.observations, '/observations', 1).forEach((ob, i) => {
    const o = c.object(ob, `/observations/${i}`, ['name', 'data']);
    c.string(o.name, `/observations/${i}/name`);
    c.numbers(o.data, `/observations/${i}/data`);
  });
  c.array(ws.measurements, '/measurements', 1).forEach((m, i) => {
    const p = `/measurements/${i}`;
    const o = c.object(m, p, ['name', 'config']);
    c.string(o.name, `${p}/name`);
    const cfg = c.object(o.config, `${p}/config`, ['poi', 'parameters']);
    c.string(cfg.poi, `${p}/config/poi`);
    c.array(cfg.parameters, `${p}/config/parameters`).forEach((par, k) => {
      const pp = `${p}/config/parameters/${k}`;
      const po = c.object(par, pp, ['name']);
      c.string(po.name, `${pp}/name`);
      for (const f of ['inits', 'auxdata', 'sigmas', 'factors'])
        if (po[f] !== undefined) c.numbers(po[f], `${pp}/${f}`);
      if (po.fixed !== undefined && typeof po.fixed !== 'boolean')
        c.fail(`${pp}/fixed`, `expected true or false, got ${kind(po.fixed)}`);
      if (po.bounds !== undefined)
        c.array(po.bounds, `${pp}/bounds`, 1).forEach((b, q) => {
          const bp = `${pp}/bounds/${q}`;
          if (c.array(b, bp).length !== 2) c.fail(bp, 'a bound is [lower, upper]');
          c.numbers(b, bp, 2);
        });
    });
  });
  if (ws.version !== '1.0.0') c.fail('/version', `expected "1.0.0", got ${kind(ws.version)}`);
}

const OPS = ['add', 'remove', 'replace', 'move', 'copy', 'test'];

/**
 * Checks the shape of a JSON Patch (RFC 6902, as pyhf's jsonpatch schema): a list of operations, each
 * with a known `op`, a string `path`, `value` where the op needs one and `from` for move and copy.
 *
 * @example
 * ```ts
 * import { checkJsonPatchStructure } from 'ristretto/fit';
 * checkJsonPatchStructure({ op: 'add' }, 'patch.json'); // throws: patch.json: at /: not a valid pyhf JSON Patch (1.0.0): expected an array, got an object
 * ```
 */
export function checkJsonPatchStructure(doc: unknown, source?: string, pointer = ''): void {
  const c = new Checker('JSON Patch', source);
  c.array(doc, pointer).forEach((op, i) => {
    const p = `${pointer}/${i}`;
    const o = c.object(op, p, ['op', 'path']);
    if (typeof o.op !== 'string' || !OPS.includes(o.op))
      c.fail(`${p}/op`, `unknown op ${JSON.stringify(o.op)} (one of ${OPS.join(', ')})`);
    c.string(o.path, `${p}/path`);
    if ((o.op === 'add' || o.op === 'replace' || o.op === 'test') && !Object.hasOwn(o, 'value'))
      c.fail(p, `missing property "value" (needed by "${o.op}")`);
    if (o.op === 'move' || o.op === 'copy') c.string(o.from, `${p}/from`);
  });
}

/**
 * Checks the shape of a pyhf patch set: metadata (digests, labels, description), and patches each with
 * metadata (name, one value per label) and a JSON Patch, and the version.
 *
 * @example
 * ```ts
 * import { checkPatchSetStructure } from 'ristretto/fit';
 * checkPatchSetStructure({ metadata: {}, patches: [], version: '1.0.0' }, 'set.json'); // throws: … missing property "digests"
 * ```
 */
export function checkPatchSetStructure(doc: unknown, source?: string): void {
  const c = new Checker('patch set', source);
  const ps = c.object(doc, '', ['metadata', 'patches', 'version']);
  const md = c.object(ps.metadata, '/metadata', ['digests', 'labels', 'description']);
  c.object(md.digests, '/metadata/digests');
  const labels = c.array(md.labels, '/metadata/labels', 1);
  labels.forEach((l, i) => c.string(l, `/metadata/labels/${i}`));
  c.string(md.description, '/metadata/description');
  c.array(ps.patches, '/patches', 1).forEach((pt, i) => {
    const p = `/patches/${i}`;
    const o = c.object(pt, p, ['metadata', 'patch']);
    const m = c.object(o.metadata, `${p}/metadata`, ['name', 'values']);
    c.string(m.name, `${p}/metadata/name`);
    const values = c.array(m.values, `${p}/metadata/values`, 1);
    values.forEach((v, k) => {
      if (typeof v !== 'number' && typeof v !== 'string')
        c.fail(`${p}/metadata/values/${k}`, `expected a number or string, got ${kind(v)}`);
    });
    if (values.length !== labels.length)
      c.fail(`${p}/metadata/values`, `${values.length} values, but metadata.labels has ${labels.length}`);
    checkJsonPatchStructure(o.patch, source, `${p}/patch`);
  });
  if (ps.version !== '1.0.0') c.fail('/version', `expected "1.0.0", got ${kind(ps.version)}`);
}
