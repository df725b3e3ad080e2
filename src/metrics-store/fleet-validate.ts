import { validationError } from '../errors.js';
import type { FleetAggregate, PercentileQuery } from './types.js';
import { FLEET_AGGREGATES, RESOLUTION_MS } from './types.js';
import { MAX_TAGS, TAG_KEY_RE, validatePercentileQuery, validateQuery } from './validate.js';
import { compileWhere, type SeriesSelector } from './where.js';

/** Most groups or series `limit` may ask for. */
export const MAX_QUERY_LIMIT = 100_000;

/** The fleet fields of a query, checked and normalised. */
export interface FleetOptions {
  where: SeriesSelector | undefined;
  groupBy: readonly string[] | undefined;
  limit: number | undefined;
  order: 'asc' | 'desc';
}

const QUERY_FLEET_KEYS = ['where', 'aggregate', 'groupBy', 'limit', 'order'] as const;
const PERCENTILE_FLEET_KEYS = ['where', 'groupBy', 'step', 'limit', 'order'] as const;

function without(q: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const rest: Record<string, unknown> = {};
  for (const k of Object.keys(q)) if (!keys.includes(k)) rest[k] = q[k];
  return rest;
}

function fleetOptions(q: Record<string, unknown>, path: string): FleetOptions {
  const where = q.where;
  if (where !== undefined && typeof where !== 'string')
    throw validationError(`${path}.where`, 'a query string', where);
  const groupBy = q.groupBy;
  if (groupBy !== undefined) {
    if (!Array.isArray(groupBy) || groupBy.length > MAX_TAGS)
      throw validationError(`${path}.groupBy`, `an array of at most ${MAX_TAGS} tag keys`, groupBy);
    const seen = new Set<string>();
    groupBy.forEach((k: unknown, i) => {
      if (typeof k !== 'string' || !TAG_KEY_RE.test(k) || seen.has(k))
        throw validationError(`${path}.groupBy[${i}]`, 'a distinct tag key of [A-Za-z0-9_.:/-]', k);
      seen.add(k);
    });
  }
  const limit = q.limit;
  if (
    limit !== undefined &&
    (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_QUERY_LIMIT)
  )
    throw validationError(`${path}.limit`, `an integer 1-${MAX_QUERY_LIMIT}`, limit);
  const order = q.order ?? 'desc';
  if (order !== 'asc' && order !== 'desc') throw validationError(`${path}.order`, "'asc' or 'desc'", order);
  return {
    where: where === undefined ? undefined : compileWhere(where, `${path}.where`),
    groupBy: groupBy === undefined ? undefined : Object.freeze([...(groupBy as string[])]),
    limit: limit as number | undefined,
    order,
  };
}

/**
 * Validate a {@link MetricsQuery} including its fleet fields (`where`, `aggregate`, `groupBy`,
 * `limit`, `order`): everything `validateQuery` checks, plus the `where` text (with positions), an
 * aggregate from {@link FLEET_AGGREGATES}, distinct valid tag keys in `groupBy` (only with
 * `aggregate`), and a rollup resolution when aggregating.
 *
 * @throws FleetwatchError `E_VALIDATION` naming the field (`query.where`, `query.groupBy[1]`, …).
 * @example
 * ```ts
 * const o = validateMetricsQuery({ metric: 'cpu', from: 0, to: 1, where: 'tag:env=prod' });
 * ```
 */
export function validateMetricsQuery(
  q: unknown,
  path = 'query',
): FleetOptions & { aggregate: FleetAggregate | undefined } {
  validateQuery(
    q !== null && typeof q === 'object' && !Array.isArray(q)
      ? without(q as Record<string, unknown>, QUERY_FLEET_KEYS)
      : q,
    path,
  );
  const r = q as Record<string, unknown>;
  const aggregate = r.aggregate;
  if (aggregate !== undefined && !FLEET_AGGREGATES.includes(aggregate as FleetAggregate))
    throw validationError(`${path}.aggregate`, `one of ${FLEET_AGGREGATES.join(', ')}`, aggregate);
  if (aggregate === undefined && r.groupBy !== undefined)
    throw validationError(`${path}.groupBy`, 'groupBy only together with aggregate', r.groupBy);
  if (aggregate === undefined && r.limit !== undefined)
    throw validationError(
      `${path}.limit`,
      'limit only together with aggregate (rank groups or series)',
      r.limit,
    );
  if (aggregate !== undefined && r.resolution === 'raw')
    throw validationError(
      `${path}.resolution`,
      "a rollup resolution ('auto', '5m', '1h', '1d') with aggregate",
      'raw',
    );
  return { ...fleetOptions(r, path), aggregate: aggregate as FleetAggregate | undefined };
}

/**
 * Validate a {@link PercentileQuery} including `where`, `groupBy`, `step` (a positive multiple of
 * 5 minutes) and `limit`/`order`.
 *
 * @throws FleetwatchError `E_VALIDATION` naming the field.
 * @example
 * ```ts
 * validatePercentilesQuery({ metric: 'lat', from: 0, to: 86_400_000, quantiles: [0.99], step: 3_600_000 });
 * ```
 */
export function validatePercentilesQuery(
  q: unknown,
  path = 'query',
): FleetOptions & { step: number | undefined } {
  validatePercentileQuery(
    q !== null && typeof q === 'object' && !Array.isArray(q)
      ? without(q as Record<string, unknown>, PERCENTILE_FLEET_KEYS)
      : q,
    path,
  );
  const r = q as Record<string, unknown>;
  const step = r.step;
  const m5 = RESOLUTION_MS['5m'];
  if (
    step !== undefined &&
    (typeof step !== 'number' || !Number.isSafeInteger(step) || step < m5 || step % m5 !== 0)
  )
    throw validationError(`${path}.step`, `a positive multiple of ${m5} ms (5 minutes)`, step);
  return { ...fleetOptions(r, path), step: step as number | undefined };
}

/** True when a percentile query needs the fleet engine (grouping, steps or ranking). */
export function isFleetPercentileQuery(q: PercentileQuery): boolean {
  return q.groupBy !== undefined || q.step !== undefined || q.limit !== undefined;
}
