/**
 * GCE's catalogue and zone operations: the `pageToken` pagers (plain and aggregated lists), image,
 * machine-type and zone translations, and zone operations polled until `DONE`.
 */
import { FleetwatchError } from '../errors.js';
import {
  asObject,
  type FetchPage,
  type NodeImage,
  type NodeLocation,
  type NodeSize,
  type PollResult,
  type ProviderHttpClient,
  parseDate,
  pickExtra,
  str,
} from './kit/index.js';

/**
 * Well-known public image projects `listImages({ owner: 'public' })` reads when no
 * `filters.project` is given (cloud.google.com/compute/docs/images/os-details).
 */
export const GCE_PUBLIC_IMAGE_PROJECTS: readonly string[] = [
  'debian-cloud',
  'ubuntu-os-cloud',
  'centos-cloud',
  'rocky-linux-cloud',
  'rhel-cloud',
  'suse-cloud',
  'opensuse-cloud',
  'fedora-coreos-cloud',
  'cos-cloud',
  'windows-cloud',
];

/** The pager of a plain GCE list: `maxResults`/`pageToken` → `items` + `nextPageToken`. */
export function gcePager(
  http: ProviderHttpClient,
  path: string,
  maxResults: number,
  params: Record<string, string | undefined> = {},
): FetchPage<unknown> {
  return async (cursor, { signal }) => {
    const body = asObject(
      await http.json({ url: path, searchParams: { ...params, maxResults, pageToken: cursor }, signal }),
      http.provider,
      'list',
    );
    return { items: Array.isArray(body.items) ? body.items : [], next: str(body.nextPageToken) };
  };
}

/** The pager of an `aggregated/…` list: `items` keyed by scope (`zones/us-central1-a`), each with `field`. */
export function gceAggregatedPager(
  http: ProviderHttpClient,
  path: string,
  field: string,
  maxResults: number,
): FetchPage<unknown> {
  return async (cursor, { signal }) => {
    const body = asObject(
      await http.json({ url: path, searchParams: { maxResults, pageToken: cursor }, signal }),
      http.provider,
      'aggregated list',
    );
    const items: unknown[] = [];
    for (const scope of Object.values((body.items ?? {}) as Record<string, Record<string, unknown>>)) {
      const list = scope?.[field];
      if (Array.isArray(list)) items.push(...list);
    }
    return { items, next: str(body.nextPageToken) };
  };
}

/** The last `/` segment of a URL or path. */
export function lastSegment(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value.slice(value.lastIndexOf('/') + 1) : undefined;
}

/** A GCE image; `id` is `projects/<p>/global/images/<name>`, what `createNode` sends as `sourceImage`. */
export function gceImage(provider: string, value: unknown, project: string, own: boolean): NodeImage {
  const raw = asObject(value, provider, 'image');
  const name = str(raw.name) ?? '';
  const created = parseDate(raw.creationTimestamp);
  const family = str(raw.family);
  return {
    id: `projects/${project}/global/images/${name}`,
    name,
    provider,
    ...(family ? { os: family.split('-')[0] } : {}),
    public: !own,
    ...(created ? { createdAt: created } : {}),
    extra: {
      project,
      ...pickExtra(raw, ['id', 'family', 'status', 'diskSizeGb', 'description', 'deprecated', 'labels']),
    },
  };
}

/** A GCE machine type (no price: GCE prices come from the Cloud Billing Catalog API). */
export function gceSize(provider: string, value: unknown): NodeSize {
  const raw = asObject(value, provider, 'machine type');
  return {
    id: str(raw.name) ?? '',
    name: str(raw.description) || (str(raw.name) ?? ''),
    provider,
    cpus: typeof raw.guestCpus === 'number' ? raw.guestCpus : 0,
    memory: typeof raw.memoryMb === 'number' ? raw.memoryMb : 0,
    extra: {
      zone: lastSegment(raw.zone),
      ...pickExtra(raw, [
        'isSharedCpu',
        'maximumPersistentDisks',
        'maximumPersistentDisksSizeGb',
        'accelerators',
      ]),
    },
  };
}

/** A GCE zone. */
export function gceLocation(provider: string, value: unknown): NodeLocation {
  const raw = asObject(value, provider, 'zone');
  const name = str(raw.name) ?? '';
  const region = lastSegment(raw.region);
  return {
    id: name,
    name: str(raw.description) || name,
    provider,
    zone: name,
    ...(region ? { region } : {}),
    extra: pickExtra(raw, ['status', 'availableCpuPlatforms']),
  };
}

/** What identifies a zone operation. */
export interface GceOperationRef {
  name: string;
  zone: string;
}

/** The name and zone of an Operation a mutating call answered with. */
export function gceOperationRef(provider: string, value: unknown): GceOperationRef {
  const op = asObject(value, provider, 'operation');
  const name = str(op.name);
  const zone = lastSegment(op.zone);
  if (!name || !zone)
    throw new FleetwatchError('E_MALFORMED_RESPONSE', `${provider}: the answer is not a zone operation`, {
      provider,
    });
  return { name, zone };
}

/** The error of a `DONE` operation (`error.errors[]`), as `E_PROVIDER` with GCE's message and code. */
export function gceOperationError(provider: string, value: unknown): FleetwatchError | undefined {
  const op = (value ?? {}) as {
    name?: unknown;
    httpErrorStatusCode?: unknown;
    error?: { errors?: Array<{ code?: string; message?: string }> };
  };
  const first = op.error?.errors?.[0];
  if (!first) return undefined;
  return new FleetwatchError(
    'E_PROVIDER',
    `${provider}: operation failed: ${first.message ?? first.code ?? 'error'}`,
    {
      provider,
      ...(first.code ? { providerCode: first.code } : {}),
      ...(typeof op.httpErrorStatusCode === 'number' ? { status: op.httpErrorStatusCode } : {}),
      details: { operation: str(op.name) },
    },
  );
}

/**
 * One poll of a zone operation (GET, not the `wait` endpoint: that holds a request up to two
 * minutes, past the request timeout and any shorter `timeoutMs`). `DONE` with `error.errors[]`
 * rejects with `E_PROVIDER`.
 */
export async function pollGceOperation(
  http: ProviderHttpClient,
  project: string,
  ref: GceOperationRef,
  signal: AbortSignal | undefined,
): Promise<PollResult<void>> {
  const op = asObject(
    await http.json({
      url: `projects/${encodeURIComponent(project)}/zones/${encodeURIComponent(ref.zone)}/operations/${encodeURIComponent(ref.name)}`,
      signal,
    }),
    http.provider,
    'operation',
  );
  if (op.status !== 'DONE') return { done: false };
  const err = gceOperationError(http.provider, op);
  if (err) throw err;
  return { done: true, value: undefined };
}
