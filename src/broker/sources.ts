import { randomBytes } from 'node:crypto';

/** A 32-bit finaliser (murmur3's fmix32). */
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/**
 * Two independent 32-bit hashes of a stream (source id and epoch), seeded at random per instance
 * (a sender cannot aim collisions it cannot compute). `hash()` leaves them in `a` and `b`: no
 * allocation. `a` places a stream in the source table (which compares the ids too); `a` and `b`
 * together, 64 bits, identify a forgotten stream in {@link HighWaterMarks}.
 *
 * @internal
 * @example
 * ```ts
 * const h = new StreamHasher();
 * h.hash('web-1:4242', 7);
 * const [a, b] = [h.a, h.b];
 * ```
 */
export class StreamHasher {
  readonly #seedA: number;
  readonly #seedB: number;
  a = 0;
  b = 0;

  constructor() {
    const seed = randomBytes(8);
    this.#seedA = seed.readInt32LE(0);
    this.#seedB = seed.readInt32LE(4);
  }

  hash(sourceId: string, epoch: number): void {
    let a = this.#seedA;
    let b = this.#seedB;
    for (let i = 0; i < sourceId.length; i++) {
      const c = sourceId.charCodeAt(i);
      a = Math.imul(a ^ c, 0x9e3779b1);
      a = (a << 13) | (a >>> 19);
      b = Math.imul(b ^ c, 0x85ebca77);
      b = (b << 17) | (b >>> 15);
    }
    this.a = fmix(Math.imul(a ^ epoch, 0xcc9e2d51) ^ sourceId.length);
    this.b = fmix(Math.imul(b ^ epoch, 0x1b873593) ^ sourceId.length);
  }
}

const nextPow2 = (n: number): number => 2 ** Math.ceil(Math.log2(Math.max(2, n)));

/**
 * The identities of the tracked client streams in a fixed number of slots: an open-addressing hash
 * index (linear probing, backward-shift deletion: no tombstones) over typed arrays, and a
 * least-recently-seen list threaded through the slots. The only object kept per stream is its
 * source id, the string the frame decoder made. A window's ledger names streams by their 64 bits
 * of hash alone ({@link findHashed}).
 *
 * @internal
 * @example
 * ```ts
 * const slots = new SourceSlots(4096);
 * const s = slots.add('web-1:4242', 7, a, b); // hashes from StreamHasher
 * slots.find('web-1:4242', 7, a, b); // → s
 * ```
 */
export class SourceSlots {
  readonly capacity: number;
  /** slot + 1 at each position of the hash index; 0 is empty. */
  readonly #index: Int32Array;
  readonly #mask: number;
  readonly #ids: Array<string | undefined>;
  readonly #epochs: Float64Array;
  readonly #a: Int32Array;
  readonly #b: Int32Array;
  /** Least-recently-seen list: toward the head is newer. -1 ends it. */
  readonly #newer: Int32Array;
  readonly #older: Int32Array;
  #head = -1;
  #tail = -1;
  readonly #free: Int32Array;
  #freeCount: number;

  constructor(capacity: number) {
    this.capacity = capacity;
    const size = nextPow2(capacity * 2);
    this.#index = new Int32Array(size);
    this.#mask = size - 1;
    this.#ids = new Array<string | undefined>(capacity).fill(undefined);
    this.#epochs = new Float64Array(capacity);
    this.#a = new Int32Array(capacity);
    this.#b = new Int32Array(capacity);
    this.#newer = new Int32Array(capacity).fill(-1);
    this.#older = new Int32Array(capacity).fill(-1);
    this.#free = new Int32Array(capacity);
    for (let i = 0; i < capacity; i++) this.#free[i] = capacity - 1 - i;
    this.#freeCount = capacity;
  }

  /** Streams held. */
  get size(): number {
    return this.capacity - this.#freeCount;
  }

  /** The slot of a stream, or -1. */
  find(sourceId: string, epoch: number, a: number, b: number): number {
    const index = this.#index;
    for (let i = a & this.#mask; ; i = (i + 1) & this.#mask) {
      const s = (index[i] as number) - 1;
      if (s === -1) return -1;
      if (this.#a[s] === a && this.#b[s] === b && this.#epochs[s] === epoch && this.#ids[s] === sourceId)
        return s;
    }
  }

  /**
   * The slot of the stream with these 64 bits of hash, or -1 (without the id: a different stream
   * matching all 64 bits has odds of about 2⁻⁶⁴ per lookup with seeds the sender does not know).
   */
  findHashed(a: number, b: number): number {
    const index = this.#index;
    for (let i = a & this.#mask; ; i = (i + 1) & this.#mask) {
      const s = (index[i] as number) - 1;
      if (s === -1) return -1;
      if (this.#a[s] === a && this.#b[s] === b) return s;
    }
  }

  /** Take a free slot for a stream (the caller makes room first), as the most recently seen. */
  add(sourceId: string, epoch: number, a: number, b: number): number {
    const s = this.#free[--this.#freeCount] as number;
    this.#ids[s] = sourceId;
    this.#epochs[s] = epoch;
    this.#a[s] = a;
    this.#b[s] = b;
    let i = a & this.#mask;
    while (this.#index[i] !== 0) i = (i + 1) & this.#mask;
    this.#index[i] = s + 1;
    this.#link(s);
    return s;
  }

  /** Mark a slot the most recently seen. */
  touch(s: number): void {
    if (this.#head === s) return;
    this.#unlink(s);
    this.#link(s);
  }

  /** The least recently seen slot, or -1 when none is held. */
  get oldest(): number {
    return this.#tail;
  }

  /** The next older slot than `s` (from {@link newest}), or -1. */
  older(s: number): number {
    return this.#older[s] as number;
  }

  /** The most recently seen slot, or -1. */
  get newest(): number {
    return this.#head;
  }

  /** Free a slot. */
  remove(s: number): void {
    const index = this.#index;
    const mask = this.#mask;
    let hole = (this.#a[s] as number) & mask;
    while (index[hole] !== s + 1) hole = (hole + 1) & mask;
    // Backward-shift: move each later entry of the run whose home is not between hole and it.
    for (let j = (hole + 1) & mask; index[j] !== 0; j = (j + 1) & mask) {
      const home = (this.#a[(index[j] as number) - 1] as number) & mask;
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        index[hole] = index[j] as number;
        hole = j;
      }
    }
    index[hole] = 0;
    this.#unlink(s);
    this.#ids[s] = undefined;
    this.#free[this.#freeCount++] = s;
  }

  id(s: number): string {
    return this.#ids[s] as string;
  }
  epoch(s: number): number {
    return this.#epochs[s] as number;
  }
  hashA(s: number): number {
    return this.#a[s] as number;
  }
  hashB(s: number): number {
    return this.#b[s] as number;
  }

  #link(s: number): void {
    this.#older[s] = this.#head;
    this.#newer[s] = -1;
    if (this.#head !== -1) this.#newer[this.#head] = s;
    this.#head = s;
    if (this.#tail === -1) this.#tail = s;
  }

  #unlink(s: number): void {
    const newer = this.#newer[s] as number;
    const older = this.#older[s] as number;
    if (newer === -1) this.#head = older;
    else this.#older[newer] = older;
    if (older === -1) this.#tail = newer;
    else this.#newer[older] = newer;
  }
}

/**
 * The high-water sequences of forgotten streams, in a fixed direct-mapped table keyed by their 64
 * bits of hash (a newer stream landing on the same place replaces the older one: a cache, not a
 * record). Lets a stream evicted from the source table still recognise a resend of a frame it had
 * made durable. A different stream matching all 64 bits (odds about 2⁻⁶⁴ per lookup with seeds the
 * sender does not know) would have a frame at or below the mark taken for a duplicate.
 *
 * @internal
 * @example
 * ```ts
 * const marks = new HighWaterMarks(16_384);
 * marks.set(a, b, 41);
 * marks.get(a, b); // → 41
 * ```
 */
export class HighWaterMarks {
  readonly #a: Int32Array;
  readonly #b: Int32Array;
  /** The mark, or -1 for an empty place. */
  readonly #seq: Float64Array;
  readonly #mask: number;

  constructor(size: number) {
    const n = nextPow2(size);
    this.#a = new Int32Array(n);
    this.#b = new Int32Array(n);
    this.#seq = new Float64Array(n).fill(-1);
    this.#mask = n - 1;
  }

  /** The mark of a stream, or -1. */
  get(a: number, b: number): number {
    const i = b & this.#mask;
    return this.#a[i] === a && this.#b[i] === b ? (this.#seq[i] as number) : -1;
  }

  set(a: number, b: number, seq: number): void {
    const i = b & this.#mask;
    this.#a[i] = a;
    this.#b[i] = b;
    this.#seq[i] = seq;
  }

  /** A frame of a forgotten stream became durable: the mark moves on if it was the next one. */
  advance(a: number, b: number, seq: number): void {
    const i = b & this.#mask;
    if (this.#a[i] === a && this.#b[i] === b && this.#seq[i] === seq - 1) this.#seq[i] = seq;
  }
}
