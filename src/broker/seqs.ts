/**
 * A set of sequences: a small array while it is small (nearly always: one or two pending windows),
 * a `Set` once it grows, so a stream with many frames in flight costs O(1) per frame, not O(n).
 *
 * @internal
 */
type SeqSet = number[] | Set<number>;

/** Largest array before a {@link SeqSet} becomes a `Set`. */
const SMALL_SEQS = 16;

function seqHas(s: SeqSet, v: number): boolean {
  return Array.isArray(s) ? s.includes(v) : s.has(v);
}

function seqAdd(s: SeqSet, v: number): SeqSet {
  if (!Array.isArray(s)) return s.add(v);
  if (s.length < SMALL_SEQS) {
    s.push(v);
    return s;
  }
  return new Set(s).add(v);
}

function seqDelete(s: SeqSet, v: number): boolean {
  if (!Array.isArray(s)) return s.delete(v);
  const i = s.indexOf(v);
  if (i === -1) return false;
  s.splice(i, 1);
  return true;
}

function seqDropUpTo(s: SeqSet, max: number): SeqSet {
  if (Array.isArray(s)) return s.filter((q) => q > max);
  for (const q of s) if (q <= max) s.delete(q);
  return s.size <= SMALL_SEQS / 2 ? [...s] : s;
}

const seqSize = (s: SeqSet): number => (Array.isArray(s) ? s.length : s.size);

/**
 * One set of sequences (non-negative integers) per slot of the source table. A slot holding at
 * most one sequence (nearly every stream: one frame per window) keeps it in a typed array, with no
 * object; a second one moves the slot to a {@link SeqSet}, and back when it shrinks to one.
 *
 * @internal
 * @example
 * ```ts
 * const pending = new SlotSeqs(4096);
 * pending.add(7, 0); // slot 7 holds sequence 0, in a Float64Array
 * pending.delete(7, 0); // → true
 * ```
 */
export class SlotSeqs {
  /** The one sequence of a slot without a set, or -1. */
  readonly #one: Float64Array;
  readonly #more: Array<SeqSet | undefined>;

  constructor(slots: number) {
    this.#one = new Float64Array(slots).fill(-1);
    this.#more = new Array<SeqSet | undefined>(slots).fill(undefined);
  }

  has(slot: number, v: number): boolean {
    const m = this.#more[slot];
    return m === undefined ? this.#one[slot] === v : seqHas(m, v);
  }

  /** Add `v` (the caller adds a sequence the slot does not hold). */
  add(slot: number, v: number): void {
    const m = this.#more[slot];
    if (m !== undefined) this.#more[slot] = seqAdd(m, v);
    else if (this.#one[slot] === -1) this.#one[slot] = v;
    else {
      this.#more[slot] = [this.#one[slot] as number, v];
      this.#one[slot] = -1;
    }
  }

  delete(slot: number, v: number): boolean {
    const m = this.#more[slot];
    if (m === undefined) {
      if (this.#one[slot] !== v) return false;
      this.#one[slot] = -1;
      return true;
    }
    if (!seqDelete(m, v)) return false;
    this.#settle(slot, m);
    return true;
  }

  /** The smallest sequence of the slot, or Infinity when it holds none. */
  min(slot: number): number {
    const m = this.#more[slot];
    if (m === undefined) {
      const one = this.#one[slot] as number;
      return one === -1 ? Number.POSITIVE_INFINITY : one;
    }
    let low = Number.POSITIVE_INFINITY;
    for (const q of m) if (q < low) low = q;
    return low;
  }

  /** Remove every sequence at or below `max`. */
  dropUpTo(slot: number, max: number): void {
    const m = this.#more[slot];
    if (m === undefined) {
      if ((this.#one[slot] as number) <= max) this.#one[slot] = -1;
    } else this.#settle(slot, seqDropUpTo(m, max));
  }

  /** Empty the slot. */
  clear(slot: number): void {
    this.#one[slot] = -1;
    this.#more[slot] = undefined;
  }

  /** Whether the slot's sequences are in a hashed `Set` (O(1) per operation, however many). */
  hashed(slot: number): boolean {
    return this.#more[slot] instanceof Set;
  }

  /** Store `m` as the slot's set, or as its one sequence (or none) when it is that small. */
  #settle(slot: number, m: SeqSet): void {
    const n = seqSize(m);
    if (n > 1) this.#more[slot] = m;
    else {
      this.#more[slot] = undefined;
      this.#one[slot] = n === 0 ? -1 : (m.values().next().value as number);
    }
  }
}
