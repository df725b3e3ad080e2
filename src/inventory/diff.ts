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
  let count = 0;
  for (const k in ao) {
    if (!Object.hasOwn(ao, k)) continue;
    count++;
    if (!Object.hasOwn(bo, k) || !deepEqual(ao[k], bo[k])) return false;
  }
  for (const k in bo) if (Object.hasOwn(bo, k)) count--;
  return count === 0;
}

function add(out: NodeFieldChange[] | undefined, change: NodeFieldChange): NodeFieldChange[] {
  if (out === undefined) return [change];
  out.push(change);
  return out;
}

/** Push one change per tag key that differs, as `<prefix>.<key>`; returns `out` (created on first change). */
export function diffTags(
  prefix: string,
  before: Readonly<Record<string, string>>,
  after: Readonly<Record<string, string>>,
  out: NodeFieldChange[] | undefined,
): NodeFieldChange[] | undefined {
  let result = out;
  let beforeCount = 0;
  let same = 0;
  for (const k in before) {
    if (!Object.hasOwn(before, k)) continue;
    beforeCount++;
    const a = Object.hasOwn(after, k) ? after[k] : undefined;
    if (a === before[k]) same++;
    else result = add(result, { field: `${prefix}.${k}`, before: before[k], after: a });
  }
  let afterCount = 0;
  for (const k in after) if (Object.hasOwn(after, k)) afterCount++;
  if (afterCount === same && beforeCount === same) return result;
  for (const k in after) {
    if (Object.hasOwn(after, k) && !Object.hasOwn(before, k))
      result = add(result, { field: `${prefix}.${k}`, before: undefined, after: after[k] });
  }
  return result;
}

const NO_CHANGES: NodeFieldChange[] = [];

/**
 * Every difference between two versions of one node (same uid): scalar fields, IP lists,
 * `createdAt`, one entry per provider tag key (`tags.<key>`), and `extra` as a whole. Empty when
 * they are equal (a shared empty array: do not mutate it).
 */
export function diffNodes(before: Node, after: Node): NodeFieldChange[] {
  let out: NodeFieldChange[] | undefined;
  for (let i = 0; i < SCALAR_FIELDS.length; i++) {
    const f = SCALAR_FIELDS[i]!;
    if (before[f] !== after[f]) out = add(out, { field: f, before: before[f], after: after[f] });
  }
  if (!sameStrings(before.publicIps, after.publicIps))
    out = add(out, { field: 'publicIps', before: before.publicIps, after: after.publicIps });
  if (!sameStrings(before.privateIps, after.privateIps))
    out = add(out, { field: 'privateIps', before: before.privateIps, after: after.privateIps });
  if (before.createdAt?.getTime() !== after.createdAt?.getTime())
    out = add(out, { field: 'createdAt', before: before.createdAt, after: after.createdAt });
  out = diffTags('tags', before.tags, after.tags, out);
  if (!deepEqual(before.extra, after.extra))
    out = add(out, { field: 'extra', before: before.extra, after: after.extra });
  return out ?? NO_CHANGES;
}
