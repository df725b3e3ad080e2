import { describe, expect, it } from 'vitest';
import { expandPlaceholders, hostTarget, isQueryTarget, parseTargets } from '../../src/checks/targets.js';

describe('targets', () => {
  it('isQueryTarget() - tells tag queries from hosts, host:port and URLs', () => {
    expect(isQueryTarget('tag:role=web')).toBe(true);
    expect(isQueryTarget('provider:ec2 and state:running')).toBe(true);
    expect(isQueryTarget('localhost:8080')).toBe(false);
    expect(isQueryTarget('https://example.com/')).toBe(false);
    expect(isQueryTarget('10.0.0.1')).toBe(false);
    expect(isQueryTarget('[::1]:80')).toBe(false);
  });

  it('hostTarget() - host, host:port, [v6]:port and URL', () => {
    expect(hostTarget('db1:5432')).toEqual({
      key: 'db1:5432',
      host: 'db1',
      ip: 'db1',
      name: 'db1',
      port: 5432,
    });
    expect(hostTarget('[::1]:80')).toMatchObject({ host: '::1', port: 80 });
    expect(hostTarget('https://example.com:8443/x')).toMatchObject({
      host: 'example.com',
      port: 8443,
      url: 'https://example.com:8443/x',
    });
    expect(() => hostTarget('h:99999')).toThrow(expect.objectContaining({ code: 'E_VALIDATION' }));
  });

  it('hostTarget() - a password in a URL never reaches the key', () => {
    const t = hostTarget('https://ops:hunter2@example.com/health');
    expect(t.key).toBe('https://ops:***@example.com/health');
    expect(t.url).toBe('https://ops:hunter2@example.com/health');
  });

  it('parseTargets() - lists, { query } and { host }', () => {
    const specs = parseTargets(['tag:role=web', { query: 'name:db*' }, { host: 'a:1' }, 'b']);
    expect(specs.map((s) => (s.kind === 'query' ? `q:${s.query}` : `h:${s.target.key}`))).toEqual([
      'q:tag:role=web',
      'q:name:db*',
      'h:a:1',
      'h:b',
    ]);
    expect(() => parseTargets([])).toThrow(expect.objectContaining({ path: 'targets' }));
    expect(() => parseTargets([42])).toThrow(expect.objectContaining({ path: 'targets[0]' }));
  });

  it('expandPlaceholders() - nested strings, unknown placeholders kept', () => {
    const target = {
      key: 'p:1',
      host: '10.0.0.1',
      ip: '10.0.0.1',
      name: 'web-1',
      node: {
        uid: 'p:1',
        id: '1',
        name: 'web-1',
        provider: 'p',
        kind: 'static' as const,
        state: 'running' as const,
        rawState: 'running',
        region: 'eu',
        publicIps: ['10.0.0.1'],
        privateIps: [],
        tags: { env: 'prod' },
        extra: {},
      },
    };
    expect(
      expandPlaceholders(
        { url: 'https://{ip}/{tag.env}', h: { x: ['{name}@{region}', '{nope}'] }, n: 3 },
        target,
      ),
    ).toEqual({ url: 'https://10.0.0.1/prod', h: { x: ['web-1@eu', '{nope}'] }, n: 3 });
  });
});
