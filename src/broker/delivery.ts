import { createHash } from 'node:crypto';
import type { FrameLedger, Reply } from './ledger.js';
import type { FrameEncoder, WindowHeader } from './protocol.js';
import { SlotSeqs } from './seqs.js';
import { HighWaterMarks, SourceSlots, StreamHasher } from './sources.js';

/** Sequences per ACK frame (an ACK for a large window is sent in parts of at most this many). */
const ACK_CHUNK = 8_192;

/** The metric under which each window's write records the high-water sequence of every client stream in it. */
export const HIGH_WATER_METRIC = 'fleetwatch.broker.highWater';
/** High-water points are stamped with the start of this slot (a later write in the slot replaces). */
export const HIGH_WATER_SLOT_MS = 300_000;
/** Places in the table of forgotten streams' high-water marks, per tracked stream. */
const MARKS_PER_SOURCE = 4;

/** What to do with an arriving frame. */
export type Admission = 'duplicate' | 'duplicatePending' | 'admit';

/** The store tag of a stream: a short hash of source id and epoch (fits the store's tag rules). */
export function streamTag(sourceId: string, epoch: number): string {
  return createHash('sha256')
    .update(sourceId)
    .update('\0')
    .update(String(epoch))
    .digest('base64url')
    .slice(0, 22);
}

/**
 * Delivery bookkeeping: client streams (a source id and epoch; bounded, least recently seen
 * forgotten first), duplicate detection against what this instance admitted, what earlier instances
 * wrote (the high-water sequences read from the store at start) and what forgotten streams had made
 * durable, and the acknowledgements of durable frames. Per stream it keeps numbers in typed arrays
 * indexed by a slot ({@link SourceSlots}): sequences at or below `durable` are done, `pending` are
 * merged and not yet written, `doneAbove` are written while an earlier one is still pending. A flood
 * of new sources allocates no object per frame but the decoded header.
 *
 * @internal
 * @example
 * ```ts
 * const table = new StreamTable(4096, new FrameEncoder());
 * if (table.classify(header) === 'admit') table.admit(header, reply);
 * ```
 */
export class StreamTable {
  readonly #slots: SourceSlots;
  readonly #hasher = new StreamHasher();
  /** Highest sequence admitted, per slot. */
  readonly #highest: Float64Array;
  /** Every admitted sequence at or below it is durable (here or by an earlier instance), per slot. */
  readonly #durable: Float64Array;
  /** `durable` as last written to the store, per slot. */
  readonly #written: Float64Array;
  /** The connection each stream's latest frame came on: where its ACKs go. */
  readonly #replies: Array<Reply | undefined>;
  readonly #pending: SlotSeqs;
  readonly #doneAbove: SlotSeqs;
  /** High-water sequences of streams forgotten here. */
  readonly #marks: HighWaterMarks;
  /** High-water sequences read from the store, by stream tag. */
  readonly #persisted = new Map<string, number>();
  readonly #encoder: FrameEncoder;
  /** Per slot, the last release pass that touched it; and that pass's slots. */
  readonly #seenIn: Int32Array;
  #pass = 0;
  readonly #touched: number[] = [];
  /** Streams forgotten because the table was full. */
  evicted = 0;
  /** Sequence numbers skipped by sources. */
  gaps = 0;

  constructor(maxSources: number, encoder: FrameEncoder) {
    this.#encoder = encoder;
    this.#slots = new SourceSlots(maxSources);
    this.#highest = new Float64Array(maxSources);
    this.#durable = new Float64Array(maxSources);
    this.#written = new Float64Array(maxSources);
    this.#replies = new Array<Reply | undefined>(maxSources).fill(undefined);
    this.#pending = new SlotSeqs(maxSources);
    this.#doneAbove = new SlotSeqs(maxSources);
    this.#marks = new HighWaterMarks(maxSources * MARKS_PER_SOURCE);
    this.#seenIn = new Int32Array(maxSources);
  }

  /** Streams tracked now. */
  get size(): number {
    return this.#slots.size;
  }

  /** Remember a high-water sequence an earlier instance wrote. */
  restore(tag: string, seq: number): void {
    if (seq > (this.#persisted.get(tag) ?? -1)) this.#persisted.set(tag, seq);
  }

  /** The header last hashed (a frame is classified, admitted and recorded in a row). */
  #hashedFor: WindowHeader | undefined;
  /** The slot of a header's stream, or -1; leaves its hashes in the hasher. */
  #find(h: WindowHeader): number {
    const hs = this.#hasher;
    if (h !== this.#hashedFor) {
      this.#hashedFor = h;
      hs.hash(h.sourceId, h.epoch);
    }
    return this.#slots.find(h.sourceId, h.epoch, hs.a, hs.b);
  }

  /** The high-water sequence the store held for a stream at start, or -1. */
  #persistedMark(h: WindowHeader): number {
    return this.#persisted.size === 0 ? -1 : (this.#persisted.get(streamTag(h.sourceId, h.epoch)) ?? -1);
  }

  /**
   * What is known durable of a stream not in the table (call right after #find): the higher of the
   * store's mark (`persisted`) and a forgotten stream's, -1 if neither.
   */
  #knownDurable(persisted: number): number {
    return Math.max(persisted, this.#marks.get(this.#hasher.a, this.#hasher.b));
  }

  /** Is this frame a duplicate (already durable, or admitted and pending), or new? Changes nothing. */
  classify(h: WindowHeader): Admission {
    const s = this.#find(h);
    if (s !== -1) {
      if (this.#pending.has(s, h.seq)) return 'duplicatePending';
      if (h.seq <= (this.#durable[s] as number) || this.#doneAbove.has(s, h.seq)) return 'duplicate';
      return 'admit';
    }
    return h.seq <= this.#knownDurable(this.#persistedMark(h)) ? 'duplicate' : 'admit';
  }

  /**
   * Forget the least recently seen tenth of the table, keeping each one's high-water mark in
   * {@link HighWaterMarks}. Their frames in open or failing windows are acknowledged, once written,
   * on the connection recorded with them in the window's ledger.
   */
  #evict(): void {
    const slots = this.#slots;
    for (let n = Math.max(1, Math.floor(slots.capacity / 10)); n > 0 && slots.oldest !== -1; n--) {
      const s = slots.oldest;
      const durable = this.#durable[s] as number;
      if (durable >= 0) this.#marks.set(slots.hashA(s), slots.hashB(s), durable);
      slots.remove(s);
      this.#replies[s] = undefined;
      this.#pending.clear(s);
      this.#doneAbove.clear(s);
      this.evicted++;
    }
  }

  /** A duplicate of a pending frame arrived (on a new connection): send the stream's ACKs there. */
  reroute(h: WindowHeader, reply: Reply | undefined): void {
    const s = this.#find(h);
    if (s !== -1 && reply !== undefined) this.#replies[s] = reply;
  }

  /**
   * Record an admitted frame (creating its stream, forgetting the least recently seen tenth if full).
   */
  admit(h: WindowHeader, reply: Reply | undefined): void {
    let s = this.#find(h);
    if (s === -1) {
      const persisted = this.#persistedMark(h);
      const durable = this.#knownDurable(persisted);
      if (this.#slots.size >= this.#slots.capacity) this.#evict();
      s = this.#slots.add(h.sourceId, h.epoch, this.#hasher.a, this.#hasher.b);
      this.#highest[s] = durable;
      this.#durable[s] = durable;
      this.#written[s] = persisted;
    } else this.#slots.touch(s);
    const highest = this.#highest[s] as number;
    if (highest >= 0 && h.seq > highest + 1) this.gaps += h.seq - highest - 1;
    if (h.seq > highest) this.#highest[s] = h.seq;
    this.#pending.add(s, h.seq);
    if (reply !== undefined) this.#replies[s] = reply;
  }

  /** Acknowledge one frame right away (a duplicate of a durable one). */
  ackNow(h: WindowHeader, reply: Reply | undefined): void {
    try {
      reply?.(this.#encoder.ack(h.epoch, [h.seq]));
    } catch {
      // the connection is gone: the client resends and is acknowledged then
    }
  }

  /**
   * An admitted frame was merged into the window of `ledger`: it is released and acknowledged with
   * that window. A frame whose stream was forgotten meanwhile is owed an ACK on its connection.
   */
  record(h: WindowHeader, reply: Reply | undefined, ledger: FrameLedger): void {
    const s = this.#find(h);
    const { a, b } = this.#hasher;
    ledger.push(a, b, h.seq, h.epoch, (s === -1 ? undefined : this.#replies[s]) ?? reply);
  }

  /**
   * The frames of a window are settled (written, or dropped): no longer pending. Returns the
   * high-water sequences that moved as a result, by stream tag, to be written to the store.
   * Idempotent (a window whose high-water write failed is released again on retry).
   */
  release(ledger: FrameLedger): Map<string, number> {
    const pass = ++this.#pass;
    const touched = this.#touched;
    touched.length = 0;
    for (let i = 0; i < ledger.length; i++) {
      const a = ledger.hashA(i);
      const b = ledger.hashB(i);
      const seq = ledger.seq(i);
      const s = this.#slots.findHashed(a, b);
      if (s === -1) {
        this.#marks.advance(a, b, seq);
        continue;
      }
      if (this.#pending.delete(s, seq)) this.#doneAbove.add(s, seq);
      if (this.#seenIn[s] !== pass) {
        this.#seenIn[s] = pass;
        touched.push(s);
      }
    }
    const moved = new Map<string, number>();
    for (const s of touched) {
      const low = Math.min(this.#highest[s] as number, this.#pending.min(s) - 1);
      if (low > (this.#durable[s] as number)) this.#durable[s] = low;
      const durable = this.#durable[s] as number;
      this.#doneAbove.dropUpTo(s, durable);
      if (durable > (this.#written[s] as number))
        moved.set(streamTag(this.#slots.id(s), this.#slots.epoch(s)), durable);
    }
    touched.length = 0;
    return moved;
  }

  /**
   * Acknowledge the durable frames of a window: to each stream's latest connection, and for
   * forgotten streams to the connection recorded for them; one ACK per connection and epoch (in
   * parts of at most 8192 sequences). A failing reply is counted, never thrown.
   */
  ack(ledger: FrameLedger, onError: () => void): void {
    const owed = new Map<Reply, Map<number, number[]>>();
    for (let i = 0; i < ledger.length; i++) {
      const s = this.#slots.findHashed(ledger.hashA(i), ledger.hashB(i));
      const reply = (s === -1 ? undefined : this.#replies[s]) ?? ledger.reply(i);
      if (reply === undefined) continue;
      let byEpoch = owed.get(reply);
      if (byEpoch === undefined) {
        byEpoch = new Map();
        owed.set(reply, byEpoch);
      }
      const epoch = ledger.epoch(i);
      let list = byEpoch.get(epoch);
      if (list === undefined) {
        list = [];
        byEpoch.set(epoch, list);
      }
      // A sequence just listed is not listed again (a flood of new sources all sending sequence 0
      // on one connection costs one entry, not one per frame).
      const seq = ledger.seq(i);
      if (list[list.length - 1] !== seq) list.push(seq);
    }
    ledger.clear();
    for (const [reply, byEpoch] of owed) {
      for (const [epoch, seqs] of byEpoch) {
        for (let i = 0; i < seqs.length; i += ACK_CHUNK) {
          try {
            reply(
              this.#encoder.ack(
                epoch,
                i === 0 && seqs.length <= ACK_CHUNK ? seqs : seqs.slice(i, i + ACK_CHUNK),
              ),
            );
          } catch {
            onError();
            break;
          }
        }
      }
    }
  }

  /** The high-water sequences of `moved` are in the store. */
  markWritten(moved: ReadonlyMap<string, number>): void {
    const slots = this.#slots;
    for (let s = slots.newest; s !== -1; s = slots.older(s)) {
      if ((this.#durable[s] as number) <= (this.#written[s] as number)) continue;
      const w = moved.get(streamTag(slots.id(s), slots.epoch(s)));
      if (w !== undefined && w > (this.#written[s] as number)) this.#written[s] = w;
    }
  }
}
