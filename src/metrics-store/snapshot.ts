import type { Point, SketchPoint } from './types.js';

type Obj = Record<string, unknown>;

/** Sets an own data property, also for the key `__proto__` (which plain assignment would not create). */
function put(target: Obj, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

function isObject(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * A copy of a batch taken before validation, so what is validated is what is stored: a caller that
 * mutates its points (or their tags or sketch bytes) while `write()` is pending changes nothing, and
 * a getter is read once. Each field of a plain-object point is read exactly once; unknown keys are
 * kept (so validation still rejects them); anything that is not an array of objects is returned as
 * is for validation to reject. Points sharing one tags object share one copy (stores use that to
 * compute a series key once per run of points).
 *
 * @example
 * ```ts
 * const points = snapshotBatch(batch, ['metric', 'tags', 'ts', 'value', 'tenant']);
 * ```
 */
export function snapshotBatch<T>(batch: readonly T[]): T[] {
  if (!Array.isArray(batch)) return batch as T[];
  const tagCopies = new Map<object, Obj>();
  const out = new Array<T>(batch.length);
  for (let i = 0; i < batch.length; i++) {
    const p: unknown = batch[i];
    if (!isObject(p)) {
      out[i] = p as T;
      continue;
    }
    const copy: Obj = {};
    for (const key of Object.keys(p)) {
      const v = p[key];
      if (key === 'tags' && isObject(v)) {
        let t = tagCopies.get(v);
        if (t === undefined) {
          t = Object.getPrototypeOf(v) === null ? Object.create(null) : {};
          for (const k of Object.keys(v)) put(t as Obj, k, v[k]);
          tagCopies.set(v, t as Obj);
        }
        copy[key] = t;
      } else if (key === 'sketch' && v instanceof Uint8Array) {
        copy[key] = v.slice();
      } else {
        put(copy, key, v);
      }
    }
    if (Object.getPrototypeOf(p) !== Object.prototype && Object.getPrototypeOf(p) !== null) {
      // keep a class instance's prototype visible to validation (which rejects non-plain objects)
      Object.setPrototypeOf(copy, Object.getPrototypeOf(p));
    }
    out[i] = copy as T;
  }
  return out;
}

/** {@link snapshotBatch} for numeric points. */
export function snapshotPoints(batch: readonly Point[]): Point[] {
  return snapshotBatch(batch);
}

/** {@link snapshotBatch} for sketch points (the sketch bytes are copied). */
export function snapshotSketchPoints(batch: readonly SketchPoint[]): SketchPoint[] {
  return snapshotBatch(batch);
}
