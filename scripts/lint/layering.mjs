/**
 * Lint: the layers import one way. `executors/` builds on `src/`, and only the composition root (src/cli)
 * picks an executor; readers and kernels know nothing of processors, runs or the FaaS platform; the FaaS
 * service and endpoint meet only through the modules they share (protocol, codec). A newcomer can then
 * change one layer without reading those above it.
 *
 * Checks static imports, re-exports and `import('…')` with a literal path, relative ones only (package
 * imports are not layers). Parses each file on its own (no type checking), so it runs in a second.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import ts from 'typescript';
import { sources } from './shared.mjs';

/**
 * `from` (a folder or file prefix) may not import `to`, except files under `unless` and targets listed in
 * `except`.
 */
const RULES = [
  { from: 'src/', unless: ['src/cli/'], to: 'executors/', why: 'only src/cli picks an executor; pass an Executor in' },
  { from: 'executors/', to: 'src/cli/', why: 'the CLI is the composition root; executors build on the library' },
  ...['src/io/', 'src/columnar/', 'src/hist/', 'src/accumulate/'].flatMap((from) =>
    ['src/runner/', 'src/processor/', 'src/cli/', 'src/watch/', 'src/view/'].map((to) => ({
      from,
      to,
      why: 'readers, kernels and histograms know nothing of processors or runs',
    })),
  ),
  { from: 'src/faas/service/', to: 'src/faas/endpoint/', why: 'service and endpoint share only src/faas/*.ts' },
  { from: 'src/faas/endpoint/', to: 'src/faas/service/', why: 'service and endpoint share only src/faas/*.ts' },
  { from: 'src/faas/client/', to: 'src/faas/service/', why: 'the client speaks the protocol, not the service code' },
  { from: 'src/faas/client/', to: 'src/faas/endpoint/', why: 'the client speaks the protocol, not the endpoint code' },
  // Outside the platform (and its executor), FaaS is its client and protocol; a helper any layer needs
  // (retry, backoff) belongs in src/util/, so using it does not pull in or tie a reader to the platform.
  ...['src/', 'executors/'].map((from) => ({
    from,
    unless: ['src/faas/', 'src/cli/', 'executors/faas/'],
    to: 'src/faas/',
    except: ['src/faas/client/index.ts', 'src/faas/protocol.ts'],
    why: 'outside FaaS use its client (src/faas/client/index.ts) or protocol; generic helpers live in src/util/',
  })),
  {
    from: 'src/util/',
    to: 'src/',
    except: ['src/util/'],
    why: 'src/util/ helpers stand alone: every layer may use them',
  },
  { from: 'src/util/', to: 'executors/', why: 'src/util/ helpers stand alone: every layer may use them' },
];
const ROOTS = ['src', 'executors'];

/** Literal module specifiers of a file, with their lines. */
function specifiers(sf) {
  const out = [];
  const visit = (node) => {
    let spec;
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier)
      spec = node.moduleSpecifier;
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword)
      spec = node.arguments[0];
    if (spec && ts.isStringLiteralLike(spec))
      out.push({ text: spec.text, line: sf.getLineAndCharacterOfPosition(spec.getStart(sf)).line + 1 });
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

const problems = [];
const cwd = process.cwd();
const slash = (p) => p.split('\\').join('/');
for (const root of ROOTS.filter((r) => existsSync(r))) {
  for (const file of sources(root)) {
    const rel = slash(relative(cwd, file));
    const rules = RULES.filter((r) => rel.startsWith(r.from) && !r.unless?.some((u) => rel.startsWith(u)));
    if (rules.length === 0) continue;
    const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    for (const s of specifiers(sf)) {
      if (!s.text.startsWith('.')) continue;
      const target = slash(relative(cwd, resolve(dirname(file), s.text)));
      for (const r of rules)
        if (target.startsWith(r.to) && !r.except?.some((e) => target.startsWith(e)))
          problems.push(`${rel}:${s.line}: imports ${s.text} (${r.to}): ${r.why}`);
    }
  }
}

if (problems.length) {
  console.error(`layering: ${problems.length} import(s) against the layers\n${problems.join('\n')}`);
  process.exitCode = 1;
}
