/**
 * Lint: no plain `throw new Error(...)` (nor TypeError / RangeError) in src/ and executors/. A user who
 * gets an error needs its class (to catch it), the file or endpoint it is about, and what to do: that is
 * what the RistrettoError family carries. A broken invariant throws `internalError(...)`, which says
 * "please report". Also: a class that extends an error class has a name ending in `Error`.
 *
 * Files that still hold plain throws are listed in plain-errors-allow.json with how many and why; a
 * file may hold fewer (the list is then printed so it can shrink), never more.
 * Parses each file on its own (no type checking), so it runs in a second.
 */
import { existsSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';
import ts from 'typescript';
import { sources } from './shared.mjs';

const ROOTS = ['src', 'executors'];
const PLAIN = new Set(['Error', 'TypeError', 'RangeError', 'SyntaxError']);
const here = new URL('.', import.meta.url);
const allow = JSON.parse(readFileSync(new URL('plain-errors-allow.json', here), 'utf8')).files;

const problems = [];
const shrinkable = [];
for (const root of ROOTS.filter((r) => existsSync(r))) {
  for (const file of sources(root)) {
    const rel = relative(process.cwd(), file).split('\\').join('/');
    const text = readFileSync(file, 'utf8');
    const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
    const throws = [];
    const visit = (node) => {
      if (
        ts.isThrowStatement(node) &&
        node.expression &&
        ts.isNewExpression(node.expression) &&
        ts.isIdentifier(node.expression.expression) &&
        PLAIN.has(node.expression.expression.text)
      ) {
        throws.push(node);
      }
      if (ts.isClassLike(node) && node.name && node.heritageClauses) {
        for (const h of node.heritageClauses) {
          if (h.token !== ts.SyntaxKind.ExtendsKeyword) continue;
          const base = h.types[0]?.expression.getText(sf) ?? '';
          if (/Error$/.test(base) && !/Error$/.test(node.name.text)) {
            const { line } = sf.getLineAndCharacterOfPosition(node.name.getStart(sf));
            problems.push(`${rel}:${line + 1}: class ${node.name.text} extends ${base}: name it …Error`);
          }
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
    const allowed = allow[rel]?.count ?? 0;
    if (throws.length > allowed) {
      for (const t of throws) {
        const { line } = sf.getLineAndCharacterOfPosition(t.getStart(sf));
        problems.push(
          `${rel}:${line + 1}: ${t.expression.getText(sf).slice(0, 60)}… — throw a RistrettoError subclass (src/**/errors.ts) naming the file/what to do, or internalError() for a broken invariant`,
        );
      }
      if (allowed) problems.push(`${rel}: ${throws.length} plain throws, the allowlist says at most ${allowed}`);
    } else if (throws.length < allowed) shrinkable.push(`${rel}: ${throws.length} (allowlist: ${allowed})`);
  }
}

if (shrinkable.length)
  console.log(
    `plain-errors: lower these counts in scripts/lint/plain-errors-allow.json:\n  ${shrinkable.join('\n  ')}`,
  );
if (problems.length) {
  console.error(`plain-errors: ${problems.length} problem(s)\n${problems.join('\n')}`);
  process.exitCode = 1;
}
