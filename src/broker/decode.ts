/** Decoding of the broker wire protocol: frame bodies and the byte-stream splitter (see protocol.ts). */
import { FleetwatchError } from '../errors.js';
import type { MetricKind } from '../metrics/types.js';
import type { CombinePolicy } from '../metrics-store/types.js';
import {
  DEFAULT_MAX_FRAME_BYTES,
  FRAME_ACK,
  FRAME_MAGIC,
  FRAME_WINDOW,
  type Frame,
  frameError,
  HEADER_BYTES,
  KINDS,
  LENGTH_BYTES,
  POLICIES,
  PROTOCOL_VERSION,
  type WindowFrame,
  type WindowHeader,
  type WireSeries,
} from './wire.js';

/** Bounds-checked reads over one frame body. */
class Reader {
  pos: number;
  constructor(
    readonly buf: Buffer,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }
  need(n: number): void {
    if (this.pos + n > this.end) throw frameError(`truncated at byte ${this.pos}`, this.pos);
  }
  u8(): number {
    this.need(1);
    return this.buf[this.pos++] as number;
  }
  u16(): number {
    this.need(2);
    const v = this.buf.readUInt16LE(this.pos);
    this.pos += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }
  f64(): number {
    this.need(8);
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }
  str16(): string {
    const n = this.u16();
    this.need(n);
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
  bytes32(): Uint8Array {
    const n = this.u32();
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
}

/** Check the magic and version at the start of a frame body; returns the frame type. */
function readHeader(r: Reader): number {
  r.need(HEADER_BYTES);
  if (r.u16() !== FRAME_MAGIC) throw frameError('bad magic');
  const version = r.u8();
  if (version !== PROTOCOL_VERSION) throw frameError(`unsupported version ${version}`);
  return r.u8();
}

/**
 * Decode one frame body (the bytes after the length prefix). Throws `E_MALFORMED_FRAME` (a {@link FleetwatchError}) when it is
 * malformed: wrong magic or version, unknown type or kind, truncation, trailing bytes, non-finite
 * numbers. Sketch bytes are returned as views into `body`, not checked here.
 */
export function decodeFrame(body: Buffer): Frame {
  const r = new Reader(body, 0, body.length);
  const type = readHeader(r);
  let frame: Frame;
  if (type === FRAME_WINDOW) frame = decodeWindowBody(r);
  else if (type === FRAME_ACK) {
    const epoch = r.u32();
    const n = r.u32();
    r.need(n * 4);
    const seqs = new Array<number>(n);
    for (let i = 0; i < n; i++) seqs[i] = r.u32();
    frame = { type: FRAME_ACK, epoch, seqs };
  } else throw frameError(`unknown frame type ${type}`);
  if (r.pos !== r.end) throw frameError(`${r.end - r.pos} trailing bytes`);
  return frame;
}

function decodeWindowBody(r: Reader): WindowFrame {
  const w = new WindowReader(r.buf, r.pos);
  r.pos = r.end;
  const series = new Array<WireSeries>(w.count);
  for (let i = 0; i < w.count; i++) series[i] = w.next();
  return { type: FRAME_WINDOW, ...w.header, series };
}

/**
 * A WINDOW frame checked whole up front (structure, kinds, lengths, finite values — no allocation
 * per series) whose series are then decoded one at a time with {@link next}, so a large frame can
 * be merged in chunks without building every series object first.
 */
export class WindowReader {
  readonly header: WindowHeader;
  /** Number of series in the frame. */
  readonly count: number;
  readonly #r: Reader;
  readonly #cur: WireSeries = { key: '', kind: 'counter', policy: 'last', value: 0, sketch: undefined };
  #read = 0;

  /** Check `body` from `offset` (just after the frame header) as a WINDOW body; throws `E_MALFORMED_FRAME` (a {@link FleetwatchError}). */
  constructor(body: Buffer, offset: number) {
    const r = new Reader(body, offset, body.length);
    const epoch = r.u32();
    const seq = r.u32();
    const windowStart = r.f64();
    const intervalMs = r.u32();
    if (!Number.isSafeInteger(windowStart) || windowStart < 0) throw frameError('bad windowStart');
    if (intervalMs === 0) throw frameError('bad intervalMs');
    const sourceId = r.str16();
    if (sourceId.length === 0) throw frameError('empty sourceId');
    const count = r.u32();
    // Each series takes at least 9 bytes: refuse counts the body cannot hold before walking.
    if (count * 9 > r.end - r.pos) throw frameError('series count exceeds frame');
    const start = r.pos;
    const buf = r.buf;
    for (let i = 0; i < count; i++) {
      r.need(4);
      const kind = buf[r.pos] as number;
      if (kind >= KINDS.length) throw frameError(`series ${i}: unknown kind`);
      if ((buf[r.pos + 1] as number) >= POLICIES.length) throw frameError(`series ${i}: unknown policy`);
      const keyLen = buf.readUInt16LE(r.pos + 2);
      if (keyLen === 0) throw frameError(`series ${i}: empty key`);
      r.pos += 4;
      r.need(keyLen);
      r.pos += keyLen;
      if (kind === 3) {
        const n = r.u32();
        r.need(n);
        r.pos += n;
      } else if (!Number.isFinite(r.f64())) throw frameError(`series ${i}: non-finite value`);
    }
    if (r.pos !== r.end) throw frameError(`${r.end - r.pos} trailing bytes`);
    r.pos = start;
    this.#r = r;
    this.count = count;
    this.header = { sourceId, epoch, seq, windowStart, intervalMs };
  }

  /** Series left to read. */
  get remaining(): number {
    return this.count - this.#read;
  }

  /** Decode the next series into a new object (the frame was checked in the constructor). */
  next(): WireSeries {
    const c = this.advance();
    return c.kind === 'histogram'
      ? { key: c.key, kind: c.kind, policy: c.policy, value: 0, sketch: c.sketch as Uint8Array }
      : { key: c.key, kind: c.kind, policy: c.policy, value: c.value };
  }

  /**
   * Decode the next series into one reused object (valid until the next call): the allocation-free
   * path the broker merges with.
   */
  advance(): Readonly<WireSeries> {
    if (this.#read >= this.count) throw frameError('no more series');
    this.#read++;
    const r = this.#r;
    const c = this.#cur;
    c.kind = KINDS[r.u8()] as MetricKind;
    c.policy = POLICIES[r.u8()] as CombinePolicy;
    c.key = r.str16();
    if (c.kind === 'histogram') {
      c.value = 0;
      c.sketch = r.bytes32();
    } else {
      c.value = r.f64();
      c.sketch = undefined;
    }
    return c;
  }
}

/**
 * Check a frame body and return a {@link WindowReader} over its series. Throws `E_MALFORMED_FRAME` (a {@link FleetwatchError})
 * for anything but a well-formed WINDOW frame.
 */
export function readWindowFrame(body: Buffer): WindowReader {
  const r = new Reader(body, 0, body.length);
  const type = readHeader(r);
  if (type !== FRAME_WINDOW) throw frameError(`expected a WINDOW frame, got type ${type}`);
  return new WindowReader(body, r.pos);
}

/**
 * Reassembles frames from a byte stream. `push()` returns the complete frame bodies found so far.
 * Throws `E_MALFORMED_FRAME` (a {@link FleetwatchError}) when the stream cannot be trusted any more (bad magic right after a
 * length, or a length beyond `maxFrameBytes`): the caller should close the connection.
 * Large frames arriving in many chunks are joined once, not once per chunk.
 */
export class FrameSplitter {
  #chunks: Buffer[] = [];
  #buffered = 0;
  /** Total bytes of the frame being assembled, once its length is known. */
  #want = 0;
  constructor(readonly maxFrameBytes = DEFAULT_MAX_FRAME_BYTES) {}

  /** Bytes held waiting for the rest of a frame. */
  get bufferedBytes(): number {
    return this.#buffered;
  }

  /** Feed a chunk; get back zero or more frame bodies (views that stay valid). */
  push(chunk: Buffer): Buffer[] {
    if (chunk.length === 0) return [];
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    if (this.#want > 0 && this.#buffered < this.#want) return [];
    let buf = this.#chunks.length === 1 ? chunk : Buffer.concat(this.#chunks, this.#buffered);
    this.#chunks = [];
    this.#buffered = 0;
    this.#want = 0;
    const out: Buffer[] = [];
    let pos = 0;
    while (buf.length - pos >= LENGTH_BYTES + 2) {
      const len = buf.readUInt32LE(pos);
      if (len > this.maxFrameBytes) {
        throw new FleetwatchError('E_MALFORMED_FRAME', `malformed frame: ${len} bytes exceeds the limit`, {
          details: { limit: 'maxFrameBytes', max: this.maxFrameBytes, received: len },
        });
      }
      if (buf.readUInt16LE(pos + LENGTH_BYTES) !== FRAME_MAGIC) throw frameError('bad magic');
      if (buf.length - pos < LENGTH_BYTES + len) {
        this.#want = LENGTH_BYTES + len;
        break;
      }
      out.push(buf.subarray(pos + LENGTH_BYTES, pos + LENGTH_BYTES + len));
      pos += LENGTH_BYTES + len;
    }
    if (pos < buf.length) {
      buf = buf.subarray(pos);
      this.#chunks.push(buf);
      this.#buffered = buf.length;
    }
    return out;
  }
}
