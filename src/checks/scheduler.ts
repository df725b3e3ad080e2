import { monitorEventLoopDelay } from 'node:perf_hooks';
import { EventEmitter } from 'eventemitter3';
import { type Clock, type Logger, positiveNumber, silentLogger, systemClock } from '../core.js';
import { FleetwatchError, validationError } from '../errors.js';
import type { Node } from '../providers/types.js';
import { errorText } from './config.js';
import {
  BUILTIN_CHECK_TYPES,
  type CheckDefinition,
  type NormalizedCheck,
  normalizeCheck,
  normalizeConfig,
  runFailure,
} from './definition.js';
import { fnv1a, nextGridTime, RecentSamples } from './grid.js';
import { DueHeap } from './heap.js';
import { ResultPipeline } from './pipeline.js';
import { RunQueues, runCheck } from './runner.js';
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
import { expandPlaceholders, nodeTarget } from './targets.js';
import { runTestCheck } from './test-check.js';
import type { CheckInventory, CheckTarget, CheckType } from './types.js';

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

const LOOP_RESOLUTION_MS = 10;

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
  readonly #checks = new Map<string, NormalizedCheck>();
  readonly #jobs = new Map<string, Map<string, Job>>();
  readonly #heap = new DueHeap<Job>();
  readonly #queues: RunQueues;
  readonly #running = new Set<AbortController>();
  readonly #sink: CheckResultSink;
  readonly #pipeline: ResultPipeline;
  readonly #lateness = new RecentSamples();
  readonly #durations = new RecentSamples();
  readonly #loopDelay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  readonly #counters = { runs: 0, skippedOverrun: 0, skippedLate: 0 };
  #timer: unknown;
  #timerDue = Number.POSITIVE_INFINITY;
  #flushTimer: unknown;
  #started = false;
  #stopping: Promise<void> | undefined;
  #refreshQueued = false;
  readonly #onInventory = () => this.#queueRefresh();

  constructor(options: CheckSchedulerOptions = {}) {
    super();
    this.#opts = options;
    this.#clock = options.clock ?? systemClock;
    this.#timers = options.timers ?? defaultTimers;
    this.#logger = options.logger ?? silentLogger;
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
    const check = this.#normalize(def);
    if (this.#checks.has(check.id)) throw validationError('check.id', 'an id not already added', check.id);
    this.#checks.set(check.id, check);
    this.#jobs.set(check.id, new Map());
    this.#syncTargets(check);
  }

  /** Remove a check; a run in flight finishes but is not rescheduled. Returns whether it existed. */
  remove(id: string): boolean {
    const check = this.#checks.get(id);
    if (!check) return false;
    for (const job of this.#jobs.get(id)!.values()) this.#dropJob(job);
    this.#jobs.delete(id);
    this.#checks.delete(id);
    return true;
  }

  /** Ids of the checks added. */
  list(): string[] {
    return [...this.#checks.keys()];
  }

  /** Target keys a check currently runs against. */
  targetsOf(id: string): string[] {
    return [...(this.#jobs.get(id)?.keys() ?? [])];
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

  #resolveTargets(check: NormalizedCheck, memo?: Map<string, Node[]>): Map<string, CheckTarget> {
    const out = new Map<string, CheckTarget>();
    for (const spec of check.specs) {
      if (spec.kind === 'host') out.set(spec.target.key, spec.target);
      else {
        let nodes = memo?.get(spec.query);
        if (!nodes) {
          nodes = this.#opts.inventory!.query(spec.query);
          memo?.set(spec.query, nodes);
        }
        for (const node of nodes) {
          const t = nodeTarget(node, this.#opts.ipPreference);
          if (t) out.set(t.key, t);
          else this.#logger.debug({ checkId: check.id, node: node.uid }, 'node has no IP; not a target');
        }
      }
    }
    return out;
  }

  #configFor(check: NormalizedCheck, target: CheckTarget): unknown {
    return check.templated
      ? normalizeConfig(check.type, expandPlaceholders(check.rawConfig, target))
      : check.config;
  }

  /** Bring a check's jobs in line with its current targets. */
  #syncTargets(check: NormalizedCheck, memo?: Map<string, Node[]>): void {
    const jobs = this.#jobs.get(check.id)!;
    let targets: Map<string, CheckTarget>;
    try {
      targets = this.#resolveTargets(check, memo);
    } catch (err) {
      this.#report(err, 'target query failed');
      return;
    }
    for (const [key, job] of jobs) {
      if (!targets.has(key)) {
        this.#dropJob(job);
        jobs.delete(key);
      }
    }
    for (const [key, target] of targets) {
      const existing = jobs.get(key);
      if (existing && sameTarget(existing.target, target)) continue;
      let config: unknown;
      try {
        config = this.#configFor(check, target);
      } catch (err) {
        this.#report(err, 'config invalid for target');
        continue;
      }
      if (existing) {
        existing.target = target;
        existing.config = config;
        delete existing.tags;
        continue;
      }
      const job: Job = {
        key,
        check,
        target,
        config,
        phase: fnv1a(`${check.id}\u0000${key}`) % check.periodMs,
        inFlight: false,
        removed: false,
        due: 0,
        heapIndex: -1,
      };
      jobs.set(key, job);
      if (this.#started && !this.#stopping) this.#schedule(job, this.#clock.now() - 1);
    }
    if (this.#started) this.#arm();
  }

  #dropJob(job: Job): void {
    job.removed = true;
    this.#heap.remove(job);
    this.#pipeline.forget(job);
  }

  #queueRefresh(): void {
    if (this.#refreshQueued) return;
    this.#refreshQueued = true;
    queueMicrotask(() => {
      this.#refreshQueued = false;
      if (this.#stopping) return;
      // checks sharing a query (the common case) share one inventory query per refresh
      const memo = new Map<string, Node[]>();
      for (const check of this.#checks.values())
        if (check.specs.some((s) => s.kind === 'query')) this.#syncTargets(check, memo);
    });
  }

  // ------------------------------------------------------------ timing

  /** Put a job at its next grid time after `after`. */
  #schedule(job: Job, after: number): void {
    const { periodMs, jitterMs } = job.check;
    const jitter = (g: number) => (jitterMs > 0 ? fnv1a(`${job.key}\u0000${g}`) % (jitterMs + 1) : 0);
    const g0 = nextGridTime(job.phase, periodMs, after) - periodMs;
    let due = g0 + jitter(g0);
    if (due <= after) due = g0 + periodMs + jitter(g0 + periodMs);
    job.due = due;
    if (job.heapIndex < 0) this.#heap.push(job);
    else this.#heap.update(job);
  }

  #arm(): void {
    const top = this.#heap.peek();
    if (!top) {
      if (this.#timer !== undefined) this.#timers.clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#timerDue = Number.POSITIVE_INFINITY;
      return;
    }
    if (this.#timer !== undefined && this.#timerDue <= top.due) return;
    if (this.#timer !== undefined) this.#timers.clearTimeout(this.#timer);
    this.#timerDue = top.due;
    const delay = Math.min(2_147_483_647, Math.max(0, top.due - this.#clock.now()));
    this.#timer = this.#timers.setTimeout(() => this.#tick(), delay);
  }

  #tick(): void {
    this.#timer = undefined;
    this.#timerDue = Number.POSITIVE_INFINITY;
    if (this.#stopping) return;
    const now = this.#clock.now();
    for (let top = this.#heap.peek(); top && top.due <= now; top = this.#heap.peek()) {
      const scheduledAt = top.due;
      this.#dispatch(top, scheduledAt);
      const missed = Math.floor((now - scheduledAt) / top.check.periodMs);
      if (missed > 0) {
        this.#counters.skippedLate += missed;
        this.#safeEmit('skipped', { checkId: top.check.id, target: top.key, scheduledAt, reason: 'late' });
      }
      this.#schedule(top, Math.max(now, scheduledAt));
    }
    this.#arm();
  }

  #dispatch(job: Job, scheduledAt: number): void {
    if (job.inFlight) {
      this.#counters.skippedOverrun++;
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
    this.#lateness.push(start - scheduledAt);
    let run: Awaited<ReturnType<typeof runCheck>>;
    try {
      run = await runCheck(check, job.config, job.target, this.#timers, { inFlight: this.#running });
    } finally {
      job.inFlight = false;
    }
    if ((this.#stopping && run.aborted) || job.removed) return;
    const { outcome } = run;
    const end = this.#clock.now();
    this.#durations.push(end - start);
    this.#counters.runs++;
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
    for (const jobs of this.#jobs.values()) for (const job of jobs.values()) this.#schedule(job, now - 1);
    this.#arm();
    this.#loopDelay.enable();
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
      if (this.#timer !== undefined) this.#timers.clearTimeout(this.#timer);
      if (this.#flushTimer !== undefined) this.#timers.clearTimeout(this.#flushTimer);
      this.#timer = undefined;
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
      this.#loopDelay.disable();
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
    let jobs = 0;
    for (const j of this.#jobs.values()) jobs += j.size;
    // the histogram records whole sampling intervals: the delay is what exceeds the resolution
    const ms = (ns: number) => (Number.isFinite(ns) ? Math.max(0, ns / 1e6 - LOOP_RESOLUTION_MS) : 0);
    return {
      checks: this.#checks.size,
      jobs,
      queued: this.#queues.size,
      running: this.#queues.pending,
      ...this.#counters,
      lateness: this.#lateness.summary(),
      runDuration: this.#durations.summary(),
      eventLoopLag: {
        p50: ms(this.#loopDelay.percentile(50)),
        p99: ms(this.#loopDelay.percentile(99)),
        max: ms(this.#loopDelay.max),
      },
      pointsWritten: this.#sink.written,
      pointsDropped: this.#sink.dropped,
    };
  }

  #reportSelf(): void {
    const reg = this.#opts.registry;
    if (!reg) return;
    try {
      const s = this.stats();
      const tags: Record<string, string> = this.#opts.location ? { location: this.#opts.location } : {};
      reg.gauge('checks.scheduler.queue_depth', tags).set(s.queued);
      reg.gauge('checks.scheduler.running', tags).set(s.running);
      reg.gauge('checks.scheduler.skipped_overrun', tags).set(s.skippedOverrun);
      reg.gauge('checks.scheduler.skipped_late', tags).set(s.skippedLate);
      reg.gauge('checks.scheduler.lateness_p99_ms', tags).set(s.lateness.p99);
      reg.gauge('checks.scheduler.run_duration_p99_ms', tags).set(s.runDuration.p99);
      reg.gauge('checks.scheduler.event_loop_lag_p99_ms', tags).set(s.eventLoopLag.p99);
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
        resolveTargets: (c) => this.#resolveTargets(c),
        configFor: (c, t) => this.#configFor(c, t),
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

/** True when nothing a run or a placeholder depends on differs between two versions of a target. */
function sameTarget(a: CheckTarget, b: CheckTarget): boolean {
  if (a.host !== b.host || a.ip !== b.ip || a.name !== b.name || a.port !== b.port || a.url !== b.url)
    return false;
  if (a.node === b.node) return true;
  if (!a.node || !b.node) return false;
  return (
    a.node.provider === b.node.provider &&
    a.node.region === b.node.region &&
    JSON.stringify(a.node.tags) === JSON.stringify(b.node.tags)
  );
}
