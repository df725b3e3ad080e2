/**
 * The local four-node, two-DC Cassandra cluster of test/cluster: reaching it, driving
 * `scripts/cassandra cluster`, keyspaces, stores connected in one data centre, and reading back.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import cassandra from 'cassandra-driver';
import { CassandraInventoryStore } from '../../src/cassandra/inventory-store.js';
import { CassandraMetricsStore } from '../../src/cassandra/metrics-store.js';
import type { RawPoint } from '../../src/metrics-store/types.js';
import type { Node } from '../../src/providers/types.js';
import { probeCql } from '../cassandra/cassandra-env.js';

const run = promisify(execFile);
const script = join(import.meta.dirname, '../../scripts/cassandra');
export const DC1 = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];
export const DC2 = ['127.0.0.5'];
export const REPLICATION = { class: 'NetworkTopologyStrategy', dataCenters: { dc1: 3, dc2: 1 } } as const;
export const MIN = 60_000;

/** Whether a node accepts CQL connections on `host:9042` (2 s at most). */
async function probe(host: string): Promise<boolean> {
  return (await probeCql(host)) === undefined;
}

const down = (await Promise.all([...DC1, ...DC2].map(probe))).some((ok) => !ok);
/** Why the cluster suite cannot run, or undefined when every node is up. */
export const reason = down
  ? 'the local cluster is not running (scripts/cassandra cluster start --nodes 4 --dcs dc1:3,dc2:1)'
  : undefined;

/** Runs `scripts/cassandra cluster <args>` (kill, restart, nodetool …). */
export async function cluster(...args: string[]): Promise<void> {
  await run(script, ['cluster', ...args], { timeout: 300_000 });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const keyspaces: string[] = [];
/** A fresh keyspace name for one test. */
export function keyspace(name: string): string {
  const ks = `fw_cluster_${name}_${Math.random().toString(36).slice(2, 8)}`;
  keyspaces.push(ks);
  return ks;
}

/** A driver client that talks to `host` only (to read what that one replica holds). */
export function pinnedClient(host: string, dc: string): cassandra.Client {
  const { DCAwareRoundRobinPolicy, WhiteListPolicy } = cassandra.policies.loadBalancing;
  return new cassandra.Client({
    contactPoints: [host],
    localDataCenter: dc,
    policies: { loadBalancing: new WhiteListPolicy(new DCAwareRoundRobinPolicy(dc), [`${host}:9042`]) },
    socketOptions: { readTimeout: 30_000 },
  });
}

/** Waits until no live node has hints left to deliver (`system_views.pending_hints` is empty). */
export async function hintsDelivered(hosts: Array<[string, string]>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const clients = hosts.map(([h, dc]) => pinnedClient(h, dc));
  try {
    for (;;) {
      let pending = 0;
      for (const c of clients) {
        const rs = await c.execute('SELECT * FROM system_views.pending_hints');
        pending += rs.rowLength;
      }
      if (pending === 0) return;
      if (Date.now() > deadline) throw new Error(`hints still pending after ${timeoutMs} ms`);
      await sleep(1000);
    }
  } finally {
    await Promise.all(clients.map((c) => c.shutdown()));
  }
}

/** A running static node `uid` tagged `role=web`. */
export function node(uid: string): Node {
  return {
    uid,
    id: uid.split(':')[1] ?? uid,
    name: uid,
    provider: 'dc',
    kind: 'static',
    state: 'running',
    rawState: 'running',
    publicIps: [],
    privateIps: [],
    tags: { role: 'web' },
    extra: {},
  };
}

/** The raw points of `series` as a map of ts → value. */
export function rawOf(series: readonly { points: readonly unknown[] }[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const s of series) for (const p of s.points as RawPoint[]) out.set(p.ts, p.value);
  return out;
}

/** The contact points and local data centre of an app in `dc`. */
function inDc(dc: 'dc1' | 'dc2') {
  return { contactPoints: dc === 'dc1' ? DC1 : DC2, localDataCenter: dc };
}

/** A metrics store of an app in `dc` on keyspace `ks` (rollups on demand only). */
export function metricsIn(ks: string, dc: 'dc1' | 'dc2'): Promise<CassandraMetricsStore> {
  return CassandraMetricsStore.connect({
    keyspace: ks,
    replication: REPLICATION,
    rollupIntervalMs: 0,
    ...inDc(dc),
  });
}

/** An inventory store of an app in `dc` on keyspace `ks`. */
export function inventoryIn(ks: string, dc: 'dc1' | 'dc2'): Promise<CassandraInventoryStore> {
  return CassandraInventoryStore.connect({ keyspace: ks, replication: REPLICATION, ...inDc(dc) });
}

/** Restarts every cluster node that is down. */
export async function restartDownNodes(): Promise<void> {
  for (let i = 1; i <= 4; i++) if (!(await probe(`127.0.0.${i + 1}`))) await cluster('restart', String(i));
}

/** Drops every keyspace {@link keyspace} named. */
export async function dropKeyspaces(): Promise<void> {
  const c = pinnedClient(DC1[0] as string, 'dc1');
  for (const ks of keyspaces) await c.execute(`DROP KEYSPACE IF EXISTS ${ks}`).catch(() => undefined);
  await c.shutdown();
}
