import type { CombinePolicy, RawPoint } from './types.js';

/**
 * Raw rows of one series in one 5-minute slot, in one flat array of doubles `[ts, value, source, ts,
 * value, source, …]` (V8 keeps it unboxed: 24 B a row, one small header per bucket), in write order
 * until compacted.
 */
export class RawBucket {
  d: number[] = [];
  /** Sorted by (ts, source) with no duplicate (ts, source). */
  clean = true;
  /** Strictly increasing ts (one row per ts). */
  unique = true;

  get length(): number {
    return this.d.length / 3;
  }

  push(ts: number, value: number, src: number): void {
    const d = this.d;
    const n = d.length;
    if (n > 0) {
      const pts = d[n - 3] as number;
      if (ts <= pts) {
        this.unique = false;
        if (ts < pts || src <= (d[n - 1] as number)) this.clean = false;
      }
    }
    d.push(ts, value, src);
  }

  /**
   * Sort by (ts, source, write order) and keep each (ts, source)'s latest write; under `last` keep
   * only each ts's latest write (the combined value is the latest write either way). Returns how many
   * rows were dropped.
   */
  compact(policy: CombinePolicy): number {
    if (this.unique || (this.clean && policy !== 'last')) return 0;
    const d = this.d;
    const n = d.length / 3;
    const idx = Array.from({ length: n }, (_, i) => i);
    const ts = (i: number) => d[i * 3] as number;
    const src = (i: number) => d[i * 3 + 2] as number;
    if (policy === 'last') idx.sort((a, b) => ts(a) - ts(b) || a - b);
    else idx.sort((a, b) => ts(a) - ts(b) || src(a) - src(b) || a - b);
    const out: number[] = [];
    let unique = true;
    for (let i = 0; i < n; i++) {
      const cur = idx[i] as number;
      const next = idx[i + 1];
      if (next !== undefined && ts(next) === ts(cur) && (policy === 'last' || src(next) === src(cur)))
        continue;
      if (out.length > 0 && out[out.length - 3] === ts(cur)) unique = false;
      out.push(ts(cur), d[cur * 3 + 1] as number, src(cur));
    }
    this.d = out;
    this.clean = true;
    this.unique = unique;
    return n - out.length / 3;
  }

  /** Drop spare capacity (after a slot is rolled it rarely grows again). */
  trim(): void {
    this.d = this.d.slice();
  }

  /** One combined point per ts, sorted (compacts first). */
  points(policy: CombinePolicy): { points: RawPoint[]; dropped: number } {
    const dropped = this.compact(policy);
    const out: RawPoint[] = [];
    const d = this.d;
    const n = d.length;
    let i = 0;
    while (i < n) {
      const t = d[i] as number;
      let j = i + 3;
      while (j < n && d[j] === t) j += 3;
      let v = d[i + 1] as number;
      if (j - i > 3) {
        const rows = (j - i) / 3;
        switch (policy) {
          case 'sum':
          case 'avg': {
            let s = 0;
            for (let k = i; k < j; k += 3) s += d[k + 1] as number;
            v = policy === 'sum' ? s : s / rows;
            break;
          }
          case 'min':
            for (let k = i; k < j; k += 3) if ((d[k + 1] as number) < v) v = d[k + 1] as number;
            break;
          case 'max':
            for (let k = i; k < j; k += 3) if ((d[k + 1] as number) > v) v = d[k + 1] as number;
            break;
          default:
            v = d[j - 2] as number;
        }
      }
      out.push({ ts: t, value: v });
      i = j;
    }
    return { points: out, dropped };
  }
}

/** Keys of `map` in `[from, to)` stepping by `step`, or of all entries when that is fewer. */
export function* keysInRange<V>(
  map: Map<number, V>,
  from: number,
  to: number,
  step: number,
): Iterable<number> {
  const first = Math.floor(from / step) * step;
  const slots = Math.ceil((to - first) / step);
  if (slots <= map.size) {
    for (let s = first; s < to; s += step) if (map.has(s)) yield s;
  } else {
    const keys: number[] = [];
    for (const k of map.keys()) if (k + step > from && k < to) keys.push(k);
    keys.sort((a, b) => a - b);
    yield* keys;
  }
}
