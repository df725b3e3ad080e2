/**
 * Static targets are checked at add() for every type whose target form is checkable up front:
 * tcp host:port, http URL or host, tls host[:port], dns server IP, ping host. Tag queries are not.
 */
import { describe, expect, it } from 'vitest';
import { CheckScheduler } from '../../src/checks/scheduler.js';
import { isQueryTarget, isValidHost } from '../../src/checks/targets.js';
import { FleetwatchError } from '../../src/errors.js';

const inventory = { query: () => [], on: () => undefined, off: () => undefined };

function addError(def: Record<string, unknown>): unknown {
  const s = new CheckScheduler({ inventory });
  try {
    s.add({ periodMs: 10_000, ...def } as never);
  } catch (err) {
    return err;
  }
  return undefined;
}

describe('add() - static target validation', () => {
  const bad: [string, Record<string, unknown>, string][] = [
    [
      'tcp host:port:port',
      { id: 'web', type: 'tcp', targets: ['db:5432', 'web:80:80'] },
      'checks[web].targets[1]',
    ],
    ['tcp without any port', { id: 'web', type: 'tcp', targets: 'web.internal' }, 'checks[web].targets'],
    ['tcp URL', { id: 'web', type: 'tcp', targets: 'http://web:80/' }, 'checks[web].targets'],
    [
      'tcp { host } with a bad host',
      { id: 'w', type: 'tcp', targets: [{ host: 'a b:1' }] },
      'checks[w].targets[0].host',
    ],
    [
      'http ftp: URL',
      { id: 'web', type: 'http', targets: ['ftp://files.example/'] },
      'checks[web].targets[0]',
    ],
    ['http host:port:port', { id: 'web', type: 'http', targets: 'web:80:80' }, 'checks[web].targets'],
    [
      'http host:port (port ignored without a URL)',
      { id: 'web', type: 'http', targets: 'web:8080' },
      'checks[web].targets',
    ],
    [
      'http bad url option',
      { id: 'web', type: 'http', targets: 'web', http: { url: 'web/health' } },
      'http.url',
    ],
    ['tls host:port:port', { id: 'cert', type: 'tls', targets: 'example.com:443:1' }, 'checks[cert].targets'],
    ['tls host with a space', { id: 'cert', type: 'tls', targets: 'bad host' }, 'checks[cert].targets'],
    [
      'dns server by name',
      { id: 'ns', type: 'dns', targets: 'ns1.example.com', dns: { query: 'a.example' } },
      'checks[ns].targets',
    ],
    [
      'dns server host:port',
      { id: 'ns', type: 'dns', targets: '10.0.0.53:53', dns: { query: 'a.example' } },
      'checks[ns].targets',
    ],
    ['ping host:port:port', { id: 'p', type: 'ping', targets: ['a:1:2'] }, 'checks[p].targets[0]'],
    ['ping URL', { id: 'p', type: 'ping', targets: 'https://a.example/' }, 'checks[p].targets'],
  ];
  for (const [name, def, path] of bad) {
    it(`rejects ${name} with E_VALIDATION at ${path}`, () => {
      const err = addError(def);
      expect(err).toBeInstanceOf(FleetwatchError);
      expect(err).toMatchObject({ code: 'E_VALIDATION', path });
    });
  }

  it('names the field, the check type and the target in the message', () => {
    const err = addError({ id: 'web', type: 'tcp', targets: 'web:80:80' }) as FleetwatchError;
    expect(err.message).toBe(
      'checks[web].targets: expected host:port (or set tcp.port) for a tcp check, received "web:80:80"',
    );
  });

  const good: [string, Record<string, unknown>][] = [
    ['tcp host:port', { type: 'tcp', targets: ['db:5432', '[::1]:22', '10.0.0.1:80'] }],
    ['tcp host with tcp.port', { type: 'tcp', targets: 'db.internal', tcp: { port: 5432 } }],
    ['http URL and host', { type: 'http', targets: ['https://web.example/health', 'web', '::1'] }],
    [
      'http host:port with a url option',
      { type: 'http', targets: 'web:8080', http: { url: 'http://{host}:8080/' } },
    ],
    ['tls host and host:port', { type: 'tls', targets: ['example.com', 'example.com:8443', '192.0.2.1'] }],
    ['dns server IP', { type: 'dns', targets: ['10.0.0.53', '::1'], dns: { query: 'a.example' } }],
    [
      'dns with a server option',
      { type: 'dns', targets: 'anything', dns: { query: 'a.example', server: '1.1.1.1' } },
    ],
    ['ping host and host:port', { type: 'ping', targets: ['a.example', 'a.example:22', 'localhost'] }],
    ['tag queries are not checked', { type: 'tcp', targets: 'tag:role=web' }],
  ];
  for (const [name, def] of good) {
    it(`accepts ${name}`, () => {
      const s = new CheckScheduler({ inventory });
      s.add({ id: 'ok', periodMs: 10_000, ...def } as never);
      expect(s.list()).toEqual(['ok']);
    });
  }

  it('testCheck() validates the same way', async () => {
    const s = new CheckScheduler();
    await expect(s.testCheck({ id: 'web', type: 'tcp', targets: 'web:80:80' })).rejects.toMatchObject({
      code: 'E_VALIDATION',
      path: 'checks[web].targets',
    });
  });
});

describe('isValidHost()', () => {
  it('accepts names and IPs, rejects colons, spaces and empty labels; web:80:80 is not a query', () => {
    expect(isQueryTarget('web:80:80')).toBe(false);
    expect(isQueryTarget('ip:10.0.0.0/8')).toBe(true);
    const good = ['localhost', 'a.b.example', 'a-b_c.example.', '10.0.0.1', '::1', 'fe80::1'];
    const bad = ['web:80', 'web:80:80', 'a b', 'a..b', '', '-', 'x'.repeat(64)];
    expect(good.filter((h) => !isValidHost(h))).toEqual([]);
    expect(bad.filter((h) => isValidHost(h))).toEqual([]);
  });
});
