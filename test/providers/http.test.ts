import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetwatchError } from '../../src/errors.js';
import {
  createProviderHttpClient,
  normalizeProviderHttpOptions,
  PROVIDER_SDK_VERSION,
  paginateProvider,
  parseCommonErrorBody,
  parseRetryAfterMs,
  providerRetryDelayMs,
  redactFields,
  redactHeaders,
  redactUrl,
  scrubSecrets,
  undefinedIfNotFound,
} from '../../src/providers/kit/index.js';
import { TokenCache } from '../../src/providers/kit/token.js';
import {
  catchErr,
  type ReplayResponse,
  type ReplayServer,
  recordingSleep,
  startReplayServer,
} from './server.js';

const SECRET = 'sekr3t-token-value-xyz';

describe('parseRetryAfterMs()', () => {
  it('parses delta-seconds', () => {
    expect(parseRetryAfterMs('3', 0)).toBe(3000);
    expect(parseRetryAfterMs('0', 0)).toBe(0);
    expect(parseRetryAfterMs(['2'], 0)).toBe(2000);
  });
  it('parses an HTTP date relative to now', () => {
    const now = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT');
    expect(parseRetryAfterMs('Wed, 21 Oct 2015 07:28:05 GMT', now)).toBe(5000);
    expect(parseRetryAfterMs('Wed, 21 Oct 2015 07:27:00 GMT', now)).toBe(0);
  });
  it('ignores absent or garbage values', () => {
    expect(parseRetryAfterMs(undefined, 0)).toBeUndefined();
    expect(parseRetryAfterMs('', 0)).toBeUndefined();
    expect(parseRetryAfterMs('soon', 0)).toBeUndefined();
    expect(parseRetryAfterMs('-1', 0)).toBeUndefined();
  });
});

describe('providerRetryDelayMs()', () => {
  const base = { baseDelayMs: 100, maxDelayMs: 5000 };
  it('grows exponentially with equal jitter', () => {
    expect(providerRetryDelayMs({ ...base, attempt: 1, random: 0 })).toBe(50);
    expect(providerRetryDelayMs({ ...base, attempt: 1, random: 0.999999 })).toBe(99);
    expect(providerRetryDelayMs({ ...base, attempt: 3, random: 0 })).toBe(200);
    expect(providerRetryDelayMs({ ...base, attempt: 3, random: 0.5 })).toBe(300);
  });
  it('is capped at maxDelayMs', () => {
    expect(providerRetryDelayMs({ ...base, attempt: 20, random: 0.999 })).toBeLessThanOrEqual(5000);
    expect(providerRetryDelayMs({ ...base, attempt: 20, random: 0 })).toBe(2500);
  });
  it('honours Retry-After plus jitter up to baseDelayMs, capped', () => {
    expect(providerRetryDelayMs({ ...base, attempt: 1, retryAfterMs: 2000, random: 0 })).toBe(2000);
    expect(providerRetryDelayMs({ ...base, attempt: 1, retryAfterMs: 2000, random: 0.5 })).toBe(2050);
    expect(providerRetryDelayMs({ ...base, attempt: 1, retryAfterMs: 9000, random: 0 })).toBe(5000);
    expect(providerRetryDelayMs({ ...base, attempt: 1, retryAfterMs: 0, random: 0 })).toBe(0);
  });
});

describe('redaction', () => {
  it('redactUrl() strips credentials and token-ish query params', () => {
    const out = redactUrl(
      `https://user:${SECRET}@h.example/p?access_token=${SECRET}&page=2&api_key=k1234&X-Amz-Signature=abcd`,
    );
    expect(out).not.toContain(SECRET);
    expect(out).not.toContain('user');
    expect(out).not.toContain('k1234');
    expect(out).not.toContain('abcd');
    expect(out).toContain('page=2');
  });
  it('redactHeaders() hides Authorization and tokens', () => {
    expect(redactHeaders({ Authorization: `Bearer ${SECRET}`, 'X-Auth-Token': SECRET, accept: 'a' })).toEqual(
      {
        Authorization: '[REDACTED]',
        'X-Auth-Token': '[REDACTED]',
        accept: 'a',
      },
    );
  });
  it('redactFields() hides secret body fields deeply', () => {
    expect(redactFields({ client_secret: SECRET, nested: [{ password: 'p', name: 'n' }] })).toEqual({
      client_secret: '[REDACTED]',
      nested: [{ password: '[REDACTED]', name: 'n' }],
    });
  });
  it('scrubSecrets() removes known secrets and bearer values', () => {
    expect(scrubSecrets(`bad token ${SECRET} and Bearer abc.def`, [SECRET])).toBe(
      'bad token [REDACTED] and Bearer [REDACTED]',
    );
  });
});

describe('parseCommonErrorBody()', () => {
  const res = (body: unknown) => ({ status: 400, headers: {}, url: '', body: JSON.stringify(body) });
  it('reads the usual shapes', () => {
    expect(parseCommonErrorBody(res({ error: { code: 'NotFound', message: 'm' } }))).toEqual({
      providerCode: 'NotFound',
      message: 'm',
    });
    expect(
      parseCommonErrorBody(
        res({ error: { code: 403, message: 'q', errors: [{ reason: 'rateLimitExceeded' }] } }),
      ),
    ).toEqual({ providerCode: 'rateLimitExceeded', message: 'q' });
    expect(parseCommonErrorBody(res({ id: 'not_found', message: 'gone' }))).toEqual({
      providerCode: 'not_found',
      message: 'gone',
    });
    expect(parseCommonErrorBody(res({ errors: [{ reason: 'Not found' }] }))).toEqual({
      providerCode: undefined,
      message: 'Not found',
    });
    expect(parseCommonErrorBody(res({ itemNotFound: { message: 'x', code: 404 } }))).toEqual({
      providerCode: 'itemNotFound',
      message: 'x',
    });
    expect(parseCommonErrorBody({ status: 500, headers: {}, url: '', body: '<html>' })).toBeUndefined();
  });
});

describe('normalizeProviderHttpOptions()', () => {
  it('applies defaults', () => {
    const o = normalizeProviderHttpOptions();
    expect(o.timeoutMs).toBe(30_000);
    expect(o.retryLimit).toBe(4);
    expect(o.userAgent).toBe(`fleetwatch/${PROVIDER_SDK_VERSION}`);
    expect(Object.isFrozen(o)).toBe(true);
  });
  it('rejects bad and unknown fields with a path', () => {
    expect(() => normalizeProviderHttpOptions({ retryLimit: -1 })).toThrow(
      expect.objectContaining({ code: 'E_VALIDATION', path: 'options.http.retryLimit' }),
    );
    expect(() => normalizeProviderHttpOptions({ retries: 1 } as never)).toThrow(
      expect.objectContaining({ path: 'options.http.retries' }),
    );
    expect(() => normalizeProviderHttpOptions({ got: { hooks: {} } as never })).toThrow(
      expect.objectContaining({ path: 'options.http.got.hooks' }),
    );
  });
  it('keeps the SDK version equal to package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    expect(PROVIDER_SDK_VERSION).toBe(pkg.version);
  });
});

describe('createProviderHttpClient()', () => {
  let server: ReplayServer;
  let script: ReplayResponse[] = [];
  beforeAll(async () => {
    server = await startReplayServer((req) => {
      if (req.url.includes('/echo'))
        return {
          body: { ua: req.headers['user-agent'], auth: req.headers.authorization ?? null, body: req.body },
        };
      return script.shift() ?? { status: 500, body: { message: 'script empty' } };
    });
  });
  afterAll(() => server.close());

  const make = (extra: Partial<Parameters<typeof createProviderHttpClient>[0]> = {}) => {
    const s = recordingSleep();
    const client = createProviderHttpClient({
      provider: 'p1',
      baseUrl: `${server.url}/v2`,
      authorize: ({ headers }) => {
        headers.authorization = `Bearer ${SECRET}`;
      },
      secrets: () => [SECRET],
      http: { sleep: s.sleep, retryLimit: 3, baseDelayMs: 10, random: () => 0 },
      ...extra,
    });
    return { client, waits: s.waits };
  };

  it('request() - sends user agent, auth and JSON body', async () => {
    const { client } = make();
    const out = await client.json<{ ua: string; auth: string; body: string }>({
      method: 'POST',
      url: '/echo',
      json: { a: 'é' },
    });
    expect(out.ua).toBe(`fleetwatch/${PROVIDER_SDK_VERSION}`);
    expect(out.auth).toBe(`Bearer ${SECRET}`);
    expect(JSON.parse(out.body)).toEqual({ a: 'é' });
  });

  it('request() - a failure of authorize (a token that cannot be fetched) is not retried', async () => {
    let calls = 0;
    const denied = new FleetwatchError('E_AUTH', 'token endpoint said invalid_grant');
    const { client, waits } = make({
      authorize: () => {
        calls++;
        throw denied;
      },
    });
    script = [{ body: { ok: true } }];
    const before = server.requests.length;
    await expect(client.json({ url: 'x' })).rejects.toBe(denied);
    expect(calls).toBe(1);
    expect(waits).toEqual([]);
    expect(server.requests.length).toBe(before);
  });

  it('request() - retries 429 honouring Retry-After, then succeeds', async () => {
    const { client, waits } = make();
    script = [
      {
        status: 429,
        headers: { 'retry-after': '1' },
        body: { id: 'too_many_requests', message: 'slow down' },
      },
      { status: 429, headers: { 'retry-after': '0' }, body: {} },
      { body: { ok: true } },
    ];
    expect(await client.json({ url: 'x' })).toEqual({ ok: true });
    expect(waits).toEqual([1000, 0]);
    expect(client.stats).toEqual({ requests: 3, retries: 2 });
  });

  it('request() - gives up with E_RATE_LIMIT and retryAfterMs when retries run out', async () => {
    const { client, waits } = make();
    script = Array.from({ length: 4 }, () => ({
      status: 429,
      headers: { 'retry-after': '2' },
      body: { message: `no ${SECRET}` },
    }));
    const err = await catchErr(client.request({ url: 'x' }));
    expect(err.code).toBe('E_RATE_LIMIT');
    expect(err.retryAfterMs).toBe(2000);
    expect(err.status).toBe(429);
    expect(waits).toHaveLength(3);
    expect(err.message).not.toContain(SECRET);
    expect(JSON.stringify(err)).not.toContain(SECRET);
  });

  it('request() - does not wait for a Retry-After beyond maxDelayMs', async () => {
    const { client, waits } = make({ http: { sleep: recordingSleep().sleep, maxDelayMs: 1000 } });
    script = [{ status: 429, headers: { 'retry-after': '3600' }, body: {} }];
    const err = await catchErr(client.request({ url: 'x' }));
    expect(err.code).toBe('E_RATE_LIMIT');
    expect(err.retryAfterMs).toBe(3_600_000);
    expect(waits).toHaveLength(0);
  });

  it('request() - stops when the retry budget is spent', async () => {
    const s = recordingSleep();
    const { client } = make({
      http: { sleep: s.sleep, retryLimit: 10, retryBudgetMs: 1500, random: () => 0 },
    });
    script = Array.from({ length: 5 }, () => ({ status: 429, headers: { 'retry-after': '1' }, body: {} }));
    const err = await catchErr(client.request({ url: 'x' }));
    expect(err.code).toBe('E_RATE_LIMIT');
    expect(s.waits).toEqual([1000]);
    script = [];
  });

  it('request() - uses the provider throttle hook (GCE 403 rateLimitExceeded)', async () => {
    const { client, waits } = make({
      isThrottle: (res, info) =>
        res.status === 429 || (res.status === 403 && info?.providerCode === 'rateLimitExceeded'),
    });
    script = [
      {
        status: 403,
        body: {
          error: { code: 403, message: 'Rate Limit Exceeded', errors: [{ reason: 'rateLimitExceeded' }] },
        },
      },
      { body: { ok: 1 } },
    ];
    expect(await client.json({ url: 'x' })).toEqual({ ok: 1 });
    expect(waits).toHaveLength(1);
    script = [
      {
        status: 403,
        body: { error: { code: 403, message: 'forbidden', errors: [{ reason: 'forbidden' }] } },
      },
    ];
    expect((await catchErr(client.request({ url: 'x' }))).code).toBe('E_AUTH');
  });

  it('request() - retries 5xx on GET but not on POST', async () => {
    const { client } = make();
    script = [{ status: 502, body: 'bad gateway' }, { body: { ok: 2 } }];
    expect(await client.json({ url: 'x' })).toEqual({ ok: 2 });
    script = [{ status: 500, body: { id: 'server_error', message: 'boom' } }, { body: { ok: 3 } }];
    const err = await catchErr(client.request({ method: 'POST', url: 'x', json: {} }));
    expect(err.code).toBe('E_PROVIDER');
    expect(err.providerCode).toBe('server_error');
    script = [];
  });

  it('request() - maps 401, 404 and provider error codes', async () => {
    const { client } = make();
    script = [{ status: 401, body: { id: 'unauthorized', message: `Unable to authenticate you ${SECRET}` } }];
    const auth = await catchErr(client.request({ url: `x?token=${SECRET}` }));
    expect(auth).toBeInstanceOf(FleetwatchError);
    expect(auth.code).toBe('E_AUTH');
    expect(auth.provider).toBe('p1');
    expect(auth.message).not.toContain(SECRET);
    expect(JSON.stringify(auth)).not.toContain(SECRET);
    script = [
      {
        status: 404,
        body: { id: 'not_found', message: 'The resource you were accessing could not be found.' },
      },
    ];
    expect(await undefinedIfNotFound(client.request({ url: 'x' }))).toBeUndefined();
    script = [{ status: 422, body: { id: 'unprocessable_entity', message: 'bad size' } }];
    const p = await catchErr(client.request({ url: 'x' }));
    expect(p.code).toBe('E_PROVIDER');
    expect(p.providerCode).toBe('unprocessable_entity');
    expect(p.message).toContain('bad size');
  });

  it('request() - lets parseError force a code', async () => {
    const { client } = make({ parseError: () => ({ providerCode: 'AuthFailure', code: 'E_AUTH' }) });
    script = [{ status: 400, body: '<Response/>' }];
    const err = await catchErr(client.request({ url: 'x' }));
    expect(err.code).toBe('E_AUTH');
    expect(err.providerCode).toBe('AuthFailure');
  });

  it('request() - refreshes the token once on 401', async () => {
    let n = 0;
    const tokens = new TokenCache({ fetch: async () => ({ value: `tok-${++n}` }) });
    const client = createProviderHttpClient({
      provider: 'p1',
      baseUrl: server.url,
      authorize: async ({ headers }) => {
        headers.authorization = `Bearer ${await tokens.get()}`;
      },
      onUnauthorized: () => {
        tokens.invalidate();
        return true;
      },
      http: { sleep: recordingSleep().sleep },
    });
    const out = await client.json<{ auth: string }>({ url: 'echo' });
    expect(out.auth).toBe('Bearer tok-1');
    script = [{ status: 401, body: {} }, { body: { ok: 4 } }];
    expect(await client.json({ url: 'x' })).toEqual({ ok: 4 });
    expect(tokens.fetches).toBe(2);
    script = [
      { status: 401, body: {} },
      { status: 401, body: {} },
    ];
    expect((await catchErr(client.request({ url: 'x' }))).code).toBe('E_AUTH');
    expect(tokens.fetches).toBe(3);
  });

  it('json() - bad JSON and truncated bodies are E_MALFORMED_RESPONSE', async () => {
    const { client } = make();
    script = [{ body: '{"droplets": [' }];
    expect((await catchErr(client.json({ url: 'x' }))).code).toBe('E_MALFORMED_RESPONSE');
    script = Array.from({ length: 4 }, () => ({
      body: { droplets: [{ name: 'a'.repeat(200) }] },
      truncate: true,
    }));
    expect((await catchErr(client.json({ url: 'x' }))).code).toBe('E_MALFORMED_RESPONSE');
    script = [];
  });

  it('request() - connection refused is E_NETWORK; a slow server is E_TIMEOUT', async () => {
    const dead = createProviderHttpClient({
      provider: 'p1',
      baseUrl: 'http://127.0.0.1:1',
      http: { retryLimit: 0 },
    });
    expect((await catchErr(dead.request({ url: 'x' }))).code).toBe('E_NETWORK');
    const slow = await startReplayServer(() => new Promise((r) => setTimeout(() => r({ body: {} }), 300)));
    try {
      const c = createProviderHttpClient({
        provider: 'p1',
        baseUrl: slow.url,
        http: { retryLimit: 0, timeoutMs: 50 },
      });
      expect((await catchErr(c.request({ url: 'x' }))).code).toBe('E_TIMEOUT');
    } finally {
      await slow.close();
    }
  });

  it('request() - honours an aborted signal', async () => {
    const { client } = make();
    const ac = new AbortController();
    ac.abort();
    expect((await catchErr(client.request({ url: 'x', signal: ac.signal }))).code).toBe('E_ABORTED');
  });

  it('request() - an abort during a request or a backoff wait rejects with E_ABORTED', async () => {
    const slow = await startReplayServer(
      () => new Promise((r) => setTimeout(() => r({ body: {} }), 2000).unref()),
    );
    try {
      const c = createProviderHttpClient({ provider: 'p1', baseUrl: slow.url });
      const ac = new AbortController();
      const p = c.request({ url: 'x', signal: ac.signal });
      setTimeout(() => ac.abort(), 20).unref();
      expect((await catchErr(p)).code).toBe('E_ABORTED');
    } finally {
      await slow.close();
    }
    // The default sleep: a 1 s Retry-After wait, aborted after 30 ms.
    const ac = new AbortController();
    const { client } = make({ http: { retryLimit: 3, random: () => 0 } });
    script = [{ status: 429, headers: { 'retry-after': '1' }, body: {} }];
    const pending = client.request({ url: 'x', signal: ac.signal });
    setTimeout(() => ac.abort(), 30).unref();
    expect((await catchErr(pending)).code).toBe('E_ABORTED');
    script = [];
  });

  it('request() - logs carry the redacted URL and never a secret', async () => {
    const lines: string[] = [];
    const log = (obj: Record<string, unknown>, msg?: string) => lines.push(`${msg} ${JSON.stringify(obj)}`);
    const { client } = make({ logger: { debug: log, info: log, warn: log, error: log } });
    script = [{ status: 503, body: { message: SECRET } }, { body: { ok: 5 } }];
    expect(await client.json({ url: `x?api_key=${SECRET}&page=2` })).toEqual({ ok: 5 });
    expect(lines.some((l) => l.includes('provider request retry'))).toBe(true);
    expect(lines.some((l) => l.includes('page=2'))).toBe(true);
    expect(lines.join('\n')).not.toContain(SECRET);
  });

  it('resolveLink() - refuses links to another origin', () => {
    const { client } = make();
    expect(client.resolveLink(`${server.url}/v2/droplets?page=2`)).toBe(`${server.url}/v2/droplets?page=2`);
    expect(client.resolveLink('droplets?page=3')).toBe(`${server.url}/v2/droplets?page=3`);
    expect(() => client.resolveLink('https://evil.example/v2')).toThrow(
      expect.objectContaining({ code: 'E_PROVIDER' }),
    );
  });
});

describe('paginateProvider()', () => {
  const collect = async <T>(it: AsyncIterable<T[]>) => {
    const out: T[][] = [];
    for await (const p of it) out.push(p);
    return out;
  };
  it('follows cursors to the end', async () => {
    const pages: Record<string, { items: number[]; next?: string }> = {
      start: { items: [1, 2], next: 'b' },
      b: { items: [], next: 'c' },
      c: { items: [3] },
    };
    const seen: Array<{ page: number; nodes: number }> = [];
    const out = await collect(
      paginateProvider(async (cur) => pages[cur ?? 'start']!, { provider: 'p', onPage: (i) => seen.push(i) }),
    );
    expect(out).toEqual([[1, 2], [], [3]]);
    expect(seen).toEqual([
      { page: 1, items: 2, nodes: 2 },
      { page: 2, items: 0, nodes: 0 },
      { page: 3, items: 1, nodes: 1 },
    ]);
  });
  it('raises E_PROVIDER on a repeated cursor instead of looping', async () => {
    const next = ['a', 'b', 'a'];
    let i = 0;
    const err = await catchErr(
      collect(paginateProvider(async () => ({ items: [i], next: next[i++] }), { provider: 'p' })),
    );
    expect(err.code).toBe('E_PROVIDER');
    expect(err.providerCode).toBe('PAGINATION_LOOP');
    expect(i).toBe(3);
  });
  it('raises E_PROVIDER past maxPages instead of truncating', async () => {
    let i = 0;
    const err = await catchErr(
      collect(
        paginateProvider(async () => ({ items: [i], next: `n${++i}` }), { provider: 'p', maxPages: 5 }),
      ),
    );
    expect(err.code).toBe('E_PROVIDER');
    expect(err.providerCode).toBe('PAGE_LIMIT');
    expect(i).toBe(5);
  });
});

describe('TokenCache', () => {
  it('caches, refreshes before expiry and dedupes concurrent fetches', async () => {
    let now = 0;
    let n = 0;
    const cache = new TokenCache({
      clock: { now: () => now },
      refreshBeforeMs: 1000,
      fetch: async () => ({ value: `t${++n}`, expiresAtMs: now + 10_000 }),
    });
    expect(await Promise.all([cache.get(), cache.get()])).toEqual(['t1', 't1']);
    now = 8999;
    expect(await cache.get()).toBe('t1');
    now = 9000;
    expect(await cache.get()).toBe('t2');
    cache.invalidate();
    expect(await cache.get()).toBe('t3');
    expect(cache.fetches).toBe(3);
    expect(JSON.stringify(cache)).not.toContain('t3');
  });
  it('does not cache a failed fetch', async () => {
    let n = 0;
    const cache = new TokenCache({
      fetch: async () => {
        if (++n === 1) throw new Error('down');
        return { value: 'ok' };
      },
    });
    await expect(cache.get()).rejects.toThrow('down');
    expect(await cache.get()).toBe('ok');
  });
});
