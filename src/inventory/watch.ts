/**
 * A bounded push-to-pull queue: events pushed by the inventory, pulled by `for await`. When the
 * consumer falls behind by more than `bufferSize` items, the oldest are dropped and the next item
 * pulled is an `overflow` marker saying how many were lost (the consumer should re-query).
 */
import { abortError } from '../errors.js';

/** Yielded by a watch after items were dropped because the consumer fell behind. */
export interface WatchOverflow {
  type: 'overflow';
  /** How many items were dropped. */
  dropped: number;
}

/** A bounded async iterator fed by `push`; `end()` finishes it, `return()` unsubscribes. */
export class BoundedFeed<T> implements AsyncIterableIterator<T | WatchOverflow> {
  readonly #buffer: T[] = [];
  readonly #size: number;
  readonly #onClose: () => void;
  #dropped = 0;
  #done = false;
  #error: unknown;
  #waiter:
    | { resolve: (r: IteratorResult<T | WatchOverflow>) => void; reject: (e: unknown) => void }
    | undefined;

  constructor(size: number, onClose: () => void, signal?: AbortSignal) {
    this.#size = size;
    this.#onClose = onClose;
    if (signal !== undefined) {
      if (signal.aborted) this.#fail(abortError(signal));
      else signal.addEventListener('abort', () => this.#fail(abortError(signal)), { once: true });
    }
  }

  /** Offer one item (dropped silently after the feed ended). */
  push(item: T): void {
    if (this.#done) return;
    if (this.#waiter !== undefined) {
      const w = this.#waiter;
      this.#waiter = undefined;
      w.resolve({ value: item, done: false });
      return;
    }
    this.#buffer.push(item);
    if (this.#buffer.length > this.#size) {
      this.#buffer.shift();
      this.#dropped++;
    }
  }

  #fail(err: unknown): void {
    if (this.#done) return;
    this.#error = err;
    this.#finish();
  }

  #finish(): void {
    this.#done = true;
    this.#onClose();
    const w = this.#waiter;
    this.#waiter = undefined;
    if (w === undefined) return;
    if (this.#error !== undefined) {
      w.reject(this.#error);
      this.#error = undefined;
    } else w.resolve({ value: undefined, done: true });
  }

  /** Items waiting to be pulled. */
  get buffered(): number {
    return this.#buffer.length;
  }

  next(): Promise<IteratorResult<T | WatchOverflow>> {
    if (this.#dropped > 0) {
      const dropped = this.#dropped;
      this.#dropped = 0;
      return Promise.resolve({ value: { type: 'overflow', dropped }, done: false });
    }
    if (this.#buffer.length > 0) return Promise.resolve({ value: this.#buffer.shift()!, done: false });
    if (this.#done) {
      if (this.#error !== undefined) {
        const err = this.#error;
        this.#error = undefined;
        return Promise.reject(err);
      }
      return Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  /** Stop watching: unsubscribe and drop what is buffered. */
  return(): Promise<IteratorResult<T | WatchOverflow>> {
    this.#buffer.length = 0;
    this.#dropped = 0;
    this.#error = undefined;
    if (!this.#done) this.#finish();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
