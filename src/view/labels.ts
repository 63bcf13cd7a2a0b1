/**
 * Labels for JSROOT: run-analysis writes UHI JSON with matplotlib mathtext labels (`$m_{\mu\mu}$ [GeV]`, for
 * Python readers), while JSROOT renders ROOT's TLatex itself but hands any text with a backslash to MathJax,
 * which it loads from a CDN: offline that fails and the frame stays empty. The page therefore gets TLatex,
 * for outputs read back (`ristretto view OUTDIR`) and live histograms (already TLatex, unchanged) alike.
 */

const FONTS: Readonly<Record<string, string>> = { mathit: '#it', mathbf: '#bf' };

/**
 * A mathtext label (`$...$` runs) in ROOT's TLatex, the inverse of `tlatexToMathtext` for what it writes:
 * `\cmd` → `#cmd`, `\mathrm{x}` → `x`, `\mathit`/`\mathbf` → `#it`/`#bf`, `\ ` → space, single-character
 * sub/superscripts braced. Text outside `$...$` and labels without `$` are returned unchanged.
 *
 * @example
 * ```ts
 * mathtextToTLatex('$m_{\\mu\\mu}$ [GeV]');        // 'm_{#mu#mu} [GeV]'
 * mathtextToTLatex('$E_{T}^{\\mathrm{miss}}$');     // 'E_{T}^{miss}'
 * mathtextToTLatex('m_{#mu#mu} [GeV]');            // unchanged (already TLatex)
 * ```
 */
export function mathtextToTLatex(label: string): string {
  if (!label.includes('$')) return label;
  return label.replace(/\$([^$]*)\$/g, (_m, math: string) => mathToTLatex(math));
}

function mathToTLatex(m: string): string {
  return m
    .replace(/\\mathrm\{([^{}]*)\}/g, '$1')
    .replace(/\\(mathit|mathbf)\{/g, (_m, f: string) => `${FONTS[f]}{`)
    .replace(/\\[ ,;:!]/g, ' ')
    .replace(/([_^])\\([A-Za-z]+)/g, '$1{#$2}')
    .replace(/\\([A-Za-z]+)/g, '#$1')
    .replace(/([_^])([^{\s])/g, '$1{$2}')
    .replace(/\\/g, '');
}
