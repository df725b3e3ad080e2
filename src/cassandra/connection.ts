/**
 * How both Cassandra stores connect: the connection options they share, their validation, and the
 * driver client built from them.
 */

import type { QueryOptions } from 'cassandra-driver';
import { validationError } from '../errors.js';
import { type Client, loadDriver } from './driver.js';
import { type ReplicationOptions, validateIdentifier } from './schema.js';

/** Connection options every Cassandra store takes. */
export interface CassandraConnectionOptions {
  /** `host` or `host:port` of some nodes. Required unless `client` is given. */
  contactPoints?: string[];
  /** The data center this process is in (`datacenter1` on a default single node). Required unless `client`. */
  localDataCenter?: string;
  /** Keyspace, created when missing: 1–48 chars of `[a-z0-9_]`, starting with a letter. */
  keyspace: string;
  /**
   * Replication used when the keyspace is created (an existing keyspace is not altered).
   * @default { class: 'SimpleStrategy', replicationFactor: 1 }
   */
  replication?: ReplicationOptions;
  /** Username and password (plain-text auth). Never logged. */
  credentials?: { username: string; password: string };
  /** Your own driver client; the store then never shuts it down. */
  client?: Client;
}

/** The option names of {@link CassandraConnectionOptions}: each store allows these and its own. */
export const CONNECTION_OPTION_KEYS = [
  'contactPoints',
  'localDataCenter',
  'keyspace',
  'replication',
  'credentials',
  'client',
] as const satisfies ReadonlyArray<keyof CassandraConnectionOptions>;

/** The replication used when none is given. */
export const DEFAULT_REPLICATION: ReplicationOptions = { class: 'SimpleStrategy', replicationFactor: 1 };

/**
 * Check the connection options (throwing `E_VALIDATION` naming the field, never echoing credentials)
 * and return the validated keyspace name.
 */
export function validateConnectionOptions(options: CassandraConnectionOptions): string {
  const keyspace = validateIdentifier(options.keyspace, 'options.keyspace');
  if (options.client === undefined) {
    const cps = options.contactPoints;
    if (!Array.isArray(cps) || cps.length === 0 || cps.some((c) => typeof c !== 'string' || c.length === 0)) {
      throw validationError('options.contactPoints', 'a non-empty array of host or host:port strings', cps);
    }
    if (typeof options.localDataCenter !== 'string' || options.localDataCenter.length === 0) {
      throw validationError(
        'options.localDataCenter',
        'the local data center name (e.g. datacenter1)',
        options.localDataCenter,
      );
    }
  } else if (typeof options.client !== 'object' || typeof options.client.execute !== 'function') {
    throw validationError('options.client', 'a cassandra-driver Client', options.client);
  }
  const cred = options.credentials;
  if (
    cred !== undefined &&
    (typeof cred !== 'object' || typeof cred.username !== 'string' || typeof cred.password !== 'string')
  ) {
    // never echo the credentials themselves
    throw validationError('options.credentials', '{ username: string, password: string }', typeof cred);
  }
  return keyspace;
}

/**
 * A driver client for validated options (loading the driver: `E_DEPENDENCY` when it is not installed):
 * prepared statements; token-aware, data-centre-aware load balancing on `localDataCenter` (remote DCs
 * are never used for `LOCAL_*` consistency); the driver's idempotence-aware retry policy; one
 * speculative execution after 500 ms for idempotent statements (every statement the stores send is
 * idempotent), so one slow or dying replica does not stall a request; and quick reconnection so a
 * restarted node is used again soon. The driver waits for schema agreement after each DDL statement.
 */
/** Delay before one speculative execution of an idempotent statement on another replica. */
const SPECULATIVE_DELAY_MS = 500;

export function createClient(options: CassandraConnectionOptions, queryOptions: QueryOptions = {}): Client {
  const cassandra = loadDriver();
  const cred = options.credentials;
  return new cassandra.Client({
    contactPoints: options.contactPoints ?? [],
    localDataCenter: options.localDataCenter ?? '',
    ...(cred !== undefined
      ? { authProvider: new cassandra.auth.PlainTextAuthProvider(cred.username, cred.password) }
      : {}),
    policies: {
      loadBalancing: new cassandra.policies.loadBalancing.TokenAwarePolicy(
        new cassandra.policies.loadBalancing.DCAwareRoundRobinPolicy(options.localDataCenter ?? ''),
      ),
      retry: new cassandra.policies.retry.RetryPolicy(),
      speculativeExecution: new cassandra.policies.speculativeExecution.ConstantSpeculativeExecutionPolicy(
        SPECULATIVE_DELAY_MS,
        1,
      ),
      reconnection: new cassandra.policies.reconnection.ExponentialReconnectionPolicy(250, 2000, false),
    },
    protocolOptions: { maxSchemaAgreementWaitSeconds: 30 },
    socketOptions: { connectTimeout: 5000, readTimeout: 12_000 },
    queryOptions: { prepare: true, ...queryOptions },
  });
}
