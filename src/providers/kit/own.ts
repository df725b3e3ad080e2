/**
 * Provider tags are arbitrary strings, `__proto__` and `constructor` included: store them as own
 * properties so none is lost to (or reaches) the prototype.
 */

/** Set `record[key] = value` as an own, enumerable property, whatever the key. */
export function setOwn(record: Record<string, string>, key: string, value: string): void {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}
