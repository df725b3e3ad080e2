/**
 * Field-by-field comparison of two versions of a node: what `changed` events report.
 */
import type { Node } from '../providers/types.js';
import type { NodeFieldChange } from './types.js';

const SCALAR_FIELDS = ['name', 'state', 'rawState', 'region', 'zone', 'size', 'image'] as const;

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Deep equality for JSON-like values (plain objects, arrays, Dates, primitives). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) {
    return typeof a === 'number' && typeof b === 'number' && Number.isNaN(a) && Number.isNaN(b);
  }
  if (a instanceof Date || b instanceof Date)
    return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    if (a.length !== bb.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], bb[i])) return false;
    return true;
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ak = Object.keys(ao);
  if (ak.length !== Object.keys(bo).length) return false;
  for (const k of ak) if (!Object.hasOwn(bo, k) || !deepEqual(ao[k], bo[k])) return false;
  return true;
}

/** Push one change per tag key that differs, as `<prefix>.<key>`. */
export function diffTags(
  prefix: string,
  before: Readonly<Record<string, string>>,
  after: Readonly<Record<string, string>>,
  out: NodeFieldChange[],
): void {
  for (const k in before) {
    if (!Object.hasOwn(before, k)) continue;
    const a = Object.hasOwn(after, k) ? after[k] : undefined;
    if (a !== before[k]) out.push({ field: `${prefix}.${k}`, before: before[k], after: a });
  }
  for (const k in after) {
    if (Object.hasOwn(after, k) && !Object.hasOwn(before, k))
      out.push({ field: `${prefix}.${k}`, before: undefined, after: after[k] });
  }
}

/**
 * Every difference between two versions of one node (same uid): scalar fields, IP lists,
 * `createdAt`, one entry per provider tag key (`tags.<key>`), and `extra` as a whole. Empty when
 * they are equal.
 */
export function diffNodes(before: Node, after: Node): NodeFieldChange[] {
  const out: NodeFieldChange[] = [];
  for (const f of SCALAR_FIELDS) {
    if (before[f] !== after[f]) out.push({ field: f, before: before[f], after: after[f] });
  }
  if (!sameStrings(before.publicIps, after.publicIps))
    out.push({ field: 'publicIps', before: before.publicIps, after: after.publicIps });
  if (!sameStrings(before.privateIps, after.privateIps))
    out.push({ field: 'privateIps', before: before.privateIps, after: after.privateIps });
  if (before.createdAt?.getTime() !== after.createdAt?.getTime())
    out.push({ field: 'createdAt', before: before.createdAt, after: after.createdAt });
  diffTags('tags', before.tags, after.tags, out);
  if (!deepEqual(before.extra, after.extra))
    out.push({ field: 'extra', before: before.extra, after: after.extra });
  return out;
}
