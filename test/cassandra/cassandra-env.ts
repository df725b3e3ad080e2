/**
 * Shared plumbing of the Cassandra test files: where the node is, whether it answers, a unique
 * keyspace per file, and a driver client for checks behind the store's back.
 */
import { connect } from 'node:net';
import cassandra from 'cassandra-driver';

/** `FLEETWATCH_CASSANDRA_CONTACT_POINTS` (comma separated host:port), default `127.0.0.1:9042`. */
export const contactPoints = (process.env.FLEETWATCH_CASSANDRA_CONTACT_POINTS ?? '127.0.0.1:9042')
  .split(',')
  .map((s) => s.trim())
  .filter((s) => s.length > 0);

/** The data center of the local test node. */
export const localDataCenter = process.env.FLEETWATCH_CASSANDRA_DC ?? 'datacenter1';

/**
 * Undefined when `hostPort` (`host` or `host:port`, port 9042 by default) accepts a TCP connection
 * within `timeoutMs`, else why not. The one reachability probe of the single node and the cluster.
 */
export async function probeCql(hostPort: string, timeoutMs = 2000): Promise<string | undefined> {
  const [host, portText] = hostPort.includes(':') ? hostPort.split(':') : [hostPort, '9042'];
  const port = Number(portText);
  return new Promise((resolve) => {
    const s = connect({ host: host as string, port });
    const t = setTimeout(() => finish(`no answer from ${hostPort} within ${timeoutMs} ms`), timeoutMs);
    function finish(reason: string | undefined) {
      clearTimeout(t);
      s.destroy();
      resolve(reason);
    }
    s.on('connect', () => finish(undefined));
    s.on('error', (err) =>
      finish(`cannot connect to Cassandra at ${hostPort} (${err.message}); run scripts/cassandra start`),
    );
  });
}

/** Undefined when the first contact point accepts a TCP connection, else why not. */
export function probeCassandra(timeoutMs = 2000): Promise<string | undefined> {
  return probeCql(contactPoints[0] ?? '127.0.0.1:9042', timeoutMs);
}

/** A keyspace name unique to this run: `fw_test_<file>_<random>`. */
export function uniqueKeyspace(file: string): string {
  return `fw_test_${file}_${Math.random().toString(36).slice(2, 10)}`;
}

/** A plain driver client (for dropping keyspaces and looking behind the store). */
export function rawClient(): cassandra.Client {
  return new cassandra.Client({ contactPoints, localDataCenter, socketOptions: { readTimeout: 30_000 } });
}

/** Drop keyspaces, ignoring errors (the node may be down after a failed test). */
export async function dropKeyspaces(names: readonly string[]): Promise<void> {
  const c = rawClient();
  try {
    for (const ks of names) await c.execute(`DROP KEYSPACE IF EXISTS ${ks}`).catch(() => undefined);
  } finally {
    await c.shutdown().catch(() => undefined);
  }
}
