/**
 * A lookup from a raw, unvalidated tag object to a handle that skips validation, sorting and key
 * building: a trie walked tag by tag in the object's own key order (key, then value), so a repeated
 * `registry.counter(name, { route, method })` costs a few `Map.get`s on strings whose hashes V8 has
 * cached, and allocates nothing. Only tag objects that passed validation are ever inserted.
 *
 * @internal
 */

interface TrieNode<H> {
  handle: H | undefined;
  children: Map<string, TrieNode<H>> | undefined;
}

/** Raw tag object (in its own key order) → handle. */
export class AliasIndex<H> {
  readonly #root: TrieNode<H> = { handle: undefined, children: undefined };
  /** Number of tag objects (key orders) stored. */
  size = 0;

  /** The handle stored for exactly these tags in this key order, if any. */
  get(tags: Readonly<Record<string, unknown>> | undefined): H | undefined {
    let node: TrieNode<H> | undefined = this.#root;
    if (tags !== undefined) {
      for (const key in tags) {
        const value = tags[key];
        if (typeof value !== 'string') return undefined;
        node = node.children?.get(key)?.children?.get(value);
        if (node === undefined) return undefined;
      }
    }
    return node.handle;
  }

  /** Store `handle` for these (validated) tags. */
  set(tags: Readonly<Record<string, string>> | undefined, handle: H): void {
    let node = this.#root;
    if (tags !== undefined) {
      for (const key in tags) {
        node = child(child(node, key), tags[key]!);
      }
    }
    if (node.handle === undefined) this.size++;
    node.handle = handle;
  }
}

function child<H>(node: TrieNode<H>, part: string): TrieNode<H> {
  node.children ??= new Map();
  let next = node.children.get(part);
  if (next === undefined) {
    next = { handle: undefined, children: undefined };
    node.children.set(part, next);
  }
  return next;
}
