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
 * (`cpu\0host\0a`), see {@link wireSeriesKey}.
 */
import { FleetwatchError } from '../errors.js';
import type { GaugePolicy, MetricKind } from '../metrics/types.js';

/** The two magic bytes every frame starts with ('FW' read as little-endian u16). */
export const FRAME_MAGIC = 0x5746;
/** The protocol version this module speaks. */
export const PROTOCOL_VERSION = 1;
/** Frame type of a window of series deltas (client → broker). */
export const FRAME_WINDOW = 1;
/** Frame type of an acknowledgement (broker → client). */
export const FRAME_ACK = 2;
/** Largest frame body accepted by default: 64 MiB. */
export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024;
/** Bytes before a frame body: the u32 length. */
export const LENGTH_BYTES = 4;

const HEADER_BYTES = 4; // magic, version, type
const KINDS: readonly MetricKind[] = ['counter', 'gauge', 'meter', 'histogram'];
const POLICIES: readonly GaugePolicy[] = ['last', 'sum', 'min', 'max', 'avg'];
const KIND_CODE: Readonly<Record<MetricKind, number>> = { counter: 0, gauge: 1, meter: 2, histogram: 3 };
const POLICY_CODE: Readonly<Record<GaugePolicy, number>> = { last: 0, sum: 1, min: 2, max: 3, avg: 4 };

/** One series as it travels: a canonical key and either a number or an encoded sketch. */
export interface WireSeries {
  /** {@link wireSeriesKey} of the metric name and tags. */
  key: string;
  kind: MetricKind;
  /** Gauge policy (`last` for other kinds). */
  policy: GaugePolicy;
  /** counter/meter: the increase; gauge: the value. 0 for histograms. */
  value: number;
  /** Histograms: the encoded sketch (a view into the frame when decoded). */
  sketch?: Uint8Array;
}

/** The header of a WINDOW frame. */
export interface WindowHeader {
  /** Who sent it (a process or host id). */
  sourceId: string;
  /** Random per client instance: a restarted process with the same sourceId starts a new stream. */
  epoch: number;
  /** Sequence number within (sourceId, epoch), from 0, one per window frame. */
  seq: number;
  /** Window start, epoch ms. */
  windowStart: number;
  /** Window length, ms. */
  intervalMs: number;
}

/** A decoded WINDOW frame. */
export interface WindowFrame extends WindowHeader {
  type: typeof FRAME_WINDOW;
  series: WireSeries[];
}

/** A decoded ACK frame. */
export interface AckFrame {
  type: typeof FRAME_ACK;
  epoch: number;
  seqs: number[];
}

/** Any decoded frame. */
export type Frame = WindowFrame | AckFrame;

/** The `E_MALFORMED_FRAME` error of a malformed frame, `position` = the byte offset at fault. */
function frameError(message: string, position?: number): FleetwatchError {
  return new FleetwatchError(
    'E_MALFORMED_FRAME',
    `malformed frame: ${message}`,
    position === undefined ? {} : { position },
  );
}

/**
 * The canonical wire key of a series: name, then tags sorted by key, joined with `\0`. Names, tag
 * keys and tag values never contain `\0` (the store refuses control characters).
 */
export function wireSeriesKey(name: string, tags: Readonly<Record<string, string>> | undefined): string {
  if (tags === undefined) return name;
  const keys = Object.keys(tags);
  if (keys.length === 0) return name;
  if (keys.length > 1) keys.sort();
  let out = name;
  for (const k of keys) out += `\0${k}\0${tags[k]}`;
  return out;
}

/** The name and tags of a wire key; undefined when it is not well formed (odd number of parts). */
export function parseWireSeriesKey(key: string): { name: string; tags: Record<string, string> } | undefined {
  const parts = key.split('\0');
  if (parts.length % 2 !== 1) return undefined;
  const tags: Record<string, string> = {};
  for (let i = 1; i < parts.length; i += 2) tags[parts[i] as string] = parts[i + 1] as string;
  return { name: parts[0] as string, tags };
}

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
    c.policy = POLICIES[r.u8()] as GaugePolicy;
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
