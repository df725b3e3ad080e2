/**
 * A bounded write buffer with back-pressure. Callers submit groups of statements and get a promise
 * that resolves once every statement of the group is acknowledged by Cassandra. Statements wait in
 * per-partition queues; a fixed number of requests is in flight, each either one statement or an
 * unlogged batch of statements of the same partition (one mutation on the replica: atomic, cheap).
 *
 * - When the buffer holds `maxRows` statements, `submit` waits for room (back-pressure).
 * - Transient failures (node down, timeouts) are retried with backoff; statements are idempotent.
 * - A group not acknowledged within `timeoutMs` of its submission is rejected with
 *   `E_STORE_UNAVAILABLE` and its queued statements are dropped; nothing is dropped silently.
 * - A statement with a `dedupe` id takes the place of a queued, never-sent statement with the same id
 *   instead of being queued again: the newer statement (its write timestamp) is what gets sent, and
 *   both groups resolve when it is acknowledged. Only unsent statements are replaced, so the write
 *   reaches Cassandra after the later `submit`, exactly as if each had been sent on its own.
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from '../core.js';
import { silentLogger } from '../core.js';
import { abortError, FleetwatchError } from '../errors.js';
import { isTransientDriverError, toStoreError } from './driver-errors.js';

/** One statement for the buffer. */
export interface BufferedStatement {
  /** Statements with the same key share a partition and may be sent together in one batch. */
  key: string;
  query: string;
  params: unknown[];
  /**
   * Statements with the same id write the same row to the same effect (e.g. one dirty mark): a later
   * one replaces a queued, never-sent one.
   */
  dedupe?: string;
}

/** Sends statements of one partition: one statement alone, several as an unlogged batch. */
export type StatementSender = (statements: readonly BufferedStatement[]) => Promise<void>;

/** Options of {@link WriteBuffer}. */
export interface WriteBufferOptions {
  send: StatementSender;
  /** Most statements queued or in flight before `submit` waits. @default 100000 */
  maxRows?: number;
  /** Requests in flight at once. @default 64 */
  concurrency?: number;
  /** Most statements in one same-partition batch. @default 50 */
  maxBatch?: number;
  /** A group not acknowledged this long after `submit` is rejected. @default 30000 */
  timeoutMs?: number;
  logger?: Logger;
}

interface Group {
  remaining: number;
  done: boolean;
  resolve: () => void;
  reject: (err: unknown) => void;
  timer: ReturnType<typeof setTimeout>;
  lastError?: unknown;
}

interface Row {
  stmt: BufferedStatement;
  group: Group;
  /** Groups of later submits that joined this (unsent) row. */
  joined?: Group[];
}

function settled(row: Row): boolean {
  return row.group.done && (row.joined === undefined || row.joined.every((g) => g.done));
}

function groupsOf(row: Row): Group[] {
  return row.joined === undefined ? [row.group] : [row.group, ...row.joined];
}

interface Waiter {
  rows: number;
  wake: () => void;
}

/** See the module doc. */
export class WriteBuffer {
  readonly #send: StatementSender;
  readonly #maxRows: number;
  readonly #concurrency: number;
  readonly #maxBatch: number;
  readonly #timeoutMs: number;
  readonly #logger: Logger;
  readonly #queues = new Map<string, Row[]>();
  /** Queued, never-sent rows with a `dedupe` id, by that id. */
  readonly #unsent = new Map<string, Row>();
  readonly #waiters: Waiter[] = [];
  readonly #idle: Array<() => void> = [];
  /** Statements queued or in flight. */
  #rows = 0;
  #inFlight = 0;
  #retrying = 0;
  #failures = 0;
  #closed = false;

  constructor(options: WriteBufferOptions) {
    this.#send = options.send;
    this.#maxRows = options.maxRows ?? 100_000;
    this.#concurrency = options.concurrency ?? 64;
    this.#maxBatch = options.maxBatch ?? 50;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#logger = options.logger ?? silentLogger;
  }

  /** Statements queued or in flight. */
  get size(): number {
    return this.#rows;
  }

  /**
   * Queue `statements` and resolve once all are acknowledged. Waits for room first when the buffer
   * is full; rejects with `E_STORE_UNAVAILABLE` when not acknowledged within `timeoutMs`, with
   * `E_ABORTED` when `signal` fires before the statements are queued, and `E_CLOSED` after close.
   */
  submit(statements: readonly BufferedStatement[], signal?: AbortSignal): Promise<void> {
    if (statements.length === 0) return Promise.resolve();
    const started = performance.now();
    if (this.#closed) return Promise.reject(new FleetwatchError('E_CLOSED', 'the write buffer is closed'));
    if (signal?.aborted) return Promise.reject(abortError(signal));
    // fast path: room now, queue synchronously (keeps submission order)
    if (this.#waiters.length === 0 && (this.#rows === 0 || this.#rows + statements.length <= this.#maxRows)) {
      return this.#enqueue(statements, started);
    }
    return this.#room(statements.length, started, signal).then(() => this.#enqueue(statements, started));
  }

  #enqueue(statements: readonly BufferedStatement[], started: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const group: Group = {
        remaining: statements.length,
        done: false,
        resolve,
        reject,
        timer: setTimeout(
          () => {
            const cause = group.lastError;
            this.#fail(
              group,
              new FleetwatchError(
                'E_STORE_UNAVAILABLE',
                `Cassandra did not acknowledge the write within ${this.#timeoutMs} ms` +
                  (cause instanceof Error ? `: ${cause.message}` : ''),
                { cause },
              ),
            );
          },
          Math.max(0, this.#timeoutMs - (performance.now() - started)),
        ),
      };
      group.timer.unref?.();
      let added = 0;
      for (const stmt of statements) {
        if (stmt.dedupe !== undefined) {
          const twin = this.#unsent.get(stmt.dedupe);
          if (twin !== undefined) {
            twin.stmt = stmt;
            if (twin.joined === undefined) twin.joined = [group];
            else twin.joined.push(group);
            continue;
          }
        }
        let q = this.#queues.get(stmt.key);
        if (q === undefined) {
          q = [];
          this.#queues.set(stmt.key, q);
        }
        const row: Row = { stmt, group };
        q.push(row);
        if (stmt.dedupe !== undefined) this.#unsent.set(stmt.dedupe, row);
        added++;
      }
      this.#rows += added;
      this.#pump();
    });
  }

  /** Resolve when nothing is queued or in flight. */
  drain(): Promise<void> {
    if (this.#rows === 0 && this.#inFlight === 0 && this.#retrying === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Reject everything still queued with `E_CLOSED` and refuse new submissions. */
  close(): void {
    this.#closed = true;
    const err = new FleetwatchError('E_CLOSED', 'the store was closed before the write was acknowledged');
    for (const q of this.#queues.values()) for (const r of q) for (const g of groupsOf(r)) this.#fail(g, err);
    this.#rows = 0;
    this.#queues.clear();
    this.#unsent.clear();
    for (const w of this.#waiters.splice(0)) w.wake();
    this.#checkIdle();
  }

  async #room(n: number, started: number, signal: AbortSignal | undefined): Promise<void> {
    while (this.#rows > 0 && this.#rows + n > this.#maxRows) {
      if (signal?.aborted) throw abortError(signal);
      if (this.#closed) throw new FleetwatchError('E_CLOSED', 'the write buffer is closed');
      const left = this.#timeoutMs - (performance.now() - started);
      if (left <= 0) {
        throw new FleetwatchError(
          'E_STORE_UNAVAILABLE',
          `the write buffer stayed full (${this.#rows} statements) for ${this.#timeoutMs} ms; Cassandra is slow or down`,
          { details: { buffered: this.#rows, maxRows: this.#maxRows } },
        );
      }
      const waiter: Waiter = { rows: n, wake: () => {} };
      await new Promise<void>((resolve) => {
        const t = setTimeout(finish, left);
        t.unref?.();
        const onAbort = () => finish();
        signal?.addEventListener('abort', onAbort, { once: true });
        waiter.wake = finish;
        this.#waiters.push(waiter);
        function finish() {
          clearTimeout(t);
          signal?.removeEventListener('abort', onAbort);
          resolve();
        }
      });
      const i = this.#waiters.indexOf(waiter);
      if (i >= 0) this.#waiters.splice(i, 1);
    }
    if (signal?.aborted) throw abortError(signal);
    if (this.#closed) throw new FleetwatchError('E_CLOSED', 'the write buffer is closed');
  }

  #pump(): void {
    while (this.#inFlight < this.#concurrency && this.#queues.size > 0) {
      const first = this.#queues.entries().next().value as [string, Row[]];
      const [key, q] = first;
      const take: Row[] = [];
      while (take.length < this.#maxBatch && q.length > 0) {
        const row = q.shift() as Row;
        if (row.stmt.dedupe !== undefined && this.#unsent.get(row.stmt.dedupe) === row) {
          this.#unsent.delete(row.stmt.dedupe);
        }
        if (settled(row)) {
          this.#rows--;
          continue;
        }
        take.push(row);
      }
      if (q.length === 0) this.#queues.delete(key);
      if (take.length === 0) continue;
      this.#inFlight++;
      void this.#dispatch(take);
    }
    this.#wakeWaiters();
    this.#checkIdle();
  }

  async #dispatch(rows: Row[]): Promise<void> {
    try {
      await this.#send(rows.map((r) => r.stmt));
      this.#failures = 0;
      this.#inFlight--;
      this.#rows -= rows.length;
      for (const r of rows) {
        this.#ack(r.group);
        if (r.joined !== undefined) for (const g of r.joined) this.#ack(g);
      }
    } catch (err) {
      this.#inFlight--;
      if (!isTransientDriverError(err)) {
        this.#rows -= rows.length;
        const e = toStoreError(err, 'write');
        for (const r of rows) for (const g of groupsOf(r)) this.#fail(g, e);
      } else {
        this.#failures++;
        for (const r of rows) for (const g of groupsOf(r)) g.lastError = err;
        const delay = Math.min(2000, 25 * 2 ** Math.min(this.#failures, 7));
        if (this.#failures === 1 || this.#failures % 50 === 0) {
          this.#logger.warn(
            { err: (err as Error).message, delay, failures: this.#failures },
            'Cassandra write failed; retrying',
          );
        }
        this.#retrying++;
        const t = setTimeout(() => {
          this.#retrying--;
          const live = rows.filter((r) => !settled(r));
          this.#rows -= rows.length - live.length;
          if (!this.#closed) {
            for (const r of live) {
              let q = this.#queues.get(r.stmt.key);
              if (q === undefined) {
                q = [];
                this.#queues.set(r.stmt.key, q);
              }
              q.push(r);
            }
          } else {
            this.#rows -= live.length;
          }
          this.#pump();
        }, delay);
        t.unref?.();
      }
    }
    this.#pump();
  }

  #ack(g: Group): void {
    if (g.done) return;
    if (--g.remaining === 0) {
      g.done = true;
      clearTimeout(g.timer);
      g.resolve();
    }
  }

  #fail(group: Group, err: unknown): void {
    if (group.done) return;
    group.done = true;
    clearTimeout(group.timer);
    group.reject(err);
  }

  #wakeWaiters(): void {
    while (this.#waiters.length > 0) {
      const w = this.#waiters[0] as Waiter;
      if (this.#rows + w.rows > this.#maxRows && this.#rows > 0) break;
      this.#waiters.shift();
      w.wake();
    }
  }

  #checkIdle(): void {
    if (this.#rows === 0 && this.#inFlight === 0 && this.#retrying === 0) {
      for (const r of this.#idle.splice(0)) r();
    }
  }
}
