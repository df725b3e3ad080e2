import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FleetwatchError } from '../../src/errors.js';
import { MemoryInventoryStore } from '../../src/inventory/inventory-store.js';
import { MetricsRegistry } from '../../src/metrics/registry.js';
import { MemoryMetricsStore } from '../../src/metrics-store/memory.js';
import { fuzzParams, withinTimeBound } from '../helpers/fuzz.js';

/** Characters on both sides of every rule: valid ones, and ones some rule refuses. */
const CHARS = ['a', 'Z', '_', '.', ':', '/', '-', '0', '9', ' ', 'é', '$', '\n', '\u0085', '\ud800', '='];

/** Strings around the length limits (0, 1, 64, 100, 192, 200…), from a mixed alphabet. */
function text(maxLength: number) {
  return fc.oneof(
    fc.string({ unit: fc.constantFrom(...CHARS), maxLength: 8 }),
    fc
      .tuple(
        fc.constantFrom(...CHARS),
        fc.constantFrom(63, 64, 65, 99, 100, 101, 191, 192, 193, 199, 200, 201),
      )
      .map(([c, n]) =>
        (c === 'a' || c === '_' ? c : 'a').padEnd(Math.min(n, maxLength), c === '\n' ? 'b' : c),
      ),
    fc.constantFrom('host.name', 'service', '__proto__', 'constructor', ''),
  );
}

/** Names every rule accepts: half of each draw, so the `live` outcome is reached in every run, not by luck. */
const plain = fc.stringMatching(/^[a-z][a-z0-9_]{0,12}$/);
const tagsArb = fc.oneof(
  fc.dictionary(text(120), text(210), { maxKeys: 36 }),
  fc.dictionary(plain, plain, { maxKeys: 4 }),
);
const nameArb = fc.oneof(text(210), plain);

const NOW = 1_700_000_000_000;
/** The longest suffix the broker may add to a histogram's name (`.count`, `.p99999`): its 8-char budget. */
const LONGEST_SUFFIX = '.p999999';

async function storeAccepts(store: MemoryMetricsStore, metric: string, tags: Record<string, string>) {
  try {
    await store.write([{ metric, tags, ts: NOW, value: 1 }]);
    return true;
  } catch (err) {
    expect(err).toBeInstanceOf(FleetwatchError);
    expect((err as FleetwatchError).code).toBe('E_VALIDATION');
    return false;
  }
}

describe('naming rules - one set for the registry and the stores', () => {
  it('registry.counter(name, tags) creates a live series exactly when the store accepts it and every name the broker derives from it', async () => {
    const store = new MemoryMetricsStore({ clock: { now: () => NOW } });
    const seen = { badRegistryTags: 0, badName: 0, live: 0, rejectedTags: 0 };
    await fc.assert(
      fc.asyncProperty(nameArb, tagsArb, tagsArb, async (name, base, tags) => {
        let registry: MetricsRegistry;
        try {
          registry = new MetricsRegistry({ tags: base });
        } catch (err) {
          // Registry tags are checked by the same rule: refused exactly when the store refuses them.
          expect((err as FleetwatchError).code).toBe('E_VALIDATION');
          expect(await storeAccepts(store, 'ok', base)).toBe(false);
          seen.badRegistryTags++;
          return;
        }
        let live: boolean;
        try {
          const c = withinTimeBound(() => registry.counter(name, tags));
          live = registry.stats().rejectedTagSets === 0;
          c.inc();
          expect(registry.collect(0, 1000).series.length).toBe(live ? 1 : 0);
        } catch (err) {
          // A bad name throws at creation; the store refuses it or the longest name derived from it.
          expect((err as FleetwatchError).path).toBe('name');
          expect(
            (await storeAccepts(store, name, {})) &&
              (await storeAccepts(store, `${name}${LONGEST_SUFFIX}`, {})),
          ).toBe(false);
          seen.badName++;
          return;
        }
        seen[live ? 'live' : 'rejectedTags']++;
        const merged = { ...base, ...tags };
        expect(await storeAccepts(store, name, merged)).toBe(live);
        if (live) expect(await storeAccepts(store, `${name}${LONGEST_SUFFIX}`, merged)).toBe(true);
      }),
      fuzzParams(500),
    );
    // The generators reach every outcome, so each branch above was checked.
    for (const [outcome, n] of Object.entries(seen)) expect([outcome, n > 0]).toEqual([outcome, true]);
  });

  it('tenants: the inventory store and the metrics store accept exactly the same names', async () => {
    const metrics = new MemoryMetricsStore({ clock: { now: () => NOW } });
    const inventory = new MemoryInventoryStore();
    await fc.assert(
      fc.asyncProperty(text(70), async (tenant) => {
        const a = await inventory.load(tenant).then(
          () => true,
          () => false,
        );
        const b = await metrics.write([{ metric: 'm', ts: NOW, value: 1, tenant }]).then(
          () => true,
          () => false,
        );
        expect(a).toBe(b);
      }),
      fuzzParams(500),
    );
  });
});
