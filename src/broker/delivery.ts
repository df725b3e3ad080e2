import { createHash } from 'node:crypto';
import type { MergedFrame, ReplyRoute } from './aggregate.js';
import type { FrameEncoder, WindowHeader } from './protocol.js';

/** The metric under which each window's write records the high-water sequence of every client stream in it. */
export const HIGH_WATER_METRIC = 'fleetwatch.broker.highWater';
/** High-water points are stamped with the start of this slot (a later write in the slot replaces). */
export const HIGH_WATER_SLOT_MS = 300_000;

/** Seen sequence numbers remembered per stream, for duplicate detection. */
const SEEN_WINDOW = 4096;

/** What the broker knows about one client stream (a source id and epoch). */
interface StreamState {
  readonly tag: string;
  /** Highest sequence admitted. */
  highest: number;
  /** Sequences admitted recently (pruned to the last {@link SEEN_WINDOW}). */
  readonly seen: Set<number>;
  /** Admitted, not yet durable. */
  readonly pending: Set<number>;
  /** Highest sequence known durable with every admitted one below it (here or by an earlier instance). */
  durable: number;
  /** `durable` as last written to the store. */
  written: number;
  readonly route: ReplyRoute;
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
    if (st?.seen.has(h.seq)) return st.pending.has(h.seq) ? 'duplicatePending' : 'duplicate';
    const durable = st?.durable ?? this.#persisted.get(streamTag(h.sourceId, h.epoch)) ?? -1;
    return h.seq <= durable ? 'duplicate' : 'admit';
  }

  /** A duplicate of a pending frame arrived (on a new connection): send the stream's ACKs there. */
  reroute(h: WindowHeader, reply: ((ack: Buffer) => void) | undefined): void {
    const st = this.#streams.get(key(h));
    if (st !== undefined && reply !== undefined) st.route.reply = reply;
  }

  /**
   * Record an admitted frame (creating its stream, forgetting the least recently seen one if full).
   * Returns where its ACK goes.
   */
  admit(h: WindowHeader, reply: ((ack: Buffer) => void) | undefined): ReplyRoute {
    const k = key(h);
    let st = this.#streams.get(k);
    if (st === undefined) {
      if (this.#streams.size >= this.#max) {
        const oldest = this.#streams.keys().next().value as string;
        this.#streams.delete(oldest);
        this.evicted++;
      }
      const tag = streamTag(h.sourceId, h.epoch);
      const durable = this.#persisted.get(tag) ?? -1;
      st = {
        tag,
        highest: durable,
        seen: new Set(),
        pending: new Set(),
        durable,
        written: durable,
        route: { reply },
      };
    } else this.#streams.delete(k); // re-inserted below: the map's order is least recently seen first
    this.#streams.set(k, st);
    if (st.highest >= 0 && h.seq > st.highest + 1) this.gaps += h.seq - st.highest - 1;
    if (h.seq > st.highest) st.highest = h.seq;
    st.seen.add(h.seq);
    if (st.seen.size > SEEN_WINDOW) {
      for (const s of st.seen) if (s < st.highest - SEEN_WINDOW) st.seen.delete(s);
    }
    st.pending.add(h.seq);
    if (reply !== undefined) st.route.reply = reply;
    return st.route;
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
      const st = this.#streams.get(f.stream);
      if (st === undefined) continue;
      st.pending.delete(f.seq);
      touched.add(st);
    }
    const moved = new Map<string, number>();
    for (const st of touched) {
      let low = st.highest;
      for (const p of st.pending) if (p - 1 < low) low = p - 1;
      if (low > st.durable) st.durable = low;
      if (st.durable > st.written) moved.set(st.tag, st.durable);
    }
    return moved;
  }

  /** Acknowledge durable frames: one ACK per connection and epoch. A failing reply is counted, never thrown. */
  ack(frames: readonly MergedFrame[], onError: () => void): void {
    const acks = new Map<(ack: Buffer) => void, Map<number, number[]>>();
    for (const f of frames) {
      const reply = f.route.reply;
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
      const w = moved.get(st.tag);
      if (w !== undefined && w > st.written) st.written = w;
    }
  }
}

/** The in-memory key of a stream. */
export function key(h: Pick<WindowHeader, 'sourceId' | 'epoch'>): string {
  return `${h.sourceId}\0${h.epoch}`;
}
