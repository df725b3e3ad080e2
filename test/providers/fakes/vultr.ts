/**
 * A small Vultr API v2 written from its OpenAPI document (vultr-python-client's swagger.json) and
 * govultr: instances whose state moves a step per poll after start/halt/reboot/delete, plus OS,
 * snapshots, plans, regions and SSH keys, each listing paged with `meta.links.next` cursors. A
 * created instance boots on its own, as the real one: `pending`, then `active` (`installingbooting`)
 * after `settlePolls` reads, then `ok` on the next.
 */
import { json, type RecordedRequest, type ReplayResponse, requestPath } from '../server.js';

/** An instance as the fake keeps it. */
export interface FakeVultrInstance {
  id: string;
  label: string;
  status: string;
  power_status: string;
  server_status: string;
  tags: string[];
  main_ip?: string;
  internal_ip?: string;
}

export function renderVultrInstance(i: FakeVultrInstance) {
  return {
    id: i.id,
    os: 'Debian 12 x64 (bookworm)',
    ram: 1024,
    disk: 25,
    main_ip: i.main_ip ?? '0.0.0.0',
    vcpu_count: 1,
    region: 'ewr',
    plan: 'vc2-1c-1gb',
    date_created: '2020-10-10T01:56:20+00:00',
    status: i.status,
    allowed_bandwidth: 1000,
    netmask_v4: '255.255.254.0',
    gateway_v4: '192.0.2.1',
    power_status: i.power_status,
    server_status: i.server_status,
    v6_network: '2001:db8:1112:18fb::',
    v6_main_ip: '2001:db8:1112:18fb:200:ff:fe00:0',
    v6_network_size: 64,
    label: i.label,
    internal_ip: i.internal_ip ?? '',
    kvm: 'https://my.vultr.com/subs/vps/novnc/api.php?data=CONSOLE-ACCESS-TOKEN',
    hostname: i.label,
    os_id: 2136,
    app_id: 0,
    image_id: '',
    firewall_group_id: '',
    features: ['ipv6'],
    tags: i.tags,
    default_password: 'v5{Fkvb#2ycPGwHs',
  };
}

/** The fake API; mutate its fields between calls. */
export class FakeVultr {
  os: unknown[] = [];
  snapshots: unknown[] = [];
  plans: unknown[] = [];
  regions: unknown[] = [];
  sshKeys: Array<{ id: string; name: string; ssh_key: string; date_created: string }> = [];
  /** Polls a change takes before the instance shows it. */
  settlePolls = 1;
  readonly #pending = new Map<string, { polls: number; apply: () => void }>();
  #next = 1;

  constructor(public instances: FakeVultrInstance[] = []) {}

  handle(req: RecordedRequest): ReplayResponse {
    const { url, path, perPage } = requestPath(req, 'v2', 100);
    const paged = (key: string, all: unknown[]) => {
      // Opaque cursors, as Vultr's are: the offset, base64-encoded.
      const cursor = url.searchParams.get('cursor');
      const from = cursor ? Number(Buffer.from(cursor, 'base64').toString('utf8').slice(1)) : 0;
      const end = from + perPage;
      const next = end < all.length ? Buffer.from(`o${end}`).toString('base64') : '';
      return json({ [key]: all.slice(from, end), meta: { total: all.length, links: { next, prev: '' } } });
    };
    const m = /^instances\/([^/]+)(?:\/(\w+))?$/.exec(path);
    const inst = m ? this.instances.find((i) => i.id === m[1]) : undefined;
    if (inst) this.#settle(inst.id);
    if (req.method === 'GET' && path === 'instances') {
      for (const i of this.instances) this.#settle(i.id);
      return paged('instances', this.instances.map(renderVultrInstance));
    }
    if (m && !inst) return json({ error: 'Invalid instance-id.', status: 404 }, 404);
    if (inst && req.method === 'GET') return json({ instance: renderVultrInstance(inst) });
    if (inst && req.method === 'PATCH') {
      inst.tags = (JSON.parse(req.body) as { tags: string[] }).tags;
      return json({ instance: renderVultrInstance(inst) }, 202);
    }
    if (inst && req.method === 'POST' && m?.[2]) {
      const to: Record<string, Partial<FakeVultrInstance>> = {
        start: { power_status: 'running', server_status: 'ok' },
        halt: { power_status: 'stopped' },
        reboot: { power_status: 'running', server_status: 'ok' },
      };
      if (!to[m[2]]) return json({ error: `no route ${m[2]}`, status: 404 }, 404);
      this.#later(inst.id, () => Object.assign(inst, to[m[2]!]));
      return { status: 204 };
    }
    if (inst && req.method === 'DELETE') {
      this.#later(inst.id, () => {
        this.instances = this.instances.filter((i) => i !== inst);
      });
      return { status: 204 };
    }
    if (req.method === 'POST' && path === 'instances') {
      const body = JSON.parse(req.body) as { label: string; tags?: string[] };
      const created: FakeVultrInstance = {
        id: `inst-${this.#next++}`,
        label: body.label,
        status: 'pending',
        power_status: 'running',
        server_status: 'none',
        tags: body.tags ?? [],
      };
      this.instances.push(created);
      this.#later(created.id, () => {
        Object.assign(created, { status: 'active', server_status: 'installingbooting' });
        this.#later(created.id, () => {
          if (created.server_status === 'installingbooting') created.server_status = 'ok';
        });
      });
      return json({ instance: renderVultrInstance(created) }, 202);
    }
    if (path === 'os') return paged('os', this.os);
    if (path === 'snapshots') return paged('snapshots', this.snapshots);
    if (path === 'plans') return paged('plans', this.plans);
    if (path === 'regions') return paged('regions', this.regions);
    if (path === 'ssh-keys' && req.method === 'GET') return paged('ssh_keys', this.sshKeys);
    if (path === 'ssh-keys' && req.method === 'POST') {
      const { name, ssh_key } = JSON.parse(req.body) as { name: string; ssh_key: string };
      const key = { id: `key-${this.#next++}`, name, ssh_key, date_created: '2020-10-10T01:56:20+00:00' };
      this.sshKeys.push(key);
      return json({ ssh_key: key }, 201);
    }
    const k = /^ssh-keys\/(.+)$/.exec(path);
    if (k && req.method === 'DELETE') {
      this.sshKeys = this.sshKeys.filter((x) => x.id !== k[1]);
      return { status: 204 };
    }
    return json({ error: `no route ${req.method} ${path}`, status: 404 }, 404);
  }

  /** Apply `apply` after `settlePolls` reads, after any change still pending on the instance. */
  #later(id: string, apply: () => void): void {
    const before = this.#pending.get(id)?.apply;
    const both = before
      ? () => {
          before();
          apply();
        }
      : apply;
    this.#pending.set(id, { polls: this.settlePolls, apply: both });
  }

  #settle(id: string): void {
    const p = this.#pending.get(id);
    if (!p) return;
    if (p.polls-- > 0) return;
    this.#pending.delete(id);
    p.apply();
  }
}

/** Vultr's `vc2-1c-1gb` plan as the API describes it. */
export const VULTR_VC2_PLAN = {
  id: 'vc2-1c-1gb',
  vcpu_count: 1,
  ram: 1024,
  disk: 25,
  disk_count: 1,
  bandwidth: 1024,
  monthly_cost: 5,
  type: 'vc2',
  locations: ['ewr'],
};
