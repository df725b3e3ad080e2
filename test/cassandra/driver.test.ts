/** The lazily loaded driver: the consistency table used before loading matches the driver's own. */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { cassandra, loadDriver } from '../../src/cassandra/driver.js';

const real = createRequire(import.meta.url)('cassandra-driver') as typeof import('cassandra-driver');

describe('cassandra driver loading', () => {
  it('cassandra.types.consistencies - equals the driver table, key for key', () => {
    expect({ ...cassandra.types.consistencies }).toEqual({ ...real.types.consistencies });
  });

  it('loadDriver() - returns the installed cassandra-driver module, once', () => {
    const a = loadDriver();
    expect(a.Client).toBe(real.Client);
    expect(loadDriver()).toBe(a);
  });
});
