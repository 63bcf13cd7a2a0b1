#!/usr/bin/env node
/**
 * Builds `vendor/jsroot/`: the parts of jsroot Ristretto uses (object model and ROOT JSON, file I/O,
 * drawing, the LZMA decoder), bundled by esbuild from the jsroot package (a devDependency).
 *
 * Why: jsroot's package.json hard-depends on the native `canvas` package, which cannot be installed
 * without a prebuilt download or cairo headers, so a project that depends on jsroot fails `npm install`
 * unless it overrides `canvas` itself (npm overrides only apply at the top-level project). Shipping
 * the bundled modules lets `npm install ristretto` succeed anywhere; the optional native paths
 * (canvas, three, MathJax) stay dynamic imports that jsroot already guards. Runs on `npm install` in
 * this repository (prepare) and before `npm pack`; the output is not committed.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'vendor', 'jsroot');
const require = createRequire(join(root, 'package.json'));
let jsrootDir;
try {
  jsrootDir = join(dirname(require.resolve('jsroot')), '..');
} catch {
  // A consumer's install of the packed package ships vendor/ already and has no jsroot.
  if (readdirSafe(out).length) process.exit(0);
  console.error(
    'build-vendor: the jsroot package is not installed (it is a devDependency of ristretto); run npm install in the ristretto repository',
  );
  process.exit(1);
}
function readdirSafe(d) {
  return existsSync(join(d, 'core.mjs')) ? ['core.mjs'] : [];
}

const version = JSON.parse(readFileSync(join(jsrootDir, 'package.json'), 'utf8')).version;
const fontsOut = join(root, 'vendor', 'fonts');
const FACES = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf', 'DejaVuSans-Oblique.ttf', 'DejaVuSans-BoldOblique.ttf'];

// Up to date (same jsroot, same build script and shim): nothing to do. `npm pack` runs this script, and
// the packaging test packs the repository while other tests import vendor/: a rebuild in place would pull
// the files from under them.
const stamp = join(root, 'vendor', '.build-key');
const key = createHash('sha256')
  .update(`${version}\n`)
  .update(readFileSync(fileURLToPath(import.meta.url)))
  .update(readFileSync(join(root, 'scripts', 'jsroot-zstd-shim.mjs')))
  .digest('hex');
const complete =
  ['core.mjs', 'io.mjs', 'main.mjs', 'lzma.mjs'].every((f) => existsSync(join(out, f))) &&
  FACES.every((f) => existsSync(join(fontsOut, f)));
if (complete && existsSync(stamp) && readFileSync(stamp, 'utf8') === key) process.exit(0);

// Build beside the output and swap it in, so readers see the old tree or the new one, not a half-built one.
const staging = `${out}.${process.pid}.tmp`;
rmSync(staging, { recursive: true, force: true });
mkdirSync(staging, { recursive: true });
await build({
  entryPoints: {
    core: join(jsrootDir, 'modules', 'core.mjs'),
    io: join(jsrootDir, 'modules', 'io.mjs'),
    main: join(jsrootDir, 'modules', 'main.mjs'),
    lzma: join(jsrootDir, 'modules', 'base', 'lzma.mjs'),
  },
  outdir: staging,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Optional, heavy or native: jsroot imports them dynamically and copes when they are missing.
  external: ['canvas', 'three', 'mathjax', 'mathjax/*', 'jsdom', '@resvg/resvg-js', 'tmp', 'xhr2', 'gl', 'fzstd'],
  plugins: [
    {
      name: 'zstd-shim',
      setup(b) {
        b.onResolve({ filter: /^@oneidentity\/zstd-js$/ }, () => ({
          path: join(root, 'scripts', 'jsroot-zstd-shim.mjs'),
        }));
      },
    },
  ],
  logLevel: 'warning',
  legalComments: 'eof',
});
copyFileSync(join(jsrootDir, 'LICENSE'), join(staging, 'LICENSE'));
writeFileSync(join(staging, 'VERSION'), `jsroot ${version}\n`);
swapIn(staging, out);

// vendor/fonts: the DejaVu Sans faces the plots use. PNGs are rendered by resvg from these files
// only (never the system's fonts), so a plot looks the same on every machine. From the
// dejavu-fonts-ttf devDependency; free licence (Bitstream Vera derivative), LICENSE copied along.
const fontsDir = join(dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf');
const fontsStaging = `${fontsOut}.${process.pid}.tmp`;
rmSync(fontsStaging, { recursive: true, force: true });
mkdirSync(fontsStaging, { recursive: true });
for (const face of FACES) copyFileSync(join(fontsDir, face), join(fontsStaging, face));
copyFileSync(join(fontsDir, '..', 'LICENSE'), join(fontsStaging, 'LICENSE'));
swapIn(fontsStaging, fontsOut);
writeFileSync(stamp, key);

/** Replace `dest` by `fresh` with two renames (the old tree is removed after). */
function swapIn(fresh, dest) {
  const old = `${dest}.${process.pid}.old`;
  if (existsSync(dest)) renameSync(dest, old);
  renameSync(fresh, dest);
  rmSync(old, { recursive: true, force: true });
}
