import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MetricsBroker } from '../../src/broker/broker.js';
import { decodeFrame, FrameEncoder, FrameSplitter, readWindowFrame } from '../../src/broker/protocol.js';
import { FleetwatchError } from '../../src/errors.js';
import { DDSketch } from '../../src/metrics/sketch.js';
import { fuzzParams, withinTimeBound } from '../helpers/fuzz.js';
import { FakeClock, RecordingStore } from './helpers.js';

const T0 = Date.UTC(2026, 10, 26, 6, 0, 0);
const enc = new FrameEncoder();
const sketch = new DDSketch();
sketch.add(3);
const good = enc
  .window({ sourceId: 'w', epoch: 1, seq: 0, windowStart: T0, intervalMs: 10_000 }, [
    { key: 'a\0k\0v', kind: 'counter', policy: 'last', value: 1 },
    { key: 'g', kind: 'gauge', policy: 'max', value: 2 },
    { key: 'h', kind: 'histogram', policy: 'last', value: 0, sketch: sketch.encode() },
  ])
  .subarray(4);

/** Random bytes, and a good frame with bytes changed, cut short or extended. */
const bytes = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
  fc
    .tuple(
      fc.array(fc.tuple(fc.nat({ max: good.length - 1 }), fc.nat({ max: 255 })), {
        minLength: 1,
        maxLength: 4,
      }),
      fc.nat({ max: good.length + 8 }),
    )
    .map(([edits, cut]) => {
      const b = Buffer.concat([good, Buffer.alloc(8)]);
      for (const [at, v] of edits) b[at] = v;
      return b.subarray(0, cut);
    }),
);

function onlyMalformedFrame(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(FleetwatchError);
    expect((err as FleetwatchError).code).toBe('E_MALFORMED_FRAME');
  }
}

describe('binary frames (fuzz)', () => {
  it('decodeFrame() and readWindowFrame() throw only E_MALFORMED_FRAME, within the time bound', () => {
    fc.assert(
      fc.property(bytes, (b) => {
        withinTimeBound(() => {
          onlyMalformedFrame(() => decodeFrame(b));
          onlyMalformedFrame(() => {
            const r = readWindowFrame(b);
            while (r.remaining > 0) r.advance();
          });
        });
      }),
      fuzzParams(500),
    );
  });

  it('FrameSplitter takes any byte stream in any chunks, throwing only E_MALFORMED_FRAME', () => {
    fc.assert(
      fc.property(fc.array(bytes, { maxLength: 6 }), (chunks) => {
        const s = new FrameSplitter(1024);
        withinTimeBound(() =>
          onlyMalformedFrame(() => {
            for (const c of chunks) s.push(c);
          }),
        );
      }),
      fuzzParams(300),
    );
  });

  it('the broker counts every malformed frame, never throws, and still merges a good one', async () => {
    const clock = new FakeClock(T0 + 1_000);
    const store = new RecordingStore();
    const broker = await MetricsBroker.start({ store, id: 'f', clock, autoFlush: false, selfMetrics: false });
    let seen = 0;
    fc.assert(
      fc.property(bytes, (b) => {
        seen++;
        withinTimeBound(() => broker.ingestFrame(b));
      }),
      fuzzParams(300),
    );
    const s = broker.stats();
    expect(s.frames + s.badFrames + s.duplicates).toBe(seen);
    broker.ingestFrame(
      enc
        .window({ sourceId: 'final', epoch: 9, seq: 0, windowStart: T0, intervalMs: 10_000 }, [
          { key: 'ok', kind: 'counter', policy: 'last', value: 5 },
        ])
        .subarray(4),
    );
    clock.t = T0 + 12_000;
    await broker.close();
    expect(store.sum('ok')).toBe(5);
  });
});
