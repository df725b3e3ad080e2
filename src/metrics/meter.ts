/**
 * A meter bound to one series: a count of events plus its mean rate and 1/5/15-minute
 * exponentially weighted rates (events per second), as Dropwizard/Coda Hale meters report them.
 *
 * `mark()` is a field update. No timer runs per meter: rates are brought up to date when read,
 * from the count increase since the previous read, with the continuous-time EWMA
 * `rate ← rate·e^(−Δ/τ) + (events/Δ)·(1 − e^(−Δ/τ))` (τ = 1, 5, 15 min). With Δ = 5 s this is
 * exactly Dropwizard's 5-second tick; for longer gaps it assumes the events were spread evenly.
 */
import { type Clock, systemClock } from '../core.js';
import { validationError } from '../errors.js';
import { type DropCounts, uncountedDrops } from './drops.js';

/** The three EWMA time constants, in ms. */
const TAUS_MS = [60_000, 300_000, 900_000] as const;

/** Rates of a meter, events per second. */
export interface MeterRates {
  /** Events since the meter was created. */
  count: number;
  /** count / seconds since creation. */
  meanRate: number;
  /** 1-minute exponentially weighted rate. */
  m1Rate: number;
  /** 5-minute exponentially weighted rate. */
  m5Rate: number;
  /** 15-minute exponentially weighted rate. */
  m15Rate: number;
}

/**
 * A meter handle, as returned (and cached) by `registry.meter(name, tags)`. Never throws: a step
 * that is not a finite number >= 0 is dropped and counted in `registry.stats().droppedValues`.
 *
 * @example
 * ```ts
 * const logins = registry.meter('logins');
 * logins.mark();
 * logins.rates().m1Rate; // events per second, 1-minute EWMA
 * ```
 */
export class Meter {
  #count = 0;
  #collected = 0;
  readonly #clock: Clock;
  readonly #drops: DropCounts;
  readonly #startedAt: number;
  #lastTickAt: number;
  #lastTickCount = 0;
  readonly #ewma = [0, 0, 0];
  #primed = false;

  constructor(
    /** The metric name. */
    readonly name: string,
    /** The series' full tag set, sorted and frozen. */
    readonly tags: Readonly<Record<string, string>>,
    clock: Clock = systemClock,
    drops: DropCounts = uncountedDrops(),
  ) {
    if (typeof clock?.now !== 'function') throw validationError('clock', 'an object with now()', clock);
    this.#clock = clock;
    this.#drops = drops;
    this.#startedAt = clock.now();
    this.#lastTickAt = this.#startedAt;
  }

  /** Events since creation. */
  get count(): number {
    return this.#count;
  }

  /** Record `n` events (default 1). A step that is not a finite number >= 0 is dropped and counted. */
  mark(n = 1): void {
    if (typeof n === 'number' && n >= 0 && n < Number.POSITIVE_INFINITY) this.#count += n;
    else this.#drops.values++;
  }

  /** The current rates (brings the EWMAs up to the clock's now). */
  rates(): MeterRates {
    const now = this.#clock.now();
    const dt = now - this.#lastTickAt;
    if (dt > 0) {
      const rate = ((this.#count - this.#lastTickCount) * 1000) / dt;
      for (let i = 0; i < TAUS_MS.length; i++) {
        if (!this.#primed) this.#ewma[i] = rate;
        else {
          const decay = Math.exp(-dt / TAUS_MS[i]!);
          this.#ewma[i] = this.#ewma[i]! * decay + rate * (1 - decay);
        }
      }
      this.#primed = true;
      this.#lastTickAt = now;
      this.#lastTickCount = this.#count;
    }
    const elapsed = now - this.#startedAt;
    return {
      count: this.#count,
      meanRate: elapsed > 0 ? (this.#count * 1000) / elapsed : 0,
      m1Rate: this.#ewma[0]!,
      m5Rate: this.#ewma[1]!,
      m15Rate: this.#ewma[2]!,
    };
  }

  /** The increase since the previous call. @internal Used by the registry. */
  takeDelta(): number {
    const delta = this.#count - this.#collected;
    this.#collected = this.#count;
    return delta;
  }
}
