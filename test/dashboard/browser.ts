/**
 * Headless Chromium for the dashboard's browser tests (playwright-core, Debian's `chromium`): the
 * flags, a fresh profile, and a page that records dialogs, console errors, page errors and CSP
 * violations.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../helpers/chromium.js';

/** A launched browser with its own fresh profile directory. */
export interface TestBrowser {
  browser: BrowserContext;
  close(): Promise<void>;
}

/** Launch Chromium with a fresh `--user-data-dir` (a persistent context is how playwright passes one). */
export async function launch(): Promise<TestBrowser> {
  const dir = mkdtempSync(join(tmpdir(), 'fw-chromium-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 900 },
  });
  return {
    browser: context,
    async close() {
      await context.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** What a page reported while the test ran. */
export interface PageWatch {
  page: Page;
  dialogs: string[];
  consoleErrors: string[];
  pageErrors: string[];
  /** CSP violations seen by a `securitypolicyviolation` listener installed before any page script. */
  cspViolations(): Promise<string[]>;
}

/** A new page in `context` that records dialogs, console errors, page errors and CSP violations. */
export async function watchedPage(context: BrowserContext | Browser): Promise<PageWatch> {
  const page = await context.newPage();
  // a string: it runs in the page, before any of the page's scripts
  await page.addInitScript(`
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__csp.push(e.violatedDirective + ' ' + e.blockedURI);
    });
  `);
  const watch: PageWatch = {
    page,
    dialogs: [],
    consoleErrors: [],
    pageErrors: [],
    cspViolations: () => page.evaluate<string[]>('window.__csp'),
  };
  page.on('dialog', (d) => {
    watch.dialogs.push(d.message());
    void d.dismiss();
  });
  page.on('console', (m) => {
    if (m.type() === 'error') watch.consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => watch.pageErrors.push(e.message));
  return watch;
}
