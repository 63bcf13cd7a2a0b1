#!/usr/bin/env node
// `npm run build:endpoint`: the endpoint agent and its workers as one executable with Node built in
// (Node's single-executable applications): esbuild bundles executors/faas/sea-entry.ts (the agent and
// worker of src/faas/endpoint/sea-main.ts plus the Ristretto chunk function's worker side) into one
// CommonJS file, `node --experimental-sea-config` turns it into a blob and postject injects the blob
// into a copy of this Node binary. Output: out/endpoint/ristretto-endpoint (same OS and CPU as here).
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = resolve(process.argv[2] ?? join(repo, 'out', 'endpoint'));
const exe = join(out, 'ristretto-endpoint');
mkdirSync(out, { recursive: true });

await build({
  entryPoints: [join(repo, 'executors', 'faas', 'sea-entry.ts')],
  outfile: join(out, 'main.cjs'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // Optional native speed-ups of ws: it falls back to JavaScript without them. esbuild only builds
  // processor bundles (src/processor/bundle.ts imports it lazily); the endpoint only loads them.
  external: ['bufferutil', 'utf-8-validate', 'esbuild'],
  // A CommonJS bundle has no import.meta; the modules only use it to find files beside themselves.
  define: { 'import.meta.url': '__ristrettoModuleUrl' },
  banner: { js: "const __ristrettoModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
});
writeFileSync(
  join(out, 'sea-config.json'),
  JSON.stringify({
    main: join(out, 'main.cjs'),
    output: join(out, 'sea-prep.blob'),
    disableExperimentalSEAWarning: true,
    // V8's compiled code in the blob: every worker starts the 2.8 MB script ~60 ms sooner (bench/RESULTS.md).
    useCodeCache: true,
  }),
);
execFileSync(process.execPath, ['--experimental-sea-config', join(out, 'sea-config.json')], { stdio: 'inherit' });
rmSync(exe, { force: true });
copyFileSync(process.execPath, exe);
chmodSync(exe, 0o755);
const postject = createRequire(import.meta.url).resolve('postject/dist/cli.js');
execFileSync(
  process.execPath,
  [
    postject,
    exe,
    'NODE_SEA_BLOB',
    join(out, 'sea-prep.blob'),
    '--sentinel-fuse',
    'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2',
  ],
  { stdio: 'inherit' },
);
console.log(`built ${exe}`);
