/**
 * Minimal byte writer and reader for the metrics binary encodings: unsigned and zigzag varints (safe
 * up to 2^53) and little-endian float64. The reader never throws anything but a FleetwatchError
 * (`E_MALFORMED_RESPONSE`) on truncated or oversized input.
 *
 * @internal
 */
import { FleetwatchError } from '../errors.js';

/** A growable byte buffer. */
export class ByteWriter {
  #buf: Uint8Array;
  #view: DataView;
  /** Bytes written so far. */
  length = 0;

  constructor(initialCapacity = 64) {
    this.#buf = new Uint8Array(initialCapacity);
    this.#view = new DataView(this.#buf.buffer);
  }

  #ensure(extra: number): void {
    if (this.length + extra <= this.#buf.length) return;
    const next = new Uint8Array(Math.max(this.#buf.length * 2, this.length + extra));
    next.set(this.#buf.subarray(0, this.length));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }

  /** One byte. */
  u8(v: number): void {
    this.#ensure(1);
    this.#buf[this.length++] = v;
  }

  /** A non-negative integer below 2^53 as a LEB128 varint. */
  uvarint(v: number): void {
    this.#ensure(8);
    while (v >= 0x80) {
      this.#buf[this.length++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
      this.#ensure(1);
    }
    this.#buf[this.length++] = v;
  }

  /** A signed integer with |v| < 2^52 as a zigzag varint. */
  svarint(v: number): void {
    this.uvarint(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  /** A float64, little-endian. */
  f64(v: number): void {
    this.#ensure(8);
    this.#view.setFloat64(this.length, v, true);
    this.length += 8;
  }

  /** A copy of the written bytes. */
  finish(): Uint8Array {
    return this.#buf.slice(0, this.length);
  }
}

/** Reads what {@link ByteWriter} writes, failing with `E_MALFORMED_RESPONSE` on bad input. */
export class ByteReader {
  readonly #view: DataView;
  /** Read position. */
  pos = 0;

  readonly #bytes: Uint8Array;
  readonly #what: string;

  constructor(bytes: Uint8Array, what: string) {
    this.#bytes = bytes;
    this.#what = what;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Bytes left. */
  get remaining(): number {
    return this.#bytes.length - this.pos;
  }

  /** A malformed-input error naming the position. */
  fail(reason: string): FleetwatchError {
    return new FleetwatchError('E_MALFORMED_RESPONSE', `${this.#what}: ${reason} at byte ${this.pos}`, {
      position: this.pos,
    });
  }

  /** One byte. */
  u8(): number {
    if (this.pos >= this.#bytes.length) throw this.fail('unexpected end');
    return this.#bytes[this.pos++]!;
  }

  /** An unsigned varint below 2^53. */
  uvarint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.u8();
      result += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (!Number.isSafeInteger(result)) throw this.fail('varint too large');
        return result;
      }
      scale *= 0x80;
    }
    throw this.fail('varint too long');
  }

  /** A zigzag varint. */
  svarint(): number {
    const z = this.uvarint();
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }

  /** A float64, little-endian. */
  f64(): number {
    if (this.remaining < 8) throw this.fail('unexpected end');
    const v = this.#view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }
}
