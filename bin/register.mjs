// `node --import ristretto/register ...`: lets Node run TypeScript processors, tests and scripts
// (Ristretto ships TypeScript sources; its own commands register the same loader).
import { relative } from 'node:path';
import { register } from 'tsx/esm/api';
import { commonJsPackageOf, esmExtensionOf } from '../src/processor/module-scope.mjs';

// A TypeScript entry (`npm test` runs each test file as one) in a package without "type": "module" loads
// as CommonJS, and its import of Ristretto then fails deep in Node with ERR_REQUIRE_CYCLE_MODULE, which
// names neither cause nor fix: say both, as the commands do for a processor.
const entry = process.argv[1];
const pkg = entry && /\.tsx?$/.test(entry) ? commonJsPackageOf(entry) : undefined;
if (pkg) {
  const shown = relative(process.cwd(), entry) || entry;
  process.stderr.write(
    `ristretto/register: ${shown} would load as CommonJS: ${pkg} has no "type": "module", and Ristretto is an ES module package — add "type": "module" to ${pkg} (or rename the file to ${esmExtensionOf(entry)})\n`,
  );
  process.exit(1);
}
register();
