import { createHash } from 'node:crypto';
import type { MergedFrame } from './aggregate.js';
import type { FrameEncoder, WindowHeader } from './protocol.js';

/** The metric under which each window's write records the high-water sequence of every client stream in it. */
export const HIGH_WATER_METRIC = 'fleetwatch.broker.highWater';
/** High-water points are stamped with the start of this slot (a later write in the slot replaces). */
export const HIGH_WATER_SLOT_MS = 300_000;

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
  pending: number[];
  /** Durable but above `durable` (an earlier one is pending). */
  doneAbove: number[];
  /** Every admitted sequence at or below it is durable (here or by an earlier instance). */
  durable: number;
  /** `durable` as last written to the store. */
  written: number;
  /** The connection the stream's latest frame came on: where its ACKs go. */
  reply: ((ack: Buffer) => void) | undefined;
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

  /** Is this frame a duplicate (already durable, or admitted and pending), or new? Changes nothing. */
  classify(h: WindowHeader): Admission {
    const st = this.#streams.get(key(h));
    if (st !== undefined) {
      if (st.pending.includes(h.seq)) return 'duplicatePending';
      if (h.seq <= st.durable || st.doneAbove.includes(h.seq)) return 'duplicate';
      return 'admit';
    }
    if (this.#persisted.size === 0) return 'admit';
    return h.seq <= (this.#persisted.get(streamTag(h.sourceId, h.epoch)) ?? -1) ? 'duplicate' : 'admit';
  }

  /**
   * Forget the least recently seen tenth of the table in one pass (a pass per eviction would walk
   * the holes that deletions leave at the front of the map again and again).
   */
  #evict(): void {
    let n = Math.max(1, Math.floor(this.#max / 10));
    for (const k of this.#streams.keys()) {
      if (n-- === 0) break;
      this.#streams.delete(k);
      this.evicted++;
    }
  }

  /** A duplicate of a pending frame arrived (on a new connection): send the stream's ACKs there. */
  reroute(h: WindowHeader, reply: ((ack: Buffer) => void) | undefined): void {
    const st = this.#streams.get(key(h));
    if (st !== undefined && reply !== undefined) st.reply = reply;
  }

  /**
   * Record an admitted frame (creating its stream, forgetting the least recently seen one if full).
   */
  admit(h: WindowHeader, reply: ((ack: Buffer) => void) | undefined): void {
    const k = key(h);
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
      };
    } else this.#streams.delete(k); // re-inserted below: the map's order is least recently seen first
    this.#streams.set(k, st);
    if (st.highest >= 0 && h.seq > st.highest + 1) this.gaps += h.seq - st.highest - 1;
    if (h.seq > st.highest) st.highest = h.seq;
    st.pending.push(h.seq);
    if (reply !== undefined) st.reply = reply;
  }

  /** Acknowledge one frame right away (a duplicate of a durable one). */
  ackNow(h: WindowHeader, reply: ((ack: Buffer) => void) | undefined): void {
    try {
      reply?.(this.#encoder.ack(h.epoch, [h.seq]));
    } catch {
      // the connection is gone: the client resends and is acknowledged then
    }
  }

  /**
   * The frames of a window are settled (written, or dropped): no longer pending. Returns the
   * high-water sequences that moved as a result, by stream tag, to be written to the store.
   */
  release(frames: readonly MergedFrame[]): Map<string, number> {
    const touched = new Set<StreamState>();
    for (const f of frames) {
      const st = this.#streams.get(key(f));
      if (st === undefined) continue;
      const i = st.pending.indexOf(f.seq);
      if (i === -1) continue;
      st.pending.splice(i, 1);
      st.doneAbove.push(f.seq);
      touched.add(st);
    }
    const moved = new Map<string, number>();
    for (const st of touched) {
      let low = st.highest;
      for (const p of st.pending) if (p - 1 < low) low = p - 1;
      if (low > st.durable) st.durable = low;
      if (st.doneAbove.length > 0) st.doneAbove = st.doneAbove.filter((q) => q > st.durable);
      if (st.durable > st.written) moved.set(streamTag(st.sourceId, st.epoch), st.durable);
    }
    return moved;
  }

  /** Acknowledge durable frames: one ACK per connection and epoch. A failing reply is counted, never thrown. */
  ack(frames: readonly MergedFrame[], onError: () => void): void {
    const acks = new Map<(ack: Buffer) => void, Map<number, number[]>>();
    for (const f of frames) {
      const reply = this.#streams.get(key(f))?.reply ?? f.reply;
      if (reply === undefined) continue;
      let byEpoch = acks.get(reply);
      if (byEpoch === undefined) {
        byEpoch = new Map();
        acks.set(reply, byEpoch);
      }
      const list = byEpoch.get(f.epoch);
      if (list === undefined) byEpoch.set(f.epoch, [f.seq]);
      else list.push(f.seq);
    }
    for (const [reply, byEpoch] of acks) {
      for (const [epoch, seqs] of byEpoch) {
        try {
          reply(this.#encoder.ack(epoch, seqs));
        } catch {
          onError();
        }
      }
    }
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
