import { type Clock, type Logger, positiveNumber, rejectUnknownKeys } from '../core.js';
import { FleetwatchError, validationError } from '../errors.js';
import {
  checkOptionsShape,
  loggerAndClock,
  type ProviderHttpOptions,
  regionConcurrencyOption,
  regionsOption,
} from './kit/index.js';
import type { CommonProviderOptions } from './types.js';

/** AWS credentials. Kept in a closure: never on the provider object, in a node, a log or an error. */
export interface Ec2Credentials {
  /** The AWS access key id (`AKIA…`, or `ASIA…` with a session token). */
  accessKeyId: string;
  /** The secret access key (never logged or put in an error). */
  secretAccessKey: string;
  /** The session token of temporary (STS) credentials. */
  sessionToken?: string;
}

/** Options of {@link ec2}. */
export interface Ec2Options extends CommonProviderOptions {
  /**
   * The region to use; with `regions`, the one `DescribeRegions` is asked in and `createNode`'s
   * default. @default env `AWS_REGION`, then `AWS_DEFAULT_REGION`, then the first of `regions`
   */
  region?: string;
  /** Several regions listed concurrently, or `'all'` (every enabled region, from `DescribeRegions`). */
  regions?: readonly string[] | 'all';
  /** @default env `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN` */
  credentials?: Ec2Credentials;
  /**
   * Base URL; `{region}` in it is replaced by the region (e.g. `http://127.0.0.1:5055` for moto).
   * @default `https://ec2.{region}.amazonaws.com` (`.com.cn` for `cn-` regions)
   */
  endpoint?: string;
  /** `MaxResults` of each `DescribeInstances` page (5–1000). @default 1000 */
  pageSize?: number;
  /** Regions listed at once. @default 4 */
  regionConcurrency?: number;
  /**
   * Server-side `DescribeInstances` filters for `listNodes`, e.g. `{ 'tag:env': 'prod',
   * 'instance-state-name': ['running', 'stopped'] }` (`*`/`?` wildcards as EC2 allows).
   */
  filters?: Readonly<Record<string, string | readonly string[]>>;
  /** HTTP behaviour (timeouts, retries). */
  http?: ProviderHttpOptions;
  /** Where the credential and region defaults are read from. @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
}

export const OPTION_KEYS = [
  'id',
  'region',
  'regions',
  'credentials',
  'endpoint',
  'pageSize',
  'regionConcurrency',
  'filters',
  'http',
  'env',
  'logger',
  'clock',
] as const;
export const CREATE_EXTRA_KEYS = ['keyName', 'subnetId', 'securityGroupIds', 'userData'] as const;
export const REGION_RE = /^[a-z]{2}(-[a-z0-9]+)+-\d+$/;

export interface Ec2Config {
  readonly id: string;
  readonly homeRegion: string;
  readonly regions: readonly string[] | 'all';
  readonly credentials: Ec2Credentials;
  readonly endpoint: string | undefined;
  readonly pageSize: number;
  readonly regionConcurrency: number;
  /** `Filter.N.Name` / `Filter.N.Value.M` parameters. */
  readonly filterParams: Readonly<Record<string, string>>;
  readonly logger: Logger;
  readonly clock: Clock;
}

export function checkRegion(value: unknown, path: string): string {
  if (typeof value !== 'string' || !REGION_RE.test(value))
    throw validationError(path, 'an AWS region name like us-east-1', value);
  return value;
}

export function normalizeCredentials(value: unknown, env: Ec2Options['env'], id: string): Ec2Credentials {
  if (value === undefined) {
    const accessKeyId = env?.AWS_ACCESS_KEY_ID;
    const secretAccessKey = env?.AWS_SECRET_ACCESS_KEY;
    if (!accessKeyId || !secretAccessKey)
      throw new FleetwatchError(
        'E_CONFIG',
        'ec2: no credentials: pass options.credentials or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY',
        { provider: id, path: 'options.credentials' },
      );
    const sessionToken = env?.AWS_SESSION_TOKEN;
    return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
  }
  if (typeof value !== 'object' || value === null)
    throw validationError('options.credentials', 'an object', value);
  rejectUnknownKeys(value, ['accessKeyId', 'secretAccessKey', 'sessionToken'], 'options.credentials');
  const c = value as Record<string, unknown>;
  // Never echo a credential value in an error: report only its type.
  for (const key of ['accessKeyId', 'secretAccessKey'] as const) {
    if (typeof c[key] !== 'string' || c[key] === '')
      throw new FleetwatchError('E_VALIDATION', `options.credentials.${key}: expected a non-empty string`, {
        path: `options.credentials.${key}`,
        expected: 'a non-empty string',
        received: typeof c[key],
      });
  }
  if (c.sessionToken !== undefined && (typeof c.sessionToken !== 'string' || c.sessionToken === ''))
    throw new FleetwatchError(
      'E_VALIDATION',
      'options.credentials.sessionToken: expected a non-empty string',
      {
        path: 'options.credentials.sessionToken',
        expected: 'a non-empty string',
        received: typeof c.sessionToken,
      },
    );
  return {
    accessKeyId: c.accessKeyId as string,
    secretAccessKey: c.secretAccessKey as string,
    ...(c.sessionToken === undefined ? {} : { sessionToken: c.sessionToken as string }),
  };
}

/** Validate {@link Ec2Options} and apply defaults. */
export function normalizeEc2Options(options: Ec2Options): Ec2Config {
  checkOptionsShape(options, OPTION_KEYS);
  const env = options.env ?? process.env;
  const regions = regionsOption(options.regions, "a non-empty array of regions or 'all'", checkRegion);
  const fromEnv = env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined;
  const homeRegion =
    options.region !== undefined
      ? checkRegion(options.region, 'options.region')
      : Array.isArray(regions)
        ? (regions[0] as string)
        : fromEnv !== undefined
          ? checkRegion(fromEnv, 'env.AWS_REGION')
          : regions === 'all'
            ? 'us-east-1'
            : undefined;
  if (homeRegion === undefined)
    throw new FleetwatchError(
      'E_CONFIG',
      'ec2: no region: pass options.region or options.regions, or set AWS_REGION',
      {
        provider: options.id,
        path: 'options.region',
      },
    );
  if (options.endpoint !== undefined) {
    if (typeof options.endpoint !== 'string' || !/^https?:\/\/[^/]/.test(options.endpoint))
      throw validationError('options.endpoint', 'an http(s) URL', options.endpoint);
  }
  return Object.freeze({
    id: options.id,
    homeRegion,
    regions: regions ?? [homeRegion],
    credentials: normalizeCredentials(options.credentials, env, options.id),
    endpoint: options.endpoint,
    pageSize:
      options.pageSize === undefined
        ? 1000
        : Math.min(1000, positiveNumber(options.pageSize, 'options.pageSize', { integer: true, min: 5 })),
    regionConcurrency: regionConcurrencyOption(options.regionConcurrency),
    filterParams: filterParams(options.filters),
    ...loggerAndClock(options),
  });
}

/** `Filter.N.Name` / `Filter.N.Value.M` query parameters from a filters option. */
export function filterParams(filters: unknown, path = 'options.filters'): Record<string, string> {
  if (filters === undefined) return {};
  if (typeof filters !== 'object' || filters === null || Array.isArray(filters))
    throw validationError(path, 'an object of filter name → value(s)', filters);
  const params: Record<string, string> = {};
  let n = 0;
  for (const [name, raw] of Object.entries(filters)) {
    const values: unknown[] = Array.isArray(raw) ? raw : [raw];
    if (name === '' || values.length === 0 || values.some((v) => typeof v !== 'string'))
      throw validationError(`${path}.${name}`, 'a string or a non-empty array of strings', raw);
    n++;
    params[`Filter.${n}.Name`] = name;
    values.forEach((v, m) => {
      params[`Filter.${n}.Value.${m + 1}`] = v as string;
    });
  }
  return params;
}

/** The endpoint of a region: the `endpoint` option with `{region}` filled in, or AWS's own. */
export function ec2EndpointFor(region: string, endpoint?: string): string {
  if (endpoint !== undefined) return endpoint.replaceAll('{region}', region);
  return `https://ec2.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}`;
}

/** `YYYYMMDDTHHMMSSZ`, the SigV4 timestamp. */
export function amzDate(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}
