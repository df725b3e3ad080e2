import type { Clock, Logger } from '../core.js';
import type { AlarmResult } from './alarm.js';
import type { NormalizedCheck } from './definition.js';
import type { HeapItem } from './heap.js';
import type { CheckStateStore } from './state.js';
import type {
  CheckInventory,
  CheckMetrics,
  CheckMetricsRegistry,
  CheckPointStore,
  CheckTarget,
  CheckType,
} from './types.js';
import type { CheckStateEvent, StateNotifier } from './webhook.js';

/** The 'result' event: one run of one check on one target. */
export interface CheckResultEvent {
  /** The `id` of the check that ran. */
  checkId: string;
  /** Target key: node uid for inventory targets, else the host/URL as written. */
  target: string;
  /** True when the check succeeded (the target answered as expected); the alarm decides the state separately. */
  ok: boolean;
  /**
   * What the run measured, by name (an http check: `code`, `duration`, the `cert_*` metrics…); the
   * alarm reads these.
   */
  metrics: CheckMetrics;
  /** Wall time of the run, ms (by the scheduler's clock). */
  durationMs: number;
  /** Why the run failed, when `ok` is false (a message, never a secret). */
  error?: string;
  /** Epoch ms when the run started. */
  ts: number;
  /** Epoch ms of the grid point it ran for. */
  scheduledAt: number;
  /** The node uid when the target is an inventory node. */
  node?: string;
}

/** The 'skipped' event: a due run not started because the previous one was still in flight. */
export interface CheckSkippedEvent {
  checkId: string;
  target: string;
  scheduledAt: number;
  reason: 'overrun' | 'late';
}

/** Events of `CheckScheduler`. */
export interface CheckSchedulerEvents {
  /** Every finished run, ok or not. */
  result: (e: CheckResultEvent) => void;
  /** A target's committed state changed (after the consecutive-count rule); the notifier is called too. */
  state: (e: CheckStateEvent) => void;
  /** A state change inside a suppression window (no 'state' event, no notifier call). */
  suppressed: (e: CheckStateEvent) => void;
  /** A due run was not started (the previous run still in flight, or too late); counted in `stats()`. */
  skipped: (e: CheckSkippedEvent) => void;
  /** Pipeline failures (store, state store, notifier, listener): never check failures. */
  error: (err: unknown) => void;
}

/** Timer functions, injectable for fake time. */
export interface SchedulerTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Options of `CheckScheduler`. */
export interface CheckSchedulerOptions {
  /** Where tag-query targets come from. */
  inventory?: CheckInventory;
  /** Receives each run's metrics as gauges `check.<metric>`, and self-metrics. */
  registry?: CheckMetricsRegistry;
  /** Receives each run's metrics as points `check.<metric>` (buffered). */
  store?: CheckPointStore;
  /** Runs in flight at once. @default 50 */
  concurrency?: number;
  /** Runs in flight per target host. @default unlimited */
  hostConcurrency?: number;
  /** Runs in flight per check type, e.g. `{ ping: 10 }`. */
  typeConcurrency?: Record<string, number>;
  /** Extra check types beside the built-in ones. */
  types?: readonly CheckType<unknown>[];
  /** Where states persist. @default a new MemoryCheckStateStore */
  stateStore?: CheckStateStore;
  /**
   * Called on each (unsuppressed) state change with `{ signal }` (aborted when `stop()` gives up on the
   * call after `stopGraceMs`); failures go to 'error'.
   */
  notifiers?: readonly StateNotifier[];
  /** `location` tag on every point. */
  location?: string;
  /** Which node IP targets use. @default 'public' (falls back to private) */
  ipPreference?: 'public' | 'private';
  /** How often buffered points are written and self-metrics reported, ms. @default 5000 */
  flushIntervalMs?: number;
  /**
   * How long `stop()` waits, in all, for runs that ignore their abort signal and for notifier calls in
   * flight, ms; calls still pending then are aborted and reported on 'error' (`E_TIMEOUT`). @default 5000
   */
  stopGraceMs?: number;
  /** The clock for the schedule grid and durations. @default `Date.now()` */
  clock?: Clock;
  /** Timer functions, injectable for fake time. @default `setTimeout`/`clearTimeout`, unref'd */
  timers?: SchedulerTimers;
  /** A pino-compatible logger for pipeline failures. @default silent */
  logger?: Logger;
}

/** Self-metrics of the scheduler. */
export interface CheckSchedulerStats {
  checks: number;
  /** Check × target pairs scheduled. */
  jobs: number;
  /** Runs waiting for a slot. */
  queued: number;
  running: number;
  runs: number;
  skippedOverrun: number;
  skippedLate: number;
  /** Start lateness (start − grid time), ms, over recent runs. */
  lateness: { p50: number; p99: number; max: number };
  /** Run durations, ms, over recent runs. */
  runDuration: { p50: number; p99: number; max: number };
  /** Event-loop delay, ms. */
  eventLoopLag: { p50: number; p99: number; max: number };
  pointsWritten: number;
  pointsDropped: number;
}

/** What `CheckScheduler.testCheck` returns per target. */
export interface TestCheckResult {
  target: string;
  ok: boolean;
  metrics: CheckMetrics;
  durationMs: number;
  error?: string;
  /** The alarm's verdict on this run. */
  alarm: AlarmResult;
}

/** One check × target pair, as the scheduler keeps it. */
export interface Job extends HeapItem {
  key: string;
  check: NormalizedCheck;
  target: CheckTarget;
  config: unknown;
  phase: number;
  inFlight: boolean;
  removed: boolean;
  /** Point tags, cached until the target changes. */
  tags?: Record<string, string>;
}

/** `setTimeout`/`clearTimeout` with the timers `unref`'d. */
export const defaultTimers: SchedulerTimers = {
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};
