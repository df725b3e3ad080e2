/**
 * Scheduling arithmetic: the FNV-1a hash that gives each check and target its phase, the grid
 * `phase + k·period`, and a fixed-size sample window for lateness and duration percentiles.
 */

const RING = 4096;

/** The last 4096 samples of a value, for p50/p99/max. */
export class RecentSamples {
  readonly #values = new Float64Array(RING);
  #n = 0;
  push(v: number): void {
    this.#values[this.#n++ % RING] = v;
  }
  summary(): { p50: number; p99: number; max: number } {
    const len = Math.min(this.#n, RING);
    if (len === 0) return { p50: 0, p99: 0, max: 0 };
    const sorted = this.#values.slice(0, len).sort();
    const q = (p: number) => sorted[Math.min(len - 1, Math.max(0, Math.ceil(p * len) - 1))]!;
    return { p50: q(0.5), p99: q(0.99), max: sorted[len - 1]! };
  }
}

/** FNV-1a 32-bit hash. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The first grid time `phase + k·period` strictly after `after`. */
export function nextGridTime(phase: number, periodMs: number, after: number): number {
  return phase + (Math.floor((after - phase) / periodMs) + 1) * periodMs;
}
