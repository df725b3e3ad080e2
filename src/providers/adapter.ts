/**
 * Small pieces every cloud adapter shares: option checks, credentials from the environment, state
 * lookups, `extra` from an explicit key list, string-tag encoding (DigitalOcean, Linode), and the
 * page-to-node loop of `listNodes`.
 */
import {
  type Clock,
  type Logger,
  nonEmptyString,
  positiveNumber,
  rejectUnknownKeys,
  silentLogger,
  systemClock,
} from '../core.js';
import { FleetwatchError, validationError } from '../errors.js';
import { type ProviderHttpOptions, type ProviderPage, paginateProvider } from './kit/index.js';
import type {
  CommonProviderOptions,
  ListNodesOptions,
  Node,
  NodeState,
  Provider,
  ProviderKind,
} from './types.js';

/** Options every cloud factory takes besides its own: the common ones plus `http`. */
export interface CloudProviderOptions extends CommonProviderOptions {
  /** HTTP client options (timeouts, retries, user agent, got TLS/agent options). */
  http?: ProviderHttpOptions;
}

/** A {@link Provider} whose listed optional operations are all present. */
export type ProviderWith<K extends keyof Provider> = Provider & Required<Pick<Provider, K>>;

/** The node operations a JSON cloud adapter offers besides listing and lookup. */
export type NodeControlOperation = 'setTags' | 'removeTags' | 'rebootNode' | 'startNode' | 'stopNode';

/** {@link NodeControlOperation}s plus creating and destroying nodes. */
export type NodeLifecycleOperation = NodeControlOperation | 'createNode' | 'destroyNode';

/** The keys {@link CloudProviderOptions} adds; factories list their own beside these. */
export const COMMON_OPTION_KEYS = ['id', 'logger', 'clock', 'http'] as const;

/** The checked common part of a factory's options. */
export interface AdapterBase {
  id: string;
  kind: ProviderKind;
  logger: Logger;
  clock: Clock;
}

/** Check the options object, its keys and `id`; return the common part. */
export function checkCommonOptions(
  options: unknown,
  kind: ProviderKind,
  ownKeys: readonly string[],
): AdapterBase {
  const id = checkOptionsShape(options, [...COMMON_OPTION_KEYS, ...ownKeys]);
  return { id, kind, ...loggerAndClock(options as CloudProviderOptions) };
}

/** Check that `options` is an object with only `allowed` keys and a non-empty `id`; return the id. */
export function checkOptionsShape(options: unknown, allowed: readonly string[]): string {
  if (typeof options !== 'object' || options === null) throw validationError('options', 'an object', options);
  rejectUnknownKeys(options, allowed);
  return nonEmptyString((options as { id?: unknown }).id, 'options.id');
}

/** The `logger` and `clock` options, defaulting to the silent logger and the system clock. */
export function loggerAndClock(options: CommonProviderOptions): { logger: Logger; clock: Clock } {
  return { logger: options.logger ?? silentLogger, clock: options.clock ?? systemClock };
}

/** The `regionConcurrency` option of a multi-region adapter: an integer of at least 1. @default 4 */
export function regionConcurrencyOption(value: unknown): number {
  return value === undefined
    ? 4
    : positiveNumber(value, 'options.regionConcurrency', { integer: true, min: 1 });
}

/**
 * A credential from the option or, when absent, from the environment variable `envName`.
 * Missing in both → `E_CONFIG` naming the variable (never echoing a value).
 */
export function credential(
  value: unknown,
  path: string,
  envName: string,
  env: NodeJS.ProcessEnv = process.env,
): string {
  if (value !== undefined) {
    if (typeof value !== 'string' || value.length === 0)
      throw new FleetwatchError('E_VALIDATION', `${path}: expected a non-empty string`, {
        path,
        expected: 'a non-empty string',
      });
    return value;
  }
  const fromEnv = env[envName];
  if (fromEnv === undefined || fromEnv === '')
    throw new FleetwatchError('E_CONFIG', `${path} was not given and ${envName} is not set`, {
      path,
      details: { env: envName },
    });
  return fromEnv;
}

/** An optional base URL option, checked to be an absolute http(s) URL. */
export function baseUrlOption(value: unknown, path: string, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !/^https?:\/\/[^\s]+$/i.test(value))
    throw validationError(path, 'an absolute http(s) URL', value);
  return value;
}

/** An optional integer option from `min` to `max`; `fallback` when absent. */
export function intOption(value: unknown, path: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw validationError(path, `an integer from ${min} to ${max}`, value);
  return value;
}

/**
 * The `regions` option of a multi-region adapter: `'all'`, or a non-empty array of names each
 * checked by `checkRegion` (duplicates dropped); `undefined` when absent.
 */
export function regionsOption(
  value: unknown,
  expected: string,
  checkRegion: (region: unknown, path: string) => string,
): readonly string[] | 'all' | undefined {
  if (value === 'all') return 'all';
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0) throw validationError('options.regions', expected, value);
  return [...new Set(value.map((r, i) => checkRegion(r, `options.regions[${i}]`)))];
}

/** Check a node id argument. */
export function nodeIdArg(id: unknown, path = 'id'): string {
  return nonEmptyString(id, path);
}

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

/** `fields` without its `undefined` entries, to spread into a node (`...definedFields({ zone })`). */
export function definedFields<T extends Record<string, unknown>>(fields: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) out[k as keyof T] = v as T[keyof T];
  return out;
}

/** Fields of a {@link Node} an adapter fills; `uid`, `provider` and `kind` are added by {@link makeNode}. */
export type NodeFields = Omit<Node, 'uid' | 'provider' | 'kind'>;

/** Build a {@link Node}: `uid` = `${providerId}:${id}`. */
export function makeNode(base: AdapterBase, fields: NodeFields): Node {
  return { uid: `${base.id}:${fields.id}`, provider: base.id, kind: base.kind, ...fields };
}

/**
 * Decode string tags (DigitalOcean, Linode): `key:value` → key/value (split at the first `:`),
 * a bare `tag` → `tag: ''`.
 */
export function parseStringTags(tags: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!Array.isArray(tags)) return out;
  for (const t of tags) {
    if (typeof t !== 'string') continue;
    const i = t.indexOf(':');
    if (i < 0) out[t] = '';
    else out[t.slice(0, i)] = t.slice(i + 1);
  }
  return out;
}

/** Encode tags as strings (the inverse of {@link parseStringTags}); keys may not contain `:`. */
export function formatStringTags(tags: Record<string, string>, path = 'tags'): string[] {
  if (typeof tags !== 'object' || tags === null || Array.isArray(tags))
    throw validationError(path, 'an object', tags);
  return Object.entries(tags).map(([k, v]) => {
    if (k.length === 0 || k.includes(':')) throw validationError(`${path}.${k}`, 'a key without ":"', k);
    if (typeof v !== 'string') throw validationError(`${path}.${k}`, 'a string', v);
    return v === '' ? k : `${k}:${v}`;
  });
}

/** Optional tags as strings ({@link formatStringTags}), checked as `path`; none → `[]`. */
export function optionalStringTags(tags: unknown, path: string): string[] {
  return tags ? formatStringTags(tagsArg(tags, path), path) : [];
}

/**
 * `createNode`'s `input.extra`: only the cloud's own create fields (`allowed`) may be in it, as
 * they are passed through to the API. None → `{}`.
 */
export function createExtraArg(
  extra: Record<string, unknown> | undefined,
  allowed: readonly string[],
  cloud: string,
): Record<string, unknown> {
  const out = extra ?? {};
  for (const k of Object.keys(out))
    if (!allowed.includes(k))
      throw new FleetwatchError('E_VALIDATION', `input.extra.${k}: not a ${cloud} create field`, {
        path: `input.extra.${k}`,
        expected: allowed.join(', '),
      });
  return out;
}

/** Check a tags record argument: an object of strings. */
export function tagsArg(tags: unknown, path = 'tags'): Record<string, string> {
  if (typeof tags !== 'object' || tags === null || Array.isArray(tags))
    throw validationError(path, 'an object', tags);
  for (const [k, v] of Object.entries(tags)) {
    if (typeof v !== 'string') throw validationError(`${path}.${k}`, 'a string', v);
  }
  return tags as Record<string, string>;
}

/** `tags` without the keys in `drop`. */
export function withoutKeys(tags: Record<string, string>, drop: ReadonlySet<string>): Record<string, string> {
  return Object.fromEntries(Object.entries(tags).filter(([k]) => !drop.has(k)));
}

/** Check a tag-key list argument. */
export function keysArg(keys: unknown, path = 'keys'): string[] {
  if (!Array.isArray(keys)) throw validationError(path, 'an array of strings', keys);
  keys.forEach((k, i) => {
    if (typeof k !== 'string') throw validationError(`${path}[${i}]`, 'a string', k);
  });
  return keys as string[];
}

/** Options for {@link nodesFromPages}. */
export interface NodesFromPagesOptions extends ListNodesOptions {
  provider: string;
  maxPages?: number;
}

/**
 * The body of every `listNodes`: follow pages with the loop guard and translate each raw item.
 * `toNodes` returns one node per raw item, or `undefined` to skip it.
 */
export async function* nodesFromPages<R>(
  fetchPage: (
    cursor: string | undefined,
    ctx: { page: number; signal?: AbortSignal },
  ) => Promise<ProviderPage<R>>,
  toNodes: (raw: R, signal?: AbortSignal) => Node | undefined | Promise<Node | undefined>,
  opts: NodesFromPagesOptions,
): AsyncGenerator<Node, void, undefined> {
  for await (const page of paginateProvider(fetchPage, {
    provider: opts.provider,
    maxPages: opts.maxPages,
    signal: opts.signal,
    onPage: opts.onPage,
  })) {
    for (const raw of page) {
      const node = await toNodes(raw, opts.signal);
      if (node) yield node;
    }
  }
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
