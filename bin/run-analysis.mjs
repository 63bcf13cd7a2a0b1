#!/usr/bin/env node
// Thin launcher: runs the CLI from a plain-JS build of its TypeScript sources, cached under
// node_modules/.cache/ristretto and rebuilt when a source file changes (no TypeScript loader at run time;
// tsx only if the build cannot be made or stored, or with RISTRETTO_TSX=1).
import { prestartFromArgv } from '../executors/threads/prestart.mjs';
import { launch } from '../src/processor/build-cache.mjs';

// With --executor threads, the pool's workers boot while the CLI loads (the executor adopts them).
prestartFromArgv(process.argv.slice(2));
await launch(new URL('../src/cli/run-analysis.ts', import.meta.url));
