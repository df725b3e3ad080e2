/** A fake clock and timer set for the scheduler: time moves only through `advance`. */
import type { SchedulerTimers } from '../../src/checks/scheduler.js';

interface FakeTimer {
  id: number;
  due: number;
  fn: () => void;
}

export class FakeTime {
  now: number;
  private timers: FakeTimer[] = [];
  private seq = 0;
  constructor(start = 1_700_000_000_000) {
    this.now = start;
  }
  readonly clock = { now: () => this.now };
  readonly api: SchedulerTimers = {
    setTimeout: (fn, ms) => {
      const t = { id: ++this.seq, due: this.now + Math.max(0, ms), fn };
      this.timers.push(t);
      return t.id;
    },
    clearTimeout: (id) => {
      this.timers = this.timers.filter((t) => t.id !== id);
    },
  };
  /** Pending timer count. */
  get pending(): number {
    return this.timers.length;
  }
  /** Let promise chains settle. */
  async settle(rounds = 12): Promise<void> {
    for (let i = 0; i < rounds; i++) await Promise.resolve();
  }
  /** Fire every timer due up to now + ms, in order, settling promises between them. */
  async advance(ms: number): Promise<void> {
    const end = this.now + ms;
    for (;;) {
      await this.settle();
      let next: FakeTimer | undefined;
      for (const t of this.timers)
        if (t.due <= end && (!next || t.due < next.due || (t.due === next.due && t.id < next.id))) next = t;
      if (!next) break;
      this.timers = this.timers.filter((t) => t !== next);
      this.now = Math.max(this.now, next.due);
      next.fn();
    }
    this.now = end;
    await this.settle();
  }
  /** A promise resolved after `ms` of fake time. */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const id = this.api.setTimeout(resolve, ms);
      signal?.addEventListener('abort', () => {
        this.api.clearTimeout(id);
        reject(signal.reason);
      });
    });
  }
}
