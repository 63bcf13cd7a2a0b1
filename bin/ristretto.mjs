#!/usr/bin/env node
// Thin launcher: runs the CLI from a plain-JS build of its TypeScript sources, cached under
// node_modules/.cache/ristretto and rebuilt when a source file changes (split at each dynamic import, so
// a subcommand loads only its own npm packages); tsx only if the build cannot be made or stored, or with
// RISTRETTO_TSX=1.
import { launch } from '../src/processor/build-cache.mjs';

await launch(new URL('../src/cli/ristretto.ts', import.meta.url));
