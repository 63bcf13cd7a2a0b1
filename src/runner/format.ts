/** Small number formatters for progress lines and the summary table. */

/** 1234567 → "1.23 M"; 950 → "950". */
export function si(n: number, digits = 3): string {
  if (!Number.isFinite(n)) return String(n);
  const a = Math.abs(n);
  const units: Array<[number, string]> = [
    [1e12, 'T'],
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ];
  for (const [f, u] of units) if (a >= f) return `${(n / f).toPrecision(digits)} ${u}`;
  return Number.isInteger(n) ? String(n) : n.toPrecision(digits);
}

/** Bytes as "12.3 MB". */
export function bytes(n: number): string {
  const s = si(n);
  return /[kMGT]$/.test(s) ? `${s}B` : `${s} B`;
}

/** Seconds as "0.42 s", "12.3 s", "3:05", "1:02:03". */
export function duration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '?';
  if (s < 60) return `${s < 10 ? s.toFixed(2) : s.toFixed(1)} s`;
  const t = Math.round(s);
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const sec = String(t % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/** Integer with thousands separators. */
export function count(n: number): string {
  return n.toLocaleString('en-US');
}
