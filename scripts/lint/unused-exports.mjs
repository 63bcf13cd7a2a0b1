/**
 * Report (not a gate): exports of src/ and executors/ that nothing outside their own file uses, found with the
 * type checker over everything tsconfig.json includes (tests and benches count as users). Exports reachable from
 * a package.json entry point (`export *` included) are public API and never listed. Two kinds:
 *   unused      nothing uses it at all: dead code, remove it (or say why it stays);
 *   file-local  used only inside its file: the `export` keyword can go, unless it is the type of an exported
 *               function's parameter or result (an options interface), which callers need to name.
 * Blind spots: JavaScript outside the program (bin/, the .mjs build code behind a .d.mts), names looked up by
 * string. `npm run lint:exports`; takes a minute or two, always exits 0.
 */
import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import ts from 'typescript';
import { tsProgram } from './shared.mjs';

const cwd = process.cwd();
const rel = (f) => relative(cwd, f).split('\\').join('/');
const program = tsProgram();
const checker = program.getTypeChecker();

const resolveAlias = (s) => {
  let x = s;
  for (let i = 0; i < 10 && x && x.flags & ts.SymbolFlags.Alias; i++) x = checker.getAliasedSymbol(x);
  return x;
};

// Who uses what: every identifier of every file, resolved through imports and re-exports.
const usedOutside = new Set();
const usedInside = new Set();
for (const sf of program.getSourceFiles()) {
  if (sf.isDeclarationFile || sf.fileName.includes('/node_modules/')) continue;
  const visit = (n) => {
    if (ts.isIdentifier(n) && ts.isBindingElement(n.parent) && ts.isObjectBindingPattern(n.parent.parent)) {
      // `const { f } = await import('./m.ts')`: the name stands for the module's export.
      const p = n.parent.propertyName;
      const prop = checker.getTypeAtLocation(n.parent.parent).getProperty(p && ts.isIdentifier(p) ? p.text : n.text);
      if (prop) usedOutside.add(resolveAlias(prop));
    }
    if (ts.isIdentifier(n)) {
      const s0 = checker.getSymbolAtLocation(n);
      for (const s of s0 ? new Set([s0, resolveAlias(s0)]) : []) {
        const decl = s.declarations?.[0];
        if (!decl || decl.name === n) continue; // a declaration's own name is not a use
        (decl.getSourceFile() === sf ? usedInside : usedOutside).add(s);
      }
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
}

// Public API: what the package's entry points export.
const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const publicApi = new Set();
const addPublic = (sym, depth) => {
  const r = resolveAlias(sym);
  publicApi.add(r);
  if (depth < 3 && r.flags & ts.SymbolFlags.ValueModule)
    for (const e of checker.getExportsOfModule(r)) addPublic(e, depth + 1);
};
for (const target of Object.values(pkg.exports ?? {})) {
  if (typeof target !== 'string' || !/\.(ts|mts)$/.test(target)) continue;
  const sf = program.getSourceFile(resolve(target));
  const ms = sf && checker.getSymbolAtLocation(sf);
  if (ms) for (const e of checker.getExportsOfModule(ms)) addPublic(e, 0);
}

const unused = [];
const local = [];
for (const sf of program.getSourceFiles()) {
  const file = rel(sf.fileName);
  if (!/^(src|executors)\//.test(file) || sf.isDeclarationFile) continue;
  const ms = checker.getSymbolAtLocation(sf);
  if (!ms) continue;
  for (const ex of checker.getExportsOfModule(ms)) {
    const s = resolveAlias(ex);
    const decl = s.declarations?.[0];
    if (!decl || decl.getSourceFile() !== sf) continue; // a re-export is judged where it is declared
    if (usedOutside.has(s) || usedOutside.has(ex) || publicApi.has(s)) continue;
    const line = sf.getLineAndCharacterOfPosition(decl.getStart()).line + 1;
    (usedInside.has(s) ? local : unused).push(`${file}:${line} ${ex.name}`);
  }
}
console.log(`unused (${unused.length}):\n  ${unused.sort().join('\n  ')}`);
console.log(`file-local (${local.length}):\n  ${local.sort().join('\n  ')}`);
