// jsroot imports `canvas` only for PDF/raster paths Ristretto does not use. The real package needs
// cairo/pango to build; this stub keeps `npm ci` system-package free and fails loudly if ever reached.
throw new Error('canvas is not installed in Ristretto (stubbed): PDF output is unsupported; use SVG or PNG');
