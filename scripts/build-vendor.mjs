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
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: {
    core: join(jsrootDir, 'modules', 'core.mjs'),
    io: join(jsrootDir, 'modules', 'io.mjs'),
    main: join(jsrootDir, 'modules', 'main.mjs'),
    lzma: join(jsrootDir, 'modules', 'base', 'lzma.mjs'),
  },
  outdir: out,
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
copyFileSync(join(jsrootDir, 'LICENSE'), join(out, 'LICENSE'));
writeFileSync(join(out, 'VERSION'), `jsroot ${version}\n`);

// vendor/fonts: the DejaVu Sans faces the plots use. PNGs are rendered by resvg from these files
// only (never the system's fonts), so a plot looks the same on every machine. From the
// dejavu-fonts-ttf devDependency; free licence (Bitstream Vera derivative), LICENSE copied along.
const fontsOut = join(root, 'vendor', 'fonts');
const fontsDir = join(dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf');
rmSync(fontsOut, { recursive: true, force: true });
mkdirSync(fontsOut, { recursive: true });
for (const face of ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf', 'DejaVuSans-Oblique.ttf', 'DejaVuSans-BoldOblique.ttf'])
  copyFileSync(join(fontsDir, face), join(fontsOut, face));
copyFileSync(join(fontsDir, '..', 'LICENSE'), join(fontsOut, 'LICENSE'));
