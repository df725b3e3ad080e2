// Human units: "850 ms", "3.2 s", "5 min", "3 d", "12 k".

/** A duration in ms as a short human string. */
export function duration(ms) {
  if (ms === undefined || ms === null || !Number.isFinite(ms)) return '–';
  const a = Math.abs(ms);
  if (a < 1) return `${ms.toFixed(2)} ms`;
  if (a < 1000) return `${Math.round(ms)} ms`;
  if (a < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  if (a < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  if (a < 86_400_000) return `${Math.round(ms / 3_600_000)} h`;
  return `${Math.round(ms / 86_400_000)} d`;
}

/** Time since an epoch-ms instant: "3 d ago", "just now". */
export function ago(ts, now = Date.now()) {
  if (!ts) return '–';
  const d = now - ts;
  if (d < 5000) return 'just now';
  return `${duration(d)} ago`;
}

/** A count: 999, 1.2 k, 3.4 M. */
export function count(n) {
  if (n < 1000) return String(n);
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 10_000 ? 1 : 0)} k`;
  return `${(n / 1_000_000).toFixed(1)} M`;
}

/** A message with its raw durations made human: "expires in 259197 s" → "expires in 3 d". */
export function humanText(text) {
  return String(text).replace(/\b(\d+(?:\.\d+)?) ?(ms|s)\b/g, (_m, n, unit) =>
    duration(Number(n) * (unit === 's' ? 1000 : 1)),
  );
}
