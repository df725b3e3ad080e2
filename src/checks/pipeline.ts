import { FleetwatchError } from '../errors.js';
import { judge } from './definition.js';
import type { CheckResultEvent, Job } from './scheduler-types.js';
import { CheckResultSink } from './sink.js';
import {
  CheckStateMachine,
  type CheckStateStore,
  normalizeSuppression,
  type SuppressionWindow,
  stateKey,
  suppressionActive,
} from './state.js';
import type { CheckInventory } from './types.js';
import type { CheckStateEvent, StateNotifier } from './webhook.js';

/** What the pipeline needs from its scheduler. */
export interface ResultPipelineOptions {
  sink: CheckResultSink;
  stateStore: CheckStateStore;
  inventory?: CheckInventory;
  notifiers?: readonly StateNotifier[];
  location?: string;
  /** Emit a 'state' or 'suppressed' event (listener failures are the emitter's to report). */
  emit(event: 'state' | 'suppressed', payload: CheckStateEvent): void;
  /** Report a failure on 'error' and the log. */
  report(err: unknown, msg: string): void;
}

/**
 * The results pipeline: a run's result → alarm verdict → state machine → state store → 'state' event
 * and notifiers, with suppression windows. Its failures are reported, never turned into check
 * failures; `drain()` and `settleNotifiers()` let `stop()` wait for it.
 *
 * @example
 * ```ts
 * const pipeline = new ResultPipeline({ sink, stateStore, emit, report });
 * pipeline.restore();
 * pipeline.handOff(job, result);
 * await pipeline.drain();
 * ```
 */
export class ResultPipeline {
  readonly #opts: ResultPipelineOptions;
  readonly #states = new CheckStateMachine();
  readonly #suppressions = new Map<string, SuppressionWindow>();
  #ready: Promise<void> = Promise.resolve();
  #readyDone = false;
  readonly #pending = new Set<Promise<void>>();
  /** Notifier calls in flight (stop() waits for them within stopGraceMs). */
  readonly #notifying = new Set<Promise<void>>();
  /** Fired when stop() gives up on notifier calls still in flight. */
  readonly #notifyAbort = new AbortController();

  constructor(opts: ResultPipelineOptions) {
    this.#opts = opts;
  }

  /** Load saved states; results handed off before that completes wait for it. */
  restore(): void {
    this.#ready = this.#opts.stateStore
      .load()
      .then(
        (records) => this.#states.restore(records),
        (err) => this.#opts.report(err, 'state load failed'),
      )
      .then(() => {
        this.#readyDone = true;
      });
  }

  /** Add a suppression window (mutes state-change notifications in its scope). */
  addSuppression(window: SuppressionWindow): void {
    const w = normalizeSuppression(window);
    this.#suppressions.set(w.id, w);
  }

  /** Remove a suppression window by id. */
  removeSuppression(id: string): boolean {
    return this.#suppressions.delete(id);
  }

  /** Forget the state of a job that no longer runs. */
  forget(job: Job): void {
    const key = stateKey(job.check.id, job.key);
    this.#states.delete(key);
    this.#opts.stateStore.delete(key).catch((err) => this.#opts.report(err, 'state delete failed'));
  }

  /** Record a result's points and run it through alarm and state. */
  handOff(job: Job, result: CheckResultEvent): void {
    const sink = this.#opts.sink;
    if (sink.active) sink.record(result.metrics, result.ok, this.#tagsOf(job), result.ts);
    if (!this.#readyDone) {
      this.#track(this.#ready.then(() => this.#evaluate(job, result)));
      return;
    }
    try {
      const pending = this.#evaluate(job, result);
      if (pending) this.#track(pending);
    } catch (err) {
      this.#opts.report(err, 'result pipeline failed');
    }
  }

  /** Resolve when every result handed off so far has been evaluated. */
  async drain(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  /**
   * Wait for notifier calls in flight, at most until `grace` resolves; those still pending then are
   * aborted and reported once (`E_TIMEOUT`).
   */
  async settleNotifiers(grace: Promise<void>, isOver: () => boolean, graceMs: number): Promise<void> {
    while (this.#notifying.size > 0 && !isOver())
      await Promise.race([Promise.all([...this.#notifying]), grace]);
    if (this.#notifying.size === 0) return;
    const pending = this.#notifying.size;
    this.#notifyAbort.abort(new FleetwatchError('E_ABORTED', 'scheduler stopped'));
    this.#opts.report(
      new FleetwatchError(
        'E_TIMEOUT',
        `${pending} notifier call(s) still pending after stopGraceMs (${graceMs} ms); given up`,
        { details: { pending } },
      ),
      'notifier calls pending at stop',
    );
  }

  #track(p: Promise<void>): void {
    const tracked: Promise<void> = p
      .catch((err) => this.#opts.report(err, 'result pipeline failed'))
      .finally(() => this.#pending.delete(tracked));
    this.#pending.add(tracked);
  }

  /** Point tags of a job, computed once per target version. */
  #tagsOf(job: Job): Record<string, string> {
    if (!job.tags) {
      const node = job.target.node;
      job.tags = CheckResultSink.tags(job.check.id, job.key, {
        ...(node ? { node: node.uid, provider: node.provider } : {}),
        ...(this.#opts.location ? { location: this.#opts.location } : {}),
      });
    }
    return job.tags;
  }

  /**
   * Alarm and state for one result, synchronously (so results of a target are counted in order).
   * Returns a promise only when something asynchronous follows (state save, then the event).
   */
  #evaluate(job: Job, result: CheckResultEvent): Promise<void> | undefined {
    const check = job.check;
    const key = stateKey(check.id, job.key);
    const prev = this.#states.get(key);
    const verdict = judge(check.alarm, result, prev?.lastMetrics, prev?.lastTs);
    const { transition, record, dirty } = this.#states.observe(
      { checkId: check.id, target: job.key },
      verdict,
      { enter: check.enter, recover: check.recover },
      result.ts,
      result.metrics,
    );
    const saving = dirty && !job.removed ? this.#opts.stateStore.save(structuredClone(record)) : undefined;
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
    if (saving) return saving.then(() => this.#announce(job, event));
    this.#announce(job, event);
    return undefined;
  }

  #announce(job: Job, event: CheckStateEvent): void {
    if (this.#isSuppressed(job, event.ts)) {
      this.#opts.emit('suppressed', event);
      return;
    }
    this.#opts.emit('state', event);
    for (const notify of this.#opts.notifiers ?? []) this.#notify(notify, event);
  }

  /** Call one notifier, tracked so that stop() can wait for it. */
  #notify(notify: StateNotifier, event: CheckStateEvent): void {
    const signal = this.#notifyAbort.signal;
    let call: Promise<void>;
    try {
      call = Promise.resolve(notify(event, { signal }));
    } catch (err) {
      this.#opts.report(err, 'notifier failed');
      return;
    }
    const tracked: Promise<void> = call
      // a call given up on at stop() was reported then; its abort is not a second failure
      .catch((err) => {
        if (!signal.aborted) this.#opts.report(err, 'notifier failed');
      })
      .finally(() => this.#notifying.delete(tracked));
    this.#notifying.add(tracked);
  }

  #isSuppressed(job: Job, now: number): boolean {
    for (const w of this.#suppressions.values()) {
      if (!suppressionActive(w, now)) continue;
      if (w.checks && !w.checks.includes(job.check.id)) continue;
      if (w.nodes && !w.nodes.includes(job.key)) continue;
      if (w.query !== undefined) {
        const uid = job.target.node?.uid;
        const inventory = this.#opts.inventory;
        if (!uid || !inventory) continue;
        try {
          if (!inventory.query(w.query).some((n) => n.uid === uid)) continue;
        } catch (err) {
          this.#opts.report(err, 'suppression query failed');
          continue;
        }
      }
      return true;
    }
    return false;
  }
}
