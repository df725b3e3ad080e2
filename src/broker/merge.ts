import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Clock } from '../core.js';
import { DDSketch } from '../metrics/sketch.js';
import { MAX_FUTURE_MS } from '../metrics-store/validate.js';
import { type AggregateKind, SeriesDictionary, type SeriesReject, WindowState } from './aggregate.js';
import type { IngestBatch, IngestItem, IngestResult } from './ingest.js';
import type { FrameLedger, Reply } from './ledger.js';
import { type WindowHeader, type WindowReader, wireSeriesKey } from './protocol.js';

/** Where the merger counts what it refuses. */
export type RejectCounter = (reason: SeriesReject, n?: number) => void;

/** Where the merger records a frame it merged, with the ledger of the window it went to. */
export type FrameRecorder = (header: WindowHeader, reply: Reply | undefined, ledger: FrameLedger) => void;

/** Settings the merger needs. */
export interface MergerSettings {
  intervalMs: number;
  maxSeries: number;
  chunkSize: number;
  statsdAccuracy: number;
  maxSetMembers: number;
  clock: Clock;
}

const ITEM_KIND: Readonly<Record<IngestItem['kind'], AggregateKind>> = {
  counter: 'counter',
  gauge: 'gauge',
  histogram: 'histogram',
  samples: 'histogram',
  set: 'set',
};

/**
 * The open windows and the series dictionary: merges frames (series by series, each refused on its
 * own) and ingest batches (whole or not at all) into wall-clock-aligned windows.
 */
export class WindowMerger {
  readonly dict: SeriesDictionary;
  readonly windows = new Map<number, WindowState>();
  readonly #o: MergerSettings;
  readonly #reject: RejectCounter;
  readonly #record: FrameRecorder;
  #closedBefore = Number.NEGATIVE_INFINITY;
  /** Frames merged into a window that had closed (moved to the oldest open one). */
  late = 0;

  constructor(o: MergerSettings, reject: RejectCounter, record: FrameRecorder) {
    this.#o = o;
    this.#reject = reject;
    this.#record = record;
    this.dict = new SeriesDictionary(o.maxSeries);
  }

  /**
   * The window for data stamped `windowStart`. Data for a closed window (late) goes to the oldest
   * window still open, so one source's frames always land in windows in the order they were sent.
   */
  target(windowStart: number, countLate: boolean): WindowState {
    const { intervalMs } = this.#o;
    const now = this.#o.clock.now();
    let start = Math.floor(windowStart / intervalMs) * intervalMs;
    if (start < this.#closedBefore) {
      if (countLate) this.late++;
      start = this.#closedBefore;
    } else if (start > now + MAX_FUTURE_MS) {
      if (countLate) this.late++;
      start = Math.max(Math.floor(now / intervalMs) * intervalMs, this.#closedBefore);
    }
    let w = this.windows.get(start);
    if (w === undefined) {
      w = new WindowState(start);
      this.windows.set(start, w);
    }
    return w;
  }

  /** Take the windows due at `now` (all with `all`), oldest first, marking them closed. */
  takeDue(now: number, graceMs: number, all: boolean): WindowState[] {
    const { intervalMs } = this.#o;
    const due = [...this.windows.keys()]
      .filter((s) => all || s + intervalMs + graceMs <= now)
      .sort((a, b) => a - b);
    const out: WindowState[] = [];
    for (const start of due) {
      out.push(this.windows.get(start) as WindowState);
      this.windows.delete(start);
      this.#closedBefore = Math.max(this.#closedBefore, start + intervalMs);
    }
    return out;
  }

  /**
   * Merge one checked frame now, in one go (for frames of at most `chunkSize` series); refused
   * series are counted one by one.
   */
  mergeFrameNow(reader: WindowReader, reply: Reply | undefined): void {
    this.#mergeSeries(reader, this.#open(reader, reply), reader.count);
  }

  /** Merge one checked frame, `chunkSize` series between yields. */
  async mergeFrame(reader: WindowReader, reply: Reply | undefined): Promise<void> {
    const w = this.#open(reader, reply);
    const { chunkSize } = this.#o;
    for (let left = reader.count; left > 0; left -= chunkSize) {
      this.#mergeSeries(reader, w, Math.min(chunkSize, left));
      if (left > chunkSize) await yieldToLoop();
    }
  }

  /** The window a frame goes to, where it is recorded. */
  #open(reader: WindowReader, reply: Reply | undefined): WindowState {
    const w = this.target(reader.header.windowStart, true);
    this.#record(reader.header, reply, w.frames);
    return w;
  }

  #mergeSeries(reader: WindowReader, w: WindowState, n: number): void {
    const dict = this.dict;
    const source = reader.header.sourceId;
    for (let i = 0; i < n; i++) {
      const s = reader.advance();
      let bad: SeriesReject | undefined;
      if (s.kind === 'counter' || s.kind === 'meter') bad = w.addCount(s.key, dict, s.kind, s.value);
      else if (s.kind === 'gauge') bad = w.setGauge(s.key, dict, s.policy, source, s.value);
      else if (s.sketch !== undefined) bad = w.mergeEncodedSketch(s.key, dict, s.sketch);
      if (bad !== undefined) this.#reject(bad);
    }
  }

  /** Validate a whole batch, then apply it to the current window, or refuse it whole. */
  applyBatch(batch: IngestBatch): IngestResult {
    const w = this.target(this.#o.clock.now(), false);
    const items = Array.isArray(batch?.items) ? batch.items : undefined;
    if (items === undefined || typeof batch.source !== 'string' || batch.source.length === 0) {
      return this.#refuse(items?.length ?? 0, 'badNames', items === undefined ? 'items' : 'source');
    }
    const keys = new Array<string>(items.length);
    const kinds = new Map<string, AggregateKind>();
    const bases = new Map<string, number>();
    for (let i = 0; i < items.length; i++) {
      const item = items[i] as IngestItem;
      const bad = this.#checkItem(item, w);
      if (bad !== undefined) return this.#refuse(items.length, bad[0], `items[${i}].${bad[1]}`);
      const key = wireSeriesKey(item.name, item.tags);
      const kind = ITEM_KIND[item.kind];
      const prev = kinds.get(key);
      const conflict = prev !== undefined && prev !== kind ? 'kindConflicts' : w.check(key, this.dict, kind);
      if (conflict !== undefined) return this.#refuse(items.length, conflict, `items[${i}].name`);
      if (item.kind === 'histogram') {
        const base = bases.get(key);
        if (base !== undefined && base !== item.sketch.base) {
          return this.#refuse(items.length, 'badSketches', `items[${i}].sketch`);
        }
        bases.set(key, item.sketch.base);
      }
      kinds.set(key, kind);
      keys[i] = key;
    }
    for (let i = 0; i < items.length; i++)
      this.#apply(items[i] as IngestItem, keys[i] as string, w, batch.source);
    return { accepted: items.length };
  }

  #refuse(n: number, reason: SeriesReject, field: string): IngestResult {
    this.#reject(reason, Math.max(1, n));
    return { accepted: 0, rejected: n, reason, field };
  }

  /** The reason and field an item is refused for, checked without changing anything. */
  #checkItem(item: IngestItem, w: WindowState): [SeriesReject, string] | undefined {
    if (item === null || typeof item !== 'object' || !(item.kind in ITEM_KIND)) return ['badNames', 'kind'];
    if (typeof item.name !== 'string' || (item.tags !== undefined && typeof item.tags !== 'object')) {
      return ['badNames', 'name'];
    }
    switch (item.kind) {
      case 'counter':
      case 'gauge':
        return typeof item.value === 'number' && Number.isFinite(item.value)
          ? undefined
          : ['nonFiniteValues', 'value'];
      case 'histogram': {
        if (!(item.sketch instanceof DDSketch)) return ['badSketches', 'sketch'];
        const bad = w.checkSketch(wireSeriesKey(item.name, item.tags), item.sketch);
        return bad === undefined ? undefined : [bad, 'sketch'];
      }
      case 'samples':
        if (!(item.weight > 0 && item.weight < Number.POSITIVE_INFINITY))
          return ['nonFiniteValues', 'weight'];
        if (!Array.isArray(item.values)) return ['nonFiniteValues', 'values'];
        for (const v of item.values) if (!Number.isFinite(v)) return ['nonFiniteValues', 'values'];
        return undefined;
      case 'set':
        return Array.isArray(item.members) && item.members.every((m) => typeof m === 'string')
          ? undefined
          : ['badNames', 'members'];
    }
  }

  #apply(item: IngestItem, key: string, w: WindowState, source: string): void {
    const dict = this.dict;
    switch (item.kind) {
      case 'counter':
        w.addCount(key, dict, 'counter', item.value);
        break;
      case 'gauge':
        w.setGauge(key, dict, 'last', source, item.value);
        break;
      case 'histogram':
        w.mergeSketch(key, dict, item.sketch.clone());
        break;
      case 'samples':
        w.addSamples(key, dict, item.values, item.weight, this.#o.statsdAccuracy);
        break;
      case 'set':
        w.addMembers(key, dict, item.members, this.#o.maxSetMembers);
        break;
    }
  }
}
