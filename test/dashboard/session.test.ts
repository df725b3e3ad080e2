import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSRF_HEADER, createDashboard } from '../../src/dashboard/index.js';
import { api, type Fleet, startFleet, TOKEN } from './fleet.js';

let fleet: Fleet;
beforeAll(async () => {
  fleet = await startFleet({ readOnly: false });
});
afterAll(() => fleet.close());

async function session(): Promise<{ cookie: string; csrf: string }> {
  const r = await api(fleet, 'api/v1/session', { method: 'POST' });
  expect(r.res.status).toBe(200);
  const set = r.res.headers.get('set-cookie')!;
  expect(set).toMatch(/^fw_sid=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=900$/);
  return { cookie: set.split(';')[0]!, csrf: r.json().csrf };
}

const write = (
  headers: Record<string, string>,
  body: unknown = { uid: 'aws-lab:web-1', set: { owner: 'ops' } },
) =>
  api(fleet, 'api/v1/tags', {
    token: null,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

describe('sessions and CSRF', () => {
  it('POST /api/v1/session - needs the token; the cookie then authenticates reads and the stream', async () => {
    const none = await api(fleet, 'api/v1/session', { method: 'POST', token: null });
    expect(none.res.status).toBe(401);
    const { cookie } = await session();
    const r = await api(fleet, 'api/v1/summary', { token: null, headers: { cookie } });
    expect(r.res.status).toBe(200);
    const bogus = await api(fleet, 'api/v1/summary', { token: null, headers: { cookie: 'fw_sid=forged' } });
    expect(bogus.res.status).toBe(401);
  });

  it('POST /api/v1/tags - a same-origin request with the session CSRF token edits local tags', async () => {
    const { cookie, csrf } = await session();
    const host = new URL(fleet.url).host;
    const ok = await write({
      cookie,
      [CSRF_HEADER]: csrf,
      'sec-fetch-site': 'same-origin',
      origin: `http://${host}`,
    });
    expect(ok.res.status).toBe(200);
    expect(ok.json().node.localTags).toEqual({ owner: 'ops' });
    expect(fleet.inventory.get('aws-lab:web-1')?.localTags).toEqual({ owner: 'ops' });
  });

  it('POST /api/v1/tags - refused (403) without the CSRF token, cross-site, or from another origin', async () => {
    const { cookie, csrf } = await session();
    const host = new URL(fleet.url).host;
    const cases: Record<string, string>[] = [
      { cookie, 'sec-fetch-site': 'same-origin' },
      { cookie, [CSRF_HEADER]: 'guess', 'sec-fetch-site': 'same-origin' },
      { cookie, [CSRF_HEADER]: csrf, 'sec-fetch-site': 'cross-site' },
      { cookie, [CSRF_HEADER]: csrf, origin: 'http://evil.example' },
      { cookie, [CSRF_HEADER]: csrf },
    ];
    for (const headers of cases) {
      const r = await write(headers);
      expect(r.res.status, JSON.stringify(headers)).toBe(403);
      expect(r.json().error).toMatchObject({ code: 'E_AUTH', path: CSRF_HEADER });
    }
    const sameOriginHeader = await write({ cookie, [CSRF_HEADER]: csrf, origin: `http://${host}` });
    expect(sameOriginHeader.res.status).toBe(200);
  });

  it('POST /api/v1/tags - bearer clients need no CSRF token; bad bodies are 400 naming the field', async () => {
    const r = await api(fleet, 'api/v1/tags', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ uid: 'aws-lab:web-1', remove: ['owner'] }),
    });
    expect(r.res.status).toBe(200);
    expect(fleet.inventory.get('aws-lab:web-1')?.localTags).toEqual({});
    const bad = await api(fleet, 'api/v1/tags', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ uid: 'aws-lab:web-1', set: { owner: 5 } }),
    });
    expect(bad.json().error).toMatchObject({ code: 'E_VALIDATION', path: 'set.owner' });
    const missing = await api(fleet, 'api/v1/tags', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ uid: 'nope:1', set: {} }),
    });
    expect(missing.res.status).toBe(404);
    const huge = await api(fleet, 'api/v1/tags', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ uid: 'aws-lab:web-1', set: { x: 'y'.repeat(100_000) } }),
    });
    expect(huge.json().error).toMatchObject({ code: 'E_MALFORMED_REQUEST', path: 'body' });
  });

  it('createDashboard() - auth is required and checked; errors never echo the token', () => {
    const base = { inventory: fleet.inventory, scheduler: fleet.scheduler, store: fleet.store };
    expect(() => createDashboard({ ...base } as never)).toThrow(
      expect.objectContaining({ code: 'E_VALIDATION', path: 'options.auth' }),
    );
    let err: unknown;
    try {
      createDashboard({ ...base, auth: { token: 'short-secret' } });
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'E_VALIDATION', path: 'options.auth.token' });
    expect(JSON.stringify(err)).not.toContain('short-secret');
    expect(String(err)).not.toContain('short-secret');
    expect(() => createDashboard({ ...base, auth: { token: TOKEN }, basePath: '../x' })).toThrow(
      expect.objectContaining({ path: 'options.basePath' }),
    );
  });

  it('authorize(req) - the app decides; a throwing hook denies', async () => {
    const allow = createDashboard({
      inventory: fleet.inventory,
      scheduler: fleet.scheduler,
      store: fleet.store,
      auth: {
        authorize: (req) => {
          if (req.headers['x-boom']) throw new Error('hook failed');
          return req.headers['x-user'] === 'alice';
        },
      },
    });
    const { createServer } = await import('node:http');
    const server = createServer(allow);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}/api/v1/summary`;
    expect((await fetch(base, { headers: { 'x-user': 'alice' } })).status).toBe(200);
    expect((await fetch(base, { headers: { 'x-user': 'mallory' } })).status).toBe(401);
    expect((await fetch(base, { headers: { 'x-user': 'alice', 'x-boom': '1' } })).status).toBe(401);
    allow.close();
    await new Promise<void>((r) => server.close(() => r()));
  });
});
