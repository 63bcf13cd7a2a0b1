/**
 * RFC 6902 JSON Patch (add, remove, replace, test, move, copy) with RFC 6901 JSON Pointers.
 *
 * A small own implementation so the package needs no new dependency; a failing operation throws a
 * {@link PatchError} naming the operation's index and path. The input document is never modified.
 */
import { PatchError, type PatchOrigin } from './errors.ts';

/** A step of an operation failed; `applyPatch` re-throws it naming the patch, operation and path. */
const fail = (reason: string): PatchError => new PatchError(reason, '', -1);
import type { JsonPatchOp } from './spec.ts';

type Json = unknown;
type Container = Record<string, Json> | Json[];

/**
 * Splits a JSON pointer into unescaped reference tokens (`~1` → `/`, `~0` → `~`).
 *
 * @throws PatchError when `pointer` is neither empty nor starts with `/`.
 */
export function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw fail(`JSON pointer must start with "/": ${JSON.stringify(pointer)}`);
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function isContainer(v: Json): v is Container {
  return typeof v === 'object' && v !== null;
}

function arrayIndex(arr: Json[], token: string, forInsert: boolean): number {
  if (forInsert && token === '-') return arr.length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw fail(`"${token}" is not an array index`);
  const i = Number(token);
  const max = forInsert ? arr.length : arr.length - 1;
  if (i > max) throw fail(`index ${i} is out of range (array has ${arr.length} items)`);
  return i;
}

/** Parent container and last token of `pointer`; throws if a step along the way does not exist. */
function locate(doc: Json, tokens: string[]): { parent: Container; key: string } {
  let node = doc;
  for (let i = 0; i < tokens.length - 1; i++) {
    const t = tokens[i];
    if (!isContainer(node)) throw fail(`"${tokens.slice(0, i).join('/')}" is not an object or array`);
    if (Array.isArray(node)) node = node[arrayIndex(node, t, false)];
    else if (Object.hasOwn(node, t)) node = node[t];
    else throw fail(`no member "${t}" at /${tokens.slice(0, i).join('/')}`);
  }
  if (!isContainer(node)) throw fail('parent is not an object or array');
  return { parent: node, key: tokens[tokens.length - 1] };
}

function getAt(doc: Json, tokens: string[]): Json {
  if (tokens.length === 0) return doc;
  const { parent, key } = locate(doc, tokens);
  if (Array.isArray(parent)) return parent[arrayIndex(parent, key, false)];
  if (!Object.hasOwn(parent, key)) throw fail(`no member "${key}"`);
  return parent[key];
}

function deepEqual(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (!isContainer(a) || !isContainer(b) || Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as Json[];
    return a.length === bb.length && a.every((v, i) => deepEqual(v, bb[i]));
  }
  const ka = Object.keys(a);
  const bo = b as Record<string, Json>;
  return ka.length === Object.keys(bo).length && ka.every((k) => Object.hasOwn(bo, k) && deepEqual(a[k], bo[k]));
}

function add(doc: Json, tokens: string[], value: Json): Json {
  if (tokens.length === 0) return value;
  const { parent, key } = locate(doc, tokens);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, true), 0, value);
  else parent[key] = value;
  return doc;
}

function remove(doc: Json, tokens: string[]): Json {
  if (tokens.length === 0) throw fail('cannot remove the whole document');
  const { parent, key } = locate(doc, tokens);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, false), 1);
  else if (Object.hasOwn(parent, key)) delete parent[key];
  else throw fail(`no member "${key}" to remove`);
  return doc;
}

/**
 * Applies `patch` to a copy of `doc` and returns the copy.
 *
 * @param origin named in errors: the patch's name, or its name, file and pointer in that file.
 * @example
 * ```ts
 * import { applyPatch } from 'ristretto/fit';
 * applyPatch({ a: [1, 2] }, [{ op: 'add', path: '/a/-', value: 3 }]); // { a: [1, 2, 3] }
 * ```
 */
export function applyPatch<T>(doc: T, patch: readonly JsonPatchOp[], origin?: string | PatchOrigin): T {
  // A patch file holding one object (not a list) would otherwise fail with "patch.forEach is not a function".
  if (!Array.isArray(patch))
    throw new PatchError(
      `not a JSON Patch: expected an array of operations, got ${patch === null ? 'null' : typeof patch}`,
      '',
      -1,
      origin,
    );
  let out: Json = structuredClone(doc);
  patch.forEach((op, i) => {
    const path = typeof op?.path === 'string' ? op.path : '';
    try {
      const tokens = parsePointer(path);
      switch (op.op) {
        case 'add':
          out = add(out, tokens, structuredClone(op.value));
          break;
        case 'remove':
          out = remove(out, tokens);
          break;
        case 'replace':
          getAt(out, tokens);
          out =
            tokens.length === 0
              ? structuredClone(op.value)
              : add(remove(out, tokens), tokens, structuredClone(op.value));
          break;
        case 'test':
          if (!deepEqual(getAt(out, tokens), op.value))
            throw fail(`test failed: value is not ${JSON.stringify(op.value)}`);
          break;
        case 'move': {
          const from = parsePointer(op.from);
          if (path.startsWith(op.from + '/')) throw fail(`cannot move ${op.from} into its own child`);
          const v = getAt(out, from);
          out = add(remove(out, from), tokens, v);
          break;
        }
        case 'copy':
          out = add(out, tokens, structuredClone(getAt(out, parsePointer(op.from))));
          break;
        default:
          throw fail(`unknown operation ${JSON.stringify((op as { op?: unknown }).op)}`);
      }
    } catch (e) {
      if (e instanceof PatchError && e.opIndex >= 0) throw e;
      // A failed step, or structuredClone refusing a value that is not JSON.
      throw new PatchError(e instanceof PatchError ? e.reason : (e as Error).message, path, i, origin);
    }
  });
  return out as T;
}
