/**
 * What a provider's management calls take and give: the catalogue items (images, sizes, locations,
 * key pairs), a node to create, and the listing options. Re-exported by ./types.ts.
 */
import type { AbortOptions } from '../core.js';

/**
 * Parameters for creating a node, the same on every provider that can. `size`, `image`, `location`
 * and `keyPair` take the `id` (or, for key pairs, the `name`) of what {@link Provider.listSizes},
 * {@link Provider.listImages}, {@link Provider.listLocations} and {@link Provider.listKeyPairs}
 * return. Provider-only fields go in `extra`.
 *
 * @example
 * ```ts
 * const input: CreateNodeInput = { name: 'web-1', size: 't3.micro', image: 'ami-0abc', location: 'us-east-1a',
 *   keyPair: 'ops', tags: { role: 'web' }, userData: '#cloud-config\n' };
 * ```
 */
export interface CreateNodeInput {
  /** The new node's name (EC2 `Name` tag, Nova server name, droplet name…). */
  name: string;
  /** A {@link NodeSize.id}. */
  size: string;
  /** A {@link NodeImage.id}; optional only where the API creates a node without one (Linode). */
  image?: string;
  /** A {@link NodeLocation.id} (region or zone, as the provider lists them). */
  location?: string;
  /** The region to create the node in. @deprecated Use `location`. Kept for callers of 0.1. */
  region?: string;
  /** The zone to create the node in. @deprecated Use `location`. Kept for callers of 0.1. */
  zone?: string;
  /** A {@link KeyPair.name} whose public key is installed on the node. */
  keyPair?: string;
  /** Provider tags to set on the node at creation (keys and values as {@link Node.tags}). */
  tags?: Record<string, string>;
  /** Cloud-init user data as plain text; adapters encode it as their API wants (base64 and so on). */
  userData?: string;
  /**
   * Provider-only parameters; each adapter accepts a listed set of keys (docs/providers.md) and rejects others
   * with `E_VALIDATION`.
   */
  extra?: Record<string, unknown>;
}

/** An image a node can be created from. */
export interface NodeImage {
  /** The provider's image id (AMI id, image UUID, slug, self link); what {@link CreateNodeInput.image} takes. */
  id: string;
  /** The image's display name. */
  name: string;
  /** The provider instance id. */
  provider: string;
  /** OS family or distribution, when the API says (`ubuntu`, `windows`…). */
  os?: string;
  /** True for images anyone can use, false for the account's own. */
  public?: boolean;
  /** When the image was created, when the API says. */
  createdAt?: Date;
  /** The provider's raw fields. */
  extra: Record<string, unknown>;
}

/** A size (instance type, flavor, plan, server type). */
export interface NodeSize {
  /** The provider's size id (`t3.micro`, a flavor id, `s-1vcpu-1gb`); what {@link CreateNodeInput.size} takes. */
  id: string;
  /** The size's display name. */
  name: string;
  /** The id of the provider instance that listed it. */
  provider: string;
  /** Virtual CPUs. */
  cpus: number;
  /** Memory in MiB. */
  memory: number;
  /** Root disk in GB, when the size has one. */
  disk?: number;
  /**
   * The published on-demand price, when the API gives one: never invented (absent, never 0, when the API
   * gives none).
   */
  price?: {
    /** The price per `period`, in `currency` (e.g. `0.0104`). */
    amount: number;
    /** ISO 4217, e.g. `USD`, `EUR`. */
    currency: string;
    /** What `amount` pays for: one hour or one month of the size. */
    period: 'hour' | 'month';
  };
  /** Provider-specific fields from an explicit key list. */
  extra: Record<string, unknown>;
}

/** A place a node can be created in: a region, a zone or a datacenter. */
export interface NodeLocation {
  /** The provider's location id; what {@link CreateNodeInput.location} takes. */
  id: string;
  /** The location's display name. */
  name: string;
  /** The id of the provider instance that listed it. */
  provider: string;
  /** The region this location is or belongs to. */
  region?: string;
  /** The zone, when this location is one. */
  zone?: string;
  /** ISO 3166 alpha-2 country code, when the API gives it. */
  country?: string;
  /** Provider-specific fields from an explicit key list. */
  extra: Record<string, unknown>;
}

/** An SSH key pair registered with the provider (the private key is never returned by a listing). */
export interface KeyPair {
  /** The key pair's name; what {@link CreateNodeInput.keyPair} takes. */
  name: string;
  /** The id of the provider instance that listed it. */
  provider: string;
  /** The provider's id, when it differs from the name. */
  id?: string;
  /** The public key's fingerprint in the provider's format (MD5 or SHA-256), when it gives one. */
  fingerprint?: string;
  /** The public key in OpenSSH format, when the API returns it. */
  publicKey?: string;
  /** Provider-specific fields from an explicit key list. */
  extra: Record<string, unknown>;
}

/** Options of the catalogue listings ({@link Provider.listImages} and friends). */
export interface ListCatalogOptions extends AbortOptions {
  /** Called once per page fetched. */
  onPage?: (info: { page: number; items: number }) => void;
  /**
   * Provider filters passed through, where the listing takes them (EC2 `Filters`, DigitalOcean `type`, GCE
   * `project`, Azure sizes `location`…; docs/providers.md lists them). A name the listing does not know is
   * `E_VALIDATION`, never ignored.
   */
  filters?: Record<string, string>;
}

/** Options of {@link Provider.listImages}. */
export interface ListImagesOptions extends ListCatalogOptions {
  /**
   * Whose images: the account's own (`self`, the default: public catalogues can hold 100,000 images),
   * the provider's public ones, or both.
   */
  owner?: 'self' | 'public' | 'all';
}
