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
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { EventEmitter } from 'eventemitter3';
import PQueue from 'p-queue';
import { type Clock, type Logger, positiveNumber, silentLogger, systemClock } from '../core.js';
import { FleetwatchError, throwIfAborted, validationError } from '../errors.js';
import type { Node } from '../providers/types.js';
import type { AlarmResult } from './alarm.js';
import { abortedError, errorText } from './config.js';
import {
  BUILTIN_CHECK_TYPES,
  type CheckDefinition,
  judge,
  type NormalizedCheck,
  normalizeCheck,
  normalizeConfig,
  runFailure,
} from './definition.js';
import { fnv1a, nextGridTime, RecentSamples } from './grid.js';
import { DueHeap, type HeapItem } from './heap.js';
import { CheckResultSink } from './sink.js';
import {
  CheckStateMachine,
  type CheckStateStore,
  MemoryCheckStateStore,
  normalizeSuppression,
  type SuppressionWindow,
  stateKey,
  suppressionActive,
} from './state.js';
import { expandPlaceholders, nodeTarget } from './targets.js';
import type {
  CheckInventory,
  CheckMetrics,
  CheckMetricsRegistry,
  CheckOutcome,
  CheckPointStore,
  CheckTarget,
  CheckType,
} from './types.js';
import type { CheckStateEvent, StateNotifier } from './webhook.js';

export type { CheckDefinition } from './definition.js';
export { BUILTIN_CHECK_TYPES } from './definition.js';
export { fnv1a, nextGridTime } from './grid.js';
export type { CheckStateEvent, StateNotifier } from './webhook.js';

/** The 'result' event: one run of one check on one target. */
export interface CheckResultEvent {
  checkId: string;
  /** Target key: node uid for inventory targets, else the host/URL as written. */
  target: string;
  ok: boolean;
  metrics: CheckMetrics;
  /** Wall time of the run, ms (by the scheduler's clock). */
  durationMs: number;
  error?: string;
  /** Epoch ms when the run started. */
  ts: number;
  /** Epoch ms of the grid point it ran for. */
  scheduledAt: number;
  node?: string;
}

/** The 'skipped' event: a due run not started because the previous one was still in flight. */
export interface CheckSkippedEvent {
  checkId: string;
  target: string;
  scheduledAt: number;
  reason: 'overrun' | 'late';
}

/** Events of {@link CheckScheduler}. */
export interface CheckSchedulerEvents {
  result: (e: CheckResultEvent) => void;
  state: (e: CheckStateEvent) => void;
  /** A state change inside a suppression window (no 'state' event, no notifier call). */
  suppressed: (e: CheckStateEvent) => void;
  skipped: (e: CheckSkippedEvent) => void;
  /** Pipeline failures (store, state store, notifier, listener): never check failures. */
  error: (err: unknown) => void;
}

/** Timer functions, injectable for fake time. */
export interface SchedulerTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Options of {@link CheckScheduler}. */
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
  clock?: Clock;
  timers?: SchedulerTimers;
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

/** What {@link CheckScheduler.testCheck} returns per target. */
export interface TestCheckResult {
  target: string;
  ok: boolean;
  metrics: CheckMetrics;
  durationMs: number;
  error?: string;
  /** The alarm's verdict on this run. */
  alarm: AlarmResult;
}

interface Job extends HeapItem {
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

const defaultTimers: SchedulerTimers = {
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

const LOOP_RESOLUTION_MS = 10;

/** Runs checks on a phase-locked grid; see the module doc. */
export class CheckScheduler extends EventEmitter<CheckSchedulerEvents> {
  private readonly opts: CheckSchedulerOptions;
  private readonly clock: Clock;
  private readonly timers: SchedulerTimers;
  private readonly logger: Logger;
  private readonly types = new Map<string, CheckType<unknown>>();
  private readonly checks = new Map<string, NormalizedCheck>();
  private readonly jobs = new Map<string, Map<string, Job>>();
  private readonly heap = new DueHeap<Job>();
  private readonly queue: PQueue;
  private readonly hostQueues = new Map<string, PQueue>();
  private readonly typeQueues = new Map<string, PQueue>();
  private readonly running = new Set<AbortController>();
  private readonly states = new CheckStateMachine();
  private readonly stateStore: CheckStateStore;
  private readonly sink: CheckResultSink;
  private readonly suppressions = new Map<string, SuppressionWindow>();
  private readonly lateness = new RecentSamples();
  private readonly durations = new RecentSamples();
  private readonly loopDelay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  private counters = { runs: 0, skippedOverrun: 0, skippedLate: 0 };
  private timer: unknown;
  private timerDue = Number.POSITIVE_INFINITY;
  private flushTimer: unknown;
  private started = false;
  private stopping: Promise<void> | undefined;
  private ready: Promise<void> = Promise.resolve();
  private readyDone = false;
  private pipeline = new Set<Promise<void>>();
  /** Notifier calls in flight (stop() waits for them within stopGraceMs). */
  private readonly notifying = new Set<Promise<void>>();
  /** Fired when stop() gives up on notifier calls still in flight. */
  private readonly notifyAbort = new AbortController();
  private refreshQueued = false;
  private readonly onInventory = () => this.queueRefresh();

  constructor(options: CheckSchedulerOptions = {}) {
    super();
    this.opts = options;
    this.clock = options.clock ?? systemClock;
    this.timers = options.timers ?? defaultTimers;
    this.logger = options.logger ?? silentLogger;
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
    this.queue = new PQueue({ concurrency });
    for (const t of [...BUILTIN_CHECK_TYPES, ...(options.types ?? [])]) this.types.set(t.type, t);
    this.stateStore = options.stateStore ?? new MemoryCheckStateStore();
    this.sink = new CheckResultSink({
      ...(options.registry ? { registry: options.registry } : {}),
      ...(options.store ? { store: options.store } : {}),
      onError: (err) => this.report(err, 'store write failed'),
    });
  }

  // ------------------------------------------------------------ checks

  /** Validate and add a check. Throws `E_VALIDATION` naming the field. */
  add(def: CheckDefinition): void {
    const check = this.normalize(def);
    if (this.checks.has(check.id)) throw validationError('check.id', 'an id not already added', check.id);
    this.checks.set(check.id, check);
    this.jobs.set(check.id, new Map());
    this.syncTargets(check);
  }

  /** Remove a check; a run in flight finishes but is not rescheduled. Returns whether it existed. */
  remove(id: string): boolean {
    const check = this.checks.get(id);
    if (!check) return false;
    for (const job of this.jobs.get(id)!.values()) this.dropJob(job);
    this.jobs.delete(id);
    this.checks.delete(id);
    return true;
  }

  /** Ids of the checks added. */
  list(): string[] {
    return [...this.checks.keys()];
  }

  /** Target keys a check currently runs against. */
  targetsOf(id: string): string[] {
    return [...(this.jobs.get(id)?.keys() ?? [])];
  }

  /** Add a suppression window (mutes state-change notifications in its scope). */
  addSuppression(window: SuppressionWindow): void {
    const w = normalizeSuppression(window);
    this.suppressions.set(w.id, w);
  }

  /** Remove a suppression window by id. */
  removeSuppression(id: string): boolean {
    return this.suppressions.delete(id);
  }

  private normalize(def: CheckDefinition, forTest = false): NormalizedCheck {
    return normalizeCheck(def, this.types, { hasInventory: this.opts.inventory !== undefined, forTest });
  }

  private resolveTargets(check: NormalizedCheck, memo?: Map<string, Node[]>): Map<string, CheckTarget> {
    const out = new Map<string, CheckTarget>();
    for (const spec of check.specs) {
      if (spec.kind === 'host') out.set(spec.target.key, spec.target);
      else {
        let nodes = memo?.get(spec.query);
        if (!nodes) {
          nodes = this.opts.inventory!.query(spec.query);
          memo?.set(spec.query, nodes);
        }
        for (const node of nodes) {
          const t = nodeTarget(node, this.opts.ipPreference);
          if (t) out.set(t.key, t);
          else this.logger.debug({ checkId: check.id, node: node.uid }, 'node has no IP; not a target');
        }
      }
    }
    return out;
  }

  private configFor(check: NormalizedCheck, target: CheckTarget): unknown {
    return check.templated
      ? normalizeConfig(check.type, expandPlaceholders(check.rawConfig, target))
      : check.config;
  }

  /** Bring a check's jobs in line with its current targets. */
  private syncTargets(check: NormalizedCheck, memo?: Map<string, Node[]>): void {
    const jobs = this.jobs.get(check.id)!;
    let targets: Map<string, CheckTarget>;
    try {
      targets = this.resolveTargets(check, memo);
    } catch (err) {
      this.report(err, 'target query failed');
      return;
    }
    for (const [key, job] of jobs) {
      if (!targets.has(key)) {
        this.dropJob(job);
        jobs.delete(key);
      }
    }
    for (const [key, target] of targets) {
      const existing = jobs.get(key);
      if (existing && sameTarget(existing.target, target)) continue;
      let config: unknown;
      try {
        config = this.configFor(check, target);
      } catch (err) {
        this.report(err, 'config invalid for target');
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
      if (this.started && !this.stopping) this.schedule(job, this.clock.now() - 1);
    }
    if (this.started) this.arm();
  }

  private dropJob(job: Job): void {
    job.removed = true;
    this.heap.remove(job);
    this.states.delete(stateKey(job.check.id, job.key));
    this.stateStore
      .delete(stateKey(job.check.id, job.key))
      .catch((err) => this.report(err, 'state delete failed'));
  }

  private queueRefresh(): void {
    if (this.refreshQueued) return;
    this.refreshQueued = true;
    queueMicrotask(() => {
      this.refreshQueued = false;
      if (this.stopping) return;
      // checks sharing a query (the common case) share one inventory query per refresh
      const memo = new Map<string, Node[]>();
      for (const check of this.checks.values())
        if (check.specs.some((s) => s.kind === 'query')) this.syncTargets(check, memo);
    });
  }

  // ------------------------------------------------------------ timing

  /** Put a job at its next grid time after `after`. */
  private schedule(job: Job, after: number): void {
    const { periodMs, jitterMs } = job.check;
    const jitter = (g: number) => (jitterMs > 0 ? fnv1a(`${job.key}\u0000${g}`) % (jitterMs + 1) : 0);
    const g0 = nextGridTime(job.phase, periodMs, after) - periodMs;
    let due = g0 + jitter(g0);
    if (due <= after) due = g0 + periodMs + jitter(g0 + periodMs);
    job.due = due;
    if (job.heapIndex < 0) this.heap.push(job);
    else this.heap.update(job);
  }

  private arm(): void {
    const top = this.heap.peek();
    if (!top) {
      if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
      this.timer = undefined;
      this.timerDue = Number.POSITIVE_INFINITY;
      return;
    }
    if (this.timer !== undefined && this.timerDue <= top.due) return;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timerDue = top.due;
    const delay = Math.min(2_147_483_647, Math.max(0, top.due - this.clock.now()));
    this.timer = this.timers.setTimeout(() => this.tick(), delay);
  }

  private tick(): void {
    this.timer = undefined;
    this.timerDue = Number.POSITIVE_INFINITY;
    if (this.stopping) return;
    const now = this.clock.now();
    for (let top = this.heap.peek(); top && top.due <= now; top = this.heap.peek()) {
      const scheduledAt = top.due;
      this.dispatch(top, scheduledAt);
      const missed = Math.floor((now - scheduledAt) / top.check.periodMs);
      if (missed > 0) {
        this.counters.skippedLate += missed;
        this.safeEmit('skipped', { checkId: top.check.id, target: top.key, scheduledAt, reason: 'late' });
      }
      this.schedule(top, Math.max(now, scheduledAt));
    }
    this.arm();
  }

  private dispatch(job: Job, scheduledAt: number): void {
    if (job.inFlight) {
      this.counters.skippedOverrun++;
      this.safeEmit('skipped', { checkId: job.check.id, target: job.key, scheduledAt, reason: 'overrun' });
      return;
    }
    job.inFlight = true;
    let run: () => Promise<unknown> = () => this.queue.add(() => this.execute(job, scheduledAt));
    const typeCap = this.opts.typeConcurrency?.[job.check.type.type];
    if (typeCap !== undefined) run = this.capped(this.typeQueues, job.check.type.type, typeCap, run);
    if (this.opts.hostConcurrency !== undefined)
      run = this.capped(this.hostQueues, job.target.host, this.opts.hostConcurrency, run);
    run().catch((err) => {
      job.inFlight = false;
      this.report(err, 'run failed to start');
    });
  }

  private capped(
    queues: Map<string, PQueue>,
    key: string,
    concurrency: number,
    inner: () => Promise<unknown>,
  ): () => Promise<unknown> {
    return () => {
      let q = queues.get(key);
      if (!q) {
        q = new PQueue({ concurrency });
        queues.set(key, q);
      }
      const queue = q;
      return queue.add(inner).finally(() => {
        // forget idle per-host/per-type queues so node churn does not accumulate them
        if (queue.size === 0 && queue.pending === 0 && queues.get(key) === queue) queues.delete(key);
      });
    };
  }

  private async execute(job: Job, scheduledAt: number): Promise<void> {
    if (job.removed || this.stopping) {
      job.inFlight = false;
      return;
    }
    const check = job.check;
    const start = this.clock.now();
    this.lateness.push(start - scheduledAt);
    const ac = new AbortController();
    this.running.add(ac);
    const timer = this.timers.setTimeout(
      () =>
        ac.abort(
          new FleetwatchError('E_TIMEOUT', `check timed out after ${check.timeoutMs} ms`, { path: check.id }),
        ),
      check.timeoutMs,
    );
    let outcome: CheckOutcome;
    try {
      outcome = await check.type.run(job.config, job.target, {
        signal: ac.signal,
        timeoutMs: check.timeoutMs,
      });
    } catch (err) {
      outcome = { metrics: {}, error: ac.signal.aborted ? errorText(ac.signal.reason) : errorText(err) };
    } finally {
      this.timers.clearTimeout(timer);
      this.running.delete(ac);
      job.inFlight = false;
    }
    if ((this.stopping && ac.signal.aborted) || job.removed) return;
    const end = this.clock.now();
    this.durations.push(end - start);
    this.counters.runs++;
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
    this.safeEmit('result', result);
    this.handOff(job, result);
  }

  // ------------------------------------------------------------ results pipeline

  private handOff(job: Job, result: CheckResultEvent): void {
    if (this.sink.active) this.sink.record(result.metrics, result.ok, this.tagsOf(job), result.ts);
    if (!this.readyDone) {
      this.track(this.ready.then(() => this.evaluate(job, result)));
      return;
    }
    try {
      const pending = this.evaluate(job, result);
      if (pending) this.track(pending);
    } catch (err) {
      this.report(err, 'result pipeline failed');
    }
  }

  private track(p: Promise<void>): void {
    const tracked: Promise<void> = p
      .catch((err) => this.report(err, 'result pipeline failed'))
      .finally(() => this.pipeline.delete(tracked));
    this.pipeline.add(tracked);
  }

  /** Point tags of a job, computed once per target version. */
  private tagsOf(job: Job): Record<string, string> {
    if (!job.tags) {
      const node = job.target.node;
      job.tags = CheckResultSink.tags(job.check.id, job.key, {
        ...(node ? { node: node.uid, provider: node.provider } : {}),
        ...(this.opts.location ? { location: this.opts.location } : {}),
      });
    }
    return job.tags;
  }

  /**
   * Alarm and state for one result, synchronously (so results of a target are counted in order).
   * Returns a promise only when something asynchronous follows (state save, then the event).
   */
  private evaluate(job: Job, result: CheckResultEvent): Promise<void> | undefined {
    const check = job.check;
    const key = stateKey(check.id, job.key);
    const prev = this.states.get(key);
    const verdict = judge(check.alarm, result, prev?.lastMetrics, prev?.lastTs);
    const { transition, record, dirty } = this.states.observe(
      { checkId: check.id, target: job.key },
      verdict,
      { enter: check.enter, recover: check.recover },
      result.ts,
      result.metrics,
    );
    const saving = dirty && !job.removed ? this.stateStore.save(structuredClone(record)) : undefined;
    if (!transition) return saving;
    const event: CheckStateEvent = {
      checkId: check.id,
      target: job.key,
      previous: transition.previous,
      state: transition.state,
      message: transition.message,
      metrics: result.metrics,
      ts: result.ts,
      ...(result.node ? { node: result.node } : {}),
    };
    // the event follows the save, so a listener that reads the state store sees the new state
    if (saving) return saving.then(() => this.announce(job, event));
    this.announce(job, event);
    return undefined;
  }

  private announce(job: Job, event: CheckStateEvent): void {
    if (this.isSuppressed(job, event.ts)) {
      this.safeEmit('suppressed', event);
      return;
    }
    this.safeEmit('state', event);
    for (const notify of this.opts.notifiers ?? []) this.notify(notify, event);
  }

  /** Call one notifier, tracked so that stop() can wait for it. */
  private notify(notify: StateNotifier, event: CheckStateEvent): void {
    const signal = this.notifyAbort.signal;
    let call: Promise<void>;
    try {
      call = Promise.resolve(notify(event, { signal }));
    } catch (err) {
      this.report(err, 'notifier failed');
      return;
    }
    const tracked: Promise<void> = call
      // a call given up on at stop() was reported then; its abort is not a second failure
      .catch((err) => {
        if (!signal.aborted) this.report(err, 'notifier failed');
      })
      .finally(() => this.notifying.delete(tracked));
    this.notifying.add(tracked);
  }

  private isSuppressed(job: Job, now: number): boolean {
    for (const w of this.suppressions.values()) {
      if (!suppressionActive(w, now)) continue;
      if (w.checks && !w.checks.includes(job.check.id)) continue;
      if (w.nodes && !w.nodes.includes(job.key)) continue;
      if (w.query !== undefined) {
        const uid = job.target.node?.uid;
        if (!uid || !this.opts.inventory) continue;
        try {
          if (!this.opts.inventory.query(w.query).some((n) => n.uid === uid)) continue;
        } catch (err) {
          this.report(err, 'suppression query failed');
          continue;
        }
      }
      return true;
    }
    return false;
  }

  private safeEmit<E extends keyof CheckSchedulerEvents>(
    event: E,
    payload: Parameters<CheckSchedulerEvents[E]>[0],
  ): void {
    try {
      (this.emit as (e: E, p: unknown) => boolean)(event, payload);
    } catch (err) {
      if (event !== 'error') this.report(err, `'${event}' listener threw`);
    }
  }

  private report(err: unknown, msg: string): void {
    this.logger.warn({ err: err instanceof FleetwatchError ? err.toJSON() : errorText(err) }, msg);
    if (this.listenerCount('error') > 0) this.safeEmit('error', err);
  }

  // ------------------------------------------------------------ lifecycle

  /** Start running checks. Idempotent. Restores saved states before the first evaluation. */
  start(): void {
    if (this.stopping) throw new FleetwatchError('E_CLOSED', 'scheduler stopped');
    if (this.started) return;
    this.started = true;
    this.ready = this.stateStore
      .load()
      .then(
        (records) => this.states.restore(records),
        (err) => this.report(err, 'state load failed'),
      )
      .then(() => {
        this.readyDone = true;
      });
    const inv = this.opts.inventory;
    if (inv) for (const e of ['added', 'removed', 'changed'] as const) inv.on(e, this.onInventory);
    const now = this.clock.now();
    for (const jobs of this.jobs.values()) for (const job of jobs.values()) this.schedule(job, now - 1);
    this.arm();
    this.loopDelay.enable();
    const every = this.opts.flushIntervalMs ?? 5000;
    const flush = () => {
      void this.sink.flush();
      this.reportSelf();
      this.flushTimer = this.timers.setTimeout(flush, every);
    };
    if (this.opts.store || this.opts.registry) this.flushTimer = this.timers.setTimeout(flush, every);
  }

  /**
   * Stop: no new runs, in-flight runs aborted (their results dropped), the pipeline drained, notifier
   * calls in flight waited for (within `stopGraceMs`), results flushed. Idempotent.
   */
  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    this.stopping = (async () => {
      if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
      if (this.flushTimer !== undefined) this.timers.clearTimeout(this.flushTimer);
      this.timer = undefined;
      const inv = this.opts.inventory;
      if (inv) for (const e of ['added', 'removed', 'changed'] as const) inv.off(e, this.onInventory);
      this.queue.clear();
      for (const q of [...this.hostQueues.values(), ...this.typeQueues.values()]) q.clear();
      for (const ac of this.running) ac.abort(new FleetwatchError('E_ABORTED', 'scheduler stopped'));
      // Runs that ignore their signal, and notifier calls, are not waited for past the grace period.
      const graceMs = this.opts.stopGraceMs ?? 5000;
      let graceTimer: unknown;
      let graceOver = false;
      const grace = new Promise<void>((r) => {
        graceTimer = this.timers.setTimeout(() => {
          graceOver = true;
          r();
        }, graceMs);
      });
      await Promise.race([this.queue.onPendingZero(), grace]);
      while (this.pipeline.size > 0) await Promise.all([...this.pipeline]);
      // the last state changes must reach the notifiers (webhooks) before the process exits
      while (this.notifying.size > 0 && !graceOver)
        await Promise.race([Promise.all([...this.notifying]), grace]);
      this.timers.clearTimeout(graceTimer);
      if (this.notifying.size > 0) {
        const pending = this.notifying.size;
        this.notifyAbort.abort(new FleetwatchError('E_ABORTED', 'scheduler stopped'));
        this.report(
          new FleetwatchError(
            'E_TIMEOUT',
            `${pending} notifier call(s) still pending after stopGraceMs (${graceMs} ms); given up`,
            { details: { pending } },
          ),
          'notifier calls pending at stop',
        );
      }
      await this.sink.flush();
      this.loopDelay.disable();
    })();
    return this.stopping;
  }

  /** Resolve when every result handed to the pipeline so far has been evaluated. */
  async drain(): Promise<void> {
    while (this.pipeline.size > 0) await Promise.all([...this.pipeline]);
    await this.sink.flush();
  }

  /** Self-metrics. */
  stats(): CheckSchedulerStats {
    let jobs = 0;
    for (const j of this.jobs.values()) jobs += j.size;
    // the histogram records whole sampling intervals: the delay is what exceeds the resolution
    const ms = (ns: number) => (Number.isFinite(ns) ? Math.max(0, ns / 1e6 - LOOP_RESOLUTION_MS) : 0);
    return {
      checks: this.checks.size,
      jobs,
      queued: this.queue.size,
      running: this.queue.pending,
      ...this.counters,
      lateness: this.lateness.summary(),
      runDuration: this.durations.summary(),
      eventLoopLag: {
        p50: ms(this.loopDelay.percentile(50)),
        p99: ms(this.loopDelay.percentile(99)),
        max: ms(this.loopDelay.max),
      },
      pointsWritten: this.sink.written,
      pointsDropped: this.sink.dropped,
    };
  }

  private reportSelf(): void {
    const reg = this.opts.registry;
    if (!reg) return;
    try {
      const s = this.stats();
      const tags: Record<string, string> = this.opts.location ? { location: this.opts.location } : {};
      reg.gauge('checks.scheduler.queue_depth', tags).set(s.queued);
      reg.gauge('checks.scheduler.running', tags).set(s.running);
      reg.gauge('checks.scheduler.skipped_overrun', tags).set(s.skippedOverrun);
      reg.gauge('checks.scheduler.skipped_late', tags).set(s.skippedLate);
      reg.gauge('checks.scheduler.lateness_p99_ms', tags).set(s.lateness.p99);
      reg.gauge('checks.scheduler.run_duration_p99_ms', tags).set(s.runDuration.p99);
      reg.gauge('checks.scheduler.event_loop_lag_p99_ms', tags).set(s.eventLoopLag.p99);
    } catch (err) {
      this.report(err, 'self-metrics failed');
    }
  }

  /**
   * Run a check once against each of its targets, without adding it, and return the metrics and the
   * alarm's verdict (Rackspace's `test-check`). `periodMs` may be omitted.
   */
  async testCheck(
    def: Omit<CheckDefinition, 'periodMs'> & { periodMs?: number },
    opts: { signal?: AbortSignal } = {},
  ) {
    throwIfAborted(opts.signal);
    const check = this.normalize(def as CheckDefinition, true);
    const out: TestCheckResult[] = [];
    let targets: Map<string, CheckTarget>;
    try {
      targets = this.resolveTargets(check);
    } catch (err) {
      if (err instanceof FleetwatchError) throw err;
      throw new FleetwatchError('E_INTERNAL', `testCheck: the target query failed: ${errorText(err)}`, {
        path: 'check.targets',
        cause: err,
      });
    }
    await Promise.all(
      [...targets.values()].map(async (target) => {
        const ac = new AbortController();
        const onAbort = () => ac.abort(opts.signal!.reason);
        opts.signal?.addEventListener('abort', onAbort, { once: true });
        const timer = this.timers.setTimeout(
          () => ac.abort(new FleetwatchError('E_TIMEOUT', `check timed out after ${check.timeoutMs} ms`)),
          check.timeoutMs,
        );
        const start = this.clock.now();
        let outcome: CheckOutcome;
        try {
          outcome = await check.type.run(this.configFor(check, target), target, {
            signal: ac.signal,
            timeoutMs: check.timeoutMs,
          });
        } catch (err) {
          if (opts.signal?.aborted) throw abortedError(opts.signal);
          outcome = { metrics: {}, error: ac.signal.aborted ? errorText(ac.signal.reason) : errorText(err) };
        } finally {
          this.timers.clearTimeout(timer);
          opts.signal?.removeEventListener('abort', onAbort);
        }
        const error = runFailure(check, outcome);
        const ok = error === undefined;
        out.push({
          target: target.key,
          ok,
          metrics: outcome.metrics,
          durationMs: this.clock.now() - start,
          ...(error !== undefined ? { error } : {}),
          alarm: judge(check.alarm, {
            ok,
            metrics: outcome.metrics,
            ts: start,
            ...(error !== undefined ? { error } : {}),
          }),
        });
      }),
    );
    return out;
  }
}

/**
 * Run a check once (see {@link CheckScheduler.testCheck}) without a scheduler of your own.
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
