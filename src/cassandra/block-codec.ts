import { crc32 } from 'node:zlib';
import { FleetwatchError } from '../errors.js';

/** The format byte of {@link encodeBlock}'s blobs (the first byte). */
export const BLOCK_FORMAT_VERSION = 1;

/**
 * Most points one block may hold: one a millisecond over a one-hour block. A decoder refuses a
 * header claiming more before it allocates anything.
 */
export const MAX_BLOCK_POINTS = 3_600_000;

/** A block's points: strictly increasing integer timestamps (epoch ms) and their values. */
export interface BlockPoints {
  /** Timestamps in ms since the epoch, ascending (a repeated timestamp keeps the last value). */
  ts: number[];
  /** The value at each timestamp: finite doubles, `values[i]` belongs to `ts[i]`. */
  values: number[];
}

/**
 * Encodes one series' points of one block into a compact, self-checking blob. Timestamps are zigzag
 * varints of their delta-of-delta (0 for a steady interval); values are XORed with the previous
 * value's IEEE-754 bits and stored as 8 byte planes (all first bytes, then all second bytes…), so
 * the table's Zstd finds the long runs of zero bytes similar consecutive values leave. Layout:
 * format byte, varint count, timestamps, planes, CRC-32 (little-endian) of everything before it.
 *
 * `ts` may be in any order and repeat: the points are sorted by timestamp and, of several at the
 * same timestamp, the last one given wins (as a re-written row of the raw table does).
 *
 * @example
 * ```ts
 * const blob = encodeBlock([1000, 2000], [0.5, 0.75]);
 * decodeBlock(blob); // { ts: [1000, 2000], values: [0.5, 0.75] }
 * ```
 */
export function encodeBlock(ts: readonly number[], values: readonly number[]): Buffer {
  if (ts.length !== values.length) {
    throw new FleetwatchError('E_INTERNAL', 'encodeBlock: ts and values differ in length');
  }
  const { ts: t, values: v } = lastWriteWins(ts, values);
  const n = t.length;
  if (n > MAX_BLOCK_POINTS) {
    throw new FleetwatchError('E_INTERNAL', `encodeBlock: ${n} points exceed ${MAX_BLOCK_POINTS}`);
  }
  const head: number[] = [BLOCK_FORMAT_VERSION];
  varint(head, n);
  let prev = 0;
  let prevDelta = 0;
  for (let i = 0; i < n; i++) {
    const x = t[i] as number;
    if (!Number.isSafeInteger(x) || x < 0) {
      throw new FleetwatchError('E_INTERNAL', 'encodeBlock: ts not a non-negative integer');
    }
    const delta = i === 0 ? 0 : x - prev;
    varint(head, zigzag(i === 0 ? x : delta - prevDelta));
    prevDelta = delta;
    prev = x;
  }
  const raw = Buffer.allocUnsafe(8 * n);
  for (let i = 0; i < n; i++) raw.writeDoubleBE(v[i] as number, 8 * i);
  const out = Buffer.alloc(head.length + 8 * n + 4);
  out.set(head, 0);
  const base = head.length;
  for (let i = n - 1; i >= 0; i--) {
    for (let k = 0; k < 8; k++) {
      const b = raw[8 * i + k] as number;
      out[base + k * n + i] = i === 0 ? b : b ^ (raw[8 * (i - 1) + k] as number);
    }
  }
  out.writeUInt32LE(crc32(out.subarray(0, out.length - 4)), out.length - 4);
  return out;
}

/**
 * Decodes an {@link encodeBlock} blob. Anything that is not one (a wrong format byte, a bad
 * checksum, a truncated or over-long body, timestamps out of order or out of range, a value that is
 * not finite) is an `E_CORRUPT_DATA` {@link FleetwatchError} naming `path`; the work and memory are
 * bounded by the blob's length.
 *
 * @example
 * ```ts
 * const { ts, values } = decodeBlock(blob, 'points_block[tenant/series/1700000000000]');
 * ```
 */
export function decodeBlock(blob: Uint8Array, path = 'block'): BlockPoints {
  const corrupt = (why: string) =>
    new FleetwatchError('E_CORRUPT_DATA', `${path}: corrupt points block (${why})`, {
      path,
      details: { bytes: blob.length },
    });
  if (blob.length < 6) throw corrupt('too short');
  if (blob[0] !== BLOCK_FORMAT_VERSION) throw corrupt(`unknown format ${blob[0]}`);
  const body = blob.subarray(0, blob.length - 4);
  const sum = Buffer.from(blob.buffer, blob.byteOffset, blob.length).readUInt32LE(blob.length - 4);
  if (crc32(body) !== sum) throw corrupt('checksum mismatch');
  let pos = 1;
  const read = (): number => {
    let v = 0;
    let mul = 1;
    for (let k = 0; k < 8; k++) {
      if (pos >= body.length) throw corrupt('truncated');
      const byte = body[pos++] as number;
      v += (byte & 0x7f) * mul;
      if (byte < 0x80) return v;
      mul *= 128;
    }
    throw corrupt('varint too long');
  };
  const n = read();
  // every point takes at least one timestamp byte and eight value bytes
  if (n > MAX_BLOCK_POINTS || n * 9 > body.length - pos) throw corrupt(`count ${n} does not fit`);
  const ts = new Array<number>(n);
  let prev = 0;
  let delta = 0;
  for (let i = 0; i < n; i++) {
    const z = unzigzag(read());
    if (i === 0) prev = z;
    else {
      delta += z;
      if (delta <= 0) throw corrupt('timestamps out of order');
      prev += delta;
    }
    if (!Number.isSafeInteger(prev) || prev < 0) throw corrupt('timestamp out of range');
    ts[i] = prev;
  }
  if (body.length - pos !== 8 * n) throw corrupt('length mismatch');
  const raw = Buffer.alloc(8 * n);
  const values = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < 8; k++) {
      const x = body[pos + k * n + i] as number;
      raw[8 * i + k] = i === 0 ? x : x ^ (raw[8 * (i - 1) + k] as number);
    }
    const value = raw.readDoubleBE(8 * i);
    if (!Number.isFinite(value)) throw corrupt('value not finite');
    values[i] = value;
  }
  return { ts, values };
}

/**
 * Points sorted by ts, one per ts: the last given of each (stable sort, then keep the last). Input
 * already strictly increasing (as the roller's) is returned as is, not copied.
 */
function lastWriteWins(
  ts: readonly number[],
  values: readonly number[],
): { ts: readonly number[]; values: readonly number[] } {
  let sorted = true;
  for (let i = 1; i < ts.length; i++) {
    if ((ts[i] as number) <= (ts[i - 1] as number)) {
      sorted = false;
      break;
    }
  }
  if (sorted) return { ts, values };
  const order = ts.map((_, i) => i).sort((a, b) => (ts[a] as number) - (ts[b] as number) || a - b);
  const out: BlockPoints = { ts: [], values: [] };
  for (let j = 0; j < order.length; j++) {
    const i = order[j] as number;
    const next = order[j + 1];
    if (next !== undefined && ts[next] === ts[i]) continue;
    out.ts.push(ts[i] as number);
    out.values.push(values[i] as number);
  }
  return out;
}

function zigzag(v: number): number {
  return v >= 0 ? 2 * v : -2 * v - 1;
}

function unzigzag(z: number): number {
  return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
}

/** Appends `v` (a non-negative safe integer) as a base-128 varint (at most 8 bytes). */
function varint(out: number[], v: number): void {
  let x = v;
  while (x >= 0x80) {
    out.push((x % 128) | 0x80);
    x = Math.floor(x / 128);
  }
  out.push(x);
}
