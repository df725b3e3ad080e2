/**
 * What the dashboard knows about checks: the current state, last run and recent state changes of
 * every check × target, learned from the scheduler's `result` and `state` events (bounded).
 */
import type { AlarmState } from '../checks/alarm.js';
import type { CheckResultEvent, CheckScheduler, CheckStateEvent } from '../checks/scheduler.js';
import type { Inventory } from '../inventory/inventory.js';
import type { ChecksResponse, CheckTargetView } from './types.js';

const HISTORY = 20;
const MAX_ENTRIES = 100_000;
const STATES: readonly AlarmState[] = ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'];

interface Entry {
  checkId: string;
  target: string;
  node?: string;
  state: AlarmState;
  since?: number;
  message: string;
  lastRun?: CheckTargetView['lastRun'];
  history: CheckTargetView['history'];
}

const keyOf = (checkId: string, target: string) => `${checkId}\u0000${target}`;

/** Tracks check states from scheduler events; `stats()` and `list()` read it. */
export class CheckBook {
  readonly #scheduler: CheckScheduler;
  readonly #inventory: Inventory;
  readonly #entries = new Map<string, Entry>();
  readonly #onResult = (e: CheckResultEvent) => this.#result(e);
  readonly #onState = (e: CheckStateEvent) => this.#state(e);

  constructor(scheduler: CheckScheduler, inventory: Inventory) {
    this.#scheduler = scheduler;
    this.#inventory = inventory;
    scheduler.on('result', this.#onResult);
    scheduler.on('state', this.#onState);
  }

  #entry(checkId: string, target: string, node: string | undefined): Entry {
    const key = keyOf(checkId, target);
    let e = this.#entries.get(key);
    if (e === undefined) {
      if (this.#entries.size >= MAX_ENTRIES) this.#prune();
      e = { checkId, target, state: 'UNKNOWN', message: '', history: [] };
      this.#entries.set(key, e);
    }
    if (node !== undefined) e.node = node;
    return e;
  }

  /** Forget entries whose check or target the scheduler no longer runs. */
  #prune(): void {
    const live = new Set<string>();
    for (const id of this.#scheduler.list())
      for (const t of this.#scheduler.targetsOf(id)) live.add(keyOf(id, t));
    for (const k of this.#entries.keys()) if (!live.has(k)) this.#entries.delete(k);
    // still full: drop the oldest
    while (this.#entries.size >= MAX_ENTRIES) this.#entries.delete(this.#entries.keys().next().value!);
  }

  #result(r: CheckResultEvent): void {
    const e = this.#entry(r.checkId, r.target, r.node);
    e.lastRun = { ok: r.ok, ts: r.ts, durationMs: r.durationMs };
    if (r.error !== undefined) e.lastRun.error = r.error.slice(0, 500);
  }

  #state(s: CheckStateEvent): void {
    const e = this.#entry(s.checkId, s.target, s.node);
    e.state = s.state;
    e.since = s.ts;
    e.message = s.message.slice(0, 500);
    e.history.push({ ts: s.ts, previous: s.previous, state: s.state, message: e.message });
    if (e.history.length > HISTORY) e.history.shift();
  }

  /** Targets by current state (every target the scheduler runs; never seen = UNKNOWN). */
  counts(): Partial<Record<AlarmState, number>> {
    const out: Partial<Record<AlarmState, number>> = {};
    for (const id of this.#scheduler.list())
      for (const t of this.#scheduler.targetsOf(id)) {
        const s = this.#entries.get(keyOf(id, t))?.state ?? 'UNKNOWN';
        out[s] = (out[s] ?? 0) + 1;
      }
    return out;
  }

  /** `GET /api/v1/checks?check=&state=&limit=`. */
  list(filter: { check?: string; state?: AlarmState; limit: number }): ChecksResponse {
    const checks = this.#scheduler.list();
    const targets: CheckTargetView[] = [];
    let total = 0;
    for (const id of checks) {
      if (filter.check !== undefined && id !== filter.check) continue;
      for (const t of this.#scheduler.targetsOf(id)) {
        const e = this.#entries.get(keyOf(id, t));
        const state = e?.state ?? 'UNKNOWN';
        if (filter.state !== undefined && state !== filter.state) continue;
        total++;
        if (targets.length >= filter.limit) continue;
        const v: CheckTargetView = {
          checkId: id,
          target: t,
          state,
          message: e?.message ?? '',
          history: e ? [...e.history] : [],
        };
        const node = e?.node ?? (this.#inventory.get(t) ? t : undefined);
        if (node !== undefined) {
          v.node = node;
          const n = this.#inventory.get(node);
          if (n !== undefined) v.name = n.name;
        }
        if (e?.since !== undefined) v.since = e.since;
        if (e?.lastRun !== undefined) v.lastRun = { ...e.lastRun };
        targets.push(v);
      }
    }
    return { checks, total, targets };
  }

  /** Stop listening to the scheduler. */
  close(): void {
    this.#scheduler.off('result', this.#onResult);
    this.#scheduler.off('state', this.#onState);
  }
}

/** Parse a `state` filter. */
export function isAlarmState(s: string): s is AlarmState {
  return (STATES as readonly string[]).includes(s);
}
