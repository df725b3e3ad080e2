/**
 * Reusable Cassandra schema management: keyspace creation with a validated replication setting, and
 * versioned migrations per component applied under a `schema_version` table.
 *
 * Every migration statement must be idempotent DDL (`CREATE TABLE IF NOT EXISTS` …). A migration is
 * claimed with a lightweight transaction on its version row, so when two processes start at once one
 * applies it and the other waits for `state = 'applied'`; a claim carries a TTL, so a process that died
 * mid-migration does not block others for longer than {@link EnsureSchemaOptions.lockTtlSeconds}.
 * The driver waits for schema agreement after each DDL statement.
 */
import { randomUUID } from 'node:crypto';
import type { AbortOptions, Logger } from '../core.js';
import { silentLogger } from '../core.js';
import { FleetwatchError, throwIfAborted, validationError } from '../errors.js';
import { type Client, cassandra } from './driver.js';
import { sleep, toStoreError } from './driver-errors.js';

/** Unquoted, lower-case CQL identifiers only: what Cassandra stores without quoting. */
const IDENTIFIER_RE = /^[a-z][a-z0-9_]{0,47}$/;

/**
 * Check a keyspace or table name before it is put into CQL text (identifiers cannot be bound): 1–48
 * chars of `[a-z0-9_]`, starting with a letter. Returns it.
 */
export function validateIdentifier(value: unknown, path: string): string {
  if (typeof value !== 'string' || !IDENTIFIER_RE.test(value)) {
    throw validationError(path, 'a CQL identifier: 1-48 chars of [a-z0-9_] starting with a letter', value);
  }
  return value;
}

/** How a keyspace is replicated. */
export type ReplicationOptions =
  | {
      /** One data center (development, single node). */
      class: 'SimpleStrategy';
      /** @default 1 */
      replicationFactor?: number;
    }
  | {
      /** Production: a replication factor per data center. */
      class: 'NetworkTopologyStrategy';
      /** Data center name → replication factor, e.g. `{ dc1: 3, dc2: 3 }`. */
      dataCenters: Record<string, number>;
    };

const DC_NAME_RE = /^[A-Za-z0-9_.-]{1,100}$/;

/** Validate replication options (path `replication`) and return the CQL map literal for them. */
export function replicationCql(replication: ReplicationOptions, path = 'replication'): string {
  if (typeof replication !== 'object' || replication === null) {
    throw validationError(path, 'an object', replication);
  }
  if (replication.class === 'SimpleStrategy') {
    const rf = replication.replicationFactor ?? 1;
    if (!Number.isInteger(rf) || rf < 1 || rf > 32) {
      throw validationError(`${path}.replicationFactor`, 'an integer 1-32', rf);
    }
    return `{'class': 'SimpleStrategy', 'replication_factor': ${rf}}`;
  }
  if (replication.class === 'NetworkTopologyStrategy') {
    const dcs = replication.dataCenters;
    if (typeof dcs !== 'object' || dcs === null || Object.keys(dcs).length === 0) {
      throw validationError(`${path}.dataCenters`, 'a non-empty map of data center → factor', dcs);
    }
    const parts = [`'class': 'NetworkTopologyStrategy'`];
    for (const [dc, rf] of Object.entries(dcs)) {
      if (!DC_NAME_RE.test(dc))
        throw validationError(`${path}.dataCenters`, 'data center names of [A-Za-z0-9_.-]', dc);
      if (!Number.isInteger(rf) || rf < 1 || rf > 32) {
        throw validationError(`${path}.dataCenters.${dc}`, 'an integer 1-32', rf);
      }
      parts.push(`'${dc}': ${rf}`);
    }
    return `{${parts.join(', ')}}`;
  }
  throw validationError(
    `${path}.class`,
    "'SimpleStrategy' or 'NetworkTopologyStrategy'",
    (replication as { class?: unknown }).class,
  );
}

/** The largest replication factor of any data center (decides default consistency levels). */
export function maxReplicationFactor(replication: ReplicationOptions): number {
  if (replication.class === 'SimpleStrategy') return replication.replicationFactor ?? 1;
  return Math.max(...Object.values(replication.dataCenters));
}

/**
 * Create the keyspace if it does not exist (`CREATE KEYSPACE IF NOT EXISTS`). An existing keyspace is
 * left as it is: changing replication is an operator's job (`ALTER KEYSPACE` + repair).
 */
export async function ensureKeyspace(
  client: Client,
  keyspace: string,
  replication: ReplicationOptions,
  opts: AbortOptions & { logger?: Logger } = {},
): Promise<void> {
  validateIdentifier(keyspace, 'keyspace');
  const repl = replicationCql(replication);
  throwIfAborted(opts.signal);
  await run(
    client,
    `CREATE KEYSPACE IF NOT EXISTS ${keyspace} WITH replication = ${repl} AND durable_writes = true`,
  );
  const nodes = client.hosts?.length ?? 0;
  if (replication.class === 'SimpleStrategy' && nodes > 1) {
    (opts.logger ?? silentLogger).warn(
      { keyspace, nodes, replication: replication.replicationFactor ?? 1 },
      'SimpleStrategy on a cluster of several nodes: use NetworkTopologyStrategy with a factor per data centre ' +
        '(e.g. { class: "NetworkTopologyStrategy", dataCenters: { dc1: 3 } }), then ALTER KEYSPACE and repair (docs/operations.md)',
    );
  }
}

/** One versioned schema change of a component. */
export interface Migration {
  /** 1, 2, 3 … in order, per component. */
  version: number;
  /** What it does, stored beside the version. */
  description: string;
  /** Idempotent DDL statements for the (already validated) keyspace name. */
  statements(keyspace: string): string[];
}

/** Options of {@link ensureSchema}. */
export interface EnsureSchemaOptions extends AbortOptions {
  /** The keyspace to migrate (validated as a CQL identifier before it reaches CQL). */
  keyspace: string;
  /** Which part of fleetwatch the migrations belong to (`metrics`, `inventory`). */
  component: string;
  /** The component's migrations, every version from 1 in order; those already applied are skipped. */
  migrations: readonly Migration[];
  /** A pino-compatible logger for migration progress and lock waits. @default silent */
  logger?: Logger;
  /**
   * How long a migration claim lives: if the claiming process dies, others take over after this.
   * @default 120
   */
  lockTtlSeconds?: number;
  /**
   * How long to wait for another process's migration before failing with `E_STORE_UNAVAILABLE`.
   * @default 120_000
   */
  waitTimeoutMs?: number;
  /** Poll period while waiting for another process's migration. @default 250 */
  pollMs?: number;
}

/** The table that records which migrations of which component are applied. */
export const SCHEMA_VERSION_TABLE = 'schema_version';

/**
 * Apply every migration of `component` not yet recorded as applied in `<keyspace>.schema_version`, in
 * version order. Safe to call from many processes at once. Returns the versions this call applied.
 *
 * @example
 * ```ts
 * await ensureKeyspace(client, 'fleetwatch', { class: 'SimpleStrategy', replicationFactor: 1 });
 * await ensureSchema(client, {
 *   keyspace: 'fleetwatch',
 *   component: 'inventory',
 *   migrations: [{ version: 1, description: 'nodes table', statements: (ks) => [`CREATE TABLE IF NOT EXISTS ${ks}.nodes (...)`] }],
 * });
 * ```
 */
export async function ensureSchema(client: Client, options: EnsureSchemaOptions): Promise<number[]> {
  const ks = validateIdentifier(options.keyspace, 'keyspace');
  const component = validateIdentifier(options.component, 'component');
  const logger = options.logger ?? silentLogger;
  const lockTtl = options.lockTtlSeconds ?? 120;
  const waitTimeoutMs = options.waitTimeoutMs ?? 120_000;
  const pollMs = options.pollMs ?? 250;
  const { signal } = options;
  const migrations = [...options.migrations].sort((a, b) => a.version - b.version);
  migrations.forEach((m, i) => {
    if (
      !Number.isInteger(m.version) ||
      m.version < 1 ||
      (i > 0 && migrations[i - 1]?.version === m.version)
    ) {
      throw validationError(`migrations[${i}].version`, 'unique positive integers', m.version);
    }
  });

  await run(
    client,
    `CREATE TABLE IF NOT EXISTS ${ks}.${SCHEMA_VERSION_TABLE} (component text, version int, description text,` +
      ' state text, owner text, updated_at timestamp, PRIMARY KEY ((component), version))',
  );
  const select = `SELECT version, state FROM ${ks}.${SCHEMA_VERSION_TABLE} WHERE component = ?`;
  const claim =
    `INSERT INTO ${ks}.${SCHEMA_VERSION_TABLE} (component, version, description, state, owner, updated_at)` +
    ' VALUES (?, ?, ?, ?, ?, ?) IF NOT EXISTS USING TTL ?';
  const finish =
    `UPDATE ${ks}.${SCHEMA_VERSION_TABLE} USING TTL 0 SET state = 'applied', updated_at = ?` +
    ' WHERE component = ? AND version = ? IF owner = ?';
  const release = `DELETE FROM ${ks}.${SCHEMA_VERSION_TABLE} WHERE component = ? AND version = ? IF owner = ?`;
  const owner = randomUUID();
  const applied: number[] = [];

  const states = async (): Promise<Map<number, string>> => {
    const rs = await run(client, select, [component], { serialRead: true });
    const map = new Map<number, string>();
    for (const row of rs.rows) map.set(row.get('version') as number, row.get('state') as string);
    return map;
  };

  let current = await states();
  for (const m of migrations) {
    const deadline = Date.now() + waitTimeoutMs;
    for (;;) {
      throwIfAborted(signal);
      if (current.get(m.version) === 'applied') break;
      if (!current.has(m.version)) {
        const rs = await run(
          client,
          claim,
          [component, m.version, m.description, 'applying', owner, new Date(), lockTtl],
          {
            lwt: true,
          },
        );
        if (rs.wasApplied()) {
          logger.info({ keyspace: ks, component, version: m.version }, 'applying schema migration');
          try {
            for (const stmt of m.statements(ks)) {
              throwIfAborted(signal);
              await runIdempotent(client, stmt);
            }
          } catch (err) {
            // release the claim so the next start retries at once instead of after the lock TTL
            await run(client, release, [component, m.version, owner], { lwt: true }).catch(() => undefined);
            throw err;
          }
          const done = await run(client, finish, [new Date(), component, m.version, owner], { lwt: true });
          if (!done.wasApplied()) {
            // Our claim expired and someone else re-applied it; the DDL is idempotent either way.
            logger.warn({ keyspace: ks, component, version: m.version }, 'schema migration claim lost');
          }
          applied.push(m.version);
          current.set(m.version, 'applied');
          break;
        }
      }
      if (Date.now() > deadline) {
        throw new FleetwatchError(
          'E_STORE_UNAVAILABLE',
          `schema migration ${component} v${m.version} did not finish within ${waitTimeoutMs} ms (another process holds it)`,
          { details: { keyspace: ks, component, version: m.version } },
        );
      }
      await sleep(pollMs, signal);
      current = await states();
    }
  }
  return applied;
}

/** The versions of `component` recorded as applied. */
export async function appliedVersions(
  client: Client,
  keyspace: string,
  component: string,
): Promise<number[]> {
  const ks = validateIdentifier(keyspace, 'keyspace');
  const rs = await run(
    client,
    `SELECT version, state FROM ${ks}.${SCHEMA_VERSION_TABLE} WHERE component = ?`,
    [component],
    {
      serialRead: true,
    },
  );
  return rs.rows.filter((r) => r.get('state') === 'applied').map((r) => r.get('version') as number);
}

/**
 * Run one DDL statement of a migration. `CREATE … IF NOT EXISTS` is idempotent by itself; an `ALTER
 * TABLE … ADD` (which has no IF NOT EXISTS) that finds its column already there counts as done, so a
 * migration half-applied by a process that died can simply be applied again.
 */
async function runIdempotent(client: Client, stmt: string): Promise<void> {
  try {
    await run(client, stmt);
  } catch (err) {
    const msg = err instanceof FleetwatchError && err.cause instanceof Error ? err.cause.message : '';
    if (/^\s*ALTER\s+TABLE/i.test(stmt) && /already exists|conflicts with an existing column/i.test(msg))
      return;
    throw err;
  }
}

async function run(
  client: Client,
  query: string,
  params: unknown[] = [],
  o: { lwt?: boolean; serialRead?: boolean } = {},
) {
  // A serial read runs a Paxos round that can time out under contention (two apps in two DCs
  // migrating at once); it changes nothing, so it is retried. LWT writes are not: a timed-out one may
  // have been applied.
  const attempts = o.serialRead ? SERIAL_READ_ATTEMPTS : 1;
  for (let attempt = 1; ; attempt++) {
    try {
      return await client.execute(query, params, {
        prepare: params.length > 0,
        // LWTs and the reads that must see them go through Paxos.
        ...(o.lwt ? { serialConsistency: cassandra.types.consistencies.localSerial } : {}),
        ...(o.serialRead ? { consistency: cassandra.types.consistencies.localSerial } : {}),
      });
    } catch (err) {
      const failure = toStoreError(err, 'schema');
      if (attempt >= attempts || failure.code !== 'E_STORE_UNAVAILABLE') throw failure;
      await sleep(100 * 2 ** attempt + Math.random() * 100);
    }
  }
}

/** Tries of a Paxos (serial) read in the schema lock before its timeout is reported. */
const SERIAL_READ_ATTEMPTS = 5;
