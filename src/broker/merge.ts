import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Clock } from '../core.js';
import { MAX_FUTURE_MS } from '../metrics-store/validate.js';
import { SeriesDictionary, type SeriesReject, WindowState } from './aggregate.js';
import type { BatchContext } from './ingest-apply.js';
import type { FrameLedger, Reply } from './ledger.js';
import type { WindowHeader, WindowReader } from './protocol.js';

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

/**
 * The open windows and the series dictionary: merges frames (series by series, each refused on its
 * own) into wall-clock-aligned windows, and lends them to `ingest-apply.ts` for ingest batches
 * (whole or not at all) through {@link WindowMerger.batches}.
 */
export class WindowMerger {
  readonly dict: SeriesDictionary;
  readonly windows = new Map<number, WindowState>();
  /** What applying ingest batches needs (`ingest-apply.ts`). */
  readonly batches: BatchContext;
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
    this.batches = {
      dict: this.dict,
      window: () => this.target(o.clock.now(), false),
      statsdAccuracy: o.statsdAccuracy,
      maxSetMembers: o.maxSetMembers,
      reject,
    };
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
}
