import { afterEach, describe, it } from 'vitest';
import { MemoryMetricsStore } from '../../src/metrics-store/memory.js';
import { FakeClock } from './helpers.js';
import { closeBrokers, expectCombined, T0 } from './multihost-scenario.js';

afterEach(closeBrokers);

describe('two brokers, one MemoryMetricsStore', () => {
  it('combines counters (sum), gauges (policy), histogram stats and merged sketches', async () => {
    const clock = new FakeClock(T0 + 1_000);
    const store = new MemoryMetricsStore({ clock, maintenanceIntervalMs: 0 });
    await expectCombined(store, clock);
    await store.close();
  });
});
