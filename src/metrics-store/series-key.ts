/**
 * Series identity shared by every {@link MetricsStore}: a canonical key built from the metric name
 * and its sorted tags, a short stable id derived from it (for partition keys), and tag filtering.
 */
import { createHash } from 'node:crypto';

/**
 * The canonical key of a series: the same metric and tags always give the same string, whatever the
 * order the tags were written in. It is JSON (`["cpu",["host","a"],["role","web"]]`), so any tag
 * value is represented unambiguously, and {@link parseSeriesKey} reads it back.
 */
export function seriesKey(metric: string, tags: Readonly<Record<string, string>> | undefined): string {
  if (tags === undefined) return JSON.stringify([metric]);
  const keys = Object.keys(tags);
  if (keys.length === 0) return JSON.stringify([metric]);
  keys.sort();
  const parts: unknown[] = [metric];
  for (const k of keys) parts.push([k, tags[k]]);
  return JSON.stringify(parts);
}

/** The metric and tags of a key made by {@link seriesKey}. Tags come back in sorted key order. */
export function parseSeriesKey(key: string): { metric: string; tags: Record<string, string> } {
  const parts = JSON.parse(key) as [string, ...Array<[string, string]>];
  const tags: Record<string, string> = {};
  for (let i = 1; i < parts.length; i++) {
    const pair = parts[i] as [string, string];
    tags[pair[0]] = pair[1];
  }
  return { metric: parts[0], tags };
}

/**
 * A short, stable id for a series key: the first 32 hex digits (128 bits) of its SHA-256. Suitable as a
 * Cassandra partition-key component; the same key always gives the same id on every host.
 */
export function seriesId(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 32);
}

/** A copy of `tags` with keys in sorted order (so equal tag sets print and compare identically). */
export function sortedTags(tags: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (tags === undefined) return out;
  for (const k of Object.keys(tags).sort()) out[k] = tags[k] as string;
  return out;
}

/** True when `tags` include every key/value pair of `filter` (an absent or empty filter matches all). */
export function tagsMatch(
  tags: Readonly<Record<string, string>>,
  filter: Readonly<Record<string, string>> | undefined,
): boolean {
  if (filter === undefined) return true;
  for (const k in filter) {
    if (tags[k] !== filter[k]) return false;
  }
  return true;
}
