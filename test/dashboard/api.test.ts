import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CSP,
  type LatencyResponse,
  type NodesResponse,
  type SummaryResponse,
} from '../../src/dashboard/index.js';
import { api, type Fleet, HOSTILE_NAME, SECRET, startFleet, TOKEN, writeDurations } from './fleet.js';

let fleet: Fleet;
beforeAll(async () => {
  fleet = await startFleet();
});
afterAll(() => fleet.close());

describe('dashboard API', () => {
  it('GET /api/v1/nodes without credentials - 401 with E_AUTH as JSON', async () => {
    const r = await api(fleet, 'api/v1/nodes', { token: null });
    expect(r.res.status).toBe(401);
    expect(r.res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(r.json().error.code).toBe('E_AUTH');
    const wrong = await api(fleet, 'api/v1/summary', { token: `${TOKEN}x` });
    expect(wrong.res.status).toBe(401);
    expect(fleet.dash.stats().unauthorized).toBeGreaterThanOrEqual(2);
  });

  it('every response carries the CSP and nosniff', async () => {
    for (const path of ['', 'assets/app.js', 'api/v1/nodes', 'nope']) {
      const r = await api(fleet, path);
      expect(r.res.headers.get('content-security-policy')).toBe(CSP);
      expect(r.res.headers.get('x-content-type-options')).toBe('nosniff');
    }
    expect(CSP).toContain("script-src 'self'");
    expect(CSP).not.toContain('unsafe-inline');
  });

  it('GET /api/v1/nodes?q= - filters with the query language, sorts and pages', async () => {
    const all: NodesResponse = (await api(fleet, 'api/v1/nodes')).json();
    expect(all.total).toBe(5);
    expect(new Set(all.nodes.map((n) => n.provider))).toEqual(new Set(['aws-lab', 'do-lab', 'gce-lab']));
    const web: NodesResponse = (
      await api(fleet, `api/v1/nodes?q=${encodeURIComponent('tag:role=web')}&sort=name&order=desc`)
    ).json();
    expect(web.nodes.map((n) => n.name)).toEqual(['web-2', 'web-1']);
    const page: NodesResponse = (await api(fleet, 'api/v1/nodes?sort=uid&limit=2&offset=2')).json();
    expect(page.nodes.map((n) => n.uid)).toEqual(['do-lab:evil', 'do-lab:web-2']);
    expect(page.total).toBe(5);
    const hostile = all.nodes.find((n) => n.id === 'evil');
    expect(hostile?.name).toBe(HOSTILE_NAME);
  });

  it('GET /api/v1/nodes - bad input is a 400 naming the parameter', async () => {
    const bad = await api(fleet, `api/v1/nodes?q=${encodeURIComponent('tag:role=')}`);
    expect(bad.res.status).toBe(400);
    expect(bad.json().error).toMatchObject({ code: 'E_VALIDATION', path: 'q' });
    const sort = await api(fleet, 'api/v1/nodes?sort=extra');
    expect(sort.json().error).toMatchObject({ code: 'E_VALIDATION', path: 'sort' });
    const limit = await api(fleet, 'api/v1/nodes?limit=100000');
    expect(limit.json().error).toMatchObject({ code: 'E_VALIDATION', path: 'limit' });
    const long = await api(fleet, `api/v1/nodes?q=${'a'.repeat(2001)}`);
    expect(long.json().error).toMatchObject({ code: 'E_QUERY_TOO_LARGE', path: 'q' });
  });

  it('no response carries `extra` or a secret from it', async () => {
    for (const path of [
      'api/v1/nodes',
      'api/v1/summary',
      'api/v1/checks',
      'api/v1/nodes?q=provider:aws-lab',
    ]) {
      const r = await api(fleet, path);
      expect(r.res.status).toBe(200);
      expect(r.text).not.toContain(SECRET);
      expect(r.text).not.toContain('"extra"');
    }
  });

  it('GET /api/v1/summary - counts by provider, region and state', async () => {
    const s: SummaryResponse = (await api(fleet, 'api/v1/summary')).json();
    expect(s.nodes).toBe(5);
    expect(s.byState).toEqual({ running: 4, stopped: 1 });
    const aws = s.providers.find((p) => p.id === 'aws-lab');
    expect(aws).toMatchObject({ kind: 'static', nodes: 2, byRegion: { 'us-east-1': 2 }, staleNodes: 0 });
    expect(aws?.lastSuccessAt).toBeTypeOf('number');
    expect(s.readOnly).toBe(true);
  });

  it('GET /api/v1/checks - targets with their state after runs', async () => {
    await expect
      .poll(async () => (await api(fleet, 'api/v1/checks')).json().targets[0]?.state, { timeout: 5000 })
      .toBe('OK');
    const c = (await api(fleet, 'api/v1/checks?check=web-http')).json();
    expect(c.checks).toEqual(['web-http']);
    expect(c.targets[0]).toMatchObject({ checkId: 'web-http', target: 'aws-lab:web-1', name: 'web-1' });
    expect(c.targets[0].lastRun.ok).toBe(true);
    expect(c.targets[0].history[0]).toMatchObject({ previous: 'UNKNOWN' });
    expect(c.targets[0].history.at(-1)).toMatchObject({ state: 'OK' });
    const bad = await api(fleet, 'api/v1/checks?state=FINE');
    expect(bad.json().error).toMatchObject({ code: 'E_VALIDATION', path: 'state' });
  });

  it('GET /api/v1/series and /latency - store points of the check, bounded', async () => {
    await fleet.store.flush();
    await expect
      .poll(
        async () => {
          await fleet.store.flush();
          const r = (await api(fleet, 'api/v1/series?metric=check.duration&tag=check:web-http')).json();
          return r.series?.[0]?.points.length ?? 0;
        },
        { timeout: 5000 },
      )
      .toBeGreaterThan(0);
    const lat = (await api(fleet, 'api/v1/latency?check=web-http')).json();
    expect(lat).toMatchObject({ checkId: 'web-http', resolution: '5m' });
    const tooLong = await api(fleet, `api/v1/series?metric=check.duration&from=0&to=${Date.now()}`);
    expect(tooLong.json().error).toMatchObject({ code: 'E_QUERY_TOO_LARGE' });
    const badMetric = await api(fleet, 'api/v1/percentiles?metric=%3Cx%3E');
    expect(badMetric.json().error).toMatchObject({ code: 'E_VALIDATION', path: 'metric' });
  });

  it('GET /api/v1/latency - 5m rollups with p50/p99 from stored sketches', async () => {
    const slot = Math.floor((Date.now() - 900_000) / 300_000) * 300_000;
    const tags = { check: 'lat-check', target: 't1' };
    const values = Array.from({ length: 100 }, (_, i) => i + 1); // 1..100 ms
    await writeDurations(fleet, tags, slot, values);
    await fleet.store.flush();
    const lat: LatencyResponse = (
      await api(fleet, `api/v1/latency?check=lat-check&from=${slot}&to=${slot + 300_000}`)
    ).json();
    expect(lat.points).toHaveLength(1);
    const p = lat.points[0]!;
    expect(p).toMatchObject({ ts: slot, count: 100, min: 1, max: 100 });
    expect(p.mean).toBeCloseTo(50.5, 5);
    // DDSketch: within its 1% relative accuracy of the true quantiles (50, 99)
    expect(Math.abs(p.p50! - 50) / 50).toBeLessThan(0.03);
    expect(Math.abs(p.p99! - 99) / 99).toBeLessThan(0.03);
    const tooMany = await api(
      fleet,
      `api/v1/latency?check=lat-check&from=${slot - 300 * 300_000}&to=${slot}`,
    );
    expect(tooMany.json().error).toMatchObject({ code: 'E_QUERY_TOO_LARGE' });
  });

  it('unknown routes and methods - JSON errors', async () => {
    const r = await api(fleet, 'api/v1/nope');
    expect(r.res.status).toBe(404);
    expect(r.json().error.code).toBe('E_NOT_FOUND');
    const m = await api(fleet, 'api/v1/nodes', { method: 'DELETE' });
    expect(m.res.status).toBe(405);
  });

  it('POST /api/v1/tags - refused while readOnly', async () => {
    const r = await api(fleet, 'api/v1/tags', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ uid: 'aws-lab:web-1', set: { owner: 'ops' } }),
    });
    expect(r.res.status).toBe(405);
    expect(r.json().error.code).toBe('E_UNSUPPORTED');
  });

  it('the page and its assets are served without credentials, compressed, with ETags', async () => {
    const page = await fetch(fleet.url, { headers: { 'accept-encoding': 'gzip' } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<script type="module" src="./assets/app.js">');
    expect(html).not.toMatch(/<script>(?!<)/);
    const etag = page.headers.get('etag')!;
    const again = await fetch(fleet.url, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    const uplot = await fetch(new URL('assets/vendor/uPlot.iife.min.js', fleet.url));
    expect(uplot.status).toBe(200);
    expect(uplot.headers.get('content-type')).toMatch(/javascript/);
    const traversal = await fetch(new URL('assets/..%2f..%2fpackage.json', fleet.url));
    expect(traversal.status).toBe(404);
  });
});
