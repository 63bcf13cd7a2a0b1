// @ts-check
/** What the lint scripts share: the source files they walk, and the repository's TypeScript program. */
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ts from 'typescript';

/**
 * TypeScript and JavaScript sources under `dir` (declaration files and node_modules left out).
 * @param {string} dir
 * @returns {Generator<string>}
 */
export function* sources(dir) {
  for (const d of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, d.name);
    if (d.isDirectory()) {
      if (d.name !== 'node_modules') yield* sources(p);
    } else if (/\.(ts|mts|js|mjs)$/.test(d.name) && !d.name.endsWith('.d.ts')) yield p;
  }
}

/** The program of `tsconfig.json` in the working directory (the type checker's view of the repository). */
export function tsProgram() {
  const config = ts.getParsedCommandLineOfConfigFile(
    resolve('tsconfig.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    },
  );
  if (!config) throw new Error('tsconfig.json could not be read');
  return ts.createProgram(config.fileNames, config.options);
}
