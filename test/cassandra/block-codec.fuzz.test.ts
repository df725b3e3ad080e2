/**
 * The points-block codec of the Cassandra store, property-tested: any finite doubles at any integer
 * timestamps round-trip exactly (bits, -0 and subnormals included), repeated timestamps keep the
 * last value given (as the raw table's upsert does), and any damaged or arbitrary bytes decode to
 * an E_CORRUPT_DATA error within a time bound, never a hang or a huge allocation.
 */
import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBlock, encodeBlock, MAX_BLOCK_POINTS } from '../../src/cassandra/block-codec.js';
import { FleetwatchError } from '../../src/errors.js';
import { fuzzParams, withinTimeBound } from '../helpers/fuzz.js';

const T = 1_764_000_000_000;
const finite = fc.double({ noNaN: true, noDefaultInfinity: true });
const special = fc.constantFrom(
  0,
  -0,
  Number.MIN_VALUE,
  -Number.MIN_VALUE,
  2.2250738585072014e-308,
  -1e300,
  1e300,
);
const valueArb = fc.oneof(
  finite,
  special,
  fc.integer({ min: -1e6, max: 1e6 }).map((x) => x / 10),
);
/** Timestamps: steady, irregular, repeated; in any order. */
const tsArb = fc.oneof(
  fc.integer({ min: 0, max: 3_599_999 }).map((x) => T + x),
  fc.integer({ min: 0, max: 360 }).map((i) => T + i * 10_000),
  fc.constant(T),
);
const pointsArb = fc.array(fc.tuple(tsArb, valueArb), { maxLength: 400 });

/** What the raw table would hold after these writes in order: the last value per timestamp. */
function oracle(points: ReadonlyArray<[number, number]>): { ts: number[]; values: number[] } {
  const m = new Map<number, number>();
  for (const [t, v] of points) m.set(t, v);
  const ts = [...m.keys()].sort((a, b) => a - b);
  return { ts, values: ts.map((t) => m.get(t) as number) };
}

function corruptCode(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof FleetwatchError ? err.code : `not a FleetwatchError: ${String(err)}`;
  }
}

describe('encodeBlock() / decodeBlock()', () => {
  it('decodeBlock(encodeBlock(x)) - exact round trip, last write wins per timestamp', () => {
    fc.assert(
      fc.property(pointsArb, (points) => {
        const blob = encodeBlock(
          points.map((p) => p[0]),
          points.map((p) => p[1]),
        );
        const back = withinTimeBound(() => decodeBlock(blob));
        const want = oracle(points);
        expect(back.ts).toEqual(want.ts);
        // Object.is: -0 stays -0, every bit of every value is kept
        expect(back.values.length).toBe(want.values.length);
        for (let i = 0; i < want.values.length; i++)
          expect(Object.is(back.values[i], want.values[i])).toBe(true);
      }),
      fuzzParams(),
    );
  });

  it('encodeBlock() - layout: format 1, count, delta-of-delta timestamps, 8 planes, CRC-32', () => {
    const ts = Array.from({ length: 360 }, (_, i) => T + i * 10_000);
    const values = ts.map(() => 42.5);
    const blob = encodeBlock(ts, values);
    // 1 format + 2 count + 6 first ts + 3 first delta + 358 zero deltas + 8 × 360 planes + 4 CRC
    expect(blob.length).toBe(1 + 2 + 6 + 3 + 358 + 2880 + 4);
    expect(blob[0]).toBe(1);
    expect([...blob.subarray(12, 370)].every((b) => b === 0)).toBe(true);
    // a constant value XORs to zero after the first point in every plane
    const planes = blob.subarray(370, 370 + 2880);
    for (let k = 0; k < 8; k++)
      expect([...planes.subarray(k * 360 + 1, (k + 1) * 360)].every((b) => b === 0)).toBe(true);
    expect(blob.readUInt32LE(blob.length - 4)).toBe(crc32(blob.subarray(0, blob.length - 4)));
    expect(decodeBlock(blob)).toEqual({ ts, values });
  });

  it('decodeBlock() - any byte flipped, truncated or appended is E_CORRUPT_DATA naming the path', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(tsArb, valueArb), { minLength: 1, maxLength: 100 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        fc.constantFrom('flip', 'truncate', 'append'),
        (points, at, mask, how) => {
          const blob = encodeBlock(
            points.map((p) => p[0]),
            points.map((p) => p[1]),
          );
          const i = at % blob.length;
          const bad =
            how === 'flip'
              ? Buffer.from(blob.map((b, k) => (k === i ? b ^ mask : b)))
              : how === 'truncate'
                ? blob.subarray(0, i)
                : Buffer.concat([blob, Buffer.from([mask])]);
          const code = withinTimeBound(() => corruptCode(() => decodeBlock(bad, 'points_block[x]')));
          expect(code).toBe('E_CORRUPT_DATA');
        },
      ),
      fuzzParams(),
    );
  });

  it('decodeBlock() - arbitrary bytes never hang or allocate past their length', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (bytes, versioned) => {
        const blob = versioned && bytes.length > 0 ? Uint8Array.from([1, ...bytes.subarray(1)]) : bytes;
        const code = withinTimeBound(() => corruptCode(() => decodeBlock(blob)));
        // a random body passing the CRC-32 is a 1 in 4 billion event
        expect(code).toBe('E_CORRUPT_DATA');
      }),
      fuzzParams(),
    );
  });

  it('decodeBlock() - a header claiming millions of points in a short blob is refused before allocating', () => {
    const blob = encodeBlock([T], [1]);
    // rewrite the count to MAX_BLOCK_POINTS (a 4-byte varint) and re-seal the checksum
    const count = [0x80 | (MAX_BLOCK_POINTS % 128), 0x80 | (Math.floor(MAX_BLOCK_POINTS / 128) % 128)];
    count.push(0x80 | (Math.floor(MAX_BLOCK_POINTS / 16384) % 128), Math.floor(MAX_BLOCK_POINTS / 2097152));
    const body = Buffer.concat([Buffer.from([1, ...count]), blob.subarray(2, blob.length - 4)]);
    const sealed = Buffer.concat([body, Buffer.alloc(4)]);
    sealed.writeUInt32LE(crc32(body), body.length);
    const err = (() => {
      try {
        decodeBlock(sealed, 'points_block[t/s/1]');
      } catch (e) {
        return e as FleetwatchError;
      }
      return undefined;
    })();
    expect(err?.code).toBe('E_CORRUPT_DATA');
    expect(err?.path).toBe('points_block[t/s/1]');
    expect(err?.message).toMatch(/count 3600000 does not fit/);
  });
});
