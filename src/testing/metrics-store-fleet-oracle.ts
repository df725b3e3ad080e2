/**
 * The data and oracles of the fleet-query conformance cases: a seeded fleet of hosts, and the
 * expected aggregates computed independently from the raw points written.
 */
import { expect } from 'vitest';
import type { AggregatedSeries, Point, RawPoint } from '../metrics-store/types.js';
import { HOUR, MIN } from './conformance-kit.js';
import { seededRandom } from './random.js';

/** One raw point of the fleet data, before it gets a metric and tenant. */
export interface Raw {
  tags: Record<string, string>;
  ts: number;
  value: number;
}

/** Group key of tags by `groupBy` (a missing key is left out), as the API defines it. */
export function groupTags(tags: Record<string, string>, groupBy: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of groupBy) if (tags[k] !== undefined) out[k] = tags[k];
  return out;
}

/** Oracle: per group and 5m slot, from raw points (one value per ts per series). */
export function oracle(
  raw: readonly Raw[],
  groupBy: readonly string[],
  w: number,
  aggregate: 'sum' | 'count' | 'avg' | 'min' | 'max',
): Map<string, Map<number, number>> {
  const acc = new Map<string, Map<number, number[]>>();
  for (const p of raw) {
    const g = JSON.stringify(groupTags(p.tags, groupBy));
    const slot = Math.floor(p.ts / w) * w;
    let m = acc.get(g);
    if (m === undefined) {
      m = new Map();
      acc.set(g, m);
    }
    const list = m.get(slot) ?? [];
    list.push(p.value);
    m.set(slot, list);
  }
  const out = new Map<string, Map<number, number>>();
  for (const [g, m] of acc) {
    const r = new Map<number, number>();
    for (const [slot, vs] of m) {
      const sum = vs.reduce((a, b) => a + b, 0);
      r.set(
        slot,
        aggregate === 'sum'
          ? sum
          : aggregate === 'count'
            ? vs.length
            : aggregate === 'avg'
              ? sum / vs.length
              : aggregate === 'min'
                ? Math.min(...vs)
                : Math.max(...vs),
      );
    }
    out.set(g, r);
  }
  return out;
}

export function expectMatches(
  got: AggregatedSeries[],
  want: Map<string, Map<number, number>>,
  what: string,
  rel = 0,
): void {
  const gotKeys = got.map((s) => JSON.stringify(s.tags)).sort();
  expect(gotKeys, `${what}: groups`).toEqual([...want.keys()].sort());
  for (const s of got) {
    const w = want.get(JSON.stringify(s.tags)) as Map<number, number>;
    const slots = [...w.keys()].sort((a, b) => a - b);
    expect(
      s.points.map((p) => p.ts),
      `${what} ${JSON.stringify(s.tags)} slots`,
    ).toEqual(slots);
    for (const p of s.points) {
      const e = w.get(p.ts) as number;
      expect(Number.isFinite(p.value)).toBe(true);
      if (rel === 0) expect(p.value, `${what} ${JSON.stringify(s.tags)} @${p.ts}`).toBe(e);
      else
        expect(Math.abs(p.value - e), `${what} @${p.ts}: ${p.value} vs ${e}`).toBeLessThanOrEqual(
          Math.abs(e) * rel,
        );
    }
  }
}

export const REGIONS = ['us-east', 'us-west', 'eu-west'];

/** 12 hosts over two hours, one point a minute, with a gap, a series starting mid-range and one without region. */
export function fleetData(T: number): { points: Raw[]; hostTags: Record<string, string>[] } {
  const r = seededRandom(42);
  const hostTags: Record<string, string>[] = [];
  const points: Raw[] = [];
  for (let i = 0; i < 12; i++) {
    const tags: Record<string, string> = {
      host: `h${String(i).padStart(2, '0')}`,
      env: i % 4 === 0 ? 'dev' : 'prod',
    };
    if (i !== 11) tags.region = REGIONS[i % 3] as string;
    hostTags.push(tags);
    for (let t = T; t < T + 2 * HOUR; t += MIN) {
      if (i === 5 && t < T + 50 * MIN) continue; // appears mid-range
      if (i === 7 && t >= T + 20 * MIN && t < T + 40 * MIN) continue; // a gap
      points.push({ tags, ts: t + 7_000, value: Math.floor(r() * 2000) - 500 });
    }
  }
  return { points, hostTags };
}

export function toPoints(raw: readonly Raw[], metric: string, tenant: string): Point[] {
  return raw.map((p) => ({ metric, tags: p.tags, ts: p.ts, value: p.value, tenant }));
}

/** Per series and slot: last and min of a counter, from raw points. */
export function slotStats(
  points: readonly RawPoint[],
  w: number,
): Map<number, { last: number; min: number }> {
  const out = new Map<number, { last: number; min: number }>();
  for (const p of points) {
    const s = Math.floor(p.ts / w) * w;
    const cur = out.get(s);
    if (cur === undefined) out.set(s, { last: p.value, min: p.value });
    else {
      cur.last = p.value;
      cur.min = Math.min(cur.min, p.value);
    }
  }
  return out;
}
