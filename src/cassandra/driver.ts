/**
 * cassandra-driver, loaded on first use. It is an optional peer dependency of
 * `@fleetwatch/sdk/cassandra`, so importing that entry never requires it: connecting a store does.
 * `createRequire` (not a top-level `await import()`) keeps the entry loadable by `require()` from
 * CommonJS apps.
 */
import { createRequire } from 'node:module';
import type * as Driver from 'cassandra-driver';
import { FleetwatchError } from '../errors.js';

/** The shape of the `cassandra-driver` module. */
export type CassandraDriver = typeof Driver;

/** The command that installs the driver, named by the `E_DEPENDENCY` error. */
export const DRIVER_INSTALL_COMMAND = 'npm install cassandra-driver@^4.10.0';

const requireHere = createRequire(import.meta.url);
let loaded: CassandraDriver | undefined;

/**
 * The `cassandra-driver` module, required once on first call.
 *
 * @throws FleetwatchError `E_DEPENDENCY` naming {@link DRIVER_INSTALL_COMMAND} when it is not installed.
 */
export function loadDriver(): CassandraDriver {
  if (loaded !== undefined) return loaded;
  try {
    loaded = requireHere('cassandra-driver') as CassandraDriver;
  } catch (err) {
    if ((err as { code?: unknown } | null)?.code !== 'MODULE_NOT_FOUND') throw err;
    throw new FleetwatchError(
      'E_DEPENDENCY',
      `@fleetwatch/sdk/cassandra needs the cassandra-driver package, which is not installed (or not complete). Install it beside @fleetwatch/sdk: ${DRIVER_INSTALL_COMMAND}`,
      { cause: err, details: { dependency: 'cassandra-driver', install: DRIVER_INSTALL_COMMAND } },
    );
  }
  return loaded;
}

/**
 * The driver's consistency levels (protocol constants, the same numbers as
 * `cassandra.types.consistencies`), available without loading the driver.
 */
const consistencies = {
  any: 0x00,
  one: 0x01,
  two: 0x02,
  three: 0x03,
  quorum: 0x04,
  all: 0x05,
  localQuorum: 0x06,
  eachQuorum: 0x07,
  serial: 0x08,
  localSerial: 0x09,
  localOne: 0x0a,
} as const satisfies Record<keyof typeof Driver.types.consistencies, number>;

/**
 * What the store modules use of the driver at module scope: `cassandra.types.consistencies` as
 * values, and the driver's types (`cassandra.types.Row`, `cassandra.QueryOptions`). Everything
 * else goes through {@link loadDriver} when a store connects.
 */
export const cassandra = { types: { consistencies } } as const;

/** The driver's types under the same names as `import cassandra from 'cassandra-driver'`. */
export declare namespace cassandra {
  export namespace types {
    export type Long = Driver.types.Long;
    export type ResultSet = Driver.types.ResultSet;
    export type Row = Driver.types.Row;
  }
  export type Client = Driver.Client;
  export type QueryOptions = Driver.QueryOptions;
}

export type { Client, types } from 'cassandra-driver';
