/**
 * The guard cases of the fleet-query conformance suite, registered by `fleetQueryCases`.
 */
import { expect, it } from 'vitest';
import { DDSketch } from '../metrics/sketch.js';
import type { Point, SketchPoint } from '../metrics-store/types.js';
import { expectError, HOUR, M5, MIN, type OpenStore } from './conformance-kit.js';
import { fleetData, toPoints } from './metrics-store-fleet-oracle.js';

/** Register the fleet-query guard cases: query-cost limits, validation of the fleet fields, copy-on-validate. */
export function fleetGuardCases(open: OpenStore, T0: number): void {
  const T = T0 + HOUR;

  it('query() and queryPercentiles() - past maxSeries or maxPoints reject with E_QUERY_TOO_LARGE naming the limit', async () => {
    const { store, tenant } = await open({
      at: T + 2 * HOUR + 10 * MIN,
      queryLimits: { maxSeries: 5, maxPoints: 100 },
    });
    const { points } = fleetData(T);
    await store.write(toPoints(points, 'rps', tenant));
    const sk = new DDSketch();
    sk.add(1);
    await store.writeSketches(
      [0, 1, 2].map((i) => ({
        metric: 'lat',
        tags: { host: `h${i}` },
        ts: T + i,
        sketch: sk.encode(),
        tenant,
      })),
    );
    await store.flush();
    const q = { metric: 'rps', tenant, from: T, to: T + 2 * HOUR, resolution: '5m' as const };
    const e1 = await expectError(store.query({ ...q, aggregate: 'sum' }), 'E_QUERY_TOO_LARGE');
    expect(e1.details).toMatchObject({ limit: 'maxQuerySeries', max: 5, requested: 12 });
    // 4 series × 24 slots = 96 points fits; 5 × 24 = 120 does not
    const five = 'tag:host=h0* and not tag:region=us-west and not tag:env=dev';
    const fits = await store.query({ ...q, aggregate: 'sum', where: `${five} and not tag:host=h09` });
    expect(fits[0]?.series).toBe(4);
    const e2 = await expectError(store.query({ ...q, aggregate: 'sum', where: five }), 'E_QUERY_TOO_LARGE');
    expect(e2.details).toMatchObject({ limit: 'maxQueryPoints', max: 100, requested: 120 });
    const e3 = await expectError(
      store.queryPercentiles({
        metric: 'lat',
        tenant,
        from: T0,
        to: T + 2 * HOUR,
        quantiles: [0.5],
        groupBy: [],
        step: M5,
      }),
      'E_QUERY_TOO_LARGE',
    );
    // 3 series × 36 five-minute steps
    expect(e3.details).toMatchObject({ limit: 'maxQueryPoints', max: 100, requested: 108 });
  });

  it('query() - where and the fleet fields are validated with the field and position at fault', async () => {
    const { store, tenant } = await open();
    const q = { metric: 'm', tenant, from: T0, to: T0 + HOUR };
    const bad: Array<[Record<string, unknown>, string, number?]> = [
      [{ where: 'tag:a=1 and (tag:b=2' }, 'query.where', 20],
      [{ where: 'tag:a=1 and state:running' }, 'query.where', 12],
      [{ where: 'localtag:a=1' }, 'query.where', 0],
      [{ where: 42 }, 'query.where'],
      [{ aggregate: 'median' }, 'query.aggregate'],
      [{ groupBy: ['region'] }, 'query.groupBy'],
      [{ aggregate: 'sum', groupBy: ['ok', 'bad key'] }, 'query.groupBy[1]'],
      [{ aggregate: 'sum', resolution: 'raw' }, 'query.resolution'],
      [{ aggregate: 'sum', limit: 0 }, 'query.limit'],
      [{ limit: 3 }, 'query.limit'],
      [{ aggregate: 'sum', order: 'up' }, 'query.order'],
    ];
    for (const [extra, path, position] of bad) {
      const e = await expectError(store.query({ ...q, ...extra } as never), 'E_VALIDATION');
      expect(e.path, JSON.stringify(extra)).toBe(path);
      if (position !== undefined) expect(e.position, JSON.stringify(extra)).toBe(position);
    }
    const pq = { metric: 'm', tenant, from: T0, to: T0 + HOUR, quantiles: [0.5] };
    for (const [extra, path] of [
      [{ step: 1000 }, 'query.step'],
      [{ step: 7 * MIN }, 'query.step'],
      [{ where: 'name:web' }, 'query.where'],
      [{ groupBy: 'host' }, 'query.groupBy'],
    ] as const) {
      const e = await expectError(store.queryPercentiles({ ...pq, ...extra } as never), 'E_VALIDATION');
      expect(e.path).toBe(path);
    }
    expect(await store.query({ ...q, aggregate: 'sum', where: 'tag:x=y' })).toEqual([]);
  });

  it('write() and writeSketches() - a batch changed by the caller while the write is pending is stored as validated', async () => {
    const { store, clock, tenant } = await open();
    const tags = { host: 'a' };
    const batch: Point[] = [
      { metric: 'cpu', tags, ts: T0 + 1000, value: 1, tenant },
      { metric: 'cpu', tags, ts: T0 + 2000, value: 2, tenant },
    ];
    const pending = store.write(batch);
    (batch[0] as Point).value = Number.NaN;
    (batch[0] as Point).ts = clock.now() + 365 * 86_400_000;
    tags.host = 'b';
    batch.push({ metric: 'cpu', tags, ts: T0 + 3000, value: 3, tenant });
    expect(await pending).toEqual({ accepted: 2 });
    const got = await store.query({ metric: 'cpu', tenant, from: T0, to: T0 + HOUR, resolution: 'raw' });
    expect(got).toEqual([
      {
        metric: 'cpu',
        tags: { host: 'a' },
        resolution: 'raw',
        points: [
          { ts: T0 + 1000, value: 1 },
          { ts: T0 + 2000, value: 2 },
        ],
      },
    ]);
    const sk = new DDSketch();
    for (const v of [1, 2, 3]) sk.add(v);
    const bytes = sk.encode();
    const sbatch: SketchPoint[] = [
      { metric: 'lat', tags: { host: 'a' }, ts: T0 + 1000, sketch: bytes, tenant },
    ];
    const spending = store.writeSketches(sbatch);
    bytes.fill(0);
    (sbatch[0] as SketchPoint).ts = Number.NaN;
    await spending;
    const res = await store.queryPercentiles({
      metric: 'lat',
      tenant,
      from: T0,
      to: T0 + HOUR,
      quantiles: [1],
    });
    expect(res[0]?.count).toBe(3);
    expect(res[0]?.max).toBe(3);
  });
}
