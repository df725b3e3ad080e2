import type { Clock } from '../core.js';
import { fnv1a, nextGridTime } from './grid.js';
import { DueHeap } from './heap.js';
import type { Job, SchedulerTimers } from './scheduler-types.js';

/**
 * When each job runs next: jobs on a min-heap of due times (`phase + k·period`, plus a bounded jitter
 * derived from the job and the grid time), and one timer armed for the earliest.
 *
 * @example
 * ```ts
 * const timeline = new Timeline(clock, timers, () => onTick());
 * timeline.schedule(job, clock.now() - 1);
 * timeline.arm();
 * ```
 */
export class Timeline {
  readonly #heap = new DueHeap<Job>();
  readonly #clock: Clock;
  readonly #timers: SchedulerTimers;
  readonly #onDue: () => void;
  #timer: unknown;
  #timerDue = Number.POSITIVE_INFINITY;

  constructor(clock: Clock, timers: SchedulerTimers, onDue: () => void) {
    this.#clock = clock;
    this.#timers = timers;
    this.#onDue = onDue;
  }

  /** Put a job at its next grid time after `after`. */
  schedule(job: Job, after: number): void {
    const { periodMs, jitterMs } = job.check;
    const jitter = (g: number) => (jitterMs > 0 ? fnv1a(`${job.key}\u0000${g}`) % (jitterMs + 1) : 0);
    const g0 = nextGridTime(job.phase, periodMs, after) - periodMs;
    let due = g0 + jitter(g0);
    if (due <= after) due = g0 + periodMs + jitter(g0 + periodMs);
    job.due = due;
    if (job.heapIndex < 0) this.#heap.push(job);
    else this.#heap.update(job);
  }

  /** Take a job off the timeline. */
  remove(job: Job): void {
    this.#heap.remove(job);
  }

  /** The job due first, if any. */
  peek(): Job | undefined {
    return this.#heap.peek();
  }

  /** (Re)arm the timer for the earliest due time. */
  arm(): void {
    const top = this.#heap.peek();
    if (!top) {
      this.disarm();
      return;
    }
    if (this.#timer !== undefined && this.#timerDue <= top.due) return;
    if (this.#timer !== undefined) this.#timers.clearTimeout(this.#timer);
    this.#timerDue = top.due;
    const delay = Math.min(2_147_483_647, Math.max(0, top.due - this.#clock.now()));
    this.#timer = this.#timers.setTimeout(() => {
      this.#timer = undefined;
      this.#timerDue = Number.POSITIVE_INFINITY;
      this.#onDue();
    }, delay);
  }

  /** Clear the timer. */
  disarm(): void {
    if (this.#timer !== undefined) this.#timers.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerDue = Number.POSITIVE_INFINITY;
  }
}
