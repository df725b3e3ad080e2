/**
 * Which region a node id was last seen in, so actions on a multi-region provider go straight to
 * the right endpoint. Bounded: past `max` ids it starts over (a miss only costs a lookup).
 */

/** A bounded id → region memo with the `Map` methods the adapters use. */
export class RegionMemo<R> {
  readonly #map = new Map<string, R>();
  readonly #max: number;

  /** @param max ids kept before the memo is cleared. @default 100_000 */
  constructor(max = 100_000) {
    this.#max = max;
  }

  /** Remember `id` in `region`. */
  set(id: string, region: R): void {
    if (this.#map.size >= this.#max && !this.#map.has(id)) this.#map.clear();
    this.#map.set(id, region);
  }

  /** The region of `id`, if remembered. */
  get(id: string): R | undefined {
    return this.#map.get(id);
  }

  /** Whether `id` is remembered (its region may be `undefined`: the only one). */
  has(id: string): boolean {
    return this.#map.has(id);
  }

  /** How many ids are remembered. */
  get size(): number {
    return this.#map.size;
  }
}

/**
 * `node`, after telling `memo` which region it is in (the step each regional listing does for
 * every node it yields, so later calls on the node go straight to its region).
 *
 * @example
 * ```ts
 * declare const client: { remember(id: string, region: string): void };
 * declare const node: Node;
 * const same = remembered(client, node, 'eu-west-1');
 * ```
 */
export function remembered<N extends { id: string }, R>(
  memo: { remember(id: string, region: R): void },
  node: N,
  region: R,
): N {
  memo.remember(node.id, region);
  return node;
}
