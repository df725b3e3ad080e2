/**
 * The credential canary matrix: every provider × every hostile server behaviour, with every
 * credential set to a canary string. No canary (nor GCE's signed JWT assertion, nor a token the
 * server issued) may reach the error's message, `providerCode`, `details`, any `cause` in the
 * chain (through `util.inspect`, `JSON.stringify` and `stack`), nor the logger.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../../src/core.js';
import { FleetwatchError } from '../../src/errors.js';
import { azure } from '../../src/providers/azure.js';
import { digitalocean } from '../../src/providers/digitalocean.js';
import { ec2 } from '../../src/providers/ec2.js';
import { gce } from '../../src/providers/gce.js';
import { hetzner } from '../../src/providers/hetzner.js';
import { linode } from '../../src/providers/linode.js';
import { openstack } from '../../src/providers/openstack.js';
import { staticProvider } from '../../src/providers/static.js';
import type { Provider } from '../../src/providers/types.js';
import { vultr } from '../../src/providers/vultr.js';
import { collect, type RecordedRequest, type ReplayResponse, startReplayServer } from './server.js';

/**
 * A canary: `CNRY` repeated around a name, so any 4-character piece of it (a secret cut in half
 * by a quoted snippet) still matches {@link CANARY_PIECE}.
 */
const canary = (name: string) => `CNRYCNRYCNRY${name}CNRYCNRYCNRY`;
const CANARY_PIECE = /CNRY|NRYC|RYCN|YCNR/;

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PEM = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
/** A piece from the middle of the key's base64, to find the key (or part of it) anywhere. */
const PEM_PIECE = PEM.split('\n')[5]!.slice(0, 24);

/** The hostile behaviours; each is played at the API and, for token-based clouds, at the token endpoint. */
const BEHAVIOURS = ['401', '403', '429', '500', 'malformed', 'truncated', 'one-byte', 'echo'] as const;
type Behaviour = (typeof BEHAVIOURS)[number];

const EXPECTED_CODES: Record<Behaviour, string[]> = {
  '401': ['E_AUTH'],
  '403': ['E_AUTH'],
  '429': ['E_RATE_LIMIT'],
  '500': ['E_PROVIDER'],
  malformed: ['E_MALFORMED_RESPONSE'],
  truncated: ['E_MALFORMED_RESPONSE'],
  'one-byte': ['E_MALFORMED_RESPONSE'],
  echo: ['E_PROVIDER', 'E_AUTH'],
};

/** Everything a request carried that may be secret: its credential headers and its body. */
function echoOf(req: RecordedRequest): string {
  const h = req.headers;
  const parts = [h.authorization, h['x-auth-token'], h['x-amz-security-token'], req.body];
  return parts.filter((p) => typeof p === 'string' && p !== '').join(' ');
}

type Shape = (code: string, message: string, status: number) => string;

const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Each API's own error body, so the echo lands in the fields its parser reads. */
const SHAPES: Record<string, Shape> = {
  ec2: (code, message) =>
    `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>${xmlEscape(code)}</Code><Message>${xmlEscape(
      message,
    )}</Message></Error></Errors><RequestID>r-1</RequestID></Response>`,
  nova: (code, message, status) => JSON.stringify({ [code]: { code: status, message } }),
  keystone: (code, message, status) => JSON.stringify({ error: { code: status, title: code, message } }),
  digitalocean: (code, message) => JSON.stringify({ id: code, message }),
  linode: (code, message) => JSON.stringify({ errors: [{ code, reason: message, field: code }] }),
  google: (code, message, status) =>
    JSON.stringify({ error: { code: status, message, errors: [{ reason: code, message, domain: code }] } }),
  azure: (code, message) => JSON.stringify({ error: { code, message, details: [{ code, message }] } }),
  oauth: (code, message) => JSON.stringify({ error: code, error_description: message }),
  hetzner: (code, message) =>
    JSON.stringify({ error: { code, message, details: { fields: [{ name: code, messages: [message] }] } } }),
  vultr: (_code, message, status) => JSON.stringify({ error: message, status }),
};

/** The hostile answer to `req`. */
function hostile(behaviour: Behaviour, req: RecordedRequest, shape: Shape): ReplayResponse {
  const echo = echoOf(req);
  const xml = shape === SHAPES.ec2;
  const headers = { 'content-type': xml ? 'text/xml' : 'application/json', 'retry-after': '0' };
  switch (behaviour) {
    case '401':
    case '403':
    case '429':
    case '500': {
      const status = Number(behaviour);
      return { status, headers, body: shape(echo, `rejected: ${echo}`, status) };
    }
    case 'echo':
      return { status: 400, headers, body: shape(echo, echo, 400) };
    case 'malformed':
      // The secret, bare, where a JSON parser fails: V8 quotes the text around it in its message.
      return {
        status: 200,
        headers,
        body: xml
          ? `<Response><Code>${echo}</Code`
          : `{"code": ${echo.replace(/^(Bearer|AWS4-HMAC-SHA256)\s+/, '')}}`,
      };
    case 'truncated':
      return { status: 200, headers, body: shape(echo, echo, 200), truncate: true };
    case 'one-byte':
      return { status: 200, headers, body: xml ? '<' : '{' };
  }
}

/** A logger that keeps every call, to scan. */
function capturingLogger(): { logger: Logger; lines: unknown[][] } {
  const lines: unknown[][] = [];
  const rec =
    (level: string) =>
    (obj: Record<string, unknown>, msg?: string): void => {
      lines.push([level, obj, msg]);
    };
  return {
    lines,
    logger: { debug: rec('debug'), info: rec('info'), warn: rec('warn'), error: rec('error') },
  };
}

/** Every text a user could see of `err`: inspected, stringified, stacks, the whole cause chain. */
function errorTexts(err: unknown): string[] {
  const texts: string[] = [inspect(err, { depth: 20, showHidden: true }), JSON.stringify(err) ?? ''];
  let c: unknown = err;
  for (let i = 0; c !== undefined && c !== null && i < 20; i++) {
    if (c instanceof Error) {
      texts.push(String(c), c.message, c.stack ?? '', JSON.stringify(c) ?? '');
      texts.push(inspect(c, { depth: 20, showHidden: true }));
      for (const key of Object.getOwnPropertyNames(c)) texts.push(inspect((c as never)[key], { depth: 20 }));
      c = c.cause;
    } else {
      texts.push(inspect(c, { depth: 20, showHidden: true }));
      break;
    }
  }
  return texts;
}

/** The secret values found in `texts`, as short descriptions (empty when clean). */
function leaks(texts: string[], extraSecrets: readonly string[]): string[] {
  const found: string[] = [];
  for (const t of texts) {
    const m = CANARY_PIECE.exec(t);
    if (m) found.push(`canary near: ${t.slice(Math.max(0, m.index - 60), m.index + 40)}`);
    for (const s of extraSecrets) if (s && t.includes(s)) found.push(`secret ${s.slice(0, 12)}… in output`);
  }
  return found;
}

/** A cloud under test: which requests are its token endpoint, how it answers them, how to build it. */
interface Cloud {
  name: string;
  /** Shapes of the API's and the token endpoint's error bodies. */
  apiShape: Shape;
  authShape?: Shape;
  isAuth?: (path: string) => boolean;
  /** A successful token response. */
  authOk?: () => ReplayResponse;
  make: (url: string, logger: Logger) => Provider;
}

const http = {
  retryLimit: 1,
  baseDelayMs: 0,
  sleep: async () => {},
} as const;

const CLOUDS: Cloud[] = [
  {
    name: 'ec2',
    apiShape: SHAPES.ec2!,
    make: (url, logger) =>
      ec2({
        id: 'aws',
        region: 'eu-west-1',
        credentials: {
          accessKeyId: canary('AKID'),
          secretAccessKey: canary('ec2secret'),
          sessionToken: canary('ec2session'),
        },
        endpoint: `${url}/ec2/`,
        env: {},
        http,
        logger,
      }),
  },
  {
    name: 'openstack',
    apiShape: SHAPES.nova!,
    authShape: SHAPES.keystone!,
    isAuth: (path) => path.endsWith('/auth/tokens'),
    authOk: () => ({
      status: 201,
      headers: { 'x-subject-token': canary('ostoken') },
      body: {
        token: {
          methods: ['password'],
          expires_at: new Date(Date.now() + 3600_000).toISOString(),
          project: { id: 'proj', name: 'fleet', domain: { id: 'default', name: 'Default' } },
          catalog: [
            {
              type: 'compute',
              name: 'nova',
              endpoints: [{ interface: 'public', region: 'RegionOne', url: `${baseUrl}/compute/v2.1/proj/` }],
            },
          ],
        },
      },
    }),
    make: (url, logger) =>
      openstack({
        id: 'os',
        authUrl: `${url}/identity/v3/`,
        username: 'ops',
        password: canary('ospassword'),
        projectName: 'fleet',
        region: 'RegionOne',
        env: {},
        http,
        logger,
      }),
  },
  {
    name: 'digitalocean',
    apiShape: SHAPES.digitalocean!,
    make: (url, logger) =>
      digitalocean({ id: 'do', token: canary('dotoken'), baseUrl: `${url}/do/v2/`, http, logger }),
  },
  {
    name: 'gce',
    apiShape: SHAPES.google!,
    authShape: SHAPES.oauth!,
    isAuth: (path) => path === '/gce/token',
    authOk: () => ({ status: 200, body: { access_token: canary('gceaccess'), expires_in: 3599 } }),
    make: (url, logger) =>
      gce({
        id: 'gcp',
        project: 'p',
        serviceAccount: { client_email: 'sa@p.iam.gserviceaccount.com', private_key: PEM },
        baseUrl: `${url}/gce/compute/v1/`,
        tokenUrl: `${url}/gce/token`,
        http,
        logger,
      }),
  },
  {
    name: 'azure',
    apiShape: SHAPES.azure!,
    authShape: SHAPES.oauth!,
    isAuth: (path) => path.includes('/oauth2/token'),
    authOk: () => ({
      status: 200,
      body: {
        token_type: 'Bearer',
        expires_in: '3599',
        expires_on: String(Math.floor(Date.now() / 1000) + 3599),
        access_token: canary('azaccess'),
      },
    }),
    make: (url, logger) =>
      azure({
        id: 'az',
        tenantId: 'tenant-1',
        clientId: 'client-1',
        clientSecret: canary('azsecret'),
        subscriptionId: '00000000-0000-0000-0000-000000000001',
        baseUrl: url,
        authorityHost: `${url}/login`,
        http,
        logger,
      }),
  },
  {
    name: 'linode',
    apiShape: SHAPES.linode!,
    make: (url, logger) =>
      linode({ id: 'lin', token: canary('linodetoken'), baseUrl: `${url}/linode/v4/`, http, logger }),
  },
  {
    name: 'hetzner',
    apiShape: SHAPES.hetzner!,
    make: (url, logger) =>
      hetzner({ id: 'hz', token: canary('hcloudtoken'), baseUrl: `${url}/hetzner/v1/`, http, logger }),
  },
  {
    name: 'vultr',
    apiShape: SHAPES.vultr!,
    make: (url, logger) =>
      vultr({ id: 'vu', token: canary('vultrkey'), baseUrl: `${url}/vultr/v2/`, http, logger }),
  },
];

let baseUrl = '';
/** What the server should do next: which phase misbehaves, how, and in which shape. */
let current: { cloud: Cloud; phase: 'api' | 'auth'; behaviour: Behaviour } | undefined;
/** Bodies the token endpoints received (GCE's signed JWT assertion is secret). */
const authBodies: string[] = [];

let server: Awaited<ReturnType<typeof startReplayServer>>;

beforeAll(async () => {
  server = await startReplayServer((req) => {
    const path = new URL(req.url, 'http://x').pathname;
    const c = current;
    if (!c) return { status: 500, body: { message: 'no scenario' } };
    if (c.cloud.isAuth?.(path)) {
      authBodies.push(req.body);
      if (c.phase === 'auth') return hostile(c.behaviour, req, c.cloud.authShape!);
      return c.cloud.authOk!();
    }
    return hostile(c.behaviour, req, c.cloud.apiShape);
  });
  baseUrl = server.url;
});

afterAll(async () => {
  await server?.close();
});

/** Secrets that are not canaries: the key, and every JWT assertion's signature (or the whole). */
function derivedSecrets(): string[] {
  const out = [PEM_PIECE];
  for (const body of authBodies) {
    const assertion = new URLSearchParams(body).get('assertion');
    if (assertion) out.push(assertion.split('.')[2]!.slice(0, 24));
  }
  return out;
}

const cases = CLOUDS.flatMap((cloud) =>
  (['api', 'auth'] as const)
    .filter((phase) => phase === 'api' || cloud.isAuth)
    .flatMap((phase) => BEHAVIOURS.map((behaviour) => ({ cloud, phase, behaviour }))),
);

describe('provider errors - no credential canary anywhere', () => {
  it.each(cases.map((c) => [c.cloud.name, c.phase, c.behaviour, c] as const))(
    '%s (%s) - %s',
    async (_name, _phase, behaviour, c) => {
      current = c;
      authBodies.length = 0;
      const before = server.requests.length;
      const { logger, lines } = capturingLogger();
      const provider = c.cloud.make(baseUrl, logger);
      let err: unknown;
      try {
        await collect(provider.listNodes());
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(FleetwatchError);
      expect(EXPECTED_CODES[behaviour]).toContain((err as FleetwatchError).code);
      // The scenario really carried the secrets to the server (the test could fail).
      expect(
        server.requests
          .slice(before)
          .some((r) => CANARY_PIECE.test(echoOf(r)) || r.body.includes('assertion')),
      ).toBe(true);
      const texts = [
        ...errorTexts(err),
        ...lines.map((l) => inspect(l, { depth: 20 })),
        ...lines.map((l) => JSON.stringify(l)),
        inspect(provider, { depth: 20, showHidden: true }),
        JSON.stringify(provider),
      ];
      expect(leaks(texts, derivedSecrets())).toEqual([]);
    },
  );
});

describe('staticProvider() - a broken file never quotes its secrets', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fleetwatch-canary-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const good = `[{"id":"a","extra":{"password":"${canary('staticpw')}"}}]`;
  const files: Record<string, string> = {
    malformed: `[{"id":"a","extra":{"password":"${canary('staticpw')}"}x`,
    truncated: good.slice(0, good.indexOf('CNRY') + 20),
    'one-byte': '[',
    yaml: `- id: a\n  extra:\n    password: "${canary('staticpw')}\n  tags: [`,
  };
  it.each(Object.entries(files))('listNodes() - %s file', async (name, text) => {
    const file = join(dir, `${name}.json`);
    writeFileSync(file, text);
    const { logger, lines } = capturingLogger();
    const provider = staticProvider({ id: 'dc', file, logger });
    let err: unknown;
    try {
      await collect(provider.listNodes());
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FleetwatchError);
    expect((err as FleetwatchError).code).toBe('E_VALIDATION');
    const texts = [...errorTexts(err), ...lines.map((l) => inspect(l, { depth: 20 }))];
    expect(leaks(texts, [])).toEqual([]);
  });
});
