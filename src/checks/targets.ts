/**
 * Check targets: a host, `host:port` or URL written in the check, or an inventory tag query whose
 * matching nodes become targets; plus `{ip}`, `{name}`, `{host}`, `{uid}`, `{provider}`, `{region}`
 * and `{tag.x}` placeholder expansion in a check's config strings.
 */
import { isIP } from 'node:net';
import { validationError } from '../errors.js';
import type { Node } from '../providers/types.js';
import type { CheckTarget } from './types.js';

/** How a check names its targets. A string is a query when it starts with `field:` (e.g. `tag:role=web`). */
export type CheckTargets =
  | string
  | { query: string }
  | { host: string }
  | (string | { query: string } | { host: string })[];

/** One target spec after parsing. */
export type TargetSpec = { kind: 'query'; query: string } | { kind: 'host'; target: CheckTarget };

// `name:` then digits up to the end or another colon is `host:port` (or a mistyped `host:port:port`,
// rejected at add()), not a query; `ip:10.0.0.0/8` still is one
const QUERY_PREFIX = /^[A-Za-z_][A-Za-z0-9_.-]*:(?!\d+(?::|$))(?!\/\/)/;

/** True when a target string reads as an inventory query rather than a host, `host:port` or URL. */
export function isQueryTarget(s: string): boolean {
  return QUERY_PREFIX.test(s) || /\s(and|or)\s/i.test(s) || s.startsWith('not ');
}

/** Parse a host, `host:port`, `[v6]:port` or URL into a target. */
export function hostTarget(raw: string, path = 'targets'): CheckTarget {
  const s = raw.trim();
  if (s === '') throw validationError(path, 'a host, host:port, URL or tag query', raw);
  if (s.includes('://')) {
    let u: URL;
    try {
      u = new URL(s);
    } catch {
      throw validationError(path, 'a valid URL', raw);
    }
    const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
    // the key shows up in events, state records and point tags: never with a password in it
    let key = s;
    if (u.password) {
      const shown = new URL(s);
      shown.password = '***';
      key = shown.toString();
    }
    return { key, host, ip: host, name: host, url: s, ...(u.port ? { port: Number(u.port) } : {}) };
  }
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  const hp = /^([^:]+):(\d+)$/.exec(s);
  const [host, port] = v6 ? [v6[1]!, v6[2]] : hp ? [hp[1]!, hp[2]] : [s, undefined];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535))
    throw validationError(path, 'a port 1..65535', raw);
  return { key: s, host, ip: host, name: host, ...(port !== undefined ? { port: Number(port) } : {}) };
}

const HOST_LABEL = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;

/** True when `host` is an IP address or a syntactically valid DNS host name (`localhost`, `a.b.example`). */
export function isValidHost(host: string): boolean {
  if (isIP(host) !== 0) return true;
  const name = host.endsWith('.') ? host.slice(0, -1) : host;
  return name.length > 0 && name.length <= 253 && name.split('.').every((l) => HOST_LABEL.test(l));
}

/**
 * What a plain-host target (no URL) must look like for types connecting to `target.host`, or
 * `undefined` when it is fine. `port` says whether a `host:port` port is used, required or ignored.
 */
export function hostTargetProblem(
  target: CheckTarget,
  port: 'optional' | 'required' | 'none',
  what: string,
): string | undefined {
  if (target.url !== undefined) return `${what} (not a URL)`;
  if (!isValidHost(target.host)) return what;
  if (port === 'required' && target.port === undefined) return what;
  if (port === 'none' && target.port !== undefined) return what;
  return undefined;
}

/** Parse a check's `targets` field. */
export function parseTargets(targets: unknown, path = 'targets'): TargetSpec[] {
  const list = Array.isArray(targets) ? targets : [targets];
  if (list.length === 0) throw validationError(path, 'at least one target', targets);
  return list.map((t, i) => {
    const p = Array.isArray(targets) ? `${path}[${i}]` : path;
    if (typeof t === 'string')
      return isQueryTarget(t) ? { kind: 'query', query: t } : { kind: 'host', target: hostTarget(t, p) };
    if (t && typeof t === 'object' && typeof (t as { query?: unknown }).query === 'string')
      return { kind: 'query', query: (t as { query: string }).query };
    if (t && typeof t === 'object' && typeof (t as { host?: unknown }).host === 'string')
      return { kind: 'host', target: hostTarget((t as { host: string }).host, `${p}.host`) };
    throw validationError(p, 'a host, URL, tag query, { query } or { host }', t);
  });
}

/** The target for an inventory node: its public IP by default, else its private IP. */
export function nodeTarget(node: Node, prefer: 'public' | 'private' = 'public'): CheckTarget | undefined {
  const ip =
    prefer === 'public'
      ? (node.publicIps[0] ?? node.privateIps[0])
      : (node.privateIps[0] ?? node.publicIps[0]);
  if (ip === undefined) return undefined;
  return { key: node.uid, host: ip, ip, name: node.name || node.id, node };
}

/** Replace placeholders in every string of a JSON-like value. Unknown placeholders stay as written. */
export function expandPlaceholders<T>(value: T, target: CheckTarget): T {
  const vars = (name: string): string | undefined => {
    switch (name) {
      case 'ip':
        return target.ip;
      case 'host':
        return target.host;
      case 'name':
        return target.name;
      case 'uid':
        return target.node?.uid ?? target.key;
      case 'provider':
        return target.node?.provider;
      case 'region':
        return target.node?.region;
      default:
        return name.startsWith('tag.') ? target.node?.tags[name.slice(4)] : undefined;
    }
  };
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string')
      return v.replace(/\{([A-Za-z_][A-Za-z0-9_.:-]*)\}/g, (all, name: string) => vars(name) ?? all);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = walk(x);
      return out;
    }
    return v;
  };
  return walk(value) as T;
}

/** True when a config value uses any placeholder. */
export function hasPlaceholders(value: unknown): boolean {
  return /\{[A-Za-z_][A-Za-z0-9_.:-]*\}/.test(JSON.stringify(value) ?? '');
}
