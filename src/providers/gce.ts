/**
 * Google Compute Engine adapter: instances as nodes. A service-account key signs an RS256 JWT
 * (node:crypto) that is exchanged for an access token; instances are listed across all zones with
 * `aggregated/instances` + `pageToken`; labels are the tags (written with `setLabels` and the
 * label fingerprint). A node's id is `<zone>/<name>`, because GCE addresses instances that way.
 */
import { createPrivateKey, createSign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { FleetwatchError, validationError } from '../errors.js';
import {
  asObject,
  baseUrlOption,
  bearerHttpClient,
  type CloudProviderOptions,
  type ComputeTags,
  checkCommonOptions,
  credential,
  intOption,
  lookupState,
  type NodeControlOperation,
  nodeIdArg,
  oauthTokenCache,
  type PageContext,
  type PowerContext,
  type PowerOperation,
  type ProviderWith,
  parseDate,
  pickExtra,
  type RawPage,
  str,
  WholeTagSetAdapter,
} from './kit/index.js';
import type { Node, NodeState, Operation } from './types.js';

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
const SCOPE = 'https://www.googleapis.com/auth/compute';
const LABEL_KEY = /^\p{Ll}[\p{Ll}\p{Lo}\p{N}_-]{0,62}$/u;
const LABEL_VALUE = /^[\p{Ll}\p{Lo}\p{N}_-]{0,63}$/u;
const THROTTLE_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded']);
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

/** What `gce()` returns: a {@link Provider} with these optional operations present. */
export type GceProvider = ProviderWith<NodeControlOperation>;

/**
 * A Google Compute Engine provider.
 *
 * @example
 * ```ts
 * const g = gce({ id: 'gcp', project: 'my-project' }); // key from GOOGLE_APPLICATION_CREDENTIALS
 * for await (const node of g.listNodes()) console.log(node.id); // "us-central1-a/web-1"
 * ```
 */
export function gce(options: GceOptions): GceProvider {
  const base = checkCommonOptions(options, 'gce', [
    'project',
    'serviceAccount',
    'baseUrl',
    'tokenUrl',
    'maxResults',
  ]);
  const keyFile = options.serviceAccount === undefined ? readKeyFile() : undefined;
  const account = checkServiceAccount(
    options.serviceAccount ?? keyFile,
    options.serviceAccount ? 'options.serviceAccount' : 'GOOGLE_APPLICATION_CREDENTIALS',
  );
  const project =
    options.project ?? (typeof keyFile?.project_id === 'string' ? keyFile.project_id : undefined);
  if (project === undefined)
    throw new FleetwatchError(
      'E_CONFIG',
      'options.project was not given and the key file has no project_id',
      {
        path: 'options.project',
      },
    );
  nodeIdArg(project, 'options.project');
  const maxResults = intOption(options.maxResults, 'options.maxResults', 1, 500, 500);
  const tokenUrl = baseUrlOption(options.tokenUrl, 'options.tokenUrl', 'https://oauth2.googleapis.com/token');
  // The last signed assertion and the issued token are scrubbed from everything reported.
  let assertion = '';
  const secrets = () => [assertion, ...tokens.secrets()];
  const tokens = oauthTokenCache(base, {
    baseUrl: tokenUrl,
    url: tokenUrl,
    http: options.http,
    secrets,
    form: (now) => {
      assertion = signJwt(account, tokenUrl, now);
      return { grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion };
    },
  });
  const http = bearerHttpClient(base, {
    baseUrl: baseUrlOption(options.baseUrl, 'options.baseUrl', 'https://compute.googleapis.com/compute/v1/'),
    http: options.http,
    token: tokens,
    secrets,
    isThrottle: (res, info) =>
      res.status === 429 || (res.status === 403 && THROTTLE_REASONS.has(info?.providerCode ?? '')),
  });
  return new GceAdapter(base, http, { project, maxResults });
}

interface LoadedAccount {
  client_email: string;
  key: KeyObject;
}

function readKeyFile(): Record<string, unknown> {
  const path = credential(undefined, 'options.serviceAccount', 'GOOGLE_APPLICATION_CREDENTIALS');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new FleetwatchError(
      'E_CONFIG',
      `GOOGLE_APPLICATION_CREDENTIALS: cannot read the key file (${(cause as NodeJS.ErrnoException).code ?? 'error'})`,
      {
        path: 'GOOGLE_APPLICATION_CREDENTIALS',
      },
    );
  }
  try {
    return asObject(JSON.parse(text), 'gce', 'key file');
  } catch {
    throw new FleetwatchError(
      'E_CONFIG',
      'GOOGLE_APPLICATION_CREDENTIALS: the key file is not a JSON object',
      {
        path: 'GOOGLE_APPLICATION_CREDENTIALS',
      },
    );
  }
}

function checkServiceAccount(value: unknown, path: string): LoadedAccount {
  const v = (value ?? {}) as Record<string, unknown>;
  if (typeof v.client_email !== 'string' || v.client_email === '')
    throw new FleetwatchError(
      path.startsWith('options') ? 'E_VALIDATION' : 'E_CONFIG',
      `${path}.client_email: expected a non-empty string`,
      {
        path: `${path}.client_email`,
      },
    );
  try {
    if (typeof v.private_key !== 'string') throw new Error('not a string');
    return { client_email: v.client_email, key: createPrivateKey(v.private_key) };
  } catch {
    // Never echo the key.
    throw new FleetwatchError(
      path.startsWith('options') ? 'E_VALIDATION' : 'E_CONFIG',
      `${path}.private_key: expected a PEM private key`,
      {
        path: `${path}.private_key`,
      },
    );
  }
}

const b64url = (data: string | Buffer) => Buffer.from(data).toString('base64url');

/** Build the RS256 JWT assertion of the OAuth 2 JWT-bearer flow. */
function signJwt(account: LoadedAccount, audience: string, nowMs: number): string {
  const iat = Math.floor(nowMs / 1000);
  const input = `${b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }))}.${b64url(
    JSON.stringify({ iss: account.client_email, scope: SCOPE, aud: audience, iat, exp: iat + 3600 }),
  )}`;
  const signature = createSign('RSA-SHA256').update(input).sign(account.key);
  return `${input}.${b64url(signature)}`;
}

interface GceSettings {
  project: string;
  maxResults: number;
}

class GceAdapter extends WholeTagSetAdapter<GceSettings> implements GceProvider {
  readonly kind = 'gce' as const;

  protected async fetchPage(cursor: string | undefined, { signal }: PageContext): Promise<RawPage> {
    const body = asObject(
      await this.http.json({
        url: `projects/${encodeURIComponent(this.settings.project)}/aggregated/instances`,
        searchParams: { maxResults: this.settings.maxResults, pageToken: cursor },
        signal,
      }),
      this.id,
      'aggregated list',
    );
    const items = (body.items ?? {}) as Record<string, { instances?: unknown }>;
    const instances: unknown[] = [];
    for (const scope of Object.values(items)) {
      if (Array.isArray(scope?.instances)) instances.push(...scope.instances);
    }
    return { items: instances, next: str(body.nextPageToken) };
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
  protected async updateTags(nodeId: string, compute: ComputeTags, signal?: AbortSignal): Promise<void> {
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
        this.#checkOperation(op);
        return;
      } catch (err) {
        if (attempt < 2 && err instanceof FleetwatchError && err.status === 412) continue;
        throw err;
      }
    }
  }

  protected async powerAction(
    id: string,
    operation: PowerOperation,
    { signal }: PowerContext,
  ): Promise<Operation<Node>> {
    this.#checkOperation(
      await this.http.json({ method: 'POST', url: `${this.#path(id)}/${POWER_VERBS[operation]}`, signal }),
    );
    return this.powerStateOperation(id, operation);
  }

  /** An Operation can come back already failed (`error.errors[]`). */
  #checkOperation(value: unknown): void {
    const op = (value ?? {}) as { error?: { errors?: Array<{ code?: string; message?: string }> } };
    const first = op.error?.errors?.[0];
    if (first)
      throw new FleetwatchError(
        'E_PROVIDER',
        `${this.id}: operation failed: ${first.message ?? first.code ?? 'error'}`,
        {
          provider: this.id,
          providerCode: first.code,
        },
      );
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

function lastSegment(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value.slice(value.lastIndexOf('/') + 1) : undefined;
}

function checkLabels(tags: Record<string, string>): Record<string, string> {
  for (const [k, v] of Object.entries(tags)) {
    if (!LABEL_KEY.test(k))
      throw validationError(
        `tags.${k}`,
        'a GCE label key (lowercase letter first; lowercase, digits, _ -; ≤ 63)',
        k,
      );
    if (!LABEL_VALUE.test(v))
      throw validationError(`tags.${k}`, 'a GCE label value (lowercase, digits, _ -; ≤ 63)', v);
  }
  return tags;
}
