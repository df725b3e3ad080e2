import type { AbortOptions } from '../../core.js';
import { FleetwatchError } from '../../errors.js';
import type { KeyPair, ListCatalogOptions, ManagedProvider } from '../types.js';
import { nodeIdArg } from './args.js';
import type { HttpCloudAdapter } from './cloud-adapter.js';
import { keyPairInputArg } from './management.js';
import { asObject } from './node.js';
import type { KeyPairOperation } from './options.js';
import type { FetchPage } from './paginate.js';

/** How a JSON cloud's SSH-key collection looks on the wire (what {@link HttpCloudAdapter} needs to import and delete). */
export interface KeyPairWire {
  /** The collection's path (`account/keys`, `ssh_keys`); a key is `<path>/<id>`. */
  path: string;
  /** Fetch one page of the listing. */
  pages: FetchPage<unknown>;
  /** Fetch one page of the keys called `name`, where the API filters by name. @default pages */
  pagesNamed?: (name: string) => FetchPage<unknown>;
  /** The import body's name field. @default 'name' */
  nameField?: string;
  /** The import body's public-key field (`public_key`, `ssh_key`). */
  publicKeyField: string;
  /** The import answer's envelope key (`ssh_key`); absent when the answer is the key itself. */
  envelope?: string;
  /** Translate one raw key. */
  toKeyPair(raw: unknown): KeyPair;
}

/**
 * The key pair a cloud answered an import with, carrying the public key as given; an answer with
 * no key is `E_MALFORMED_RESPONSE` saying `what`.
 *
 * @example
 * ```ts
 * return importedKeyPair(toKeyPair(body), publicKey, 'aws', 'ImportKeyPair returned no keyName');
 * ```
 */
export function importedKeyPair(
  key: KeyPair | undefined,
  publicKey: string,
  provider: string,
  what: string,
): KeyPair {
  if (key === undefined)
    throw new FleetwatchError('E_MALFORMED_RESPONSE', `${provider}: ${what}`, { provider });
  return { ...key, publicKey };
}

/**
 * The key pair called `name` among `keys`, or `E_NOT_FOUND` naming `path`.
 *
 * @example
 * ```ts
 * declare const provider: ManagedProvider;
 * const key = await keyPairByName('hz', provider.listKeyPairs(), 'ops', 'input.keyPair');
 * ```
 */
export async function keyPairByName(
  provider: string,
  keys: AsyncIterable<KeyPair>,
  name: string,
  path: string,
): Promise<KeyPair> {
  for await (const key of keys) if (key.name === name) return key;
  throw new FleetwatchError('E_NOT_FOUND', `${provider}: no key pair named ${JSON.stringify(name)}`, {
    provider,
    path,
  });
}

/**
 * The provider's id of `key`, for a cloud that deletes key pairs by id. A listed key without one is
 * `E_MALFORMED_RESPONSE` naming it: an empty id in a key's URL would address the collection (or the
 * API root) instead of the key.
 *
 * @example
 * ```ts
 * await http.request({ method: 'DELETE', url: `ssh_keys/${encodeURIComponent(keyPairId(key, 'hz'))}` });
 * ```
 */
export function keyPairId(key: KeyPair, provider: string): string {
  if (key.id === undefined || key.id === '')
    throw new FleetwatchError(
      'E_MALFORMED_RESPONSE',
      `${provider}: the listed key pair ${JSON.stringify(key.name)} has no id to delete it by`,
      { provider },
    );
  return key.id;
}

/** The key-pair calls {@link withKeyPairs} adds. */
export type KeyPairMethods = Pick<ManagedProvider, KeyPairOperation>;

// biome-ignore lint/suspicious/noExplicitAny: a mixin's base constructor takes `any[]` (TypeScript's rule)
type Constructor<T> = abstract new (...args: any[]) => T;

/**
 * `Base` with `listKeyPairs`, `importKeyPair` (POST `{ name, <publicKeyField>: key }`) and
 * `deleteKeyPair` (by name, for clouds that delete by id: the key is looked up first, then
 * `DELETE <path>/<id>`; a listed key without an id is `E_MALFORMED_RESPONSE` and nothing is deleted),
 * all from the adapter's {@link HttpCloudAdapter.keyPairWire}.
 *
 * @example
 * ```ts
 * class MyCloud extends withKeyPairs(HttpCloudAdapter<number>) {
 *   protected override keyPairWire(): KeyPairWire {
 *     return { path: 'keys', pages: myPager('keys'), publicKeyField: 'public_key', toKeyPair: toMyKey };
 *   }
 * }
 * ```
 */
export function withKeyPairs<B extends Constructor<HttpCloudAdapter<unknown>>>(
  Base: B,
): B & Constructor<KeyPairMethods> {
  abstract class KeyPairAdapter extends Base implements KeyPairMethods {
    #wire(): KeyPairWire {
      if (this.keyPairWire === undefined)
        throw new FleetwatchError('E_INTERNAL', `${this.id}: keyPairWire() is not implemented`, {
          provider: this.id,
        });
      return this.keyPairWire();
    }

    listKeyPairs(opts?: ListCatalogOptions): AsyncIterable<KeyPair> {
      const wire = this.#wire();
      return this.listCatalog(wire.pages, wire.toKeyPair, opts);
    }

    async importKeyPair(
      input: { name: string; publicKey: string },
      opts: AbortOptions = {},
    ): Promise<KeyPair> {
      const wire = this.#wire();
      const { name, publicKey } = keyPairInputArg(input);
      const raw = await this.http.json({
        method: 'POST',
        url: wire.path,
        json: { [wire.nameField ?? 'name']: name, [wire.publicKeyField]: publicKey },
        signal: opts.signal,
      });
      return wire.toKeyPair(
        wire.envelope === undefined ? raw : asObject(raw, this.id, 'ssh key response')[wire.envelope],
      );
    }

    async deleteKeyPair(name: string, opts: AbortOptions = {}): Promise<void> {
      const wire = this.#wire();
      const wanted = nodeIdArg(name, 'name');
      const pages = wire.pagesNamed?.(wanted) ?? wire.pages;
      const key = await keyPairByName(this.id, this.listCatalog(pages, wire.toKeyPair, opts), wanted, 'name');
      await this.http.request({
        method: 'DELETE',
        url: `${wire.path}/${encodeURIComponent(keyPairId(key, this.id))}`,
        signal: opts.signal,
      });
    }
  }
  return KeyPairAdapter;
}
