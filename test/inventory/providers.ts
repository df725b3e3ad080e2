/**
 * In-test providers implementing the Provider interface: an array-backed one you mutate between
 * syncs, one that fails on demand, one that never finishes until aborted.
 */
import { FleetwatchError } from '../../src/errors.js';
import type { ListNodesOptions, Node, NodeState, Provider, ProviderKind } from '../../src/providers/types.js';

/** Build a node with defaults. */
export function makeNode(provider: string, id: string, over: Partial<Node> = {}): Node {
  return {
    uid: `${provider}:${id}`,
    id,
    name: id,
    provider,
    kind: 'static',
    state: 'running',
    rawState: 'running',
    publicIps: [],
    privateIps: [],
    tags: {},
    extra: {},
    ...over,
  };
}

/** A provider backed by a mutable array; `fail` makes the next listings throw it. */
export class ArrayProvider implements Provider {
  readonly kind: ProviderKind;
  nodes: Node[] = [];
  fail: Error | undefined;
  pageSize = 2;
  listings = 0;
  setTagsCalls: Array<{ id: string; tags: Record<string, string> }> = [];
  constructor(
    readonly id: string,
    kind: ProviderKind = 'static',
  ) {
    this.kind = kind;
  }
  add(id: string, over: Partial<Node> = {}): Node {
    const n = makeNode(this.id, id, { kind: this.kind, ...over });
    this.nodes.push(n);
    return n;
  }
  update(id: string, over: Partial<Node>): void {
    this.nodes = this.nodes.map((n) => (n.id === id ? { ...n, ...over } : n));
  }
  delete(id: string): void {
    this.nodes = this.nodes.filter((n) => n.id !== id);
  }
  setState(id: string, state: NodeState): void {
    this.update(id, { state, rawState: state });
  }
  async *listNodes(opts: ListNodesOptions = {}): AsyncIterable<Node> {
    this.listings++;
    const snapshot = this.nodes.map((n) => structuredClone(n));
    for (let i = 0, page = 1; i < snapshot.length || page === 1; i += this.pageSize, page++) {
      await Promise.resolve();
      const chunk = snapshot.slice(i, i + this.pageSize);
      opts.onPage?.({ page, nodes: chunk.length });
      yield* chunk;
      if (this.fail !== undefined) throw this.fail;
    }
  }
  async getNode(id: string): Promise<Node | undefined> {
    return this.nodes.find((n) => n.id === id);
  }
}

/** A provider with setTags/removeTags that applies them to its provider tags. */
export class TaggableProvider extends ArrayProvider {
  async setTags(id: string, tags: Record<string, string>): Promise<void> {
    this.setTagsCalls.push({ id, tags });
    this.update(id, { tags: { ...this.nodes.find((n) => n.id === id)?.tags, ...tags } });
  }
  async removeTags(id: string, keys: string[]): Promise<void> {
    const n = this.nodes.find((x) => x.id === id);
    if (n === undefined) throw new FleetwatchError('E_NOT_FOUND', 'no node');
    const tags = { ...n.tags };
    for (const k of keys) delete tags[k];
    this.update(id, { tags });
  }
}

/** A provider whose listing yields one node and then hangs, ignoring its signal. */
export class HangingProvider implements Provider {
  readonly kind = 'static' as const;
  constructor(readonly id: string) {}
  async *listNodes(): AsyncIterable<Node> {
    yield makeNode(this.id, 'first');
    await new Promise(() => {});
  }
  async getNode(): Promise<undefined> {
    return undefined;
  }
}
