/**
 * Query-string parameters of the store routes, checked at the boundary (`E_VALIDATION` names the
 * parameter).
 */
import { validationError } from '../errors.js';
import { FLEET_AGGREGATES, type FleetAggregate, type Resolution } from '../metrics-store/types.js';

const METRIC = /^[A-Za-z0-9_.:/-]{1,200}$/;
const RESOLUTIONS = ['auto', 'raw', '5m', '1h', '1d'] as const;
const MAX_TAGS = 10;
const TAG_KEY = /^[A-Za-z0-9_.:/-]{1,100}$/;
/** Longest `where=` the store routes accept (the store parses and validates it). */
export const MAX_WHERE_LENGTH = 2000;

/** `metric=` (required). */
export function metricParam(p: URLSearchParams, name = 'metric'): string {
  const m = p.get(name);
  if (m === null || !METRIC.test(m)) throw validationError(name, 'a metric name', m ?? undefined);
  return m;
}

/** `from=` and `to=` in epoch ms; default the last hour. */
export function rangeParams(p: URLSearchParams, now: number): { from: number; to: number } {
  const num = (name: string, def: number) => {
    const raw = p.get(name);
    if (raw === null || raw === '') return def;
    const n = Number(raw);
    if (!Number.isSafeInteger(n) || n < 0) throw validationError(name, 'epoch milliseconds', raw);
    return n;
  };
  const to = num('to', now);
  const from = num('from', to - 3_600_000);
  if (from >= to) throw validationError('from', 'a time before `to`', from);
  return { from, to };
}

/** Repeated `tag=key:value` → exact tags. */
export function tagParams(p: URLSearchParams): Record<string, string> {
  const all = p.getAll('tag');
  if (all.length > MAX_TAGS) throw validationError('tag', `at most ${MAX_TAGS} tags`, all.length);
  const tags: Record<string, string> = {};
  for (const t of all) {
    const i = t.indexOf(':');
    if (i <= 0 || t.length > 400) throw validationError('tag', 'key:value', t);
    tags[t.slice(0, i)] = t.slice(i + 1);
  }
  return tags;
}

/** `resolution=` (default `auto`). */
export function resolutionParam(p: URLSearchParams): Resolution | 'auto' {
  const r = p.get('resolution') ?? 'auto';
  if (!(RESOLUTIONS as readonly string[]).includes(r))
    throw validationError('resolution', RESOLUTIONS.join(', '), r);
  return r as Resolution | 'auto';
}

/** `q=0.5,0.99` quantiles (default p50, p99), at most 10. */
export function quantileParams(p: URLSearchParams): number[] {
  const raw = p.get('q') ?? '0.5,0.99';
  const qs = raw.split(',').map(Number);
  if (qs.length > 10 || qs.some((q) => !Number.isFinite(q) || q < 0 || q > 1))
    throw validationError('q', 'up to 10 quantiles in [0, 1], comma-separated', raw);
  return qs;
}

/** `where=` (series selection in the query language): passed to the store, which validates it. */
export function whereParam(p: URLSearchParams): string | undefined {
  const w = p.get('where');
  if (w === null || w.trim() === '') return undefined;
  if (w.length > MAX_WHERE_LENGTH)
    throw validationError('where', `at most ${MAX_WHERE_LENGTH} characters`, w.length);
  return w;
}

/**
 * `groupBy=k1,k2` tag keys (at most 10). `groupBy=` (empty) is one group for the whole selection;
 * absent is `undefined`.
 */
export function groupByParam(p: URLSearchParams): string[] | undefined {
  const raw = p.get('groupBy');
  if (raw === null) return undefined;
  if (raw === '') return [];
  const keys = raw.split(',');
  if (keys.length > MAX_TAGS || keys.some((k) => !TAG_KEY.test(k)))
    throw validationError('groupBy', `up to ${MAX_TAGS} tag keys, comma-separated`, raw);
  return keys;
}

/** `aggregate=` (one of the store's fleet aggregates), or `undefined`. */
export function aggregateParam(p: URLSearchParams): FleetAggregate | undefined {
  const a = p.get('aggregate');
  if (a === null || a === '') return undefined;
  if (!(FLEET_AGGREGATES as readonly string[]).includes(a))
    throw validationError('aggregate', FLEET_AGGREGATES.join(', '), a);
  return a as FleetAggregate;
}

/** `limit=` (top-k groups, 1..`max`) and `order=asc|desc`. */
export function topParams(p: URLSearchParams, max: number): { limit?: number; order?: 'asc' | 'desc' } {
  const out: { limit?: number; order?: 'asc' | 'desc' } = {};
  const l = p.get('limit');
  if (l !== null && l !== '') {
    const n = Number(l);
    if (!Number.isSafeInteger(n) || n < 1 || n > max)
      throw validationError('limit', `an integer 1–${max}`, l);
    out.limit = n;
  }
  const o = p.get('order');
  if (o !== null && o !== '') {
    if (o !== 'asc' && o !== 'desc') throw validationError('order', 'asc or desc', o);
    out.order = o;
  }
  return out;
}

/** `step=` in ms (the store requires a multiple of 5 minutes), or `undefined`. */
export function stepParam(p: URLSearchParams): number | undefined {
  const raw = p.get('step');
  if (raw === null || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n <= 0) throw validationError('step', 'milliseconds', raw);
  return n;
}
