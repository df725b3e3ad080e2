import { readFileSync } from 'node:fs';
import type { Point } from '../metrics-store/types.js';

/**
 * What the broker has seen since it started. All are totals except the `*Ms` fields and the last
 * four (current sizes). Every input the broker refuses or drops is counted here under its reason.
 */
export interface BrokerStats {
  /** WINDOW frames accepted (not counting duplicates). */
  frames: number;
  /** Frames that failed to decode, or connections dropped for an untrustworthy stream. */
  badFrames: number;
  /** Frames announcing a length beyond `maxFrameBytes` (the connection is closed; also in `badFrames`). */
  oversizedFrames: number;
  /** Series refused, all reasons (the five below). */
  badSeries: number;
  /** Series (or batch items) refused for a name or tags that break the naming rules. */
  badNames: number;
  /** Series refused for a non-finite value. */
  nonFiniteValues: number;
  /** Histogram series refused for a malformed sketch or a different accuracy. */
  badSketches: number;
  /** Series refused because the same series already holds another kind in the window. */
  kindConflicts: number;
  /** New series refused because `maxSeries` were known. */
  seriesOverflow: number;
  /** Series whose merged value overflowed (a sum or sketch became non-finite): dropped at window close. */
  nonFiniteAggregates: number;
  /** Series deltas merged from frames. */
  seriesDeltas: number;
  /** Sequence numbers skipped by a source (frames lost before they reached the broker). */
  gaps: number;
  /** Frames received again (a resend, or at or below the high-water sequence in the store): acknowledged, not merged twice. */
  duplicates: number;
  /** Frames whose window had already closed: merged into the oldest open window instead. */
  late: number;
  /** Frames refused because the merge queue or the byte budget was full (unacknowledged: socket clients resend). */
  overloaded: number;
  /** Frames refused because the broker was closing (unacknowledged: socket clients resend to the next broker). */
  refusedClosing: number;
  /** Client streams forgotten because `maxSources` were tracked (least recently seen first). */
  sourcesEvicted: number;
  /** Batches given to `ingest()` (StatsD lines included) and accepted whole. */
  batches: number;
  /** Batches refused whole (their items are counted under the reasons above). */
  rejectedBatches: number;
  statsdPackets: number;
  statsdLines: number;
  /** StatsD lines dropped, all reasons: the three below plus lines whose batch was refused. */
  badStatsdLines: number;
  /** StatsD lines longer than the limit. */
  statsdLinesTooLong: number;
  /** StatsD lines that are not `name:value|type[|@rate][|#tags]`. */
  statsdBadSyntax: number;
  /** StatsD lines with a value that is not a finite decimal number. */
  statsdBadNumbers: number;
  /** UDP socket errors reported to the broker. */
  udpErrors: number;
  /** Host-wide UDP receive-buffer drops since the broker started (Linux `/proc/net/snmp`), else 0. */
  udpRcvbufErrors: number;
  /** Windows written to the store (or closed, without a store). */
  flushes: number;
  /** Store writes that failed (the batch is split or kept for retry). */
  flushFailures: number;
  /** Points and sketches the store refused on their own after splitting: dropped. */
  quarantinedPoints: number;
  /** Closed windows dropped after `maxPendingWindows` failed retries piled up. */
  droppedWindows: number;
  /** Duration of the last flush, ms (building the points and the store writes). */
  lastFlushMs: number;
  /** Longest flush, ms. */
  maxFlushMs: number;
  connections: number;
  connectionErrors: number;
  /** Connections closed at accept because `maxConnections` were open. */
  connectionsRefused: number;
  /** Connections closed after `idleTimeoutMs` without a byte. */
  idleTimeouts: number;
  /** Connections closed because a started frame was not complete within `frameTimeoutMs`. */
  frameTimeouts: number;
  /** Connections closed because their data would have gone beyond `maxBufferedBytes`. */
  bufferOverflows: number;
  /** Windows currently open. */
  openWindows: number;
  /** Frames received and waiting to be merged. */
  queuedFrames: number;
  /** Bytes held now: partial frames and frames waiting to be merged. */
  bufferedBytes: number;
  /** Distinct series known. */
  series: number;
}

/** Counter-like stats written as per-window deltas under `fleetwatch.broker.<name>`. */
export const COUNTER_STATS = [
  'frames',
  'badFrames',
  'oversizedFrames',
  'badSeries',
  'badNames',
  'nonFiniteValues',
  'badSketches',
  'kindConflicts',
  'seriesOverflow',
  'nonFiniteAggregates',
  'seriesDeltas',
  'gaps',
  'duplicates',
  'late',
  'overloaded',
  'refusedClosing',
  'sourcesEvicted',
  'batches',
  'rejectedBatches',
  'statsdPackets',
  'statsdLines',
  'badStatsdLines',
  'statsdLinesTooLong',
  'statsdBadSyntax',
  'statsdBadNumbers',
  'udpErrors',
  'udpRcvbufErrors',
  'flushes',
  'flushFailures',
  'quarantinedPoints',
  'droppedWindows',
  'connections',
  'connectionErrors',
  'connectionsRefused',
  'idleTimeouts',
  'frameTimeouts',
  'bufferOverflows',
] as const satisfies ReadonlyArray<keyof BrokerStats>;

/** The gauges among the stats, written as they are. */
const GAUGE_STATS = ['lastFlushMs', 'openWindows', 'queuedFrames', 'bufferedBytes'] as const;

/** A fresh all-zero stats object. */
export function newStats(): BrokerStats {
  const s = { maxFlushMs: 0, series: 0 } as BrokerStats;
  for (const k of COUNTER_STATS) s[k] = 0;
  for (const k of GAUGE_STATS) s[k] = 0;
  return s;
}

/** Host-wide UDP receive-buffer errors (Linux), or undefined elsewhere. */
export function readUdpRcvbufErrors(): number | undefined {
  try {
    const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n');
    const header = lines.find((l) => l.startsWith('Udp: ') && !/\d/.test(l.slice(5, 6)));
    const values = lines.find((l) => l.startsWith('Udp: ') && /^\d/.test(l.slice(5, 6)));
    if (header === undefined || values === undefined) return undefined;
    const i = header.split(' ').indexOf('RcvbufErrors');
    const v = Number(values.split(' ')[i]);
    return i > 0 && Number.isFinite(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Self-metric points written with each window: the counters as deltas since the last successful
 * write (`commit()` moves the mark), and the gauges.
 */
export class SelfMetrics {
  readonly #written: Partial<Record<(typeof COUNTER_STATS)[number], number>> = {};
  constructor(
    readonly id: string,
    readonly tenant: string | undefined,
  ) {}

  /** The points for a window starting at `ts`. */
  points(stats: BrokerStats, ts: number): Point[] {
    const tags = { broker: this.id };
    const out: Point[] = [];
    const push = (metric: string, value: number) => {
      const p: Point = { metric: `fleetwatch.broker.${metric}`, tags, ts, value };
      if (this.tenant !== undefined) p.tenant = this.tenant;
      out.push(p);
    };
    for (const name of COUNTER_STATS) push(name, stats[name] - (this.#written[name] ?? 0));
    push('flushMs', stats.lastFlushMs);
    push('openWindows', stats.openWindows);
    push('queuedFrames', stats.queuedFrames);
    push('bufferedBytes', stats.bufferedBytes);
    return out;
  }

  /** Mark `stats` as written. */
  commit(stats: BrokerStats): void {
    for (const name of COUNTER_STATS) this.#written[name] = stats[name];
  }
}
