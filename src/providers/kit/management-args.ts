import { nonEmptyString } from '../../core.js';
import { FleetwatchError, validationError } from '../../errors.js';
import type { CreateNodeInput, ListCatalogOptions, ListImagesOptions } from '../types.js';
import { createExtraArg, tagsArg } from './args.js';

/** {@link CreateNodeInput} checked once, the same for every adapter. */
export interface CreateRequest {
  name: string;
  size: string;
  image?: string;
  /** `location`, or the deprecated `region`/`zone` when it is absent. */
  location?: string;
  keyPair?: string;
  tags: Record<string, string>;
  /** Plain text; the adapter encodes it. */
  userData?: string;
  /** Only the cloud's own create fields (see {@link createExtraArg}). */
  extra: Record<string, unknown>;
}

/** What {@link createInputArg} checks besides the common fields. */
export interface CreateInputRules {
  /** The cloud's name, for messages. */
  cloud: string;
  /** `input.extra` keys the adapter passes on. */
  extraKeys: readonly string[];
  /** Is `image` required? @default true */
  imageRequired?: boolean;
  /** Is `location` required? @default true */
  locationRequired?: boolean;
}

const optionalString = (value: unknown, path: string): string | undefined =>
  value === undefined ? undefined : nonEmptyString(value, path);

/**
 * Check `createNode`'s input: `name` and `size` non-empty strings; `image` and `location` as the
 * rules say; `keyPair` and `userData` strings; `tags` strings; `extra` only the cloud's keys.
 *
 * @example
 * ```ts
 * const req = createInputArg({ name: 'web-1', size: 's-1vcpu-1gb', image: 'ubuntu-24-04-x64', location: 'fra1' },
 *   { cloud: 'DigitalOcean', extraKeys: ['vpc_uuid'] });
 * ```
 */
export function createInputArg(input: CreateNodeInput, rules: CreateInputRules): CreateRequest {
  if (typeof input !== 'object' || input === null) throw validationError('input', 'an object', input);
  const image = optionalString(input.image, 'input.image');
  if (image === undefined && rules.imageRequired !== false)
    throw validationError('input.image', `an image id (${rules.cloud} needs one)`, input.image);
  const location =
    optionalString(input.location, 'input.location') ??
    optionalString(input.zone, 'input.zone') ??
    optionalString(input.region, 'input.region');
  if (location === undefined && rules.locationRequired !== false)
    throw validationError('input.location', `a location id (${rules.cloud} needs one)`, input.location);
  if (input.userData !== undefined && typeof input.userData !== 'string')
    throw validationError('input.userData', 'a string (plain text; the adapter encodes it)', input.userData);
  const keyPair = optionalString(input.keyPair, 'input.keyPair');
  return {
    name: nonEmptyString(input.name, 'input.name'),
    size: nonEmptyString(input.size, 'input.size'),
    ...(image === undefined ? {} : { image }),
    ...(location === undefined ? {} : { location }),
    ...(keyPair === undefined ? {} : { keyPair }),
    tags: input.tags === undefined ? {} : tagsArg(input.tags, 'input.tags'),
    ...(input.userData === undefined ? {} : { userData: input.userData }),
    extra: createExtraArg(input.extra, rules.extraKeys, rules.cloud),
  };
}

/** {@link ListCatalogOptions} checked: `filters` is an object of allowed names (empty when not given). */
export interface CatalogRequest extends ListCatalogOptions {
  filters: Record<string, string>;
}

/** {@link ListImagesOptions} checked: `owner` defaults to `self`; `filters` only the allowed keys. */
export interface ImagesRequest extends CatalogRequest {
  owner: 'self' | 'public' | 'all';
}

/**
 * Check the options of a catalogue listing. `filters` may name only `allowedFilters` (an unknown one
 * is `E_VALIDATION`, never silently ignored: a listing without filters takes none); `'any'` lets any
 * non-empty name through, for APIs whose filters are open-ended (EC2's `Filter.N`, Glance's query).
 *
 * @example
 * ```ts
 * const req = catalogOptionsArg({ filters: { location: 'eastus' } }, ['location']);
 * ```
 */
export function catalogOptionsArg(
  opts: ListCatalogOptions | undefined,
  allowedFilters: readonly string[] | 'any' = [],
): CatalogRequest {
  if (opts === undefined) return { filters: {} };
  if (typeof opts !== 'object' || opts === null) throw validationError('opts', 'an object', opts);
  if (opts.signal !== undefined && !(opts.signal instanceof AbortSignal))
    throw validationError('opts.signal', 'an AbortSignal', opts.signal);
  if (opts.onPage !== undefined && typeof opts.onPage !== 'function')
    throw validationError('opts.onPage', 'a function', opts.onPage);
  const filters = opts.filters === undefined ? {} : tagsArg(opts.filters, 'opts.filters');
  for (const k of Object.keys(filters)) {
    if (allowedFilters === 'any') {
      if (k === '') throw validationError('opts.filters.', 'a non-empty filter name', k);
    } else if (!allowedFilters.includes(k))
      throw new FleetwatchError('E_VALIDATION', `opts.filters.${k}: not a filter of this listing`, {
        path: `opts.filters.${k}`,
        expected: allowedFilters.length ? allowedFilters.join(', ') : 'no filters',
      });
  }
  return { ...opts, filters };
}

/**
 * Check the options of `listImages`; `allowedFilters` are the filter names the adapter understands
 * (see {@link catalogOptionsArg}); without it, any non-empty filter name passes through.
 *
 * @example
 * ```ts
 * const req = imagesOptionsArg({ owner: 'public', filters: { type: 'distribution' } }, ['type']);
 * ```
 */
export function imagesOptionsArg(
  opts: ListImagesOptions | undefined,
  allowedFilters?: readonly string[],
): ImagesRequest {
  const base = catalogOptionsArg(opts, allowedFilters ?? 'any');
  const owner = opts?.owner ?? 'self';
  if (!['self', 'public', 'all'].includes(owner))
    throw validationError('opts.owner', "'self', 'public' or 'all'", owner);
  return { ...base, owner };
}
