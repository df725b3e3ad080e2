import { definedFields } from '../../core.js';
import { FleetwatchError } from '../../errors.js';
import type { ListNodesOptions, Node, NodeState } from '../types.js';
import type { AdapterBase } from './options.js';
import { type FetchPage, itemsFromPages } from './paginate.js';

/** Core's, re-exported so the adapters take every node helper from the kit. */
export { definedFields };

/** Look `raw` up in a STATES table; anything unknown (including prototype names) is `'unknown'`. */
export function lookupState(table: Readonly<Record<string, NodeState>>, raw: string): NodeState {
  return Object.hasOwn(table, raw) ? (table[raw] as NodeState) : 'unknown';
}

/** Copy only `keys` from `raw` (skipping undefined) into a new `extra` object. */
export function pickExtra(raw: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (raw[k] !== undefined) out[k] = raw[k];
  return out;
}

/** A Date from an ISO string, or `undefined` when absent or invalid. */
export function parseDate(value: unknown): Date | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** Fields of a {@link Node} an adapter fills; `uid`, `provider` and `kind` are added by {@link makeNode}. */
export type NodeFields = Omit<Node, 'uid' | 'provider' | 'kind'>;

/** Build a {@link Node}: `uid` = `${providerId}:${id}`. */
export function makeNode(base: Pick<AdapterBase, 'id' | 'kind'>, fields: NodeFields): Node {
  return { uid: `${base.id}:${fields.id}`, provider: base.id, kind: base.kind, ...fields };
}

/** Options for {@link nodesFromPages}. */
export interface NodesFromPagesOptions extends ListNodesOptions {
  provider: string;
  maxPages?: number;
}

/**
 * The body of every `listNodes`: {@link itemsFromPages} over raw nodes.
 * `toNodes` returns one node per raw item, or `undefined` to skip it.
 */
export function nodesFromPages<R>(
  fetchPage: FetchPage<R>,
  toNodes: (raw: R, signal?: AbortSignal) => Node | undefined | Promise<Node | undefined>,
  opts: NodesFromPagesOptions,
): AsyncGenerator<Node, void, undefined> {
  return itemsFromPages(fetchPage, toNodes, {
    provider: opts.provider,
    maxPages: opts.maxPages,
    signal: opts.signal,
    onPage: opts.onPage,
  });
}

/** Narrow an unknown JSON value to an object, or throw `E_MALFORMED_RESPONSE`. */
export function asObject(value: unknown, provider: string, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new FleetwatchError('E_MALFORMED_RESPONSE', `${provider}: ${what} is not an object`, { provider });
  return value as Record<string, unknown>;
}

/** Narrow an unknown JSON value to an array, or throw `E_MALFORMED_RESPONSE`. */
export function asArray(value: unknown, provider: string, what: string): unknown[] {
  if (!Array.isArray(value))
    throw new FleetwatchError('E_MALFORMED_RESPONSE', `${provider}: ${what} is not an array`, { provider });
  return value;
}

/** A string field, or `undefined`. Numbers are stringified (ids). */
export function str(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}
