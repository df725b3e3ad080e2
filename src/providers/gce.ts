/**
 * Google Compute Engine adapter: instances as nodes. A service-account key signs an RS256 JWT
 * (node:crypto) that is exchanged for an access token (`gce-auth.ts`); instances are listed across all zones with
 * `aggregated/instances` + `pageToken`; labels are the tags (written with `setLabels` and the
 * label fingerprint). A node's id is `<zone>/<name>`, because GCE addresses instances that way.
 */
import type { AbortOptions } from '../core.js';
import { FleetwatchError, validationError } from '../errors.js';
import { gceConnection } from './gce-auth.js';
import {
  GCE_PUBLIC_IMAGE_PROJECTS,
  gceAggregatedPager,
  gceImage,
  gceLocation,
  gceOperationError,
  gceOperationRef,
  gcePager,
  gceSize,
  lastSegment,
  pollGceOperation,
} from './gce-catalog.js';
import { checkLabels, GCE_CREATE_EXTRA_KEYS, gceInstanceBody } from './gce-create.js';
import {
  asObject,
  type CloudProviderOptions,
  type ComputeTags,
  type CreateNodeInput,
  checkCommonOptions,
  createInputArg,
  imagesOptionsArg,
  intOption,
  type ListCatalogOptions,
  type ListImagesOptions,
  lookupState,
  type Node,
  type NodeImage,
  type NodeLocation,
  type NodeSize,
  type NodeState,
  nodeIdArg,
  type Operation,
  type PageContext,
  POWER_TARGET_STATES,
  type PowerContext,
  type PowerOperation,
  parseDate,
  pickExtra,
  type RawPage,
  str,
  WholeTagSetAdapter,
} from './kit/index.js';
import type { ManagedProvider, Provider } from './types.js';

/** GCE instance status → NodeState. GCE `TERMINATED` means stopped (restartable), not deleted. */
export const GCE_STATES = {
  PROVISIONING: 'pending',
  STAGING: 'pending',
  RUNNING: 'running',
  STOPPING: 'stopping',
  PENDING_STOP: 'stopping',
  SUSPENDING: 'stopping',
  SUSPENDED: 'suspended',
  TERMINATED: 'stopped',
  REPAIRING: 'error',
  DEPROVISIONING: 'stopping',
} satisfies Record<string, NodeState>;

const EXTRA_KEYS = [
  'id',
  'cpuPlatform',
  'canIpForward',
  'deletionProtection',
  'labelFingerprint',
  'selfLink',
  'status',
  'statusMessage',
];
const POWER_VERBS = { reboot: 'reset', start: 'start', stop: 'stop' } satisfies Record<
  PowerOperation,
  string
>;

/** The fields of a service-account key fleetwatch uses. */
export interface GceServiceAccount {
  client_email: string;
  private_key: string;
}

/** Options of {@link gce}. */
export interface GceOptions extends CloudProviderOptions {
  /** Project id. @default the key file's `project_id` */
  project?: string;
  /** Service-account key. @default read from the file named by GOOGLE_APPLICATION_CREDENTIALS */
  serviceAccount?: GceServiceAccount;
  /** @default 'https://compute.googleapis.com/compute/v1/' */
  baseUrl?: string;
  /** OAuth token endpoint (also the JWT audience). @default 'https://oauth2.googleapis.com/token' */
  tokenUrl?: string;
  /** Instances per page (1–500). @default 500 */
  maxResults?: number;
}

/**
 * A Google Compute Engine provider.
 *
 * @example
 * ```ts
 * const g = gce({ id: 'gcp', project: 'my-project' }); // key from GOOGLE_APPLICATION_CREDENTIALS
 * for await (const node of g.listNodes()) console.log(node.id); // "us-central1-a/web-1"
 * ```
 */
export function gce(
  options: GceOptions,
): Omit<ManagedProvider, 'listKeyPairs' | 'importKeyPair' | 'deleteKeyPair'> {
  const base = checkCommonOptions(options, 'gce', [
    'project',
    'serviceAccount',
    'baseUrl',
    'tokenUrl',
    'maxResults',
  ]);
  const { project, http } = gceConnection(base, options);
  const maxResults = intOption(options.maxResults, 'options.maxResults', 1, 500, 500);
  return new GceAdapter(base, http, { project, maxResults });
}

interface GceSettings {
  project: string;
  maxResults: number;
}

class GceAdapter extends WholeTagSetAdapter<GceSettings> implements Provider {
  readonly kind = 'gce' as const;

  protected fetchPage(cursor: string | undefined, ctx: PageContext): Promise<RawPage> {
    return gceAggregatedPager(
      this.http,
      `${this.#project()}/aggregated/instances`,
      'instances',
      this.settings.maxResults,
    )(cursor, ctx);
  }

  protected override get statePollIntervalMs(): number {
    return 2_000;
  }

  /**
   * Images: the project's own by default; `owner: 'public'` reads `filters.project` (one image
   * project such as `debian-cloud`) or every project of {@link GCE_PUBLIC_IMAGE_PROJECTS};
   * `filters.filter` is GCE's own filter expression.
   */
  listImages(opts?: ListImagesOptions): AsyncIterable<NodeImage> {
    const req = imagesOptionsArg(opts, ['project', 'filter']);
    const own = this.settings.project;
    const publicProjects = req.filters.project ? [req.filters.project] : GCE_PUBLIC_IMAGE_PROJECTS;
    const projects = [
      ...(req.owner === 'public' ? [] : [own]),
      ...(req.owner === 'self' ? [] : publicProjects),
    ];
    const self = this;
    return (async function* () {
      for (const project of projects) {
        const pager = gcePager(
          self.http,
          `projects/${encodeURIComponent(project)}/global/images`,
          self.settings.maxResults,
          {
            filter: req.filters.filter,
          },
        );
        yield* self.listCheckedCatalog(pager, (raw) => gceImage(self.id, raw, project, project === own), req);
      }
    })();
  }

  /** Machine types of every zone (`aggregated/machineTypes`), one per name; no price (GCE bills through its Billing Catalog API). */
  listSizes(opts?: ListCatalogOptions): AsyncIterable<NodeSize> {
    const seen = new Set<string>();
    const pager = gceAggregatedPager(
      this.http,
      `${this.#project()}/aggregated/machineTypes`,
      'machineTypes',
      this.settings.maxResults,
    );
    // Deduplicated per page, before `onPage` counts the page: it reports the sizes yielded.
    return this.listCatalog(
      async (cursor, ctx) => {
        const page = await pager(cursor, ctx);
        const items = page.items
          .map((raw) => gceSize(this.id, raw))
          .filter((size) => !seen.has(size.id) && seen.add(size.id) !== undefined);
        return { ...page, items };
      },
      (size) => size,
      opts,
    );
  }

  /** Zones (a node is created in a zone). */
  listLocations(opts?: ListCatalogOptions): AsyncIterable<NodeLocation> {
    return this.listCatalog(
      gcePager(this.http, `${this.#project()}/zones`, this.settings.maxResults),
      (raw) => gceLocation(this.id, raw),
      opts,
    );
  }

  /**
   * Insert an instance in the zone `location`; `image` is a {@link NodeImage.id}
   * (`projects/debian-cloud/global/images/…`, or `…/images/family/<family>`). The node comes back
   * as GCE shows it right after the insert was accepted.
   */
  async createNode(input: CreateNodeInput, opts: AbortOptions = {}): Promise<Node> {
    const req = createInputArg(input, { cloud: 'GCE', extraKeys: GCE_CREATE_EXTRA_KEYS });
    const zone = req.location as string;
    const body = gceInstanceBody(req, zone);
    const op = await this.http.json({
      method: 'POST',
      url: `${this.#project()}/zones/${encodeURIComponent(zone)}/instances`,
      json: body,
      signal: opts.signal,
    });
    const failed = gceOperationError(this.id, op);
    if (failed) throw failed;
    const node = await this.getNode(`${zone}/${req.name}`, opts);
    return (
      node ??
      this.node({
        id: `${zone}/${req.name}`,
        name: req.name,
        state: 'pending',
        rawState: 'PROVISIONING',
        zone,
        region: zone.replace(/-[a-z]$/, ''),
        publicIps: [],
        privateIps: [],
        size: req.size,
        tags: { ...req.tags },
        extra: {},
      })
    );
  }

  /** Delete an instance; the operation is GCE's zone operation. */
  async destroyNode(id: string, opts: AbortOptions = {}): Promise<Operation<void>> {
    const op = await this.http.json({ method: 'DELETE', url: this.#path(id), signal: opts.signal });
    return this.#zoneOperation(op, 'destroy');
  }

  #project(): string {
    return `projects/${encodeURIComponent(this.settings.project)}`;
  }

  /** A zone operation to wait for (an operation already `DONE` with errors rejects at once). */
  #zoneOperation(value: unknown, action: string): Operation<void> {
    const failed = gceOperationError(this.id, value);
    if (failed) throw failed;
    const ref = gceOperationRef(this.id, value);
    return this.pollOperation({
      id: ref.name,
      action,
      intervalMs: 2_000,
      poll: (signal) => pollGceOperation(this.http, this.settings.project, ref, signal),
    });
  }

  protected fetchNode(id: string, signal?: AbortSignal): Promise<unknown> {
    return this.http.json({ url: this.#path(id), signal });
  }

  protected checkTags(tags: Record<string, string>): Record<string, string> {
    return checkLabels(tags);
  }

  override toJSON(): Record<string, unknown> {
    return { id: this.id, kind: this.kind, project: this.settings.project };
  }

  #path(id: string): string {
    const [zone, name, ...rest] = nodeIdArg(id).split('/');
    if (!zone || !name || rest.length > 0) throw validationError('id', '"<zone>/<name>"', id);
    return `projects/${encodeURIComponent(this.settings.project)}/zones/${encodeURIComponent(zone)}/instances/${encodeURIComponent(name)}`;
  }

  /** GET the labels and fingerprint, then setLabels; one more try if the fingerprint went stale (412). */
  protected async updateTags(
    nodeId: string,
    compute: ComputeTags,
    signal?: AbortSignal,
  ): Promise<Operation<void>> {
    for (let attempt = 1; ; attempt++) {
      const raw = asObject(await this.fetchNode(nodeId, signal), this.id, 'instance');
      const current = (raw.labels ?? {}) as Record<string, string>;
      try {
        const op = await this.http.json({
          method: 'POST',
          url: `${this.#path(nodeId)}/setLabels`,
          json: { labels: compute(current), labelFingerprint: raw.labelFingerprint },
          signal,
        });
        return this.#zoneOperation(op, 'setTags');
      } catch (err) {
        if (attempt < 2 && err instanceof FleetwatchError && err.status === 412) continue;
        throw err;
      }
    }
  }

  /** `start`, `stop` or `reset`, followed through the zone operation and then the node's state. GCE's stop is always a clean shutdown (ACPI, then off after ~90 s); `graceful: false` sends the same stop. */
  protected async powerAction(
    id: string,
    operation: PowerOperation,
    { signal }: PowerContext,
  ): Promise<Operation<Node>> {
    const op = await this.http.json({
      method: 'POST',
      url: `${this.#path(id)}/${POWER_VERBS[operation]}`,
      signal,
    });
    return this.thenNode(this.#zoneOperation(op, operation), id, POWER_TARGET_STATES[operation]);
  }

  protected toNode(value: unknown): Node {
    const raw = asObject(value, this.id, 'instance');
    const status = str(raw.status) ?? '';
    const zone = lastSegment(raw.zone);
    const nics = (Array.isArray(raw.networkInterfaces) ? raw.networkInterfaces : []) as Array<{
      networkIP?: unknown;
      ipv6Address?: unknown;
      accessConfigs?: Array<{ natIP?: unknown }>;
      ipv6AccessConfigs?: Array<{ externalIpv6?: unknown }>;
    }>;
    const publicIps: string[] = [];
    const privateIps: string[] = [];
    for (const nic of nics) {
      if (typeof nic.networkIP === 'string') privateIps.push(nic.networkIP);
      if (typeof nic.ipv6Address === 'string') privateIps.push(nic.ipv6Address);
      for (const ac of nic.accessConfigs ?? []) if (typeof ac.natIP === 'string') publicIps.push(ac.natIP);
      for (const ac of nic.ipv6AccessConfigs ?? [])
        if (typeof ac.externalIpv6 === 'string') publicIps.push(ac.externalIpv6);
    }
    const labels =
      raw.labels && typeof raw.labels === 'object' ? (raw.labels as Record<string, unknown>) : {};
    const networkTags = (raw.tags as { items?: unknown } | undefined)?.items;
    const extra = pickExtra(raw, EXTRA_KEYS);
    if (Array.isArray(networkTags)) extra.networkTags = networkTags;
    return this.node({
      id: `${zone ?? ''}/${str(raw.name) ?? ''}`,
      name: str(raw.name) ?? '',
      state: lookupState(GCE_STATES, status),
      rawState: status,
      region: zone?.replace(/-[a-z]$/, ''),
      zone,
      publicIps,
      privateIps,
      size: lastSegment(raw.machineType),
      image: lastSegment(raw.sourceMachineImage),
      createdAt: parseDate(raw.creationTimestamp),
      tags: Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, String(v)])),
      extra,
    });
  }
}

export { GCE_PUBLIC_IMAGE_PROJECTS } from './gce-catalog.js';
