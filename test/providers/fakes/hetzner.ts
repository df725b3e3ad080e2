/**
 * A small Hetzner Cloud API written from its documentation (docs.hetzner.cloud, hcloud-go's schema):
 * servers, actions that run for a number of polls, images, server types, locations and SSH keys,
 * each listing paged with `meta.pagination`. A server created through it boots on its own, as the real one:
 * `initializing`, then `starting` from its `actionPolls`-th read, then `running`.
 */
import { json, type RecordedRequest, type ReplayResponse, requestPath } from '../server.js';

/** A server as the fake keeps it. */
export interface FakeHetznerServer {
  id: number;
  name: string;
  status: string;
  labels: Record<string, string>;
  ipv4?: string;
  privateIp?: string;
}

interface FakeAction {
  id: number;
  command: string;
  polls: number;
  error?: { code: string; message: string };
  /** Applied when the action succeeds. */
  apply?: () => void;
}

export function renderHetznerServer(s: FakeHetznerServer) {
  return {
    id: s.id,
    name: s.name,
    status: s.status,
    created: '2026-01-02T03:04:05+00:00',
    public_net: {
      ipv4: s.ipv4 ? { id: 1, ip: s.ipv4, blocked: false, dns_ptr: 'static.example' } : null,
      ipv6: { id: 2, ip: '2001:db8:1234::/64', blocked: false, dns_ptr: [] },
      floating_ips: [],
      firewalls: [],
    },
    private_net: s.privateIp
      ? [{ network: 4711, ip: s.privateIp, alias_ips: [], mac_address: '86:00:00:2a:7d:e0' }]
      : [],
    server_type: { id: 1, name: 'cx22', cores: 2, memory: 4, disk: 40 },
    datacenter: {
      id: 4,
      name: 'fsn1-dc14',
      location: { id: 1, name: 'fsn1', country: 'DE', city: 'Falkenstein' },
    },
    location: { id: 1, name: 'fsn1', country: 'DE', city: 'Falkenstein' },
    image: { id: 114690387, type: 'system', name: 'ubuntu-24.04', os_flavor: 'ubuntu' },
    labels: s.labels,
    locked: false,
    protection: { delete: false, rebuild: false },
    rescue_enabled: false,
    backup_window: null,
    primary_disk_size: 40,
    included_traffic: 21990232555520,
    outgoing_traffic: 0,
    ingoing_traffic: 0,
    volumes: [],
    load_balancers: [],
  };
}

const notFound = () => json({ error: { code: 'not_found', message: 'server not found', details: {} } }, 404);

/** The fake API; mutate its fields between calls. */
export class FakeHetzner {
  /** Polls an action answers `running` before `success`. */
  actionPolls = 1;
  /** Commands (a server action's verb, `delete_server`, `create_server`) whose action ends in `error`. */
  failing = new Map<string, { code: string; message: string }>();
  /** Whether an ACPI `shutdown` turns the server off (a guest may ignore it). */
  shutdownWorks = true;
  images: unknown[] = [];
  serverTypes: unknown[] = [];
  locations: unknown[] = [];
  sshKeys: Array<{ id: number; name: string; fingerprint: string; public_key: string; labels: object }> = [];
  readonly #actions = new Map<number, FakeAction>();
  readonly #reads = new Map<number, number>();
  #nextId = 1000;

  constructor(public servers: FakeHetznerServer[] = []) {}

  handle(req: RecordedRequest): ReplayResponse {
    const { url, path, perPage } = requestPath(req, 'v1', 25);
    const page = Number(url.searchParams.get('page') ?? 1);
    const paged = (key: string, all: unknown[]) => {
      const last = Math.max(1, Math.ceil(all.length / perPage));
      return json({
        [key]: all.slice((page - 1) * perPage, page * perPage),
        meta: {
          pagination: {
            page,
            per_page: perPage,
            previous_page: page > 1 ? page - 1 : null,
            next_page: page < last ? page + 1 : null,
            last_page: last,
            total_entries: all.length,
          },
        },
      });
    };
    const serverMatch = /^servers\/(\d+)(?:\/actions\/(\w+))?$/.exec(path);
    const server = serverMatch ? this.servers.find((s) => s.id === Number(serverMatch[1])) : undefined;
    if (req.method === 'GET' && path === 'servers') {
      const selector = url.searchParams.get('label_selector');
      const [k, v] = selector?.split('=') ?? [];
      const list = this.servers.filter((s) => !selector || s.labels[k!] === v);
      for (const s of list) this.#boot(s);
      return paged('servers', list.map(renderHetznerServer));
    }
    if (serverMatch && !server) return notFound();
    if (server && req.method === 'GET' && !serverMatch![2]) {
      this.#boot(server);
      return json({ server: renderHetznerServer(server) });
    }
    if (server && req.method === 'PUT') {
      server.labels = (JSON.parse(req.body) as { labels: Record<string, string> }).labels;
      return json({ server: renderHetznerServer(server) });
    }
    if (server && req.method === 'POST' && serverMatch![2])
      return this.#serverAction(server, serverMatch![2]);
    if (server && req.method === 'DELETE') {
      const action = this.#action('delete_server', () => {
        this.servers = this.servers.filter((s) => s !== server);
      });
      return json({ action });
    }
    if (req.method === 'POST' && path === 'servers') return this.#create(req);
    const actionMatch = /^actions\/(\d+)$/.exec(path);
    if (actionMatch) return this.#poll(Number(actionMatch[1]));
    if (path === 'images') {
      const types = url.searchParams.getAll('type');
      return paged(
        'images',
        this.images.filter((i) => !types.length || types.includes((i as { type: string }).type)),
      );
    }
    if (path === 'server_types') return paged('server_types', this.serverTypes);
    if (path === 'locations') return paged('locations', this.locations);
    if (path === 'ssh_keys' && req.method === 'GET') {
      const name = url.searchParams.get('name');
      return paged(
        'ssh_keys',
        this.sshKeys.filter((k) => name === null || k.name === name),
      );
    }
    if (path === 'ssh_keys' && req.method === 'POST') {
      const { name, public_key } = JSON.parse(req.body) as { name: string; public_key: string };
      if (this.sshKeys.some((k) => k.name === name))
        return json(
          { error: { code: 'uniqueness_error', message: 'SSH key with the same name already exists' } },
          409,
        );
      const key = {
        id: this.#nextId++,
        name,
        public_key,
        fingerprint: 'b7:2f:30:a0:2f:6c:58:6c',
        labels: {},
      };
      this.sshKeys.push(key);
      return json({ ssh_key: key }, 201);
    }
    const keyMatch = /^ssh_keys\/(\d+)$/.exec(path);
    if (keyMatch && req.method === 'DELETE') {
      this.sshKeys = this.sshKeys.filter((k) => k.id !== Number(keyMatch[1]));
      return { status: 204 };
    }
    return json({ error: { code: 'not_found', message: `no route ${req.method} ${path}` } }, 404);
  }

  /** A read of a server created here and booting: `starting` from its `actionPolls`-th read, `running` after. */
  #boot(server: FakeHetznerServer): void {
    const before = this.#reads.get(server.id);
    if (before === undefined || (server.status !== 'initializing' && server.status !== 'starting')) return;
    const reads = before + 1;
    this.#reads.set(server.id, reads);
    if (reads >= this.actionPolls) server.status = reads > this.actionPolls ? 'running' : 'starting';
  }

  #action(command: string, apply?: () => void): object {
    const id = this.#nextId++;
    this.#actions.set(id, { id, command, polls: this.actionPolls, error: this.failing.get(command), apply });
    return {
      id,
      command,
      status: 'running',
      progress: 0,
      started: '2026-01-02T03:04:05+00:00',
      finished: null,
      resources: [],
      error: null,
    };
  }

  #poll(id: number): ReplayResponse {
    const a = this.#actions.get(id);
    if (!a) return json({ error: { code: 'not_found', message: 'action not found' } }, 404);
    const base = { id: a.id, command: a.command, started: '2026-01-02T03:04:05+00:00', resources: [] };
    if (a.polls-- > 0)
      return json({ action: { ...base, status: 'running', progress: 50, finished: null, error: null } });
    if (a.error)
      return json({
        action: { ...base, status: 'error', progress: 100, finished: base.started, error: a.error },
      });
    a.apply?.();
    a.apply = undefined;
    return json({
      action: { ...base, status: 'success', progress: 100, finished: base.started, error: null },
    });
  }

  #serverAction(server: FakeHetznerServer, verb: string): ReplayResponse {
    const next: Record<string, string | undefined> = {
      poweron: 'running',
      poweroff: 'off',
      reboot: 'running',
      reset: 'running',
      shutdown: this.shutdownWorks ? 'off' : undefined,
    };
    if (!(verb in next)) return json({ error: { code: 'not_found', message: `no action ${verb}` } }, 404);
    const to = next[verb];
    const apply = to
      ? () => {
          server.status = to;
        }
      : undefined;
    return json({ action: this.#action(verb, apply) }, 201);
  }

  #create(req: RecordedRequest): ReplayResponse {
    const input = JSON.parse(req.body) as { name: string; labels?: Record<string, string> };
    const server: FakeHetznerServer = {
      id: this.#nextId++,
      name: input.name,
      status: 'initializing',
      labels: input.labels ?? {},
    };
    this.servers.push(server);
    this.#reads.set(server.id, 0);
    const action = this.#action('create_server', () => {
      server.status = 'running';
    });
    return json(
      {
        server: renderHetznerServer(server),
        action,
        next_actions: [this.#action('start_server')],
        root_password: 'YItygq1v3GYjjMomLaKc',
      },
      201,
    );
  }
}

/** Hetzner's `cx22` server type as the API describes it (two locations' prices). */
export const HETZNER_CX22 = {
  id: 104,
  name: 'cx22',
  description: 'CX22',
  cores: 2,
  memory: 4.0,
  disk: 40,
  deprecated: false,
  prices: [
    {
      location: 'fsn1',
      price_hourly: { net: '0.0060000000', gross: '0.0071400000000000' },
      price_monthly: { net: '3.7900000000', gross: '4.5101000000000000' },
      included_traffic: 21990232555520,
      price_per_tb_traffic: { net: '1.0000000000', gross: '1.1900000000000000' },
    },
    {
      location: 'hil',
      price_hourly: { net: '0.0080000000', gross: '0.0095200000000000' },
      price_monthly: { net: '4.9900000000', gross: '5.9381000000000000' },
      included_traffic: 1099511627776,
      price_per_tb_traffic: { net: '1.0000000000', gross: '1.1900000000000000' },
    },
  ],
  storage_type: 'local',
  cpu_type: 'shared',
  architecture: 'x86',
};
