import { EventEmitter } from 'eventemitter3';
import { type Clock, type Logger, positiveNumber, silentLogger, systemClock } from '../core.js';
import { FleetwatchError } from '../errors.js';
import { errorText } from './config.js';
import {
  BUILTIN_CHECK_TYPES,
  type CheckDefinition,
  type NormalizedCheck,
  normalizeCheck,
  runFailure,
} from './definition.js';
import { JobTable } from './jobs.js';
import { ResultPipeline } from './pipeline.js';
import { RunQueues, runCheck } from './runner.js';
import { SchedulerMetrics } from './scheduler-metrics.js';
import {
  type CheckResultEvent,
  type CheckSchedulerEvents,
  type CheckSchedulerOptions,
  type CheckSchedulerStats,
  defaultTimers,
  type Job,
  type SchedulerTimers,
  type TestCheckResult,
} from './scheduler-types.js';
import { CheckResultSink } from './sink.js';
import { MemoryCheckStateStore, type SuppressionWindow } from './state.js';
import { runTestCheck } from './test-check.js';
import { Timeline } from './timeline.js';
import type { CheckInventory, CheckType } from './types.js';

export type { CheckDefinition } from './definition.js';
export { BUILTIN_CHECK_TYPES } from './definition.js';
export { fnv1a, nextGridTime } from './grid.js';
export type {
  CheckResultEvent,
  CheckSchedulerEvents,
  CheckSchedulerOptions,
  CheckSchedulerStats,
  CheckSkippedEvent,
  SchedulerTimers,
  TestCheckResult,
} from './scheduler-types.js';
export type { CheckStateEvent, StateNotifier } from './webhook.js';

/**
 * The CheckScheduler: one timer over a min-heap of due times; each check and target runs on the grid
 * `phase + k·period` (phase = hash of check id and target), so there is no drift, no thundering
 * herd and no start-up sleep. Runs go through p-queue (global concurrency, optional per-host and
 * per-type caps), each with its own AbortController fired at the timeout. A run whose previous one
 * is still queued or running is skipped and counted. Results feed a separate pipeline (alarm →
 * state → store/registry → notifiers) whose failures never turn into check failures.
 *
 * @example
 * ```ts
 * const scheduler = new CheckScheduler({ inventory, store, concurrency: 50 });
 * scheduler.add({ id: 'web-http', type: 'http', targets: 'tag:role=web', periodMs: 60_000, timeoutMs: 10_000,
 *   http: { url: 'https://{ip}/health' }, alarm: "if (metric['code'] != '200') return CRITICAL; return OK" });
 * scheduler.on('state', (e) => console.log(e.checkId, e.target, e.previous, '→', e.state));
 * scheduler.start();
 * await scheduler.stop();
 * ```
 */
export class CheckScheduler extends EventEmitter<CheckSchedulerEvents> {
  readonly #opts: CheckSchedulerOptions;
  readonly #clock: Clock;
  readonly #timers: SchedulerTimers;
  readonly #logger: Logger;
  readonly #types = new Map<string, CheckType<unknown>>();
  readonly #table: JobTable;
  readonly #timeline: Timeline;
  readonly #queues: RunQueues;
  readonly #running = new Set<AbortController>();
  readonly #sink: CheckResultSink;
  readonly #pipeline: ResultPipeline;
  readonly #metrics = new SchedulerMetrics();
  #flushTimer: unknown;
  #started = false;
  #stopping: Promise<void> | undefined;
  readonly #onInventory = () => this.#table.queueRefresh();

  constructor(options: CheckSchedulerOptions = {}) {
    super();
    this.#opts = options;
    this.#clock = options.clock ?? systemClock;
    this.#timers = options.timers ?? defaultTimers;
    this.#logger = options.logger ?? silentLogger;
    this.#timeline = new Timeline(this.#clock, this.#timers, () => this.#tick());
    this.#table = new JobTable({
      ...(options.inventory ? { inventory: options.inventory } : {}),
      ...(options.ipPreference ? { ipPreference: options.ipPreference } : {}),
      logger: this.#logger,
      report: (err, msg) => this.#report(err, msg),
      onAdded: (job) => {
        if (this.#started && !this.#stopping) this.#timeline.schedule(job, this.#clock.now() - 1);
      },
      onDropped: (job) => {
        this.#timeline.remove(job);
        this.#pipeline.forget(job);
      },
      onSynced: () => {
        if (this.#started) this.#timeline.arm();
      },
    });
    const concurrency = positiveNumber(options.concurrency ?? 50, 'options.concurrency', {
      integer: true,
      min: 1,
    });
    if (options.hostConcurrency !== undefined)
      positiveNumber(options.hostConcurrency, 'options.hostConcurrency', { integer: true, min: 1 });
    for (const [k, v] of Object.entries(options.typeConcurrency ?? {}))
      positiveNumber(v, `options.typeConcurrency.${k}`, { integer: true, min: 1 });
    if (options.flushIntervalMs !== undefined)
      positiveNumber(options.flushIntervalMs, 'options.flushIntervalMs');
    this.#queues = new RunQueues({
      concurrency,
      ...(options.hostConcurrency !== undefined ? { hostConcurrency: options.hostConcurrency } : {}),
      ...(options.typeConcurrency ? { typeConcurrency: options.typeConcurrency } : {}),
    });
    for (const t of [...BUILTIN_CHECK_TYPES, ...(options.types ?? [])]) this.#types.set(t.type, t);
    this.#sink = new CheckResultSink({
      ...(options.registry ? { registry: options.registry } : {}),
      ...(options.store ? { store: options.store } : {}),
      onError: (err) => this.#report(err, 'store write failed'),
    });
    this.#pipeline = new ResultPipeline({
      sink: this.#sink,
      stateStore: options.stateStore ?? new MemoryCheckStateStore(),
      ...(options.inventory ? { inventory: options.inventory } : {}),
      ...(options.notifiers ? { notifiers: options.notifiers } : {}),
      ...(options.location ? { location: options.location } : {}),
      emit: (event, payload) => this.#safeEmit(event, payload),
      report: (err, msg) => this.#report(err, msg),
    });
  }

  // ------------------------------------------------------------ checks

  /** Validate and add a check. Throws `E_VALIDATION` naming the field. */
  add(def: CheckDefinition): void {
    this.#table.add(this.#normalize(def));
  }

  /** Remove a check; a run in flight finishes but is not rescheduled. Returns whether it existed. */
  remove(id: string): boolean {
    return this.#table.remove(id);
  }

  /** Ids of the checks added. */
  list(): string[] {
    return this.#table.ids();
  }

  /** Target keys a check currently runs against. */
  targetsOf(id: string): string[] {
    return this.#table.targetsOf(id);
  }

  /** Add a suppression window (mutes state-change notifications in its scope). */
  addSuppression(window: SuppressionWindow): void {
    this.#pipeline.addSuppression(window);
  }

  /** Remove a suppression window by id. */
  removeSuppression(id: string): boolean {
    return this.#pipeline.removeSuppression(id);
  }

  #normalize(def: CheckDefinition, forTest = false): NormalizedCheck {
    return normalizeCheck(def, this.#types, { hasInventory: this.#opts.inventory !== undefined, forTest });
  }

  // ------------------------------------------------------------ timing

  #tick(): void {
    if (this.#stopping) return;
    const now = this.#clock.now();
    for (let top = this.#timeline.peek(); top && top.due <= now; top = this.#timeline.peek()) {
      const scheduledAt = top.due;
      this.#dispatch(top, scheduledAt);
      const missed = Math.floor((now - scheduledAt) / top.check.periodMs);
      if (missed > 0) {
        this.#metrics.counters.skippedLate += missed;
        this.#safeEmit('skipped', { checkId: top.check.id, target: top.key, scheduledAt, reason: 'late' });
      }
      this.#timeline.schedule(top, Math.max(now, scheduledAt));
    }
    this.#timeline.arm();
  }

  #dispatch(job: Job, scheduledAt: number): void {
    if (job.inFlight) {
      this.#metrics.counters.skippedOverrun++;
      this.#safeEmit('skipped', { checkId: job.check.id, target: job.key, scheduledAt, reason: 'overrun' });
      return;
    }
    job.inFlight = true;
    this.#queues
      .add(job.target.host, job.check.type.type, () => this.#execute(job, scheduledAt))
      .catch((err) => {
        job.inFlight = false;
        this.#report(err, 'run failed to start');
      });
  }

  async #execute(job: Job, scheduledAt: number): Promise<void> {
    if (job.removed || this.#stopping) {
      job.inFlight = false;
      return;
    }
    const check = job.check;
    const start = this.#clock.now();
    this.#metrics.lateness.push(start - scheduledAt);
    let run: Awaited<ReturnType<typeof runCheck>>;
    try {
      run = await runCheck(check, job.config, job.target, this.#timers, { inFlight: this.#running });
    } finally {
      job.inFlight = false;
    }
    if ((this.#stopping && run.aborted) || job.removed) return;
    const { outcome } = run;
    const end = this.#clock.now();
    this.#metrics.durations.push(end - start);
    this.#metrics.counters.runs++;
    const error = runFailure(check, outcome);
    const result: CheckResultEvent = {
      checkId: check.id,
      target: job.key,
      ok: error === undefined,
      metrics: outcome.metrics,
      durationMs: end - start,
      ts: start,
      scheduledAt,
      ...(error !== undefined ? { error } : {}),
      ...(job.target.node ? { node: job.target.node.uid } : {}),
    };
    this.#safeEmit('result', result);
    this.#pipeline.handOff(job, result);
  }

  #safeEmit<E extends keyof CheckSchedulerEvents>(
    event: E,
    payload: Parameters<CheckSchedulerEvents[E]>[0],
  ): void {
    try {
      (this.emit as (e: E, p: unknown) => boolean)(event, payload);
    } catch (err) {
      if (event !== 'error') this.#report(err, `'${event}' listener threw`);
    }
  }

  #report(err: unknown, msg: string): void {
    this.#logger.warn({ err: err instanceof FleetwatchError ? err.toJSON() : errorText(err) }, msg);
    if (this.listenerCount('error') > 0) this.#safeEmit('error', err);
  }

  // ------------------------------------------------------------ lifecycle

  /** Start running checks. Idempotent. Restores saved states before the first evaluation. */
  start(): void {
    if (this.#stopping) throw new FleetwatchError('E_CLOSED', 'scheduler stopped');
    if (this.#started) return;
    this.#started = true;
    this.#pipeline.restore();
    const inv = this.#opts.inventory;
    if (inv) for (const e of ['added', 'removed', 'changed'] as const) inv.on(e, this.#onInventory);
    const now = this.#clock.now();
    for (const job of this.#table.allJobs()) this.#timeline.schedule(job, now - 1);
    this.#timeline.arm();
    this.#metrics.enable();
    const every = this.#opts.flushIntervalMs ?? 5000;
    const flush = () => {
      void this.#sink.flush();
      this.#reportSelf();
      this.#flushTimer = this.#timers.setTimeout(flush, every);
    };
    if (this.#opts.store || this.#opts.registry) this.#flushTimer = this.#timers.setTimeout(flush, every);
  }

  /**
   * Stop: no new runs, in-flight runs aborted (their results dropped), the pipeline drained, notifier
   * calls in flight waited for (within `stopGraceMs`), results flushed. Idempotent.
   */
  stop(): Promise<void> {
    if (this.#stopping) return this.#stopping;
    this.#stopping = (async () => {
      this.#timeline.disarm();
      this.#table.close();
      if (this.#flushTimer !== undefined) this.#timers.clearTimeout(this.#flushTimer);
      const inv = this.#opts.inventory;
      if (inv) for (const e of ['added', 'removed', 'changed'] as const) inv.off(e, this.#onInventory);
      this.#queues.clear();
      for (const ac of this.#running) ac.abort(new FleetwatchError('E_ABORTED', 'scheduler stopped'));
      // Runs that ignore their signal, and notifier calls, are not waited for past the grace period.
      const graceMs = this.#opts.stopGraceMs ?? 5000;
      let graceTimer: unknown;
      let graceOver = false;
      const grace = new Promise<void>((r) => {
        graceTimer = this.#timers.setTimeout(() => {
          graceOver = true;
          r();
        }, graceMs);
      });
      await Promise.race([this.#queues.onPendingZero(), grace]);
      await this.#pipeline.drain();
      // the last state changes must reach the notifiers (webhooks) before the process exits
      await this.#pipeline.settleNotifiers(grace, () => graceOver, graceMs);
      this.#timers.clearTimeout(graceTimer);
      await this.#sink.flush();
      this.#metrics.disable();
    })();
    return this.#stopping;
  }

  /** Resolve when every result handed to the pipeline so far has been evaluated. */
  async drain(): Promise<void> {
    await this.#pipeline.drain();
    await this.#sink.flush();
  }

  /** Self-metrics. */
  stats(): CheckSchedulerStats {
    return this.#metrics.snapshot({
      checks: this.#table.checkCount,
      jobs: this.#table.jobCount,
      queued: this.#queues.size,
      running: this.#queues.pending,
      pointsWritten: this.#sink.written,
      pointsDropped: this.#sink.dropped,
    });
  }

  #reportSelf(): void {
    const reg = this.#opts.registry;
    if (!reg) return;
    try {
      const location = this.#opts.location;
      this.#metrics.publish(reg, this.stats(), location ? { location } : {});
    } catch (err) {
      this.#report(err, 'self-metrics failed');
    }
  }

  /**
   * Run a check once against each of its targets, without adding it, and return the metrics and the
   * alarm's verdict (Rackspace's `test-check`). `periodMs` may be omitted. Rejects with `E_ABORTED`
   * when `opts.signal` fires, `E_VALIDATION` for a bad definition.
   */
  testCheck(
    def: Omit<CheckDefinition, 'periodMs'> & { periodMs?: number },
    opts: { signal?: AbortSignal } = {},
  ): Promise<TestCheckResult[]> {
    return runTestCheck(
      {
        normalize: (d) => this.#normalize(d, true),
        resolveTargets: (c) => this.#table.resolveTargets(c),
        configFor: (c, t) => this.#table.configFor(c, t),
        timers: this.#timers,
        clock: this.#clock,
      },
      def,
      opts,
    );
  }
}

/**
 * Run a check once (see {@link CheckScheduler.testCheck}) without a scheduler of your own.
 *
 * @example
 * ```ts
 * const [r] = await testCheck({ id: 'db', type: 'tcp', targets: 'db.internal:5432' }, { signal: AbortSignal.timeout(5000) });
 * console.log(r.ok, r.metrics.tt_connect, r.alarm.state);
 * ```
 */
export function testCheck(
  def: Omit<CheckDefinition, 'periodMs'> & { periodMs?: number },
  opts: { inventory?: CheckInventory; types?: readonly CheckType<unknown>[]; signal?: AbortSignal } = {},
): Promise<TestCheckResult[]> {
  const s = new CheckScheduler({
    ...(opts.inventory ? { inventory: opts.inventory } : {}),
    ...(opts.types ? { types: opts.types } : {}),
  });
  return s.testCheck(def, opts.signal ? { signal: opts.signal } : {});
}
