import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetwatchError } from '../errors.js';
import type {
  CreateNodeInput,
  KeyPair,
  ListCatalogOptions,
  ListImagesOptions,
  Node,
  NodeImage,
  NodeLocation,
  NodeSize,
  Operation,
  Provider,
} from '../providers/types.js';

/** What a provider factory returns to {@link providerManagementConformance}. */
export interface ManagedProviderUnderTest {
  /** The provider, configured against a backend that can create nodes. */
  provider: Provider;
  /** Options for `listImages` (e.g. `{ owner: 'public', filters }` where the account has no images). @default {} */
  imagesOptions?: ListImagesOptions;
  /** A valid `createNode` input; without it the create/wait/operation checks are skipped (said so). */
  create?: CreateNodeInput;
  /** An OpenSSH public key line for `importKeyPair` (then `deleteKeyPair` removes it). */
  publicKey?: string;
  /**
   * Start an operation the backend will fail, and the provider message its rejection must carry
   * (e.g. a start that ends in `ERROR` with a fault).
   */
  failingOperation?: { start: () => Promise<Operation<unknown> | undefined>; message: string };
  /** Secrets the provider was configured with: none may appear in an error. @default [] */
  secrets?: readonly string[];
  /** `timeoutMs` of each wait in the suite. @default 120_000 */
  waitTimeoutMs?: number;
  /** Called once after the suite. */
  cleanup?: () => Promise<void>;
}

/** Each test's vitest timeout: catalogues of emulators can be slow (moto builds 1,395 types in ~16 s). */
const TIMEOUT_MS = 180_000;

async function drain<T>(
  list: ((opts: ListCatalogOptions) => AsyncIterable<T>) | undefined,
): Promise<{ items: T[]; reported: number }> {
  const items: T[] = [];
  let reported = 0;
  if (list === undefined) return { items, reported };
  for await (const item of list({ onPage: ({ items: n }) => (reported += n) })) items.push(item);
  return { items, reported };
}

async function rejection(run: () => Promise<unknown>): Promise<FleetwatchError> {
  try {
    await run();
  } catch (err) {
    expect(err).toBeInstanceOf(FleetwatchError);
    return err as FleetwatchError;
  }
  throw new Error('expected the call to reject, but it resolved');
}

function expectCommon(item: { provider: string; extra: unknown }, providerId: string, at: string) {
  expect(item.provider, at).toBe(providerId);
  expect(item.extra !== null && typeof item.extra === 'object', `${at}: extra`).toBe(true);
}

function expectSize(size: NodeSize, providerId: string) {
  const at = `size ${JSON.stringify(size.id)}`;
  expect(typeof size.id === 'string' && size.id.length > 0, at).toBe(true);
  expect(typeof size.name, at).toBe('string');
  expect(size.cpus, `${at}: cpus`).toBeGreaterThan(0);
  expect(size.memory, `${at}: memory (MiB)`).toBeGreaterThan(0);
  if (size.disk !== undefined) expect(size.disk, `${at}: disk`).toBeGreaterThan(0);
  if (size.price !== undefined) {
    expect(size.price.amount, `${at}: price.amount`).toBeGreaterThan(0);
    expect(size.price.currency, `${at}: price.currency`).toMatch(/^[A-Z]{3}$/);
    expect(['hour', 'month'], `${at}: price.period`).toContain(size.price.period);
  }
  expectCommon(size, providerId, at);
}

/**
 * Register the server-management contract of a {@link Provider} as a vitest suite, for each
 * optional method the provider has: catalogue listings (`listImages`, `listSizes`,
 * `listLocations`, `listKeyPairs`) yield well-formed items and follow every page (the items yielded
 * equal the items their `onPage` reported); prices are absent or `{ amount > 0, currency, period }`;
 * `importKeyPair`/`deleteKeyPair` round-trip; `createNode` then `waitForState(['running'])` works;
 * `stopNode`/`destroyNode` operations' `done()` resolve; a failing operation rejects `E_PROVIDER`
 * with the provider's message; an aborted wait is `E_ABORTED`, an unreachable one `E_TIMEOUT`; and
 * no configured secret reaches an error.
 *
 * @param name    the describe name (e.g. `'ec2 (moto)'`)
 * @param factory builds the provider under test; called once, before the suite
 *
 * @example
 * ```ts
 * import { ec2 } from '@fleetwatch/sdk';
 * import { providerManagementConformance } from '@fleetwatch/sdk/testing';
 *
 * providerManagementConformance('ec2 (moto)', () => ({
 *   provider: ec2({ id: 'aws', region: 'eu-north-1', endpoint: 'http://127.0.0.1:5055',
 *     credentials: { accessKeyId: 'AKID', secretAccessKey: 'secret' } }),
 *   create: { name: 'conf-1', size: 't3.micro', image: 'ami-03cf127a' },
 *   secrets: ['secret'],
 * }));
 * ```
 */
export function providerManagementConformance(
  name: string,
  factory: () => ManagedProviderUnderTest | Promise<ManagedProviderUnderTest>,
): void {
  describe(`Provider management conformance: ${name}`, () => {
    let under: ManagedProviderUnderTest;
    let p: Provider;
    let created: Node | undefined;
    const errors: unknown[] = [];
    const timeoutMs = () => under.waitTimeoutMs ?? 120_000;

    beforeAll(async () => {
      under = await factory();
      p = under.provider;
    }, TIMEOUT_MS);
    afterAll(async () => {
      await under?.cleanup?.();
    }, TIMEOUT_MS);

    it(
      'listImages() - every page followed; images have an id, a name and the provider',
      async () => {
        if (p.listImages === undefined) return;
        const { items, reported } = await drain<NodeImage>((o) =>
          (p.listImages as NonNullable<Provider['listImages']>)({ ...under.imagesOptions, ...o }),
        );
        expect(
          items.length,
          'listImages yielded nothing: pass imagesOptions that find images',
        ).toBeGreaterThan(0);
        expect(reported).toBe(items.length);
        for (const image of items) {
          const at = `image ${JSON.stringify(image.id)}`;
          expect(typeof image.id === 'string' && image.id.length > 0, at).toBe(true);
          expect(typeof image.name, at).toBe('string');
          if (image.createdAt !== undefined) expect(Number.isNaN(image.createdAt.getTime()), at).toBe(false);
          expectCommon(image, p.id, at);
        }
      },
      TIMEOUT_MS,
    );

    it(
      'listSizes() - every page followed; cpus and memory positive; price absent or well-formed',
      async () => {
        if (p.listSizes === undefined) return;
        const { items, reported } = await drain<NodeSize>(p.listSizes.bind(p));
        expect(items.length).toBeGreaterThan(0);
        expect(reported).toBe(items.length);
        for (const size of items) expectSize(size, p.id);
        expect(new Set(items.map((s) => s.id)).size).toBe(items.length);
      },
      TIMEOUT_MS,
    );

    it(
      'listLocations() - ids unique and non-empty',
      async () => {
        if (p.listLocations === undefined) return;
        const { items } = await drain<NodeLocation>(p.listLocations.bind(p));
        expect(items.length).toBeGreaterThan(0);
        for (const l of items) {
          expect(typeof l.id === 'string' && l.id.length > 0).toBe(true);
          expectCommon(l, p.id, `location ${l.id}`);
        }
        expect(new Set(items.map((l) => l.id)).size).toBe(items.length);
      },
      TIMEOUT_MS,
    );

    it(
      'listSizes() / listLocations() / listKeyPairs() - a filter name the listing does not know is E_VALIDATION, never ignored',
      async () => {
        const filters = { 'fleetwatch-unknown-filter': 'x' };
        for (const method of ['listSizes', 'listLocations', 'listKeyPairs'] as const) {
          const list = p[method] as ((opts: ListCatalogOptions) => AsyncIterable<unknown>) | undefined;
          if (list === undefined) continue;
          let error: unknown;
          try {
            for await (const _ of list.call(p, { filters })) break;
          } catch (e) {
            error = e;
          }
          expect(error, `${method}({ filters }) yielded instead of refusing`).toMatchObject({
            code: 'E_VALIDATION',
            path: 'opts.filters.fleetwatch-unknown-filter',
          });
        }
      },
      TIMEOUT_MS,
    );

    it(
      'importKeyPair() / listKeyPairs() / deleteKeyPair() - round trip',
      async () => {
        if (p.importKeyPair === undefined || p.listKeyPairs === undefined || under.publicKey === undefined)
          return;
        const keyName = `fw-conformance-${Date.now().toString(36)}`;
        const kp = await p.importKeyPair({ name: keyName, publicKey: under.publicKey });
        expect(kp.name).toBe(keyName);
        expectCommon(kp, p.id, `key pair ${keyName}`);
        const { items } = await drain<KeyPair>(p.listKeyPairs.bind(p));
        expect(items.some((k) => k.name === keyName)).toBe(true);
        await p.deleteKeyPair?.(keyName);
        const after = await drain<KeyPair>(p.listKeyPairs.bind(p));
        expect(after.items.some((k) => k.name === keyName)).toBe(false);
      },
      TIMEOUT_MS,
    );

    it(
      "createNode() then waitForState(['running']) - the node runs",
      async () => {
        if (p.createNode === undefined || p.waitForState === undefined || under.create === undefined) return;
        created = await p.createNode(under.create);
        expect(created.uid).toBe(`${p.id}:${created.id}`);
        expect(created.name).toBe(under.create.name);
        const running = await p.waitForState(created.id, ['running'], { timeoutMs: timeoutMs() });
        expect([running.id, running.state]).toEqual([created.id, 'running']);
      },
      TIMEOUT_MS,
    );

    it(
      'waitForState() - an aborted signal is E_ABORTED; an unreachable state is E_TIMEOUT',
      async () => {
        if (created === undefined || p.waitForState === undefined) return;
        const aborted = await rejection(() =>
          (p.waitForState as NonNullable<Provider['waitForState']>)(created!.id, ['stopped'], {
            signal: AbortSignal.abort(),
          }),
        );
        expect(aborted.code).toBe('E_ABORTED');
        const late = await rejection(() =>
          (p.waitForState as NonNullable<Provider['waitForState']>)(created!.id, ['suspended'], {
            timeoutMs: 1,
          }),
        );
        expect(late.code).toBe('E_TIMEOUT');
        errors.push(aborted, late);
      },
      TIMEOUT_MS,
    );

    it(
      'stopNode() / destroyNode() - operations resolve in the target state',
      async () => {
        if (created === undefined) return;
        const stop = await p.stopNode?.(created.id);
        if (stop) {
          expect(typeof stop.id).toBe('string');
          expect(typeof stop.action).toBe('string');
          expect((await stop.done({ timeoutMs: timeoutMs() }))?.state).toBe('stopped');
        }
        const destroy = await p.destroyNode?.(created.id);
        if (destroy) await expect(destroy.done({ timeoutMs: timeoutMs() })).resolves.toBeUndefined();
      },
      TIMEOUT_MS,
    );

    it(
      "a failing operation - done() rejects E_PROVIDER with the provider's message",
      async () => {
        if (under.failingOperation === undefined) return;
        const op = await under.failingOperation.start();
        expect(op).toBeDefined();
        const err = await rejection(() => (op as Operation<unknown>).done({ timeoutMs: timeoutMs() }));
        expect(err.code).toBe('E_PROVIDER');
        expect(err.message).toContain(under.failingOperation.message);
        errors.push(err);
      },
      TIMEOUT_MS,
    );

    it(
      'secrets - never appear in the errors of the management calls',
      async () => {
        const bad = await rejection(async () => {
          if (p.waitForState) await p.waitForState('', ['running']);
          else throw new FleetwatchError('E_UNSUPPORTED', 'no waitForState');
        });
        errors.push(bad);
        const text = errors
          .map((e) => `${inspect(e, { depth: 8, showHidden: true })}\n${JSON.stringify(e)}`)
          .join('\n');
        for (const secret of (under.secrets ?? []).filter((s) => s.length > 0))
          expect(text.includes(secret), 'a configured secret was printed').toBe(false);
      },
      TIMEOUT_MS,
    );
  });
}
