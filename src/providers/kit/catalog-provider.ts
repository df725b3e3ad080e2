import type { AbortOptions } from '../../core.js';
import type { KeyPair, NodeImage, NodeLocation, NodeSize } from '../catalog-types.js';
import type { ListCatalogOptions, ListImagesOptions, ProviderKind } from '../types.js';
import { catalogOptionsArg } from './management-args.js';

/** The catalogue and key-pair calls of a cloud whose wire functions take its client first. */
export interface CatalogCalls<C> {
  listImages(client: C, opts?: ListImagesOptions): AsyncIterable<NodeImage>;
  listSizes(client: C, opts?: ListCatalogOptions): AsyncIterable<NodeSize>;
  listLocations(client: C, opts?: ListCatalogOptions): AsyncIterable<NodeLocation>;
  listKeyPairs(client: C, opts?: ListCatalogOptions): AsyncIterable<KeyPair>;
  importKeyPair(client: C, input: { name: string; publicKey: string }, opts?: AbortOptions): Promise<KeyPair>;
  deleteKeyPair(client: C, name: string, opts?: AbortOptions): Promise<void>;
}

/**
 * Base of the adapters whose API has its own client and signing (EC2, OpenStack): the catalogue and
 * key-pair methods call the cloud's {@link CatalogCalls} with that client, and `toJSON` shows only the
 * id and kind (never credentials).
 */
export abstract class CatalogProvider<C> {
  abstract readonly id: string;
  abstract readonly kind: ProviderKind;
  readonly #client: C;
  readonly #calls: CatalogCalls<C>;

  protected constructor(client: C, calls: CatalogCalls<C>) {
    this.#client = client;
    this.#calls = calls;
  }

  /** The cloud's client (the one the catalogue calls use). */
  protected get client(): C {
    return this.#client;
  }

  listImages(opts?: ListImagesOptions): AsyncIterable<NodeImage> {
    return this.#calls.listImages(this.#client, opts);
  }

  listSizes(opts?: ListCatalogOptions): AsyncIterable<NodeSize> {
    return this.#calls.listSizes(this.#client, catalogOptionsArg(opts));
  }

  listLocations(opts?: ListCatalogOptions): AsyncIterable<NodeLocation> {
    return this.#calls.listLocations(this.#client, catalogOptionsArg(opts));
  }

  listKeyPairs(opts?: ListCatalogOptions): AsyncIterable<KeyPair> {
    return this.#calls.listKeyPairs(this.#client, catalogOptionsArg(opts));
  }

  importKeyPair(input: { name: string; publicKey: string }, opts?: AbortOptions): Promise<KeyPair> {
    return this.#calls.importKeyPair(this.#client, input, opts);
  }

  deleteKeyPair(name: string, opts?: AbortOptions): Promise<void> {
    return this.#calls.deleteKeyPair(this.#client, name, opts);
  }

  toJSON(): Record<string, unknown> {
    return { id: this.id, kind: this.kind };
  }
}
