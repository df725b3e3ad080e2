import { monitorEventLoopDelay } from 'node:perf_hooks';
import { RecentSamples } from './grid.js';
import type { CheckSchedulerStats } from './scheduler-types.js';
import type { CheckMetricsRegistry } from './types.js';

const LOOP_RESOLUTION_MS = 10;

/** What the scheduler knows live and the self-metrics do not count themselves. */
export type SchedulerLiveStats = Pick<
  CheckSchedulerStats,
  'checks' | 'jobs' | 'queued' | 'running' | 'pointsWritten' | 'pointsDropped'
>;

/**
 * The CheckScheduler's self-metrics: run and skip counters, recent lateness and run durations, the
 * event-loop delay, and their publication as `checks.scheduler.*` gauges.
 *
 * @example
 * ```ts
 * const m = new SchedulerMetrics();
 * m.enable();
 * m.counters.runs++;
 * m.durations.push(12);
 * const s = m.snapshot({ checks: 1, jobs: 1, queued: 0, running: 0, pointsWritten: 0, pointsDropped: 0 });
 * m.publish(registry, s, { location: 'eu' });
 * ```
 */
export class SchedulerMetrics {
  /** Runs finished, runs skipped because the previous one was still in flight, grid slots missed. */
  readonly counters = { runs: 0, skippedOverrun: 0, skippedLate: 0 };
  /** Start of a run minus its grid time (ms). */
  readonly lateness = new RecentSamples();
  /** Run durations (ms). */
  readonly durations = new RecentSamples();
  readonly #loopDelay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });

  /** Start sampling the event-loop delay. */
  enable(): void {
    this.#loopDelay.enable();
  }

  /** Stop sampling the event-loop delay. */
  disable(): void {
    this.#loopDelay.disable();
  }

  /** The scheduler's stats: `live` plus the counters and summaries kept here. */
  snapshot(live: SchedulerLiveStats): CheckSchedulerStats {
    // the histogram records whole sampling intervals: the delay is what exceeds the resolution
    const ms = (ns: number) => (Number.isFinite(ns) ? Math.max(0, ns / 1e6 - LOOP_RESOLUTION_MS) : 0);
    return {
      checks: live.checks,
      jobs: live.jobs,
      queued: live.queued,
      running: live.running,
      ...this.counters,
      lateness: this.lateness.summary(),
      runDuration: this.durations.summary(),
      eventLoopLag: {
        p50: ms(this.#loopDelay.percentile(50)),
        p99: ms(this.#loopDelay.percentile(99)),
        max: ms(this.#loopDelay.max),
      },
      pointsWritten: live.pointsWritten,
      pointsDropped: live.pointsDropped,
    };
  }

  /** Set the `checks.scheduler.*` gauges from `s` (tagged with `location` when given). */
  publish(reg: CheckMetricsRegistry, s: CheckSchedulerStats, opts: { location?: string } = {}): void {
    const tags: Record<string, string> = opts.location ? { location: opts.location } : {};
    reg.gauge('checks.scheduler.queue_depth', tags).set(s.queued);
    reg.gauge('checks.scheduler.running', tags).set(s.running);
    reg.gauge('checks.scheduler.skipped_overrun', tags).set(s.skippedOverrun);
    reg.gauge('checks.scheduler.skipped_late', tags).set(s.skippedLate);
    reg.gauge('checks.scheduler.lateness_p99_ms', tags).set(s.lateness.p99);
    reg.gauge('checks.scheduler.run_duration_p99_ms', tags).set(s.runDuration.p99);
    reg.gauge('checks.scheduler.event_loop_lag_p99_ms', tags).set(s.eventLoopLag.p99);
  }
}
