/**
 * A repeating task whose next run is scheduled when the previous one ends, with jitter, on an
 * `unref`'d timer, so that runs never overlap and never keep the process alive.
 */

/** When to run again: the pause after each run ends, its random spread, and the randomness. */
export interface PeriodicSchedule {
  readonly intervalMs: number;
  /** Fraction of `intervalMs` (0.1 = ±10%). */
  readonly jitter: number;
  /** Uniform in [0, 1). */
  readonly random: () => number;
}

/** Runs a task now and then again `intervalMs` (± jitter) after each run ends, until `stop()`. */
export class PeriodicRunner {
  #timer: NodeJS.Timeout | undefined;
  #running = false;

  /** True between `start()` and `stop()`. */
  get running(): boolean {
    return this.#running;
  }

  /** Start running `run`; a rejection goes to `onError`, never out of the timer. */
  start(run: () => Promise<unknown>, schedule: PeriodicSchedule, onError: (err: unknown) => void): void {
    const { intervalMs, jitter, random } = schedule;
    this.#running = true;
    const tick = (): void => {
      this.#timer = undefined;
      if (!this.#running) return;
      run()
        .catch(onError)
        .finally(() => {
          if (!this.#running) return;
          const delay = intervalMs * (1 + jitter * (2 * random() - 1));
          this.#timer = setTimeout(tick, Math.max(0, delay));
          this.#timer.unref();
        });
    };
    tick();
  }

  /** Stop scheduling runs (a run in flight finishes on its own). Idempotent. */
  stop(): void {
    this.#running = false;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
