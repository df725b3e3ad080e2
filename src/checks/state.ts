/**
 * Check states: a consecutive-count state machine per check and target (OK / WARNING / CRITICAL /
 * UNKNOWN), an injectable store that persists it across restarts, and suppression windows that mute
 * state-change notifications while checks keep running.
 */
import type { AbortOptions } from '../core.js';
import { validationError } from '../errors.js';
import type { AlarmState } from './alarm.js';
import type { CheckMetrics } from './types.js';

/** The persisted state of one check on one target. */
export interface CheckStateRecord {
  /** `${checkId}\u0000${target}`. */
  key: string;
  /** The `id` of the check. */
  checkId: string;
  /** Target key: node uid for inventory targets, else the host/URL as written. */
  target: string;
  /** The committed state. */
  state: AlarmState;
  /** Epoch ms when `state` was entered. */
  since: number;
  /** The message of the evaluation that entered `state`. */
  message: string;
  /** A different state being counted towards, and how many results in a row gave it. */
  candidate?: AlarmState;
  /** How many results in a row gave `candidate` (0 without one). */
  count: number;
  /** The last run's metrics and time, for `previous()` and `rate()` after a restart. */
  lastMetrics?: CheckMetrics;
  /** Epoch ms of the last run, with `lastMetrics`. */
  lastTs?: number;
}

/** Where check states are kept. The default keeps them in memory. */
export interface CheckStateStore {
  /** Every stored record (called once at start). */
  load(opts?: AbortOptions): Promise<CheckStateRecord[]>;
  /** Insert or replace a record. */
  save(record: CheckStateRecord, opts?: AbortOptions): Promise<void>;
  /** Forget a record (when its check or target goes away). */
  delete(key: string, opts?: AbortOptions): Promise<void>;
}

/**
 * An in-memory {@link CheckStateStore} (the scheduler's default); share one instance between
 * scheduler restarts in a process so states and their counts carry over.
 *
 * @example
 * ```ts
 * const stateStore = new MemoryCheckStateStore();
 * let scheduler = new CheckScheduler({ inventory, stateStore });
 * // … later, a new scheduler picks up where the old one left off
 * await scheduler.stop();
 * scheduler = new CheckScheduler({ inventory, stateStore });
 * ```
 */
export class MemoryCheckStateStore implements CheckStateStore {
  readonly #records = new Map<string, CheckStateRecord>();
  /** Every stored record, as copies. */
  async load(): Promise<CheckStateRecord[]> {
    return [...this.#records.values()].map((r) => structuredClone(r));
  }
  /** Insert or replace the record with this `key` (a copy is kept). */
  async save(record: CheckStateRecord): Promise<void> {
    this.#records.set(record.key, structuredClone(record));
  }
  /** Forget the record with this `key`. */
  async delete(key: string): Promise<void> {
    this.#records.delete(key);
  }
}

/** A state change decided by {@link CheckStateMachine.observe}. */
export interface StateTransition {
  previous: AlarmState;
  state: AlarmState;
  message: string;
}

/** The key of a check on a target. */
export function stateKey(checkId: string, target: string): string {
  return `${checkId}\u0000${target}`;
}

/**
 * Consecutive-count state machine. A new state is entered after `enter` results in a row give it
 * (`recover` for OK). A target's first result enters OK at once; other states need the full count.
 */
export class CheckStateMachine {
  readonly #records = new Map<string, CheckStateRecord>();

  /** Load records (from a store at start). */
  restore(records: Iterable<CheckStateRecord>): void {
    for (const r of records) this.#records.set(r.key, r);
  }

  /** The record of a check on a target. */
  get(key: string): CheckStateRecord | undefined {
    return this.#records.get(key);
  }

  /** Forget a record. */
  delete(key: string): void {
    this.#records.delete(key);
  }

  /**
   * Count one evaluation. Returns the transition when the state changes, and whether the record
   * changed in a way worth persisting.
   */
  observe(
    ids: { checkId: string; target: string },
    result: { state: AlarmState; message: string },
    counts: { enter: number; recover: number },
    ts: number,
    metrics: CheckMetrics,
  ): { transition?: StateTransition; record: CheckStateRecord; dirty: boolean } {
    const key = stateKey(ids.checkId, ids.target);
    let rec = this.#records.get(key);
    let dirty = false;
    if (!rec) {
      rec = {
        key,
        checkId: ids.checkId,
        target: ids.target,
        state: 'UNKNOWN',
        since: ts,
        message: '',
        count: 0,
      };
      this.#records.set(key, rec);
      dirty = true;
    }
    rec.lastMetrics = metrics;
    rec.lastTs = ts;
    if (result.state === rec.state) {
      if (rec.candidate !== undefined) {
        delete rec.candidate;
        rec.count = 0;
        dirty = true;
      }
      return { record: rec, dirty };
    }
    if (rec.candidate === result.state) rec.count++;
    else {
      rec.candidate = result.state;
      rec.count = 1;
    }
    dirty = true;
    const fresh = rec.state === 'UNKNOWN' && result.state === 'OK';
    const needed = fresh ? 1 : result.state === 'OK' ? counts.recover : counts.enter;
    if (rec.count < needed) return { record: rec, dirty };
    const transition: StateTransition = { previous: rec.state, state: result.state, message: result.message };
    rec.state = result.state;
    rec.since = ts;
    rec.message = result.message;
    delete rec.candidate;
    rec.count = 0;
    return { transition, record: rec, dirty };
  }
}

/** A window during which state-change notifications are muted (checks keep running and recording). */
export interface SuppressionWindow {
  /** Unique id, for {@link CheckScheduler.removeSuppression}. */
  id: string;
  /** One-off window start, epoch ms (0 or absent = now). */
  start?: number;
  /** One-off window end, epoch ms (absent = open-ended). */
  end?: number;
  /** A recurring window instead: every listed UTC weekday (0 = Sunday; all when absent) at `at`. */
  recurring?: { days?: number[]; at: string; durationMs: number };
  /** Mute only these check ids. */
  checks?: string[];
  /** Mute only these targets (node uid or host). */
  nodes?: string[];
  /** Mute only nodes matching this inventory tag query. */
  query?: string;
}

/** Validate a suppression window. */
export function normalizeSuppression(w: SuppressionWindow, path = 'suppression'): SuppressionWindow {
  if (typeof w !== 'object' || w === null) throw validationError(path, 'an object', w);
  if (typeof w.id !== 'string' || w.id === '')
    throw validationError(`${path}.id`, 'a non-empty string', w.id);
  if (w.recurring) {
    if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(w.recurring.at ?? ''))
      throw validationError(`${path}.recurring.at`, 'HH:MM (UTC)', w.recurring.at);
    if (!(w.recurring.durationMs > 0 && w.recurring.durationMs <= 7 * 86_400_000))
      throw validationError(`${path}.recurring.durationMs`, 'a duration 1 ms..7 d', w.recurring.durationMs);
    if (w.recurring.days?.some((d) => !Number.isInteger(d) || d < 0 || d > 6))
      throw validationError(`${path}.recurring.days`, 'weekdays 0..6', w.recurring.days);
  } else if (w.end !== undefined && !(typeof w.end === 'number' && w.end > (w.start ?? 0))) {
    throw validationError(`${path}.end`, 'an epoch ms after start', w.end);
  }
  for (const k of ['checks', 'nodes'] as const) {
    if (w[k] !== undefined && (!Array.isArray(w[k]) || w[k].some((x) => typeof x !== 'string')))
      throw validationError(`${path}.${k}`, 'an array of strings', w[k]);
  }
  return structuredClone(w);
}

/** True when the window is in force at `now` (epoch ms). */
export function suppressionActive(w: SuppressionWindow, now: number): boolean {
  if (!w.recurring) return now >= (w.start ?? 0) && (w.end === undefined || now < w.end);
  const [hh, mm] = w.recurring.at.split(':').map(Number) as [number, number];
  const day = 86_400_000;
  // A window may have started on any of the previous days (durations up to 7 days).
  const today = Math.floor(now / day) * day;
  for (let back = 0; back <= 7; back++) {
    const start = today - back * day + (hh * 60 + mm) * 60_000;
    if (start > now) continue;
    const weekday = new Date(start).getUTCDay();
    if (w.recurring.days && !w.recurring.days.includes(weekday)) continue;
    if (now < start + w.recurring.durationMs) return true;
  }
  return false;
}
