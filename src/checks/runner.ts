import PQueue from 'p-queue';
import { FleetwatchError } from '../errors.js';
import { abortedError, errorText } from './config.js';
import type { NormalizedCheck } from './definition.js';
import type { SchedulerTimers } from './scheduler-types.js';
import type { CheckOutcome, CheckTarget } from './types.js';

/**
 * Run a check once against one target with its own AbortController, fired at the check's timeout
 * (`E_TIMEOUT`) or when `opts.signal` fires. A failure of the run is an outcome with `error`; only an
 * abort by `opts.signal` rejects (`E_ABORTED`).
 *
 * @example
 * ```ts
 * const { outcome } = await runCheck(check, config, target, timers, { signal });
 * ```
 */
export async function runCheck(
  check: NormalizedCheck,
  config: unknown,
  target: CheckTarget,
  timers: SchedulerTimers,
  opts: { signal?: AbortSignal; inFlight?: Set<AbortController> } = {},
): Promise<{ outcome: CheckOutcome; aborted: boolean }> {
  const ac = new AbortController();
  const { signal, inFlight } = opts;
  const onAbort = () => ac.abort(signal!.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  inFlight?.add(ac);
  const timer = timers.setTimeout(
    () =>
      ac.abort(
        new FleetwatchError('E_TIMEOUT', `check timed out after ${check.timeoutMs} ms`, { path: check.id }),
      ),
    check.timeoutMs,
  );
  try {
    const outcome = await check.type.run(config, target, { signal: ac.signal, timeoutMs: check.timeoutMs });
    return { outcome, aborted: ac.signal.aborted };
  } catch (err) {
    if (signal?.aborted) throw abortedError(signal);
    const error = ac.signal.aborted ? errorText(ac.signal.reason) : errorText(err);
    return { outcome: { metrics: {}, error }, aborted: ac.signal.aborted };
  } finally {
    timers.clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
    inFlight?.delete(ac);
  }
}

/** Concurrency limits of {@link RunQueues}. */
export interface RunQueuesOptions {
  concurrency: number;
  hostConcurrency?: number;
  typeConcurrency?: Record<string, number>;
}

/**
 * The p-queues runs wait in: one global, plus optional per-host and per-type caps (queues for a host
 * or type exist only while they hold work, so node churn does not accumulate them).
 *
 * @example
 * ```ts
 * const queues = new RunQueues({ concurrency: 50, hostConcurrency: 2 });
 * await queues.add('10.0.0.1', 'http', () => runOnce());
 * ```
 */
export class RunQueues {
  readonly #queue: PQueue;
  readonly #opts: RunQueuesOptions;
  readonly #hostQueues = new Map<string, PQueue>();
  readonly #typeQueues = new Map<string, PQueue>();

  constructor(opts: RunQueuesOptions) {
    this.#opts = opts;
    this.#queue = new PQueue({ concurrency: opts.concurrency });
  }

  /** Runs waiting for a slot in the global queue. */
  get size(): number {
    return this.#queue.size;
  }

  /** Runs in flight. */
  get pending(): number {
    return this.#queue.pending;
  }

  /** Queue `task` behind the host, type and global limits that apply. */
  add(host: string, type: string, task: () => Promise<void>): Promise<unknown> {
    let run: () => Promise<unknown> = () => this.#queue.add(task);
    const typeCap = this.#opts.typeConcurrency?.[type];
    if (typeCap !== undefined) run = this.#capped(this.#typeQueues, type, typeCap, run);
    if (this.#opts.hostConcurrency !== undefined)
      run = this.#capped(this.#hostQueues, host, this.#opts.hostConcurrency, run);
    return run();
  }

  /** Drop every queued (not yet started) run. */
  clear(): void {
    this.#queue.clear();
    for (const q of [...this.#hostQueues.values(), ...this.#typeQueues.values()]) q.clear();
  }

  /** Resolves when no run is in flight. */
  onPendingZero(): Promise<void> {
    return this.#queue.onPendingZero();
  }

  #capped(
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
        if (queue.size === 0 && queue.pending === 0 && queues.get(key) === queue) queues.delete(key);
      });
    };
  }
}
