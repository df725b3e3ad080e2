/**
 * The management conformance suite (`@fleetwatch/sdk/testing`) against EC2 on moto and OpenStack on
 * a small stateful replay of Keystone, Nova and Glance (written from the API reference).
 */
import { ec2 } from '../../src/providers/ec2.js';
import { openstack } from '../../src/providers/openstack.js';
import { providerManagementConformance } from '../../src/testing/index.js';
import { describeWithService, MOTO_URL, probeMoto } from '../helpers/services.js';
import { type RecordedRequest, type ReplayResponse, startReplayServer } from './server.js';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl ops@x';
const EC2_SECRET = 'moto-conformance-secret-key';

describeWithService('management conformance on moto', await probeMoto(), () => {
  providerManagementConformance('ec2 (moto)', () => ({
    provider: ec2({
      id: 'aws-conf',
      region: 'eu-north-1',
      endpoint: MOTO_URL,
      credentials: { accessKeyId: 'AKIDCONFORMANCE', secretAccessKey: EC2_SECRET },
      http: { sleep: async () => {} },
    }),
    imagesOptions: { owner: 'public', filters: { name: 'Windows_Server-2016-English-Nano-Base*' } },
    create: { name: 'conf-1', size: 't3.micro', image: 'ami-03cf127a', location: 'eu-north-1a' },
    publicKey: KEY,
    secrets: [EC2_SECRET],
  }));
});

/** A tiny Nova: servers go BUILD → ACTIVE on the next read, os-stop → SHUTOFF, DELETE → 404; 'doomed' faults on start. */
function fakeOpenStack(url: () => string) {
  const servers = new Map<string, { status: string; reads: number; fault?: string; name: string }>();
  let n = 0;
  return (req: RecordedRequest): ReplayResponse => {
    const path = new URL(req.url, 'http://x').pathname;
    if (path === '/identity/v3/auth/tokens')
      return {
        status: 201,
        headers: { 'x-subject-token': 'os-conformance-token' },
        body: {
          token: {
            expires_at: new Date(Date.now() + 3600_000).toISOString(),
            catalog: [
              {
                type: 'compute',
                endpoints: [{ interface: 'public', region: 'R1', url: `${url()}/compute` }],
              },
              { type: 'image', endpoints: [{ interface: 'public', region: 'R1', url: `${url()}/image/` }] },
            ],
          },
        },
      };
    if (path === '/image/v2/images')
      return req.url.includes('marker')
        ? { body: { images: [{ id: 'img-2', name: 'debian-12', visibility: 'private' }] } }
        : {
            body: {
              images: [{ id: 'img-1', name: 'ubuntu-24.04', visibility: 'private' }],
              next: '/v2/images?marker=img-1',
            },
          };
    if (path === '/compute/flavors/detail')
      return { body: { flavors: [{ id: '1', name: 'm1.small', vcpus: 1, ram: 2048, disk: 20 }] } };
    if (path === '/compute/os-availability-zone')
      return { body: { availabilityZoneInfo: [{ zoneName: 'nova', zoneState: { available: true } }] } };
    if (path === '/compute/servers' && req.method === 'POST') {
      const id = `srv-${++n}`;
      servers.set(id, { status: 'BUILD', reads: 0, name: JSON.parse(req.body).server.name });
      return { status: 202, body: { server: { id, adminPass: 'generated-admin-pass' } } };
    }
    const m = /^\/compute\/servers\/([^/]+)(\/action)?$/.exec(path);
    const s = m ? servers.get(m[1] as string) : undefined;
    if (m === null || s === undefined)
      return { status: 404, body: { itemNotFound: { code: 404, message: 'not found' } } };
    if (req.method === 'DELETE') {
      servers.delete(m[1] as string);
      return { status: 204 };
    }
    if (m[2]) {
      const action = Object.keys(JSON.parse(req.body))[0];
      if (action === 'os-stop') s.status = 'SHUTOFF';
      if (action === 'os-start') {
        s.status = s.name === 'doomed' ? 'ERROR' : 'ACTIVE';
        if (s.name === 'doomed') s.fault = 'No valid host was found. There are not enough hosts available.';
      }
      return { status: 202 };
    }
    if (s.status === 'BUILD' && s.reads++ > 0) s.status = 'ACTIVE';
    return {
      body: {
        server: {
          id: m[1],
          name: s.name,
          status: s.status,
          metadata: {},
          addresses: {},
          ...(s.fault ? { fault: { code: 500, message: s.fault } } : {}),
        },
      },
    };
  };
}

let replay: Awaited<ReturnType<typeof startReplayServer>>;
const osHandler = fakeOpenStack(() => replay.url);
replay = await startReplayServer(osHandler);
const OS_PASSWORD = 'os-conformance-password';
const os = openstack({
  id: 'os-conf',
  authUrl: `${replay.url}/identity/v3`,
  username: 'ops',
  password: OS_PASSWORD,
  projectName: 'p',
  region: 'R1',
  http: { sleep: async () => {} },
});

providerManagementConformance('openstack (replay)', () => ({
  provider: os,
  create: { name: 'conf-os-1', size: '1', image: 'img-1', location: 'nova' },
  failingOperation: {
    start: async () => {
      const doomed = await os.createNode({ name: 'doomed', size: '1', image: 'img-1' });
      await os.waitForState(doomed.id, ['running']);
      await (await os.stopNode(doomed.id)).done();
      return os.startNode(doomed.id);
    },
    message: 'No valid host was found.',
  },
  secrets: [OS_PASSWORD, 'os-conformance-token'],
  cleanup: () => replay.close(),
}));
