/**
 * A multi-cloud inventory: every cloud whose credentials are in the environment is listed into one
 * Inventory, queried by tag, printed as a table, then watched for changes while it re-syncs.
 *
 *   AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=… AWS_REGION=us-east-1 \
 *   DIGITALOCEAN_TOKEN=… LINODE_TOKEN=… npx tsx examples/multi-cloud-inventory.ts 'tag:role=web'
 *
 * The factories read those variables themselves when no credential is passed; this example only
 * decides which clouds to use from which variables are set. WATCH_MS (default 60000) bounds the watch;
 * AWS_ENDPOINT_URL points EC2 elsewhere (e.g. the moto emulator: scripts/moto start).
 */
import { pathToFileURL } from 'node:url';
import {
  type DigitalOceanOptions,
  digitalocean,
  type Ec2Options,
  ec2,
  FleetwatchError,
  Inventory,
  type InventoryNode,
  type LinodeOptions,
  linode,
  type Provider,
} from '@fleetwatch/sdk';

/** Options of {@link main}. A provider's overrides (endpoint, baseUrl, region, …) go beside its defaults. */
export interface MultiCloudOptions {
  /** Which nodes to show and watch. @default 'tag:role=web' */
  query?: string;
  ec2?: Partial<Ec2Options>;
  digitalocean?: Partial<DigitalOceanOptions>;
  linode?: Partial<LinodeOptions>;
  /** Time between syncs while watching, ms. @default 30000 */
  syncIntervalMs?: number;
  /** Watch for this long at most, ms. @default 60000 */
  watchMs?: number;
  /** Stop watching after this many changes. @default no limit */
  maxChanges?: number;
  /** Where the table and changes are printed. @default console.log */
  log?: (line: string) => void;
}

/** What the example saw. */
export interface MultiCloudResult {
  /** Ids of the providers used (those with credentials in the environment). */
  providers: string[];
  /** Nodes listed per provider, and the provider's error code if it failed. */
  synced: Array<{ provider: string; nodes: number; error?: string }>;
  /** `uid`s of the nodes matching the query after the first sync. */
  matched: string[];
  table: string;
  /** Changes seen while watching: `added`, `removed`, `changed` (with the fields that changed). */
  changes: Array<{ type: string; uid: string; fields?: string[] }>;
}

/** The providers whose credentials are set in `process.env`. */
export function providersFromEnv(options: MultiCloudOptions = {}): Provider[] {
  const env = process.env;
  const providers: Provider[] = [];
  if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
    // AWS_ENDPOINT_URL is the AWS SDKs' variable for another endpoint (moto, LocalStack).
    const endpoint = env.AWS_ENDPOINT_URL_EC2 ?? env.AWS_ENDPOINT_URL;
    providers.push(
      ec2({
        id: 'aws',
        region: env.AWS_REGION ?? 'us-east-1',
        ...(endpoint ? { endpoint } : {}),
        ...options.ec2,
      }),
    );
  }
  if (env.DIGITALOCEAN_TOKEN) providers.push(digitalocean({ id: 'do', ...options.digitalocean }));
  if (env.LINODE_TOKEN) providers.push(linode({ id: 'linode', ...options.linode }));
  return providers;
}

/** A plain-text table of nodes. */
export function renderTable(nodes: readonly InventoryNode[]): string {
  const rows = nodes.map((n) => [
    n.provider,
    n.name,
    n.state,
    n.region ?? '-',
    [...n.publicIps, ...n.privateIps][0] ?? '-',
    Object.entries(n.mergedTags)
      .map(([k, v]) => (v === '' ? k : `${k}=${v}`))
      .join(' '),
  ]);
  const header = ['provider', 'name', 'state', 'region', 'ip', 'tags'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] as number))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** Sync, print the matching nodes, then watch them change. */
export async function main(options: MultiCloudOptions = {}): Promise<MultiCloudResult> {
  const log = options.log ?? console.log;
  const query = options.query ?? 'tag:role=web';
  const providers = providersFromEnv(options);
  if (providers.length === 0) {
    throw new FleetwatchError(
      'E_CONFIG',
      'no cloud credentials in the environment (AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY, DIGITALOCEAN_TOKEN, LINODE_TOKEN)',
    );
  }
  const inventory = new Inventory({ providers });
  inventory.on('error', (err) => log(`${err.provider ?? '?'}: ${err.code} ${err.message}`));

  const report = await inventory.sync();
  const synced = report.providers.map((p) => ({
    provider: p.provider,
    nodes: p.nodes,
    ...(p.error ? { error: p.error.code } : {}),
  }));
  const nodes = inventory.query(query);
  const table = renderTable(nodes);
  log(`${query}: ${nodes.length} of ${inventory.size} nodes\n${table}`);

  // Watch: open the feed first, then sync periodically; stop on a deadline or after maxChanges.
  const changes: MultiCloudResult['changes'] = [];
  const stopWatching = new AbortController();
  const deadline = setTimeout(() => stopWatching.abort(), options.watchMs ?? 60_000);
  const feed = inventory.watch(query, { signal: stopWatching.signal });
  inventory.start({ intervalMs: options.syncIntervalMs ?? 30_000 });
  try {
    for await (const change of feed) {
      if (change.type === 'overflow') {
        log(`fell behind: ${change.dropped} changes dropped, re-query`);
        continue;
      }
      const fields = change.type === 'changed' ? change.changes.map((c) => c.field) : undefined;
      changes.push({ type: change.type, uid: change.node.uid, ...(fields ? { fields } : {}) });
      log(
        `${change.type} ${change.node.uid} ${change.node.name} ${change.node.state}${fields ? ` (${fields.join(', ')})` : ''}`,
      );
      if (changes.length === options.maxChanges) break;
    }
  } catch (err) {
    if (!stopWatching.signal.aborted) throw err; // the deadline ends the watch with E_ABORTED
  } finally {
    clearTimeout(deadline);
    await inventory.close(); // stops the periodic sync too
  }
  return { providers: providers.map((p) => p.id), synced, matched: nodes.map((n) => n.uid), table, changes };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const query = process.argv[2] ?? 'tag:role=web';
  await main({ query, watchMs: Number(process.env.WATCH_MS ?? 60_000) }).catch((err: Error) => {
    console.error(err.message);
    process.exitCode = 1;
  });
}
