// @ts-check
/**
 * Lint: package.json lists what the code uses, in the right list. An installed Ristretto gets only
 * `dependencies`, so
 *   - a package the shipped files (package.json `files`) import must be in dependencies (or
 *     optionalDependencies): otherwise it works here and fails on a user's install;
 *   - a dependency only tests, benches or scripts use belongs in devDependencies (users would install
 *     it for nothing), and one nothing uses goes;
 *   - a devDependency nothing mentions goes (configs and package.json scripts count: `biome`, `typedoc`).
 * A package counts as used by a file when the file has a string literal naming it or a path inside it
 * (`'hyparquet'`, `'hyparquet/src/thrift.js'`): imports, `require`, and names passed to a loader alike.
 * `@types/x` is used when `x` is (`@types/node` when anything is). The generated vendor/ bundle ships
 * too: what it imports counts as used (found by a plain text search; it also names optional packages
 * it never needs, so it is not checked the other way). Parses each file on its own.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import ts from 'typescript';
import { sources } from './shared.mjs';

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const deps = Object.keys(pkg.dependencies ?? {});
const optional = Object.keys(pkg.optionalDependencies ?? {});
const dev = Object.keys(pkg.devDependencies ?? {});
const known = new Set([...deps, ...optional, ...dev, ...Object.keys(pkg.peerDependencies ?? {})]);
const builtins = new Set(builtinModules);
const slash = (/** @type {string} */ p) => p.split('\\').join('/');

/** Files of the given roots (folders or files) that exist; vendor/ is generated, not written. */
function files(/** @type {string[]} */ roots) {
  /** @type {string[]} */
  const out = [];
  for (const r of roots.filter((x) => existsSync(x) && !/^vendor(\/|$)/.test(x)))
    if (statSync(r).isDirectory()) out.push(...sources(r));
    else if (/\.(ts|mts|js|mjs|cjs)$/.test(r)) out.push(r);
  return out.map(slash);
}

/** The package a module specifier names (`@a/b/c` → `@a/b`, `x/y` → `x`), or undefined for a path or builtin. */
function packageOf(/** @type {string} */ spec) {
  if (/^[./#]/.test(spec) || spec.startsWith('node:') || builtins.has(spec.split('/')[0] ?? '')) return undefined;
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** String literals of a file, and the package names its import specifiers name. */
function scan(/** @type {string} */ file) {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  /** @type {Set<string>} */
  const literals = new Set();
  /** @type {Map<string, number>} package → line of its first import */
  const imports = new Map();
  const visit = (/** @type {ts.Node} */ node) => {
    if (ts.isStringLiteralLike(node)) {
      literals.add(node.text);
      const p = node.parent;
      const isSpec =
        ((ts.isImportDeclaration(p) || ts.isExportDeclaration(p)) && p.moduleSpecifier === node) ||
        (ts.isCallExpression(p) && p.expression.kind === ts.SyntaxKind.ImportKeyword) ||
        (ts.isExternalModuleReference(p) && p.expression === node);
      const name = isSpec ? packageOf(node.text) : undefined;
      if (name && !imports.has(name)) imports.set(name, sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return { literals, imports };
}

const names = (/** @type {Set<string>} */ literals) => {
  /** @type {Set<string>} */
  const out = new Set();
  for (const l of literals) {
    const p = packageOf(l);
    if (p && known.has(p)) out.add(p);
  }
  return out;
};

const shippedFiles = files(pkg.files ?? []);
const shipped = new Set(shippedFiles);
const otherFiles = files(['src', 'executors', 'bin', 'test', 'bench', 'scripts', 'processors', 'samples', 'templates'])
  .concat(files(['vitest.config.ts']))
  .filter((f) => !shipped.has(f));

const problems = [];
/** @type {Set<string>} */
const usedShipped = new Set();
/** @type {Set<string>} */
const usedElsewhere = new Set();
for (const f of shippedFiles) {
  const { literals, imports } = scan(f);
  for (const n of names(literals)) usedShipped.add(n);
  for (const [name, line] of imports)
    if (name !== pkg.name && !deps.includes(name) && !optional.includes(name))
      problems.push(
        `${f}:${line}: imports ${name}, which is ${dev.includes(name) ? 'only a devDependency' : 'not in package.json'}: add it to dependencies (an installed Ristretto gets only those)`,
      );
}
for (const f of otherFiles) for (const n of names(scan(f).literals)) usedElsewhere.add(n);
if (existsSync('vendor'))
  for (const f of sources('vendor'))
    for (const m of readFileSync(f, 'utf8').matchAll(/(?:\bfrom|\bimport)\s*\(?\s*["']([^"'./#][^"']*)["']/g)) {
      const p = packageOf(m[1] ?? '');
      if (p && known.has(p)) usedShipped.add(p);
    }
// Configs and scripts name tools by their command or package name.
const configs = ['biome.jsonc', 'tsconfig.json', 'typedoc.json', '.npmrc']
  .filter((f) => existsSync(f))
  .map((f) => readFileSync(f, 'utf8'))
  .concat(Object.values(pkg.scripts ?? {}), JSON.stringify(pkg.overrides ?? {}));
const binsOf = (/** @type {string} */ name) => {
  const p = join('node_modules', name, 'package.json');
  if (!existsSync(p)) return [];
  const b = JSON.parse(readFileSync(p, 'utf8')).bin;
  return typeof b === 'string' ? [name.split('/').pop()] : Object.keys(b ?? {});
};
const inConfigs = (/** @type {string} */ name) =>
  [name, ...binsOf(name)].some((n) =>
    configs.some((c) => new RegExp(`(^|[^\\w@/-])${n}([^\\w-]|$)`).test(c) || c.includes(name)),
  );

const isUsed = (/** @type {string} */ name, /** @type {Set<string>} */ where) => {
  if (name.startsWith('@types/')) {
    const target = name.slice('@types/'.length);
    return target === 'node' || where.has(target) || usedShipped.has(target) || usedElsewhere.has(target);
  }
  return where.has(name);
};
for (const name of [...deps, ...optional]) {
  if (isUsed(name, usedShipped)) continue;
  if (isUsed(name, usedElsewhere) || inConfigs(name))
    problems.push(`package.json: ${name} is used only by tests, benches or scripts: move it to devDependencies`);
  else problems.push(`package.json: nothing uses the dependency ${name}: remove it`);
}
for (const name of dev)
  if (!isUsed(name, usedShipped) && !isUsed(name, usedElsewhere) && !inConfigs(name))
    problems.push(`package.json: nothing uses the devDependency ${name}: remove it`);

if (problems.length) {
  console.error(`dependencies: ${problems.length} problem(s)\n${problems.join('\n')}`);
  process.exitCode = 1;
}
