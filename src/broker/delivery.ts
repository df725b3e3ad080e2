import { createHash } from 'node:crypto';
import type { FrameEncoder, WindowHeader } from './protocol.js';

/** Where a frame's ACKs go: the connection it came on. */
export type Reply = (ack: Buffer) => void;

/** Sequences per ACK frame (an ACK for a large window is sent in parts of at most this many). */
const ACK_CHUNK = 8_192;

/** The metric under which each window's write records the high-water sequence of every client stream in it. */
export const HIGH_WATER_METRIC = 'fleetwatch.broker.highWater';
/** High-water points are stamped with the start of this slot (a later write in the slot replaces). */
export const HIGH_WATER_SLOT_MS = 300_000;

/**
 * A set of sequences: a small array while it is small (nearly always: one or two pending windows),
 * a `Set` once it grows, so a stream with many frames in flight costs O(1) per frame, not O(n).
 */
type SeqSet = number[] | Set<number>;
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
  if (Array.isArray(s)) return s.length === 0 ? s : s.filter((q) => q > max);
  for (const q of s) if (q <= max) s.delete(q);
  return s.size <= SMALL_SEQS / 2 ? [...s] : s;
}

/**
 * What the broker knows about one client stream (a source id and epoch). Kept small (a flood of new
 * sources creates one per frame): sequences at or below `durable` are done, `pending` are merged and
 * not yet written, `doneAbove` are written while an earlier one is still pending.
 */
interface StreamState {
  readonly sourceId: string;
  readonly epoch: number;
  /** Highest sequence admitted. */
  highest: number;
  /** Admitted, not yet durable (few: one per open or failing window). */
  pending: SeqSet;
  /** Durable but above `durable` (an earlier one is pending). */
  doneAbove: SeqSet;
  /** Every admitted sequence at or below it is durable (here or by an earlier instance). */
  durable: number;
  /** `durable` as last written to the store. */
  written: number;
  /** The connection the stream's latest frame came on: where its ACKs go. */
  reply: Reply | undefined;
  /** The ledgers (windows) holding its pending sequences (few: one per open or failing window). */
  ledgers: FrameLedger[];
}

/**
 * The frames merged into one window, to be released and acknowledged once it is durable. Frames of a
 * stream the source table still tracks are kept per stream (at most `maxSources` entries); when a
 * stream is forgotten, its frames here become ACKs owed to its connection: one number per frame, no
 * object and no string, so a flood of new sources costs a window 8 bytes per frame.
 *
 * @internal
 */
export class FrameLedger {
  /** Sequences in this window of each stream in the table. */
  readonly live = new Map<StreamState, number[]>();
  /** ACKs owed for frames of streams forgotten since, by connection and epoch. */
  readonly owed = new Map<Reply, Map<number, number[]>>();

  /** Owe ACKs of `seqs` (epoch `epoch`) to `reply`. */
  owe(reply: Reply | undefined, epoch: number, seqs: readonly number[] | number): void {
    if (reply === undefined) return;
    let byEpoch = this.owed.get(reply);
    if (byEpoch === undefined) {
      byEpoch = new Map();
      this.owed.set(reply, byEpoch);
    }
    let list = byEpoch.get(epoch);
    if (list === undefined) {
      list = [];
      byEpoch.set(epoch, list);
    }
    // A sequence just owed is not listed again (a flood of new sources all sending sequence 0
    // costs one entry, not one per frame).
    if (typeof seqs === 'number') {
      if (list[list.length - 1] !== seqs) list.push(seqs);
    } else for (const q of seqs) if (list[list.length - 1] !== q) list.push(q);
  }
}

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
 * Delivery bookkeeping: client streams (bounded, least recently seen forgotten first), duplicate
 * detection against what this instance admitted and what earlier instances wrote (the high-water
 * sequences read from the store at start), and the acknowledgements of durable frames.
 */
export class StreamTable {
  readonly #streams = new Map<string, StreamState>();
  /** High-water sequences read from the store, by stream tag. */
  readonly #persisted = new Map<string, number>();
  readonly #max: number;
  readonly #encoder: FrameEncoder;
  /** Streams forgotten because the table was full. */
  evicted = 0;
  /** Sequence numbers skipped by sources. */
  gaps = 0;

  constructor(maxSources: number, encoder: FrameEncoder) {
    this.#max = maxSources;
    this.#encoder = encoder;
  }

  /** Streams tracked now. */
  get size(): number {
    return this.#streams.size;
  }

  /** Remember a high-water sequence an earlier instance wrote. */
  restore(tag: string, seq: number): void {
    if (seq > (this.#persisted.get(tag) ?? -1)) this.#persisted.set(tag, seq);
  }

  /** The key of the header last looked up (a frame is classified, admitted and recorded in a row). */
  #keyOf: WindowHeader | undefined;
  #key = '';
  #k(h: WindowHeader): string {
    if (h !== this.#keyOf) {
      this.#keyOf = h;
      this.#key = key(h);
    }
    return this.#key;
  }

  /** Is this frame a duplicate (already durable, or admitted and pending), or new? Changes nothing. */
  classify(h: WindowHeader): Admission {
    const st = this.#streams.get(this.#k(h));
    if (st !== undefined) {
      if (seqHas(st.pending, h.seq)) return 'duplicatePending';
      if (h.seq <= st.durable || seqHas(st.doneAbove, h.seq)) return 'duplicate';
      return 'admit';
    }
    if (this.#persisted.size === 0) return 'admit';
    return h.seq <= (this.#persisted.get(streamTag(h.sourceId, h.epoch)) ?? -1) ? 'duplicate' : 'admit';
  }

  /**
   * Forget the least recently seen tenth of the table in one pass (a pass per eviction would walk
   * the holes that deletions leave at the front of the map again and again). Their frames in open
   * or failing windows become ACKs owed to their connection.
   */
  #evict(): void {
    let n = Math.max(1, Math.floor(this.#max / 10));
    for (const [k, st] of this.#streams) {
      if (n-- === 0) break;
      this.#streams.delete(k);
      this.evicted++;
      for (const ledger of st.ledgers) {
        const seqs = ledger.live.get(st);
        ledger.live.delete(st);
        if (seqs !== undefined) ledger.owe(st.reply, st.epoch, seqs);
      }
      st.ledgers = [];
    }
  }

  /** A duplicate of a pending frame arrived (on a new connection): send the stream's ACKs there. */
  reroute(h: WindowHeader, reply: Reply | undefined): void {
    const st = this.#streams.get(this.#k(h));
    if (st !== undefined && reply !== undefined) st.reply = reply;
  }

  /**
   * Record an admitted frame (creating its stream, forgetting the least recently seen one if full).
   */
  admit(h: WindowHeader, reply: Reply | undefined): void {
    const k = this.#k(h);
    let st = this.#streams.get(k);
    if (st === undefined) {
      if (this.#streams.size >= this.#max) this.#evict();
      const durable =
        this.#persisted.size === 0 ? -1 : (this.#persisted.get(streamTag(h.sourceId, h.epoch)) ?? -1);
      st = {
        sourceId: h.sourceId,
        epoch: h.epoch,
        highest: durable,
        pending: [],
        doneAbove: [],
        durable,
        written: durable,
        reply,
        ledgers: [],
      };
    } else this.#streams.delete(k); // re-inserted below: the map's order is least recently seen first
    this.#streams.set(k, st);
    if (st.highest >= 0 && h.seq > st.highest + 1) this.gaps += h.seq - st.highest - 1;
    if (h.seq > st.highest) st.highest = h.seq;
    st.pending = seqAdd(st.pending, h.seq);
    if (reply !== undefined) st.reply = reply;
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
    const st = this.#streams.get(this.#k(h));
    if (st === undefined || !seqHas(st.pending, h.seq)) {
      ledger.owe(st?.reply ?? reply, h.epoch, h.seq);
      return;
    }
    const seqs = ledger.live.get(st);
    if (seqs !== undefined) seqs.push(h.seq);
    else {
      ledger.live.set(st, [h.seq]);
      st.ledgers.push(ledger);
    }
  }

  /**
   * The frames of a window are settled (written, or dropped): no longer pending. Returns the
   * high-water sequences that moved as a result, by stream tag, to be written to the store.
   */
  release(ledger: FrameLedger): Map<string, number> {
    const moved = new Map<string, number>();
    for (const [st, seqs] of ledger.live) {
      const at = st.ledgers.indexOf(ledger);
      if (at !== -1) st.ledgers.splice(at, 1);
      for (const seq of seqs) {
        if (!seqDelete(st.pending, seq)) continue;
        st.doneAbove = seqAdd(st.doneAbove, seq);
      }
      let low = st.highest;
      for (const p of st.pending) if (p - 1 < low) low = p - 1;
      if (low > st.durable) st.durable = low;
      st.doneAbove = seqDropUpTo(st.doneAbove, st.durable);
      if (st.durable > st.written) moved.set(streamTag(st.sourceId, st.epoch), st.durable);
    }
    return moved;
  }

  /**
   * Acknowledge the durable frames of a window: to each stream's latest connection, and for
   * forgotten streams to the connection recorded for them; one ACK per connection and epoch (in
   * parts of at most 8192 sequences). A failing reply is counted, never thrown.
   */
  ack(ledger: FrameLedger, onError: () => void): void {
    for (const [st, seqs] of ledger.live) ledger.owe(st.reply, st.epoch, seqs);
    ledger.live.clear();
    for (const [reply, byEpoch] of ledger.owed) {
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
    ledger.owed.clear();
  }

  /** The high-water sequences of `moved` are in the store. */
  markWritten(moved: ReadonlyMap<string, number>): void {
    for (const st of this.#streams.values()) {
      if (st.durable <= st.written) continue;
      const w = moved.get(streamTag(st.sourceId, st.epoch));
      if (w !== undefined && w > st.written) st.written = w;
    }
  }
}

/** The in-memory key of a stream. */
export function key(h: Pick<WindowHeader, 'sourceId' | 'epoch'>): string {
  return `${h.sourceId}\0${h.epoch}`;
}
