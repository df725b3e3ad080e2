import { FleetwatchError, throwIfAborted } from '../../errors.js';
import type { ListNodesOptions } from '../types.js';
import { redactUrl } from './redact.js';

/** Fetch one page: `cursor` is `undefined` for the first. */
export type FetchPage<R> = (
  cursor: string | undefined,
  ctx: { page: number; signal?: AbortSignal },
) => Promise<ProviderPage<R>>;

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
 * it (in {@link itemsFromPages}, after translation; in {@link paginateProvider}, the page's length); `nodes` is the same
 * number, under the name node listings ({@link ListNodesOptions.onPage}) have always used.
 */
export interface PageInfo {
  page: number;
  items: number;
  nodes: number;
}

/**
 * Yield pages (arrays of items) from `fetchPage`, following `next` cursors to the end. A cursor seen
 * twice or more pages than `maxPages` raise `E_PROVIDER` — the loop never spins and never truncates.
 */
export async function* paginateProvider<T>(
  fetchPage: FetchPage<T>,
  opts: PaginateOptions,
): AsyncGenerator<T[], void, undefined> {
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
    opts.onPage?.({ page, items: result.items.length, nodes: result.items.length });
    yield result.items;
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
 * Every item of a paged listing, translated: the one loop behind `listNodes` and the catalogue
 * listings (images, sizes, locations, key pairs), with {@link paginateProvider}'s guards.
 * `translate` returns one item per raw item, or `undefined` to skip it.
 *
 * @example
 * ```ts
 * declare const fetchPage: FetchPage<{ slug: string }>;
 * for await (const id of itemsFromPages(fetchPage, (raw) => raw.slug, { provider: 'do' })) console.log(id);
 * ```
 */
export async function* itemsFromPages<R, T>(
  fetchPage: FetchPage<R>,
  translate: (raw: R, signal?: AbortSignal) => T | undefined | Promise<T | undefined>,
  opts: PaginateOptions,
): AsyncGenerator<T, void, undefined> {
  // `onPage` counts what this loop yields (an item the translation skips is not reported).
  const { onPage, ...rest } = opts;
  let n = 0;
  for await (const page of paginateProvider(fetchPage, rest)) {
    n++;
    let yielded = 0;
    for (const raw of page) {
      const item = await translate(raw, opts.signal);
      if (item !== undefined) {
        yielded++;
        yield item;
      }
    }
    onPage?.({ page: n, items: yielded, nodes: yielded });
  }
}
