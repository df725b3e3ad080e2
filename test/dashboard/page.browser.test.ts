import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { chromiumMissing } from '../helpers/chromium.js';
import { describeWithService } from '../helpers/services.js';
import { launch, type PageWatch, type TestBrowser, watchedPage } from './browser.js';
import { type Fleet, HOSTILE_NAME, HOSTILE_TAG, startFleet, TOKEN } from './fleet.js';

describeWithService('dashboard page in Chromium', chromiumMissing(), () => {
  let fleet: Fleet;
  let tb: TestBrowser;
  let w: PageWatch;

  beforeAll(async () => {
    fleet = await startFleet();
    tb = await launch();
    w = await watchedPage(tb.browser);
    await w.page.goto(`${fleet.url}#token=${TOKEN}`);
    await w.page.waitForSelector('#nodes tbody tr');
  });
  afterAll(async () => {
    await tb?.close();
    await fleet?.close();
  });

  it('loads with nodes from three providers side by side, and forgets the token in the URL', async () => {
    const cards = await w.page.$$eval('#providers .card', (els) =>
      els.map((e) => e.getAttribute('data-provider')),
    );
    expect(cards).toEqual(['aws-lab', 'do-lab', 'gce-lab']);
    const providers = await w.page.$$eval('#nodes tbody tr td:nth-child(2)', (tds) =>
      tds.map((t) => t.textContent),
    );
    expect(new Set(providers)).toEqual(new Set(['aws-lab', 'do-lab', 'gce-lab']));
    expect(w.page.url()).not.toContain(TOKEN);
    await expect.poll(() => w.page.textContent('#conn')).toBe('live');
  });

  it('renders a hostile node name and tag value as text: no dialog, no console error, no CSP violation', async () => {
    const row = w.page.locator('#nodes tbody tr[data-uid="do-lab:evil"]');
    expect(await row.locator('td').first().textContent()).toBe(HOSTILE_NAME);
    expect(await row.locator('.tag', { hasText: 'note=' }).textContent()).toBe(`note=${HOSTILE_TAG}`);
    expect(await w.page.locator('main img').count()).toBe(0);
    expect(await w.page.locator('body script').count()).toBe(0);
    expect(w.dialogs).toEqual([]);
    expect(w.consoleErrors).toEqual([]);
    expect(w.pageErrors).toEqual([]);
    expect(await w.cspViolations()).toEqual([]);
  });

  it('filters the node table with a query', async () => {
    await w.page.fill('#q', 'tag:role=web');
    await w.page.click('#filter button');
    await expect
      .poll(() =>
        w.page.$$eval('#nodes tbody tr', (trs) => trs.map((t) => t.getAttribute('data-uid')).sort()),
      )
      .toEqual(['aws-lab:web-1', 'do-lab:web-2']);
    expect(await w.page.textContent('#node-total')).toBe('2 matching');
    await w.page.fill('#q', 'tag:role=');
    await w.page.click('#filter button');
    await expect.poll(() => w.page.textContent('#q-error')).toMatch(/q|query/i);
    await w.page.fill('#q', '');
    await w.page.click('#filter button');
    await expect.poll(() => w.page.textContent('#node-total')).toBe('5 matching');
    expect(await w.page.textContent('#q-error')).toBe('');
  });

  const CELL = '#checks tbody tr[data-check="web-http"]';
  const checkState = () => w.page.getAttribute(CELL, 'data-state');

  it('shows CRITICAL without a reload within 2 s of the target failing', async () => {
    await expect.poll(checkState, { timeout: 5000, interval: 50 }).toBe('OK');
    const t0 = Date.now();
    fleet.target.failing = true;
    await expect.poll(checkState, { timeout: 2000, interval: 50 }).toBe('CRITICAL');
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(await w.page.textContent(`${CELL} .state`)).toBe('CRITICAL');
    if (process.env.FLEETWATCH_UPDATE_SCREENSHOT === '1') {
      mkdirSync('docs', { recursive: true });
      await w.page.screenshot({ path: 'docs/dashboard.png', fullPage: true });
    }
  });

  it('resumes after the stream is cut, without losing the state change made meanwhile', async () => {
    await expect.poll(checkState, { timeout: 5000 }).toBe('CRITICAL');
    const before = fleet.dash.stats().lastEventId;
    // cut every connection (the page's EventSource too); it comes back after `retry` (2 s) with Last-Event-ID
    fleet.server.closeAllConnections();
    fleet.target.failing = false;
    await expect
      .poll(() => fleet.dash.stats().lastEventId, { timeout: 1500, interval: 20 })
      .toBeGreaterThan(before);
    // the change happened while the page was disconnected
    expect(await w.page.textContent('#conn')).not.toBe('live');
    expect(await checkState()).toBe('CRITICAL');
    await expect.poll(checkState, { timeout: 6000, interval: 50 }).toBe('OK');
    await expect.poll(() => w.page.textContent('#conn'), { timeout: 5000 }).toBe('live');
  });

  it('shows human units: "3 d" rather than "259197 s"', async () => {
    const out = await w.page.evaluate<string[]>(
      `import('./assets/format.js').then((m) => [m.duration(259197000), m.duration(850), m.duration(3200), m.humanText('certificate expires in 259197 s'), m.count(12345)])`,
    );
    expect(out).toEqual(['3 d', '850 ms', '3.2 s', 'certificate expires in 3 d', '12 k']);
  });

  it('without credentials: the API answers 401 and the page offers a sign-in form', async () => {
    const other = await watchedPage(await tb.browser.browser()!.newContext());
    await other.page.goto(fleet.url);
    await other.page.waitForSelector('#login:not([hidden])');
    const status = await other.page.evaluate(async () => (await fetch('./api/v1/nodes')).status);
    expect(status).toBe(401);
    await other.page.fill('#token', 'wrong-token-wrong-token');
    await other.page.click('#login button');
    await expect.poll(() => other.page.textContent('#login-error')).toBe('wrong token');
    await other.page.fill('#token', TOKEN);
    await other.page.click('#login button');
    await other.page.waitForSelector('#nodes tbody tr');
    await other.page.context().close();
  });
});
