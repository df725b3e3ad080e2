import { FleetwatchError, throwIfAborted } from '../../errors.js';
import type { ListNodesOptions } from '../types.js';
import { redactUrl } from './redact.js';

/** Fetch one page: `cursor` is `undefined` for the first. */
export type FetchPage<R> = (
  cursor: string | undefined,
  ctx: { page: number; signal?: AbortSignal },
) => Promise<ProviderPage<R>>;

/** One JSON listing to page through: `key` is the items' array in each body, `params` extra query parameters. */
export interface PagedListRequest {
  url: string;
  key: string;
  perPage: number;
  params?: Record<string, string | undefined>;
}

/** One page as an adapter fetched it: items, and the cursor of the next page (absent at the end). */
export interface ProviderPage<T> {
  items: T[];
  /** A token, a link or a page number as a string; `undefined`/empty at the end. */
  next?: string | undefined;
}

/** Options for {@link paginateProvider}. */
export interface PaginateOptions {
  /** Provider id, for errors. */
  provider: string;
  /** More pages than this raise `E_PROVIDER` (never a silent truncation). @default 10_000 */
  maxPages?: number;
  signal?: AbortSignal;
  /** Called after each page. */
  onPage?: (info: PageInfo) => void;
}

/**
 * What `onPage` is told after each page: `items` is the number of items the listing yielded from
 * it (a page in {@link paginateProvider}, its translated items in {@link itemsFromPages}); `nodes`
 * is the same number, under the name node listings ({@link ListNodesOptions.onPage}) have always used.
 */
export interface PageInfo {
  page: number;
  items: number;
  nodes: number;
}

/**
 * The one paging loop: fetch pages from `fetchPage`, following `next` cursors to the end, and hand
 * each to `consume` (which yields what the listing gives out and returns how many it yielded, for
 * `onPage`). A cursor seen twice or more pages than `maxPages` raise `E_PROVIDER` — the loop never
 * spins and never truncates.
 */
async function* guardedPages<R, T>(
  fetchPage: FetchPage<R>,
  opts: PaginateOptions,
  consume: (items: R[]) => AsyncGenerator<T, number, undefined>,
): AsyncGenerator<T, void, undefined> {
  const maxPages = opts.maxPages ?? 10_000;
  const seen = new Set<string>();
  let cursor: string | undefined;
  for (let page = 1; ; page++) {
    throwIfAborted(opts.signal);
    if (page > maxPages)
      throw new FleetwatchError(
        'E_PROVIDER',
        `${opts.provider}: more than ${maxPages} pages; refusing to continue`,
        {
          provider: opts.provider,
          providerCode: 'PAGE_LIMIT',
          details: { maxPages },
        },
      );
    const result = await fetchPage(cursor, { page, signal: opts.signal });
    const yielded = yield* consume(result.items);
    opts.onPage?.({ page, items: yielded, nodes: yielded });
    const next = result.next;
    if (next === undefined || next === '') return;
    if (seen.has(next) || next === cursor)
      throw new FleetwatchError(
        'E_PROVIDER',
        `${opts.provider}: pagination repeated a cursor on page ${page}; stopping`,
        {
          provider: opts.provider,
          providerCode: 'PAGINATION_LOOP',
          details: { page, cursor: redactUrl(next) },
        },
      );
    if (cursor !== undefined) seen.add(cursor);
    seen.add(next);
    cursor = next;
  }
}

/**
 * Yield pages (arrays of items) from `fetchPage`, following `next` cursors to the end, with
 * {@link itemsFromPages}'s guards; `onPage` counts each page's items.
 *
 * @example
 * ```ts
 * declare const fetchPage: FetchPage<string>;
 * for await (const page of paginateProvider(fetchPage, { provider: 'do' })) console.log(page.length);
 * ```
 */
export function paginateProvider<T>(
  fetchPage: FetchPage<T>,
  opts: PaginateOptions,
): AsyncGenerator<T[], void, undefined> {
  return guardedPages(fetchPage, opts, async function* (items) {
    yield items;
    return items.length;
  });
}

/**
 * Every item of a paged listing, translated: the one loop behind `listNodes` and the catalogue
 * listings (images, sizes, locations, key pairs). A cursor seen twice or more pages than
 * `maxPages` raise `E_PROVIDER`. `translate` returns one item per raw item, or `undefined` to skip
 * it; `onPage` counts what the listing yielded (a skipped item is not reported).
 *
 * @example
 * ```ts
 * declare const fetchPage: FetchPage<{ slug: string }>;
 * for await (const id of itemsFromPages(fetchPage, (raw) => raw.slug, { provider: 'do' })) console.log(id);
 * ```
 */
export function itemsFromPages<R, T>(
  fetchPage: FetchPage<R>,
  translate: (raw: R, signal?: AbortSignal) => T | undefined | Promise<T | undefined>,
  opts: PaginateOptions,
): AsyncGenerator<T, void, undefined> {
  return guardedPages(fetchPage, opts, async function* (items) {
    let yielded = 0;
    for (const raw of items) {
      const item = await translate(raw, opts.signal);
      if (item !== undefined) {
        yielded++;
        yield item;
      }
    }
    return yielded;
  });
}

/**
 * The items of a listing the API does not page (one call), translated, with `onPage` told once:
 * {@link itemsFromPages} over a single page.
 *
 * @example
 * ```ts
 * const keys = onePageItems(async ({ signal }) => fetchKeys(signal), toKeyPair, { provider: 'aws' });
 * ```
 */
export function onePageItems<R, T>(
  fetchItems: (ctx: { signal?: AbortSignal }) => Promise<R[]>,
  translate: (raw: R) => T | undefined,
  opts: PaginateOptions,
): AsyncGenerator<T, void, undefined> {
  return itemsFromPages(
    async (_cursor, { signal }) => ({ items: await fetchItems(signal === undefined ? {} : { signal }) }),
    translate,
    opts,
  );
}
