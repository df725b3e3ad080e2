import { generateKeyPairSync } from 'node:crypto';
import { gce } from '../../../src/providers/gce.js';
import { virtualTime } from '../management-fixtures.js';
import {
  type RecordedRequest,
  type ReplayResponse,
  type ReplayServer,
  startReplayServer,
} from '../server.js';

/** A throwaway service-account key for the fakes. */
export const PEM = generateKeyPairSync('rsa', { modulusLength: 2048 })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();

type Op = { name: string; zone: string; polls: number; target?: string; onDone?: () => void; error?: string };

/**
 * A small stateful GCE written from cloud.google.com/compute/docs/reference/rest/v1: instances whose
 * mutations answer zone operations that are `DONE` after `opPolls` polls (an instance named `fail-*`
 * ends them with `error.errors[]`), images in two pages, aggregated machine types and zones. A
 * created instance boots on its own, as the real one: `PROVISIONING`, then `STAGING` from its
 * `opPolls`-th read, then `RUNNING` (one named `fail-*`, whose insert fails, never boots).
 */
export class FakeGce {
  instances = new Map<string, Record<string, unknown>>();
  ops = new Map<string, Op>();
  opPolls = 2;
  readonly #reads = new Map<string, number>();
  #n = 0;

  handle = (req: RecordedRequest): ReplayResponse => {
    if (req.url.startsWith('/token')) return { body: { access_token: 'ya29.SECRET', expires_in: 3599 } };
    const u = new URL(req.url, 'http://x');
    const path = u.pathname.replace(/^\/compute\/v1\/projects\//, '');
    const body = req.body ? JSON.parse(req.body) : {};
    const images = /^([^/]+)\/global\/images$/.exec(path);
    if (images) {
      const all = images[1] === 'proj' ? ['mine-1'] : ['debian-12-a', 'debian-12-b', 'debian-12-c'];
      const page = u.searchParams.get('pageToken') === 't2' ? 1 : 0;
      const items = page ? all.slice(2) : all.slice(0, 2);
      return {
        body: {
          items: items.map((name) => ({ name, family: 'debian-12', status: 'READY' })),
          ...(page === 0 && all.length > 2 ? { nextPageToken: 't2' } : {}),
        },
      };
    }
    if (path === 'proj/aggregated/machineTypes')
      return {
        body: {
          items: {
            'zones/z-a': { machineTypes: [{ name: 'e2-small', guestCpus: 2, memoryMb: 2048, zone: 'z-a' }] },
            'zones/z-b': { machineTypes: [{ name: 'e2-small', guestCpus: 2, memoryMb: 2048, zone: 'z-b' }] },
            'zones/z-c': { warning: { code: 'NO_RESULTS_ON_PAGE' } },
          },
        },
      };
    if (path === 'proj/zones')
      return {
        body: { items: [{ name: 'europe-west1-b', region: 'https://x/regions/europe-west1', status: 'UP' }] },
      };
    const opGet = /^proj\/zones\/([^/]+)\/operations\/([^/]+)$/.exec(path);
    if (opGet) {
      const op = this.ops.get(opGet[2]!);
      if (!op) return { status: 404, body: { error: { code: 404, message: 'operation not found' } } };
      op.polls++;
      if (op.polls < this.opPolls)
        return { body: { name: op.name, zone: `projects/proj/zones/${op.zone}`, status: 'RUNNING' } };
      if (op.error)
        return {
          body: {
            name: op.name,
            status: 'DONE',
            httpErrorStatusCode: 400,
            error: { errors: [{ code: 'ZONE_RESOURCE_POOL_EXHAUSTED', message: op.error }] },
          },
        };
      op.onDone?.();
      op.onDone = undefined;
      return { body: { name: op.name, zone: `projects/proj/zones/${op.zone}`, status: 'DONE' } };
    }
    const create = /^proj\/zones\/([^/]+)\/instances$/.exec(path);
    if (create && req.method === 'POST') {
      const zone = create[1]!;
      const inst = {
        name: body.name,
        zone: `projects/proj/zones/${zone}`,
        status: 'PROVISIONING',
        machineType: body.machineType,
        labels: body.labels ?? {},
        labelFingerprint: 'fp',
      };
      this.instances.set(`${zone}/${body.name}`, inst);
      return {
        body: this.#op(zone, body.name, () => {
          inst.status = 'RUNNING';
        }),
      };
    }
    const one = /^proj\/zones\/([^/]+)\/instances\/([^/]+)(?:\/(start|stop|reset|setLabels))?$/.exec(path);
    if (one) {
      const key = `${one[1]}/${one[2]}`;
      const inst = this.instances.get(key);
      if (!inst)
        return {
          status: 404,
          body: {
            error: { code: 404, message: `instance ${key} not found`, errors: [{ reason: 'notFound' }] },
          },
        };
      if (req.method === 'DELETE')
        return { body: this.#op(one[1]!, one[2]!, () => this.instances.delete(key)) };
      const verb = one[3];
      if (!verb) {
        this.#boot(key, inst);
        return { body: inst };
      }
      if (verb === 'setLabels')
        return {
          body: this.#op(one[1]!, one[2]!, () => {
            inst.labels = body.labels;
          }),
        };
      const next = { start: 'RUNNING', stop: 'TERMINATED', reset: 'RUNNING' }[verb];
      return {
        body: this.#op(one[1]!, one[2]!, () => {
          inst.status = next;
        }),
      };
    }
    return { status: 404, body: { error: { code: 404, message: `no route ${req.method} ${path}` } } };
  };

  /** A read of a booting instance: `STAGING` from its `opPolls`-th read, `RUNNING` after. */
  #boot(key: string, inst: Record<string, unknown>): void {
    if (!['PROVISIONING', 'STAGING'].includes(String(inst.status)) || String(inst.name).startsWith('fail-'))
      return;
    const reads = (this.#reads.get(key) ?? 0) + 1;
    this.#reads.set(key, reads);
    if (reads >= this.opPolls) inst.status = reads > this.opPolls ? 'RUNNING' : 'STAGING';
  }

  #op(zone: string, instance: string, then: () => void): Record<string, unknown> {
    const name = `operation-${++this.#n}`;
    this.ops.set(name, {
      name,
      zone,
      polls: 0,
      onDone: then,
      ...(instance.startsWith('fail-')
        ? { error: `The zone '${zone}' does not have enough resources available.` }
        : {}),
    });
    return {
      kind: 'compute#operation',
      name,
      zone: `https://www.googleapis.com/compute/v1/projects/proj/zones/${zone}`,
      status: 'PENDING',
    };
  }
}

/** A GCE provider pointed at a started fake (for the management conformance suite). */
export async function startGceManagement(): Promise<{
  provider: ReturnType<typeof gce>;
  fake: FakeGce;
  server: ReplayServer;
  waits: number[];
}> {
  const fake = new FakeGce();
  const server = await startReplayServer((req) => fake.handle(req));
  const sleep = virtualTime();
  const provider = gce({
    id: 'g',
    project: 'proj',
    serviceAccount: { client_email: 'fleet@proj.iam.gserviceaccount.com', private_key: PEM },
    baseUrl: `${server.url}/compute/v1`,
    tokenUrl: `${server.url}/token`,
    maxResults: 2,
    clock: sleep.clock,
    http: { sleep: sleep.sleep, retryLimit: 0 },
  });
  return { provider, fake, server, waits: sleep.waits };
}
