import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dnsCheck } from '../../src/checks/dns.js';
import { httpCheck, jsonPath } from '../../src/checks/http.js';
import { parseSystemPing, pingCheck } from '../../src/checks/ping.js';
import { parseNetDev, systemCheck } from '../../src/checks/system.js';
import { tcpCheck } from '../../src/checks/tcp.js';
import { tlsCheck } from '../../src/checks/tls.js';
import type { CheckTarget } from '../../src/checks/types.js';
import { FleetwatchError } from '../../src/errors.js';
import {
  certificate,
  closedPort,
  dnsServer,
  httpServer,
  type TestServer,
  tcpServer,
  until,
} from './servers.js';

const local: CheckTarget = { key: '127.0.0.1', host: '127.0.0.1', ip: '127.0.0.1', name: 'local' };
const run = { timeoutMs: 5000 };

let http: TestServer;
let https: TestServer;
let expired: TestServer;
let ca: string;
let expiredCa: string;
let refused: number;

beforeAll(async () => {
  const routes = {
    '/ok': (_req: unknown, res: import('node:http').ServerResponse) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ status: 'UP', checks: [{ ok: true }] }));
    },
    '/fail': (_req: unknown, res: import('node:http').ServerResponse) => {
      res.statusCode = 503;
      res.end('down');
    },
    '/redirect': (_req: unknown, res: import('node:http').ServerResponse) => {
      res.statusCode = 302;
      res.setHeader('location', '/ok');
      res.end();
    },
    '/slow': (_req: unknown, res: import('node:http').ServerResponse) => {
      setTimeout(() => res.end('late'), 150);
    },
    '/hang': () => {},
    '/big': (_req: unknown, res: import('node:http').ServerResponse) => res.end('x'.repeat(5000)),
  };
  const good = await certificate();
  const old = await certificate(true);
  ca = good.cert;
  expiredCa = old.cert;
  http = await httpServer(routes);
  https = await httpServer(routes, good);
  expired = await httpServer(routes, old);
  refused = await closedPort();
});
afterAll(async () => {
  await Promise.all([http.close(), https.close(), expired.close()]);
});

const httpRun = (config: Record<string, unknown>, signal?: AbortSignal) =>
  httpCheck.run(httpCheck.normalize(config, 'http'), local, { ...run, ...(signal ? { signal } : {}) });

describe('http check', () => {
  it('run() - success reports code as a string and ordered phase timings', async () => {
    const out = await httpRun({
      url: `http://127.0.0.1:${http.port}/ok`,
      json: { '$.status': 'UP', 'checks[0].ok': true },
    });
    expect(out.error).toBeUndefined();
    const m = out.metrics;
    expect(m.code).toBe('200');
    expect(m.bytes).toBe(JSON.stringify({ status: 'UP', checks: [{ ok: true }] }).length);
    expect(m.truncated).toBe(false);
    expect(m.json_match).toBe(true);
    expect(m.tt_dns).toBe(0);
    expect(m.tt_connect as number).toBeLessThanOrEqual(m.tt_firstbyte as number);
    expect(m.tt_firstbyte as number).toBeLessThanOrEqual(m.duration as number);
  });

  it('run() - a host name is resolved (c-ares, /etc/hosts fallback) and timed as tt_dns', async () => {
    const out = await httpRun({ url: `http://localhost:${http.port}/ok` });
    expect(out.error).toBeUndefined();
    expect(out.metrics.tt_dns as number).toBeGreaterThan(0);
    expect(out.metrics.tt_dns as number).toBeLessThanOrEqual(out.metrics.tt_connect as number);
  });

  it('run() - a fresh connection per run (agent: false)', async () => {
    const before = http.sockets.length;
    await httpRun({ url: `http://127.0.0.1:${http.port}/ok` });
    await httpRun({ url: `http://127.0.0.1:${http.port}/ok` });
    expect(http.sockets.length - before).toBe(2);
  });

  it('run() - unexpected status fails the run with the metrics kept', async () => {
    const out = await httpRun({ url: `http://127.0.0.1:${http.port}/fail` });
    expect(out.error).toBe('status 503');
    expect(out.metrics.code).toBe('503');
    const ok = await httpRun({ url: `http://127.0.0.1:${http.port}/fail`, expectStatus: [503] });
    expect(ok.error).toBeUndefined();
  });

  it('run() - body regex and JSON assertions fail with a reason', async () => {
    const out = await httpRun({
      url: `http://127.0.0.1:${http.port}/ok`,
      bodyRegex: 'DOWN',
      bodyMatches: { up: '"UP"' },
      json: { '$.status': 'DOWN' },
    });
    expect(out.metrics.body_match).toBe(false);
    expect(out.metrics.body_match_up).toBe(true);
    expect(out.metrics.json_match).toBe(false);
    expect(out.error).toContain('body did not match DOWN');
    expect(out.error).toContain('$.status is "UP", expected "DOWN"');
  });

  it('run() - follows redirects on fresh connections, or not', async () => {
    const out = await httpRun({ url: `http://127.0.0.1:${http.port}/redirect` });
    expect(out.metrics.code).toBe('200');
    expect(out.metrics.redirects).toBe(1);
    const no = await httpRun({ url: `http://127.0.0.1:${http.port}/redirect`, followRedirects: false });
    expect(no.metrics.code).toBe('302');
  });

  it('run() - truncates big bodies at maxBodyBytes', async () => {
    const out = await httpRun({ url: `http://127.0.0.1:${http.port}/big`, maxBodyBytes: 100 });
    expect(out.metrics.truncated).toBe(true);
    expect(out.metrics.bytes as number).toBeGreaterThan(100);
  });

  it('run() - a slow server shows in tt_firstbyte', async () => {
    const out = await httpRun({ url: `http://127.0.0.1:${http.port}/slow` });
    expect(out.error).toBeUndefined();
    expect(out.metrics.tt_firstbyte as number).toBeGreaterThanOrEqual(140);
  });

  it('run() - connection refused is a failed run, not a throw', async () => {
    const out = await httpRun({ url: `http://127.0.0.1:${refused}/` });
    expect(out.error).toMatch(/ECONNREFUSED/);
    expect(out.metrics.code).toBeUndefined();
  });

  it('run() - abort closes the socket (seen by the server)', async () => {
    const ac = new AbortController();
    const before = http.sockets.length;
    const p = httpRun({ url: `http://127.0.0.1:${http.port}/hang` }, ac.signal);
    await until(() => http.sockets.length > before);
    const sock = http.sockets[http.sockets.length - 1]!;
    expect(http.closed.has(sock)).toBe(false);
    ac.abort(new FleetwatchError('E_TIMEOUT', 'timed out'));
    await expect(p).rejects.toMatchObject({ code: 'E_TIMEOUT' });
    await until(() => http.closed.has(sock));
  });

  it('run() - https with a trusted certificate reports cert metrics', async () => {
    const out = await httpRun({ url: `https://127.0.0.1:${https.port}/ok`, ca });
    expect(out.error).toBeUndefined();
    expect(out.metrics.code).toBe('200');
    expect(out.metrics.tt_tls as number).toBeGreaterThanOrEqual(out.metrics.tt_connect as number);
    const days = (out.metrics.cert_end_in as number) / 86400;
    expect(days).toBeGreaterThan(29);
    expect(days).toBeLessThanOrEqual(30);
  });

  it('run() - https with an untrusted certificate fails (verify on by default)', async () => {
    const out = await httpRun({ url: `https://127.0.0.1:${https.port}/ok` });
    expect(out.error).toBe('certificate: DEPTH_ZERO_SELF_SIGNED_CERT');
    expect(out.metrics.cert_valid).toBe(false);
    expect(out.metrics.code).toBeUndefined();
    const off = await httpRun({ url: `https://127.0.0.1:${https.port}/ok`, verifyTls: false });
    expect(off.error).toBeUndefined();
  });

  it('run() - https with an expired certificate fails even when its issuer is trusted', async () => {
    const out = await httpRun({ url: `https://127.0.0.1:${expired.port}/ok`, ca: expiredCa });
    expect(out.error).toBe('certificate: CERT_HAS_EXPIRED');
    expect(out.metrics.code).toBeUndefined();
    // the certificate's metrics are still there: expired about two days ago
    expect(Math.round((out.metrics.cert_end_in as number) / 86400)).toBe(-2);
  });

  it('normalize() - rejects bad config with the field path', () => {
    expect(() => httpCheck.normalize({ method: 'FETCH' }, 'http')).toThrow(/http\.method/);
    expect(() => httpCheck.normalize({ bodyRegex: '(' }, 'http')).toThrow(/http\.bodyRegex/);
    expect(() => httpCheck.normalize({ nope: 1 }, 'http')).toThrow(/http\.nope/);
  });

  it('jsonPath() - resolves $.a.b[0] paths', () => {
    expect(jsonPath({ a: { b: [{ c: 5 }] } }, '$.a.b[0].c')).toBe(5);
    expect(jsonPath({ a: 1 }, '$.x.y')).toBeUndefined();
  });
});

describe('tls check', () => {
  it('run() - a valid chain: expiry, subject, SANs, protocol', async () => {
    const c = tlsCheck.normalize({ port: https.port, ca }, 'tls');
    const out = await tlsCheck.run(c, local, run);
    expect(out.error).toBeUndefined();
    expect(out.metrics.cert_valid).toBe(true);
    expect(out.metrics.cert_subject).toContain('CN=localhost');
    expect(out.metrics.cert_subject_alternative_names).toContain('IP Address:127.0.0.1');
    expect(String(out.metrics.protocol)).toMatch(/^TLSv1\.[23]$/);
  });

  it('run() - a certificate for another name fails verification', async () => {
    const c = tlsCheck.normalize({ port: https.port, ca, servername: 'wrong.example' }, 'tls');
    const out = await tlsCheck.run(c, local, run);
    expect(out.error).toBe('certificate: ERR_TLS_CERT_ALTNAME_INVALID');
    expect(out.metrics.cert_valid).toBe(false);
  });

  it('run() - an expired certificate fails and cert_end_in is negative', async () => {
    const out = await tlsCheck.run(tlsCheck.normalize({ port: expired.port }, 'tls'), local, run);
    expect(out.error).toMatch(/CERT_HAS_EXPIRED/);
    expect(out.metrics.cert_end_in as number).toBeLessThan(-86400);
    expect(out.metrics.cert_valid).toBe(false);
  });

  it('run() - an untrusted certificate fails unless verify is off', async () => {
    const bad = await tlsCheck.run(tlsCheck.normalize({ port: https.port }, 'tls'), local, run);
    expect(bad.error).toMatch(/SELF_SIGNED/);
    const off = await tlsCheck.run(
      tlsCheck.normalize({ port: https.port, verify: false }, 'tls'),
      local,
      run,
    );
    expect(off.error).toBeUndefined();
    expect(off.metrics.cert_error).toMatch(/SELF_SIGNED/);
  });

  it('run() - refused', async () => {
    const out = await tlsCheck.run(tlsCheck.normalize({ port: refused }, 'tls'), local, run);
    expect(out.error).toMatch(/ECONNREFUSED/);
  });
});

describe('tcp check', () => {
  let banner: TestServer;
  let hang: TestServer;
  beforeAll(async () => {
    banner = await tcpServer((s) => {
      s.write('SSH-2.0-Test\r\n');
      s.on('data', (d) => s.write(`echo:${d.toString()}`));
      s.on('error', () => {});
    });
    hang = await tcpServer((s) => s.on('error', () => {}));
  });
  afterAll(async () => {
    await Promise.all([banner.close(), hang.close()]);
  });

  it('run() - connect only', async () => {
    const out = await tcpCheck.run(tcpCheck.normalize({ port: banner.port }, 'tcp'), local, run);
    expect(out.error).toBeUndefined();
    expect(out.metrics.tt_connect as number).toBeGreaterThanOrEqual(0);
    expect(out.metrics.banner).toBeUndefined();
  });

  it('run() - banner match, and send/expect', async () => {
    const out = await tcpCheck.run(
      tcpCheck.normalize({ port: banner.port, expect: '^SSH-2\\.0' }, 'tcp'),
      local,
      run,
    );
    expect(out.metrics.banner).toBe('SSH-2.0-Test');
    expect(out.metrics.banner_match).toBe(true);
    const echo = await tcpCheck.run(
      tcpCheck.normalize({ port: banner.port, send: 'ping', expect: 'echo:ping' }, 'tcp'),
      local,
      run,
    );
    expect(echo.error).toBeUndefined();
  });

  it('run() - tls: handshake timed as tt_tls, then send/expect over TLS', async () => {
    const out = await tcpCheck.run(
      tcpCheck.normalize(
        { port: https.port, tls: true, send: 'GET /ok HTTP/1.0\r\n\r\n', expect: '^HTTP/1\\.1 200' },
        'tcp',
      ),
      local,
      run,
    );
    expect(out.error).toBeUndefined();
    expect(out.metrics.tt_tls as number).toBeGreaterThanOrEqual(out.metrics.tt_connect as number);
    expect(out.metrics.banner).toBe('HTTP/1.1 200 OK');
  });

  it('run() - host:port targets give the port', async () => {
    const out = await tcpCheck.run(tcpCheck.normalize({}, 'tcp'), { ...local, port: banner.port }, run);
    expect(out.error).toBeUndefined();
  });

  it('run() - refused', async () => {
    const out = await tcpCheck.run(tcpCheck.normalize({ port: refused }, 'tcp'), local, run);
    expect(out.error).toMatch(/ECONNREFUSED/);
  });

  it('run() - abort while waiting for a banner closes the socket on the server side', async () => {
    const ac = new AbortController();
    const before = hang.sockets.length;
    const p = tcpCheck.run(tcpCheck.normalize({ port: hang.port, expect: 'x' }, 'tcp'), local, {
      ...run,
      signal: ac.signal,
    });
    await until(() => hang.sockets.length > before);
    const sock = hang.sockets[hang.sockets.length - 1]!;
    ac.abort(new FleetwatchError('E_TIMEOUT', 'timed out'));
    await expect(p).rejects.toMatchObject({ code: 'E_TIMEOUT' });
    await until(() => hang.closed.has(sock));
  });
});

describe('dns check', () => {
  let dns: Awaited<ReturnType<typeof dnsServer>>;
  beforeAll(async () => {
    dns = await dnsServer((name, type) => {
      if (name === 'web.test' && type === 'A')
        return {
          answers: [
            { type: 'A', data: '10.0.0.2', ttl: 60 },
            { type: 'A', data: '10.0.0.1', ttl: 30 },
          ],
        };
      if (name === 'broken.test') return { rcode: 'SERVFAIL' };
      if (name === 'refused.test') return { rcode: 'REFUSED' };
      if (name === 'slow.test') return { drop: true };
      return { rcode: 'NXDOMAIN' };
    });
  });
  afterAll(() => dns.close());
  const dnsRun = (config: Record<string, unknown>, timeoutMs = 2000) =>
    dnsCheck.run(dnsCheck.normalize({ port: dns.port, ...config }, 'dns'), local, { timeoutMs });

  it('run() - answers, ttl and rcode', async () => {
    const out = await dnsRun({ query: 'web.test', expect: ['10.0.0.1'] });
    expect(out.error).toBeUndefined();
    expect(out.metrics).toMatchObject({ rcode: 'NOERROR', answer: '10.0.0.1 10.0.0.2', answers: 2, ttl: 30 });
  });

  it('run() - a missing expected answer fails', async () => {
    const out = await dnsRun({ query: 'web.test', expect: ['10.0.0.9'] });
    expect(out.error).toBe('missing answers: 10.0.0.9');
  });

  it('run() - error codes map to rcode names', async () => {
    expect((await dnsRun({ query: 'nope.test' })).metrics.rcode).toBe('NXDOMAIN');
    expect((await dnsRun({ query: 'broken.test' })).metrics.rcode).toBe('SERVFAIL');
    expect((await dnsRun({ query: 'refused.test' })).metrics.rcode).toBe('REFUSED');
    const nx = await dnsRun({ query: 'nope.test', expectRcode: 'NXDOMAIN' });
    expect(nx.error).toBeUndefined();
  });

  it('run() - no answer is a TIMEOUT', async () => {
    const out = await dnsRun({ query: 'slow.test' }, 200);
    expect(out.metrics.rcode).toBe('TIMEOUT');
    expect(out.error).toBe('rcode TIMEOUT');
  });

  it('normalize() - requires a query and a known record type', () => {
    expect(() => dnsCheck.normalize({}, 'dns')).toThrow(/dns\.query/);
    expect(() => dnsCheck.normalize({ query: 'x', recordType: 'ZZZ' }, 'dns')).toThrow(/dns\.recordType/);
  });
});

describe('ping check', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await tcpServer((s) => s.destroy());
  });
  afterAll(() => server.close());

  it('run() - tcp backend: count probes, loss and min/avg/max', async () => {
    const before = server.sockets.length;
    const out = await pingCheck.run(
      pingCheck.normalize({ port: server.port, count: 3, intervalMs: 0 }, 'ping'),
      local,
      run,
    );
    expect(out.error).toBeUndefined();
    expect(out.metrics).toMatchObject({ count: 3, available: 100, loss: 0 });
    expect(out.metrics.minimum as number).toBeLessThanOrEqual(out.metrics.average as number);
    expect(out.metrics.average as number).toBeLessThanOrEqual(out.metrics.maximum as number);
    await until(() => server.sockets.length - before === 3);
  });

  it('run() - a refused port still counts as a reply (the host answered)', async () => {
    const out = await pingCheck.run(
      pingCheck.normalize({ port: refused, count: 2, intervalMs: 0 }, 'ping'),
      local,
      run,
    );
    expect(out.metrics.available).toBe(100);
  });

  it('run() - system backend spawns `ping` from PATH and parses its summary', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fakeping-'));
    const script = join(dir, 'ping');
    writeFileSync(
      script,
      '#!/bin/sh\nprintf "%s\\n" "$*" > "$(dirname "$0")/args"\necho "4 packets transmitted, 3 received, 25% packet loss, time 3004ms"\necho "rtt min/avg/max/mdev = 0.100/0.200/0.300/0.050 ms"\n',
    );
    chmodSync(script, 0o755);
    const oldPath = process.env.PATH;
    process.env.PATH = `${dir}:${oldPath}`;
    try {
      const out = await pingCheck.run(
        pingCheck.normalize({ backend: 'system', count: 4 }, 'ping'),
        local,
        run,
      );
      expect(out.error).toBeUndefined();
      expect(out.metrics).toEqual({
        count: 4,
        available: 75,
        loss: 25,
        minimum: 0.1,
        average: 0.2,
        maximum: 0.3,
      });
      expect(readFileSync(join(dir, 'args'), 'utf8').trim()).toBe('-n -c 4 -i 0.2 -W 1 127.0.0.1');
    } finally {
      process.env.PATH = oldPath;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('parseSystemPing() - reads iputils output', () => {
    const text = `3 packets transmitted, 2 received, 33.3333% packet loss, time 2003ms
rtt min/avg/max/mdev = 0.041/0.052/0.063/0.011 ms`;
    expect(parseSystemPing(text, 3)).toEqual({
      count: 3,
      available: 66.67,
      loss: 33.33,
      minimum: 0.041,
      average: 0.052,
      maximum: 0.063,
    });
  });
});

describe('system check', () => {
  it('run() - cpu, memory, load, disk and network figures', async () => {
    const file = join(tmpdir(), `netdev-${process.pid}`);
    writeFileSync(
      file,
      `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo: 1000 10 0 0 0 0 0 0 1000 10 0 0 0 0 0 0
  eth0: 5000 50 1 0 0 0 0 0 7000 70 2 0 0 0 0 0
  eth1: 100 1 0 0 0 0 0 0 200 2 0 0 0 0 0 0
`,
    );
    const c = systemCheck.normalize({ procNetDev: file }, 'system');
    const out = await systemCheck.run(c, local, run);
    expect(out.error).toBeUndefined();
    const m = out.metrics;
    expect(m).toMatchObject({
      net_rx_bytes: 5100,
      net_tx_bytes: 7200,
      net_rx_errors: 1,
      net_tx_errors: 2,
      net_rx_packets: 51,
    });
    expect(m.memory_total as number).toBeGreaterThan(m.memory_free as number);
    expect(m.disk_total as number).toBeGreaterThan(0);
    expect(m.cpu_usage_average as number).toBeGreaterThanOrEqual(0);
    expect(m.cpu_usage_average as number).toBeLessThanOrEqual(100);
    expect(typeof m.load_1m).toBe('number');
  });

  it('run() - without /proc/net/dev the network figures are left out, not an error', async () => {
    const c = systemCheck.normalize(
      { include: ['network', 'load'], procNetDev: '/nonexistent/net/dev' },
      'system',
    );
    const out = await systemCheck.run(c, local, run);
    expect(out.error).toBeUndefined();
    expect(out.metrics.net_rx_bytes).toBeUndefined();
    expect(typeof out.metrics.load_1m).toBe('number');
  });

  it('parseNetDev() - per-interface counters', () => {
    const devs = parseNetDev('h1\nh2\n  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n');
    expect(devs.get('eth0')?.[8]).toBe(9);
  });

  it('normalize() - rejects unknown groups', () => {
    expect(() => systemCheck.normalize({ include: ['gpu'] }, 'system')).toThrow(/system\.include/);
  });
});
