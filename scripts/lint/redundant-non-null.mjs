/**
 * Lint: non-null assertions (`x!`) must mean something. Without noUncheckedIndexedAccess an indexed read
 * is already typed non-nullable, so `a[i]!` only adds noise; tsc cannot flag it and biome has no type-aware
 * rule, so this script asks the type checker. `--fix` removes them (a `!` is erased at runtime, so removal
 * never changes behaviour; tsc re-checks the types).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import ts from 'typescript';
import { tsProgram } from './shared.mjs';

const fix = process.argv.includes('--fix');
const program = tsProgram();
const checker = program.getTypeChecker();
const F = ts.TypeFlags;
// Generic, any/unknown and nullable operands keep their `!`: there it narrows the type.
const KEEP = F.Null | F.Undefined | F.Void | F.Unknown | F.Any | F.Never | F.Instantiable;
const mayBeNullish = (t) => (t.flags & KEEP) !== 0 || (t.isUnionOrIntersection() && t.types.some(mayBeNullish));

const findings = [];
for (const sf of program.getSourceFiles()) {
  if (sf.isDeclarationFile || sf.fileName.includes('/node_modules/')) continue;
  const cuts = [];
  const visit = (node) => {
    if (ts.isNonNullExpression(node) && !mayBeNullish(checker.getTypeAtLocation(node.expression)))
      cuts.push(node.end - 1);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  if (cuts.length === 0) continue;
  const file = relative(process.cwd(), sf.fileName);
  for (const at of cuts) {
    const { line, character } = sf.getLineAndCharacterOfPosition(at);
    findings.push(`${file}:${line + 1}:${character + 1}`);
  }
  if (fix) {
    let text = readFileSync(sf.fileName, 'utf8');
    for (const at of cuts.sort((a, b) => b - a)) {
      if (text[at] !== '!') throw new Error(`${file}: expected '!' at offset ${at}`);
      text = text.slice(0, at) + text.slice(at + 1);
    }
    writeFileSync(sf.fileName, text);
  }
}
if (fix) console.log(`removed ${findings.length} redundant non-null assertions`);
else if (findings.length > 0) {
  console.error(
    findings.map((f) => `${f}  redundant non-null assertion: the operand cannot be null or undefined`).join('\n'),
  );
  console.error(`${findings.length} redundant '!' — run \`npm run lint:fix-non-null\` to remove them`);
  process.exit(1);
}
