import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpCheck } from '../../src/checks/http.js';
import { tcpCheck } from '../../src/checks/tcp.js';
import type { CheckTarget } from '../../src/checks/types.js';
import { FleetwatchError } from '../../src/errors.js';
import { PER_INPUT_BOUND_MS } from '../helpers/fuzz.js';
import { watchLoop } from '../helpers/loop-stall.js';
import { httpServer, type TestServer, tcpServer } from './servers.js';

const local: CheckTarget = { key: '127.0.0.1', host: '127.0.0.1', ip: '127.0.0.1', name: 'local' };
const MiB = 1 << 20;

let http: TestServer;
let tcp: TestServer;
beforeAll(async () => {
  const evil = (n: number) => `${'a'.repeat(n - 1)}!`;
  http = await httpServer({
    '/30': (_req, res) => res.end(evil(30)),
    '/1mib': (_req, res) => res.end(evil(MiB)),
    '/8mib': (_req, res) => {
      res.write(evil(MiB));
      // keep sending: the check must stop reading at maxBodyBytes
      const more = Buffer.alloc(64 * 1024, 97);
      let sent = 0;
      const pump = () => {
        while (sent < 8 && res.write(more)) sent++;
        if (sent < 8) res.once('drain', pump);
        else res.end();
      };
      pump();
    },
  });
  // a peer that sends its banner one byte at a time, never matching
  tcp = await tcpServer((s) => {
    let n = 0;
    const drip = () => {
      if (s.destroyed || n >= 4000) return s.end();
      s.write(n++ % 100 === 99 ? '\n' : 'a', () => setImmediate(drip));
    };
    drip();
  });
});
afterAll(async () => {
  await http?.close();
  await tcp?.close();
});

describe('http check - a hostile body', () => {
  const run = (path: string, extra: Record<string, unknown> = {}) =>
    httpCheck.run(
      httpCheck.normalize(
        { url: `http://127.0.0.1:${http.port}${path}`, bodyRegex: '(a+)+$', ...extra },
        'http',
      ),
      local,
      { timeoutMs: 10_000 },
    );

  it('`(a+)+$` on a 30-byte body stays within the time bound', async () => {
    const { value, stallMs } = await watchLoop(() => run('/30'));
    expect(value.metrics.body_match).toBe(false);
    expect(stallMs).toBeLessThan(PER_INPUT_BOUND_MS);
  });

  it('`(a+)+$` on a 1 MiB body stays within the time bound', async () => {
    // the least stall of a few runs: on a loaded machine waiting only adds time
    let least = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 3 && least >= PER_INPUT_BOUND_MS; i++) {
      const { value, stallMs } = await watchLoop(() => run('/1mib', { maxBodyBytes: MiB }));
      // the regex reads a bounded prefix (maxMatchChars, work budget): `$` is its end, before the `!`
      expect(value.metrics).toMatchObject({
        body_match: true,
        body_match_truncated: true,
        truncated: false,
        bytes: MiB,
      });
      least = Math.min(least, stallMs);
    }
    expect(least).toBeLessThan(PER_INPUT_BOUND_MS);
  });

  it('reads at most maxBodyBytes of a longer body and says so', async () => {
    const { value } = await watchLoop(() => run('/8mib', { maxBodyBytes: MiB }));
    expect(value.metrics.truncated).toBe(true);
  });

  it('maxBodyBytes is at most 1 MiB', () => {
    expect(() => httpCheck.normalize({ maxBodyBytes: MiB + 1 }, 'http')).toThrow(/http\.maxBodyBytes/);
  });

  it('rejects unsupported patterns naming the field and position', () => {
    try {
      httpCheck.normalize({ bodyMatches: { ok: 'x(?!y)' } }, 'http');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(FleetwatchError);
      expect(err).toMatchObject({ code: 'E_VALIDATION', path: 'http.bodyMatches.ok', position: 1 });
    }
  });
});

describe('tcp check - a peer dripping one byte at a time', () => {
  it('tests `expect` in linear time in all, and stays within the time bound', async () => {
    const config = tcpCheck.normalize({ port: tcp.port, expect: '^(a+)+b$', maxBytes: 1_000_000 }, 'tcp');
    const { value, stallMs } = await watchLoop(() => tcpCheck.run(config, local, { timeoutMs: 10_000 }));
    expect(value.error).toMatch(/did not match/);
    expect(value.metrics.bytes).toBe(4000);
    expect(stallMs).toBeLessThan(PER_INPUT_BOUND_MS);
  });
});
