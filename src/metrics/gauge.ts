/**
 * A gauge bound to one series: the current value of something (queue depth, memory). How gauges
 * from several processes combine is the metric's {@link GaugePolicy}, declared at registration.
 */
import { validationError } from '../errors.js';
import type { GaugePolicy } from './types.js';

/** The gauge policies, for validation. */
export const GAUGE_POLICIES: readonly GaugePolicy[] = ['last', 'sum', 'min', 'max', 'avg'];

/** A gauge handle, as returned (and cached) by `registry.gauge(name, tags, { policy })`. */
export class Gauge {
  /** The current value (0 until set). */
  value = 0;

  constructor(
    /** The metric name. */
    readonly name: string,
    /** The series' full tag set, sorted and frozen. */
    readonly tags: Readonly<Record<string, string>>,
    /** How the broker combines this gauge across processes. */
    readonly policy: GaugePolicy,
  ) {}

  /** Set the value (finite, else `E_VALIDATION`). */
  set(value: number): void {
    if (!Number.isFinite(value)) throw validationError('value', 'a finite number', value);
    this.value = value;
  }

  /** Add `n` (default 1). */
  inc(n = 1): void {
    if (!Number.isFinite(n)) throw validationError('n', 'a finite number', n);
    this.value += n;
  }

  /** Subtract `n` (default 1). */
  dec(n = 1): void {
    if (!Number.isFinite(n)) throw validationError('n', 'a finite number', n);
    this.value -= n;
  }
}
