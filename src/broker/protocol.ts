/**
 * The broker wire protocol: length-prefixed binary frames over a Unix socket or TCP. Pure encode and
 * decode, no I/O. One WINDOW frame carries everything one process collected in one window; the broker
 * answers with ACK frames naming the sequence numbers it has made durable.
 *
 * Layout (little endian):
 * ```
 * u32 length            bytes after this field
 * u16 magic 0x5746      'FW'
 * u8  version 1
 * u8  type              1 WINDOW, 2 ACK
 * WINDOW: u32 epoch · u32 seq · f64 windowStart · u32 intervalMs · u16 n + source (UTF-8) · u32 count ·
 *         count × (u8 kind · u8 policy · u16 n + series key (UTF-8) · f64 value | u32 n + sketch bytes)
 * ACK:    u32 epoch · u32 count · count × u32 seq
 * ```
 * A series key is the metric name followed by its tags sorted by key, all joined with `\0`
 * (`cpu\0host\0a`), see `wireSeriesKey`.
 */
import { FleetwatchError } from '../errors.js';
import {
  FRAME_ACK,
  FRAME_MAGIC,
  FRAME_WINDOW,
  KIND_CODE,
  LENGTH_BYTES,
  POLICY_CODE,
  PROTOCOL_VERSION,
  type WindowHeader,
  type WireSeries,
} from './wire.js';

export { decodeFrame, FrameSplitter, readWindowFrame, WindowReader } from './decode.js';
export {
  type AckFrame,
  DEFAULT_MAX_FRAME_BYTES,
  FRAME_ACK,
  FRAME_MAGIC,
  FRAME_WINDOW,
  type Frame,
  LENGTH_BYTES,
  PROTOCOL_VERSION,
  parseWireSeriesKey,
  type WindowFrame,
  type WindowHeader,
  type WireSeries,
  wireSeriesKey,
} from './wire.js';

/** A growable output buffer reused across frames (the encoder allocates only when it must grow). */
class Writer {
  buf: Buffer;
  pos = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }
  u16(v: number): void {
    this.ensure(2);
    this.buf.writeUInt16LE(v, this.pos);
    this.pos += 2;
  }
  u32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(v >>> 0, this.pos);
    this.pos += 4;
  }
  f64(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }
  /** A string with a u16 byte-length prefix. */
  str16(s: string): void {
    this.ensure(2 + s.length * 3);
    const n = this.buf.write(s, this.pos + 2, 'utf8');
    if (n > 0xffff)
      throw new FleetwatchError('E_VALIDATION', 'a series key or source id is longer than 65535 bytes', {
        path: 'key',
        expected: 'at most 65535 UTF-8 bytes',
        received: `${n} bytes`,
      });
    this.buf.writeUInt16LE(n, this.pos);
    this.pos += 2 + n;
  }
  bytes32(b: Uint8Array): void {
    this.u32(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  /** Copy out the bytes written, filling in the u32 length prefix at 0. */
  finish(): Buffer {
    this.buf.writeUInt32LE(this.pos - LENGTH_BYTES, 0);
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
  start(type: number): void {
    this.pos = 0;
    this.u32(0);
    this.u16(FRAME_MAGIC);
    this.u8(PROTOCOL_VERSION);
    this.u8(type);
  }
}

/**
 * Encodes frames into a reused buffer. Each call returns a fresh Buffer (length prefix included) that
 * the caller may keep, e.g. for resending.
 */
export class FrameEncoder {
  readonly #w = new Writer(64 * 1024);

  /** Encode a WINDOW frame. */
  window(header: WindowHeader, series: Iterable<WireSeries>): Buffer {
    const w = this.#w;
    w.start(FRAME_WINDOW);
    w.u32(header.epoch);
    w.u32(header.seq);
    w.f64(header.windowStart);
    w.u32(header.intervalMs);
    w.str16(header.sourceId);
    const countAt = w.pos;
    w.u32(0);
    let count = 0;
    for (const s of series) {
      w.u8(KIND_CODE[s.kind]);
      w.u8(POLICY_CODE[s.policy]);
      w.str16(s.key);
      if (s.kind === 'histogram') w.bytes32(s.sketch ?? new Uint8Array(0));
      else w.f64(s.value);
      count++;
    }
    w.buf.writeUInt32LE(count, countAt);
    return w.finish();
  }

  /** Encode an ACK frame. */
  ack(epoch: number, seqs: readonly number[]): Buffer {
    const w = this.#w;
    w.start(FRAME_ACK);
    w.u32(epoch);
    w.u32(seqs.length);
    for (const s of seqs) w.u32(s);
    return w.finish();
  }
}
