/**
 * The static provider: servers no cloud API knows, from an array or a JSON/YAML file. Input is
 * validated with the path of the bad field; tags can be changed in memory.
 */
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { parse as parseYaml } from 'yaml';
import { type AbortOptions, nonEmptyString } from '../core.js';
import { FleetwatchError, throwIfAborted, validationError } from '../errors.js';
import { type AdapterBase, checkCommonOptions, keysArg, makeNode, nodeIdArg, tagsArg } from './kit/index.js';
import { redactFields, safeCause } from './kit/redact.js';
import {
  type CommonProviderOptions,
  type ListNodesOptions,
  NODE_STATES,
  type Node,
  type NodeState,
  type Provider,
} from './types.js';

/** One server as written in the array or file. Only `id` is required. */
export interface StaticNodeInput {
  /** The node's id, unique within this provider; the node's `uid` is `${providerId}:${id}`. */
  id: string;
  /** Display name. @default the id */
  name?: string;
  /** @default 'running' */
  state?: NodeState;
  /** @default the state */
  rawState?: string;
  /** The region, as {@link Node.region}. */
  region?: string;
  /** The zone, as {@link Node.zone}. */
  zone?: string;
  /** Public addresses. @default [] */
  publicIps?: string[];
  /** Private addresses. @default [] */
  privateIps?: string[];
  /** The size, as {@link Node.size}. */
  size?: string;
  /** The image, as {@link Node.image}. */
  image?: string;
  /** ISO date string or Date. */
  createdAt?: string | Date;
  /** Numbers and booleans are turned into strings. */
  tags?: Record<string, string>;
  /** Free-form; secret-looking fields are redacted. */
  extra?: Record<string, unknown>;
}

/** Options of {@link staticProvider}. At least one of `nodes` and `file` is required. */
export interface StaticProviderOptions extends CommonProviderOptions {
  /** Nodes given inline. */
  nodes?: StaticNodeInput[];
  /** A JSON or YAML file holding an array of nodes or `{ nodes: [...] }`; re-read on every `listNodes`. */
  file?: string;
}

const NODE_KEYS = [
  'id',
  'name',
  'state',
  'rawState',
  'region',
  'zone',
  'publicIps',
  'privateIps',
  'size',
  'image',
  'createdAt',
  'tags',
  'extra',
];

/**
 * A provider for servers listed by hand.
 *
 * @example
 * ```ts
 * const dc = staticProvider({ id: 'dc1', file: './servers.yaml' });
 * const lab = staticProvider({ id: 'lab', nodes: [{ id: 'pi-1', publicIps: ['192.0.2.10'], tags: { role: 'dns' } }] });
 * ```
 */
export function staticProvider(
  options: StaticProviderOptions,
): Provider & Required<Pick<Provider, 'setTags' | 'removeTags'>> {
  const base = checkCommonOptions(options, 'static', ['nodes', 'file']);
  if (options.nodes === undefined && options.file === undefined)
    throw new FleetwatchError('E_VALIDATION', 'options: give nodes, file or both', { path: 'options.nodes' });
  const file = options.file === undefined ? undefined : nonEmptyString(options.file, 'options.file');
  const inline = options.nodes === undefined ? [] : parseStaticNodes(options.nodes, 'options.nodes');
  return new StaticAdapter(base, inline, file);
}

/** Validate a list of static nodes (an array, or `{ nodes: [...] }`), naming the bad field's path. */
export function parseStaticNodes(value: unknown, path = 'nodes'): StaticNodeInput[] {
  let list = value;
  let at = path;
  if (list && typeof list === 'object' && !Array.isArray(list) && 'nodes' in list) {
    list = (list as { nodes: unknown }).nodes;
    at = `${path}.nodes`;
  }
  if (!Array.isArray(list)) throw validationError(at, 'an array of nodes', list);
  const seen = new Set<string>();
  return list.map((item, i) => {
    const p = `${at}[${i}]`;
    const node = parseStaticNode(item, p);
    if (seen.has(node.id)) throw validationError(`${p}.id`, 'a unique id', node.id);
    seen.add(node.id);
    return node;
  });
}

function parseStaticNode(item: unknown, p: string): StaticNodeInput {
  if (!item || typeof item !== 'object' || Array.isArray(item)) throw validationError(p, 'an object', item);
  const o = item as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (!NODE_KEYS.includes(k)) throw validationError(`${p}.${k}`, `one of ${NODE_KEYS.join(', ')}`, k);
  const id = typeof o.id === 'number' ? String(o.id) : o.id;
  const optString = (k: string) => {
    if (o[k] !== undefined && typeof o[k] !== 'string') throw validationError(`${p}.${k}`, 'a string', o[k]);
    return o[k] as string | undefined;
  };
  const ips = (k: string) => {
    const v = o[k];
    if (v === undefined) return [];
    if (!Array.isArray(v)) throw validationError(`${p}.${k}`, 'an array of IP addresses', v);
    return v.map((ip, j) => {
      if (typeof ip !== 'string' || isIP(ip) === 0)
        throw validationError(`${p}.${k}[${j}]`, 'an IP address', ip);
      return ip;
    });
  };
  const state = o.state ?? 'running';
  if (typeof state !== 'string' || !NODE_STATES.includes(state as NodeState))
    throw validationError(`${p}.state`, `one of ${NODE_STATES.join(', ')}`, state);
  let createdAt: Date | undefined;
  if (o.createdAt !== undefined) {
    createdAt =
      o.createdAt instanceof Date
        ? o.createdAt
        : typeof o.createdAt === 'string'
          ? new Date(o.createdAt)
          : undefined;
    if (!createdAt || Number.isNaN(createdAt.getTime()))
      throw validationError(`${p}.createdAt`, 'an ISO date', o.createdAt);
  }
  const tags: Record<string, string> = {};
  if (o.tags !== undefined) {
    if (!o.tags || typeof o.tags !== 'object' || Array.isArray(o.tags))
      throw validationError(`${p}.tags`, 'an object of strings', o.tags);
    for (const [k, v] of Object.entries(o.tags)) {
      if (typeof v === 'string') tags[k] = v;
      else if (typeof v === 'number' || typeof v === 'boolean') tags[k] = String(v);
      else throw validationError(`${p}.tags.${k}`, 'a string', v);
    }
  }
  if (o.extra !== undefined && (!o.extra || typeof o.extra !== 'object' || Array.isArray(o.extra)))
    throw validationError(`${p}.extra`, 'an object', o.extra);
  return {
    id: nonEmptyString(id, `${p}.id`),
    name: optString('name'),
    state: state as NodeState,
    rawState: optString('rawState'),
    region: optString('region'),
    zone: optString('zone'),
    publicIps: ips('publicIps'),
    privateIps: ips('privateIps'),
    size: optString('size'),
    image: optString('image'),
    createdAt,
    tags,
    extra: o.extra === undefined ? {} : (redactFields(o.extra) as Record<string, unknown>),
  };
}

class StaticAdapter implements Provider {
  readonly id: string;
  readonly kind = 'static' as const;
  readonly #base: AdapterBase;
  readonly #inline: StaticNodeInput[];
  readonly #file: string | undefined;
  /** The tag set after setTags/removeTags, by node id; it replaces the file's tags for that node. */
  readonly #tags = new Map<string, Record<string, string>>();

  constructor(base: AdapterBase, inline: StaticNodeInput[], file: string | undefined) {
    this.id = base.id;
    this.#base = base;
    this.#inline = inline;
    this.#file = file;
  }

  async *listNodes(opts: ListNodesOptions = {}): AsyncIterable<Node> {
    const all = await this.#load(opts.signal);
    opts.onPage?.({ page: 1, nodes: all.length });
    for (const n of all) yield this.#toNode(n);
  }

  async getNode(id: string, opts: AbortOptions = {}): Promise<Node | undefined> {
    nodeIdArg(id);
    const found = (await this.#load(opts.signal)).find((n) => n.id === id);
    return found ? this.#toNode(found) : undefined;
  }

  async setTags(nodeId: string, tags: Record<string, string>, opts: AbortOptions = {}): Promise<void> {
    const checked = { ...tagsArg(tags) };
    const node = await this.#require(nodeId, opts.signal);
    this.#tags.set(nodeId, { ...(this.#tags.get(nodeId) ?? node.tags ?? {}), ...checked });
  }

  async removeTags(nodeId: string, keys: string[], opts: AbortOptions = {}): Promise<void> {
    const drop = new Set(keysArg(keys));
    const node = await this.#require(nodeId, opts.signal);
    const current = this.#tags.get(nodeId) ?? node.tags ?? {};
    this.#tags.set(nodeId, Object.fromEntries(Object.entries(current).filter(([k]) => !drop.has(k))));
  }

  toJSON(): Record<string, unknown> {
    return { id: this.id, kind: this.kind, file: this.#file };
  }

  async #require(nodeId: string, signal?: AbortSignal): Promise<StaticNodeInput> {
    nodeIdArg(nodeId, 'nodeId');
    const node = (await this.#load(signal)).find((n) => n.id === nodeId);
    if (!node)
      throw new FleetwatchError('E_NOT_FOUND', `${this.id}: node ${nodeId} not found`, { provider: this.id });
    return node;
  }

  async #load(signal?: AbortSignal): Promise<StaticNodeInput[]> {
    throwIfAborted(signal);
    if (this.#file === undefined) return this.#inline;
    let text: string;
    try {
      text = await readFile(this.#file, { encoding: 'utf8', signal });
    } catch (cause) {
      throwIfAborted(signal);
      throw new FleetwatchError(
        'E_CONFIG',
        `${this.id}: cannot read ${this.#file} (${(cause as NodeJS.ErrnoException).code ?? 'error'})`,
        {
          provider: this.id,
          path: 'options.file',
          cause,
        },
      );
    }
    let data: unknown;
    try {
      data = parseYaml(text); // YAML 1.2 is a superset of JSON
    } catch (cause) {
      throw new FleetwatchError(
        'E_VALIDATION',
        `${this.#file}: not valid JSON or YAML: ${safeCause(cause, (t) => t)?.message}`,
        {
          provider: this.id,
          path: 'options.file',
          cause: safeCause(cause, (t) => t),
        },
      );
    }
    let fromFile: StaticNodeInput[];
    try {
      fromFile = parseStaticNodes(data, 'file');
    } catch (err) {
      if (err instanceof FleetwatchError)
        throw new FleetwatchError(err.code, `${this.#file}: ${err.message}`, {
          provider: this.id,
          path: err.path,
          expected: err.expected,
          received: err.received,
          details: { file: this.#file },
        });
      throw err;
    }
    const ids = new Set(fromFile.map((n) => n.id));
    for (const n of this.#inline)
      if (ids.has(n.id)) throw validationError('options.nodes', `ids not also in ${this.#file}`, n.id);
    return [...fromFile, ...this.#inline];
  }

  #toNode(n: StaticNodeInput): Node {
    const state = n.state ?? 'running';
    return makeNode(this.#base, {
      id: n.id,
      name: n.name ?? n.id,
      state,
      rawState: n.rawState ?? state,
      region: n.region,
      zone: n.zone,
      publicIps: [...(n.publicIps ?? [])],
      privateIps: [...(n.privateIps ?? [])],
      size: n.size,
      image: n.image,
      createdAt: n.createdAt instanceof Date ? new Date(n.createdAt.getTime()) : undefined,
      tags: { ...(this.#tags.get(n.id) ?? n.tags ?? {}) },
      extra: { ...(n.extra ?? {}) },
    });
  }
}
