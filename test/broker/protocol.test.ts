import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeFrame as decodeRaw,
  FRAME_ACK,
  FRAME_WINDOW,
  FrameEncoder,
  FrameSplitter,
  parseWireSeriesKey,
  readWindowFrame,
  type WireSeries,
  wireSeriesKey,
} from '../../src/broker/protocol.js';
import { FleetwatchError } from '../../src/errors.js';

/** decodeFrame with sketch views copied to plain Uint8Arrays, for deep equality. */
function decodeFrame(body: Buffer) {
  const f = decodeRaw(body);
  if (f.type === FRAME_WINDOW)
    for (const s of f.series) if (s.sketch !== undefined) s.sketch = new Uint8Array(s.sketch);
  return f;
}

const header = { sourceId: 'web-1:42', epoch: 7, seq: 3, windowStart: 1_700_000_000_000, intervalMs: 10_000 };

describe('wireSeriesKey()', () => {
  it('sorts tags so the order they were written in does not matter', () => {
    expect(wireSeriesKey('cpu', { b: '2', a: '1' })).toBe('cpu\0a\x001\0b\x002');
    expect(wireSeriesKey('cpu', { a: '1', b: '2' })).toBe(wireSeriesKey('cpu', { b: '2', a: '1' }));
    expect(wireSeriesKey('cpu', {})).toBe('cpu');
  });
  it('parseWireSeriesKey() reads it back and refuses an odd shape', () => {
    expect(parseWireSeriesKey('cpu\0host\0a')).toEqual({ name: 'cpu', tags: { host: 'a' } });
    expect(parseWireSeriesKey('cpu\0host')).toBeUndefined();
  });
});

describe('FrameEncoder / decodeFrame()', () => {
  it('encodes a WINDOW frame to the documented bytes', () => {
    const enc = new FrameEncoder();
    const buf = enc.window({ sourceId: 's', epoch: 1, seq: 2, windowStart: 0, intervalMs: 10 }, [
      { key: 'c', kind: 'counter', policy: 'last', value: 1 },
    ]);
    // length, magic 'FW', version 1, type 1, epoch, seq, windowStart f64, interval, source, count, series
    const expected = Buffer.from([
      ...[0x2c, 0, 0, 0],
      ...[0x46, 0x57, 1, 1],
      ...[1, 0, 0, 0],
      ...[2, 0, 0, 0],
      ...[0, 0, 0, 0, 0, 0, 0, 0],
      ...[10, 0, 0, 0],
      ...[1, 0, 0x73],
      ...[1, 0, 0, 0],
      ...[0, 0, 1, 0, 0x63],
      ...[0, 0, 0, 0, 0, 0, 0xf0, 0x3f],
    ]);
    expect(buf).toEqual(expected);
  });

  it('round-trips every kind, sketches as bytes', () => {
    const enc = new FrameEncoder();
    const series: WireSeries[] = [
      { key: wireSeriesKey('req', { route: '/ä' }), kind: 'counter', policy: 'last', value: 12 },
      { key: 'mem', kind: 'gauge', policy: 'max', value: -3.5 },
      { key: 'hits', kind: 'meter', policy: 'last', value: 4 },
      { key: 'lat', kind: 'histogram', policy: 'last', value: 0, sketch: new Uint8Array([1, 2, 3]) },
    ];
    const buf = enc.window(header, series);
    expect(buf.readUInt32LE(0)).toBe(buf.length - 4);
    const frame = decodeFrame(buf.subarray(4));
    expect(frame).toEqual({ type: FRAME_WINDOW, ...header, series: series.map((s) => ({ ...s })) });
  });

  it('readWindowFrame() checks the whole frame first, then yields series one at a time', () => {
    const enc = new FrameEncoder();
    const buf = enc.window(header, [
      { key: 'a', kind: 'counter', policy: 'last', value: 1 },
      { key: 'b', kind: 'gauge', policy: 'avg', value: 2 },
    ]);
    const r = readWindowFrame(buf.subarray(4));
    expect(r.header).toEqual(header);
    expect([r.next().key, r.remaining, r.next().value, r.remaining]).toEqual(['a', 1, 2, 0]);
    expect(() => r.next()).toThrow(expect.objectContaining({ code: 'E_MALFORMED_FRAME' }));
    const bad = Buffer.from(buf.subarray(4));
    bad.writeDoubleLE(Number.POSITIVE_INFINITY, bad.length - 8); // the last series is bad: nothing is read
    expect(() => readWindowFrame(bad)).toThrow(/series 1: non-finite/);
    expect(() => readWindowFrame(enc.ack(1, []).subarray(4))).toThrow(/WINDOW/);
  });

  it('round-trips ACK frames', () => {
    const buf = new FrameEncoder().ack(9, [1, 2, 4_000_000_000]);
    expect(decodeFrame(buf.subarray(4))).toEqual({ type: FRAME_ACK, epoch: 9, seqs: [1, 2, 4_000_000_000] });
  });

  it('refuses bad magic, version, type, kind, truncation, trailing bytes and NaN', () => {
    const enc = new FrameEncoder();
    const good = enc.window(header, [{ key: 'x', kind: 'counter', policy: 'last', value: 1 }]).subarray(4);
    const mutate = (at: number, v: number) => {
      const b = Buffer.from(good);
      b[at] = v;
      return b;
    };
    expect(() => decodeFrame(mutate(0, 0))).toThrow(expect.objectContaining({ code: 'E_MALFORMED_FRAME' })); // magic
    expect(() => decodeFrame(mutate(2, 9))).toThrow(/version/);
    expect(() => decodeFrame(mutate(3, 9))).toThrow(/type/);
    const kindAt = good.length - 8 - 1 - 2 - 2;
    expect(() => decodeFrame(mutate(kindAt, 7))).toThrow(/kind/);
    expect(() => decodeFrame(good.subarray(0, good.length - 1))).toThrow(/truncated/);
    expect(() => decodeFrame(Buffer.concat([good, Buffer.from([0])]))).toThrow(/trailing/);
    const nan = Buffer.from(good);
    nan.writeDoubleLE(Number.NaN, nan.length - 8);
    expect(() => decodeFrame(nan)).toThrow(/non-finite/);
  });

  it('round-trips arbitrary windows (property)', () => {
    const enc = new FrameEncoder();
    const seriesArb = fc.oneof(
      fc.record({
        key: fc.string({ minLength: 1, maxLength: 30 }),
        kind: fc.constantFrom('counter' as const, 'gauge' as const, 'meter' as const),
        policy: fc.constantFrom(
          'last' as const,
          'sum' as const,
          'min' as const,
          'max' as const,
          'avg' as const,
        ),
        value: fc.double({ noNaN: true, noDefaultInfinity: true }),
      }),
      fc.record({
        key: fc.string({ minLength: 1, maxLength: 30 }),
        kind: fc.constant('histogram' as const),
        policy: fc.constant('last' as const),
        value: fc.constant(0),
        sketch: fc.uint8Array({ maxLength: 64 }),
      }),
    );
    fc.assert(
      fc.property(
        fc.record({
          sourceId: fc.string({ minLength: 1, maxLength: 20 }),
          epoch: fc.nat({ max: 0xffffffff }),
          seq: fc.nat({ max: 0xffffffff }),
          windowStart: fc.nat({ max: 2 ** 50 }),
          intervalMs: fc.integer({ min: 1, max: 0xffffffff }),
        }),
        fc.array(seriesArb, { maxLength: 20 }),
        (h, series) => {
          const buf = enc.window(h, series);
          const frame = decodeFrame(buf.subarray(4));
          expect(frame).toEqual({
            type: FRAME_WINDOW,
            ...h,
            series: series.map((s) => ({ ...s, value: Object.is(s.value, -0) ? -0 : s.value })),
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never throws anything but E_MALFORMED_FRAME on random bytes or corrupted frames (fuzz)', () => {
    const enc = new FrameEncoder();
    const good = enc
      .window(header, [
        { key: 'a', kind: 'counter', policy: 'last', value: 1 },
        { key: 'b', kind: 'histogram', policy: 'last', value: 0, sketch: new Uint8Array(10) },
      ])
      .subarray(4);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
          fc
            .tuple(fc.nat({ max: good.length - 1 }), fc.nat({ max: 255 }), fc.nat({ max: good.length }))
            .map(([at, v, cut]) => {
              const b = Buffer.from(good);
              b[at] = v;
              return b.subarray(0, Math.max(cut, at + 1));
            }),
        ),
        (bytes) => {
          try {
            const f = decodeFrame(bytes);
            expect([FRAME_WINDOW, FRAME_ACK]).toContain(f.type);
          } catch (err) {
            expect(err).toBeInstanceOf(FleetwatchError);
            expect((err as FleetwatchError).code).toBe('E_MALFORMED_FRAME');
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('FrameEncoder errors', () => {
  it('a series key longer than 65535 bytes is E_VALIDATION naming the key, not a RangeError', () => {
    const enc = new FrameEncoder();
    const long = [{ key: 'k'.repeat(70_000), kind: 'counter' as const, policy: 'last' as const, value: 1 }];
    expect(() => enc.window(header, long)).toThrow(
      expect.objectContaining({ code: 'E_VALIDATION', path: 'key' }),
    );
    expect(() => enc.window(header, long)).toThrow(FleetwatchError);
  });
});

describe('FrameSplitter', () => {
  it('reassembles frames split at every byte boundary and joined together', () => {
    const enc = new FrameEncoder();
    const a = enc.window(header, [{ key: 'a', kind: 'counter', policy: 'last', value: 1 }]);
    const b = enc.window({ ...header, seq: 4 }, [{ key: 'b', kind: 'gauge', policy: 'sum', value: 2 }]);
    const stream = Buffer.concat([a, b]);
    for (let cut = 0; cut <= stream.length; cut++) {
      const s = new FrameSplitter();
      const bodies = [...s.push(stream.subarray(0, cut)), ...s.push(stream.subarray(cut))];
      expect(bodies.map((x) => decodeFrame(x)).map((f) => (f.type === FRAME_WINDOW ? f.seq : -1))).toEqual([
        3, 4,
      ]);
      expect(s.bufferedBytes).toBe(0);
    }
  });

  it('throws on a length beyond the limit or bad magic (stream cannot be trusted)', () => {
    const big = Buffer.alloc(8);
    big.writeUInt32LE(1000, 0);
    big.writeUInt16LE(0x5746, 4);
    expect(() => new FrameSplitter(100).push(big)).toThrow(/exceeds/);
    expect(() => new FrameSplitter().push(Buffer.from([1, 0, 0, 0, 9, 9]))).toThrow(/magic/);
  });
});
