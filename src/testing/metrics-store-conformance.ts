/**
 * The conformance suite every {@link MetricsStore} must pass. Memory runs it from
 * `test/metrics-store/memory.test.ts`; Cassandra runs it against a real node.
 *
 * ```ts
 * metricsStoreConformance('CassandraMetricsStore', async ({ retention, clock }) =>
 *   CassandraMetricsStore.connect({ ...connection, retention, clock }));
 * ```
 *
 * What a store must do to run it:
 * - accept `retention` (partial, merged over the defaults) and an injectable `clock`, and use that
 *   clock for everything time-dependent: the write window, which slots are closed, retention on read
 *   (data whose `expiresAt(ts, res, retention)` is `<= clock.now()` is not returned, even if its TTL
 *   has not physically run out yet) and the `auto` choice;
 * - `flush()` must leave the rollups of every slot closed at `clock.now()` up to date.
 *
 * Every test uses its own random tenant (and the few that need the default tenant a random metric),
 * so the suite can run against a persistent Cassandra repeatedly. Data volumes are small, except for
 * the one 100k-point batch. Fake time starts at the current UTC midnight, so TTLs computed from the
 * fake clock stay positive.
 */

import { afterEach, describe, expect, it } from 'vitest';
import type { Clock } from '../core.js';
import type { MetricsStore, Retention } from '../metrics-store/types.js';
import { DAY, expectError, FakeClock, HOUR, MIN, type OpenStore, uniqueTenant } from './conformance-kit.js';
import { fleetQueryCases } from './metrics-store-fleet-cases.js';
import { rawCases } from './metrics-store-raw-cases.js';
import { rollupCases } from './metrics-store-rollup-cases.js';
import { sketchCases } from './metrics-store-sketch-cases.js';
import { tenantCases } from './metrics-store-tenant-cases.js';

export { exactQuantile, exactStats, expectRollup, FakeClock, uniqueTenant } from './conformance-kit.js';

/** What the suite passes to `make`. */
export interface ConformanceStoreOptions {
  /** Retention overrides, merged over the defaults, that the store must apply. */
  retention?: Partial<Retention>;
  /** The fake clock the store must use for everything time-dependent. */
  clock?: Clock;
  /** The store's query-cost guard, when a test sets one (series and points per query). */
  queryLimits?: { maxSeries?: number; maxPoints?: number };
}

/** Builds a fresh store for one test. */
export type MakeMetricsStore = (opts: ConformanceStoreOptions) => Promise<MetricsStore>;

/**
 * Register the conformance suite for a store.
 *
 * @param name    the describe name (e.g. `'MemoryMetricsStore'`)
 * @param make    builds a fresh store using the given retention and clock; called once or more per test
 * @param cleanup called after each test with every store it made (already closed by the suite)
 */
export function metricsStoreConformance(
  name: string,
  make: MakeMetricsStore,
  cleanup?: (store: MetricsStore) => Promise<void>,
): void {
  describe(`MetricsStore conformance: ${name}`, () => {
    const opened: MetricsStore[] = [];
    /** Midnight UTC today: day-aligned, so every slot boundary below is predictable. */
    const T0 = Math.floor(Date.now() / DAY) * DAY;

    const open: OpenStore = async (opts = {}) => {
      const clock = new FakeClock(opts.at ?? T0 + MIN);
      const store = await make({
        clock,
        ...(opts.retention ? { retention: opts.retention } : {}),
        ...(opts.queryLimits ? { queryLimits: opts.queryLimits } : {}),
      });
      opened.push(store);
      return { store, clock, tenant: uniqueTenant() };
    };

    afterEach(async () => {
      const stores = opened.splice(0);
      for (const s of stores) {
        await s.close().catch(() => {});
        if (cleanup) await cleanup(s);
      }
    });

    rawCases(open, T0);
    rollupCases(open, T0);
    tenantCases(open, T0);
    sketchCases(open, T0);

    describe('fleet queries', () => {
      fleetQueryCases(open, T0);
    });

    describe('lifecycle', () => {
      it('close() - later calls fail with E_CLOSED; close() again is fine', async () => {
        const { store, clock, tenant } = await open();
        clock.set(T0 + 10 * MIN);
        await store.write([{ metric: 'c', ts: T0, value: 1, tenant }]);
        await store.close();
        await store.close();
        await expectError(store.write([{ metric: 'c', ts: T0, value: 1, tenant }]), 'E_CLOSED');
        await expectError(store.query({ metric: 'c', from: T0, to: T0 + HOUR, tenant }), 'E_CLOSED');
        await expectError(store.listMetrics(tenant), 'E_CLOSED');
        await expectError(store.listSeries('c', undefined, tenant), 'E_CLOSED');
        await expectError(store.flush(), 'E_CLOSED');
        await expectError(store.writeSketches([]), 'E_CLOSED');
        await expectError(
          store.queryPercentiles({ metric: 'c', from: T0, to: T0 + HOUR, quantiles: [0.5], tenant }),
          'E_CLOSED',
        );
      });

      it('write() and query() - an aborted signal rejects with E_ABORTED', async () => {
        const { store, clock, tenant } = await open();
        clock.set(T0 + 10 * MIN);
        const ac = new AbortController();
        ac.abort();
        await expectError(
          store.write([{ metric: 'ab', ts: T0, value: 1, tenant }], { signal: ac.signal }),
          'E_ABORTED',
        );
        await expectError(
          store.query({ metric: 'ab', from: T0, to: T0 + HOUR, tenant, signal: ac.signal }),
          'E_ABORTED',
        );
        await expectError(store.flush({ signal: ac.signal }), 'E_ABORTED');
        expect(
          await store.query({ metric: 'ab', from: T0, to: T0 + HOUR, resolution: 'raw', tenant }),
        ).toEqual([]);
      });

      it('flush() - resolves with nothing buffered', async () => {
        const { store } = await open();
        await expect(store.flush()).resolves.toBeUndefined();
      });
    });
  });
}
