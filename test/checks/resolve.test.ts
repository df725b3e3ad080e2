import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCheckLookup } from '../../src/checks/resolve.js';
import { dnsServer, type TestServer, tcpServer } from './servers.js';

describe('createCheckLookup()', () => {
  let dns: Awaited<ReturnType<typeof dnsServer>>;
  let tcp: TestServer;
  let now = 1_000_000;
  beforeAll(async () => {
    dns = await dnsServer((name, type) =>
      name === 'svc.test' && type === 'A'
        ? { answers: [{ type: 'A', data: '127.0.0.1', ttl: 30 }] }
        : { rcode: 'NXDOMAIN' },
    );
    tcp = await tcpServer((s) => s.destroy());
  });
  afterAll(async () => {
    await Promise.all([dns.close(), tcp.close()]);
  });

  const lookupOnce = (lookup: ReturnType<typeof createCheckLookup>, host: string, all: boolean) =>
    new Promise<unknown>((resolve, reject) =>
      lookup(
        host,
        { all } as never,
        ((err: Error | null, address: unknown) => (err ? reject(err) : resolve(address))) as never,
      ),
    );

  it('resolves through the given DNS server and caches within the TTL', async () => {
    const lookup = createCheckLookup({ servers: [`127.0.0.1:${dns.port}`], now: () => now });
    expect(await lookupOnce(lookup, 'svc.test', false)).toBe('127.0.0.1');
    const asked = dns.queries;
    expect(await lookupOnce(lookup, 'svc.test', true)).toEqual([{ address: '127.0.0.1', family: 4 }]);
    expect(dns.queries).toBe(asked);
    now += 31_000;
    await lookupOnce(lookup, 'svc.test', false);
    expect(dns.queries).toBeGreaterThan(asked);
  });

  it('falls back to the system resolver for names DNS does not know (localhost)', async () => {
    const lookup = createCheckLookup({ servers: [`127.0.0.1:${dns.port}`], now: () => now });
    const list = (await lookupOnce(lookup, 'localhost', true)) as { address: string }[];
    expect(list.length).toBeGreaterThan(0);
    expect(list.every((a) => a.address === '127.0.0.1' || a.address === '::1')).toBe(true);
  });

  it('works as net.connect({ lookup })', async () => {
    const lookup = createCheckLookup({ servers: [`127.0.0.1:${dns.port}`] });
    await new Promise<void>((resolve, reject) => {
      const s = connect({ host: 'svc.test', port: tcp.port, lookup });
      s.once('connect', () => {
        expect(s.remoteAddress).toBe('127.0.0.1');
        s.destroy();
        resolve();
      });
      s.once('error', reject);
    });
  });

  it('unknown names fail with ENOTFOUND', async () => {
    const lookup = createCheckLookup({ servers: [`127.0.0.1:${dns.port}`] });
    await expect(lookupOnce(lookup, 'nope.invalid', false)).rejects.toMatchObject({
      code: expect.stringMatching(/ENOTFOUND|EAI_AGAIN/),
    });
  });
});
