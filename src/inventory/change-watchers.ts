/**
 * The live `watch()` subscriptions of an {@link Inventory}: each a node predicate and a bounded
 * feed, handed every change that concerns a node it matches.
 */
import type { InventoryChange, InventoryNode } from './types.js';
import { BoundedFeed, type WatchOverflow } from './watch.js';

interface Watcher {
  matches: (node: InventoryNode) => boolean;
  feed: BoundedFeed<InventoryChange>;
}

/** The set of active watchers; a watcher leaves it when its feed is returned or its signal aborts. */
export class ChangeWatchers {
  readonly #watchers = new Set<Watcher>();

  /** Number of active watchers. */
  get size(): number {
    return this.#watchers.size;
  }

  /** Subscribe to the changes of nodes `matches` accepts, at most `bufferSize` of them waiting. */
  add(
    matches: (node: InventoryNode) => boolean,
    bufferSize: number,
    signal: AbortSignal | undefined,
  ): AsyncIterableIterator<InventoryChange | WatchOverflow> {
    const watcher: Watcher = {
      matches,
      feed: new BoundedFeed<InventoryChange>(bufferSize, () => this.#watchers.delete(watcher), signal),
    };
    if (!signal?.aborted) this.#watchers.add(watcher);
    return watcher.feed;
  }

  /** Hand a change to every watcher whose query matches the node before or after it. */
  publish(ev: InventoryChange): void {
    for (const w of this.#watchers) {
      if (w.matches(ev.node) || (ev.type === 'changed' && w.matches(ev.previous))) w.feed.push(ev);
    }
  }

  /** End every watch (their iterators finish) and forget them. */
  endAll(): void {
    for (const w of [...this.#watchers]) w.feed.return();
    this.#watchers.clear();
  }
}
