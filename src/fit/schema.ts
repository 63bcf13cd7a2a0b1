/**
 * Validation of pyhf JSON (version 1.0.0) against pyhf's own JSON schemas, read in place with ajv.
 *
 * The schemas are looked up in `RISTRETTO_PYHF_SCHEMAS`, else in `../shared/fit/pyhf-schemas-1.0.0`
 * beside the repository. Errors name the JSON path of the offending value.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { WorkspaceError } from './errors.ts';

/** The pyhf schema documents that can be validated against. */
export type PyhfSchemaName = 'workspace' | 'patchset' | 'jsonpatch' | 'measurement' | 'model';

const BASE_ID = 'https://scikit-hep.org/pyhf/schemas/1.0.0/';

/** Directory holding pyhf's 1.0.0 schemas, or undefined when none is found. */
export function findSchemaDir(explicit?: string): string | undefined {
  const candidates = [
    explicit,
    process.env.RISTRETTO_PYHF_SCHEMAS,
    resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared', 'fit', 'pyhf-schemas-1.0.0'),
  ];
  for (const c of candidates) if (c && existsSync(join(c, 'defs.json'))) return c;
  return undefined;
}

const cache = new Map<string, Map<PyhfSchemaName, ValidateFunction>>();

function compiled(dir: string, name: PyhfSchemaName): ValidateFunction {
  let byName = cache.get(dir);
  if (!byName) {
    const ajv = new Ajv({ allErrors: false, strict: false });
    const require = createRequire(import.meta.url);
    ajv.addMetaSchema(require('ajv/dist/refs/json-schema-draft-06.json'));
    for (const f of readdirSync(dir)) {
      if (!f.endsWith('.json')) continue;
      const doc = JSON.parse(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown>;
      ajv.addSchema(doc, typeof doc.$id === 'string' ? doc.$id : BASE_ID + f);
    }
    byName = new Map();
    for (const n of ['workspace', 'patchset', 'jsonpatch', 'measurement', 'model'] as const) {
      const v = ajv.getSchema(`${BASE_ID}${n}.json`);
      if (v) byName.set(n, v);
    }
    cache.set(dir, byName);
    const mods = new Map<string, ValidateFunction>();
    for (const t of MODIFIER_TYPES) {
      const v = ajv.getSchema(`${BASE_ID}defs.json#/definitions/modifier/${t}`);
      if (v) mods.set(t, v);
    }
    modifierValidators.set(dir, mods);
  }
  const v = byName.get(name);
  if (!v) throw new WorkspaceError(`schema ${name}.json not found in ${dir}`, '');
  return v;
}

const MODIFIER_TYPES = ['histosys', 'lumi', 'normfactor', 'normsys', 'shapefactor', 'shapesys', 'staterror'];

/** A modifier fails the anyOf over all types: say which type it claims and what is wrong for that type. */
function modifierError(dir: string, doc: unknown, path: string, source?: string): void {
  let node: unknown = doc;
  for (const part of path.split('/').slice(1)) node = (node as Record<string, unknown> | undefined)?.[part];
  const type = (node as { type?: unknown } | undefined)?.type;
  if (typeof type !== 'string' || !MODIFIER_TYPES.includes(type)) {
    throw new WorkspaceError(
      `unknown modifier type ${JSON.stringify(type)} (pyhf 1.0.0 knows ${MODIFIER_TYPES.join(', ')})`,
      `${path}/type`,
      source,
    );
  }
  compiled(dir, 'workspace');
  const v = modifierValidators.get(dir)?.get(type);
  if (v && !v(node)) {
    const err = pickError(v.errors ?? []);
    throw new WorkspaceError(`not a valid ${type} modifier: ${describe(err)}`, path + err.instancePath, source);
  }
}

const modifierValidators = new Map<string, Map<string, ValidateFunction>>();

/** The most telling error: the deepest path, and not the summary of an anyOf. */
function pickError(errors: ErrorObject[]): ErrorObject {
  const specific = errors.filter((e) => e.keyword !== 'anyOf' && e.keyword !== 'oneOf');
  const pool = specific.length > 0 ? specific : errors;
  return pool.reduce((a, b) => (b.instancePath.length > a.instancePath.length ? b : a));
}

function describe(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  if (e.keyword === 'additionalProperties') return `unexpected property "${String(p.additionalProperty)}"`;
  if (e.keyword === 'required') return `missing property "${String(p.missingProperty)}"`;
  if (e.keyword === 'const') return `must be ${JSON.stringify(p.allowedValue)}`;
  return e.message ?? e.keyword;
}

/**
 * Checks `doc` against one of pyhf's schemas and throws a {@link WorkspaceError} naming the JSON path
 * of the first problem. Returns false (and checks nothing) when no schema directory is available.
 *
 * @example
 * ```ts
 * import { validateAgainstSchema } from 'ristretto/fit';
 * try {
 *   validateAgainstSchema({ channels: [] }, 'workspace');
 * } catch (e) {
 *   console.log((e as Error).message); // at /: not a valid pyhf workspace (1.0.0): missing property "measurements"
 * }
 * ```
 */
export function validateAgainstSchema(
  doc: unknown,
  name: PyhfSchemaName,
  opts: { schemaDir?: string; source?: string } = {},
): boolean {
  const dir = findSchemaDir(opts.schemaDir);
  if (!dir) return false;
  const validate = compiled(dir, name);
  if (validate(doc)) return true;
  const err = pickError(validate.errors ?? []);
  const mod = /^(\/channels\/\d+\/samples\/\d+\/modifiers\/\d+)(\/|$)/.exec(err.instancePath);
  if (mod && (name === 'workspace' || name === 'model')) modifierError(dir, doc, mod[1], opts.source);
  throw new WorkspaceError(`not a valid pyhf ${name} (1.0.0): ${describe(err)}`, err.instancePath || '/', opts.source);
}
