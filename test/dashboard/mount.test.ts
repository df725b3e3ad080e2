import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDashboard, type Dashboard } from '../../src/dashboard/index.js';
import { type Fleet, startFleet, TOKEN } from './fleet.js';
import { openStream } from './sse-client.js';

let fleet: Fleet;
beforeAll(async () => {
  fleet = await startFleet();
});
afterAll(() => fleet.close());

const auth = { authorization: `Bearer ${TOKEN}` };
const newDash = (basePath?: string): Dashboard =>
  createDashboard({
    inventory: fleet.inventory,
    scheduler: fleet.scheduler,
    store: fleet.store,
    auth: { token: TOKEN },
    ...(basePath ? { basePath } : {}),
  });

/** The same checks for every way of mounting at /fw. */
async function checkMounted(origin: string): Promise<void> {
  const bare = await fetch(`${origin}/fw`, { redirect: 'manual' });
  expect(bare.status).toBe(308);
  expect(bare.headers.get('location')).toBe('/fw/');
  const page = await fetch(`${origin}/fw/`);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('./assets/app.js');
  expect((await fetch(`${origin}/fw/assets/app.js`)).status).toBe(200);
  const nodes = await fetch(`${origin}/fw/api/v1/nodes?q=${encodeURIComponent('provider:gce-lab')}`, {
    headers: auth,
  });
  expect(nodes.status).toBe(200);
  expect(((await nodes.json()) as { total: number }).total).toBe(1);
  expect((await fetch(`${origin}/fw/api/v1/nodes`)).status).toBe(401);
  const session = await fetch(`${origin}/fw/api/v1/session`, { method: 'POST', headers: auth });
  expect(session.headers.get('set-cookie')).toContain('Path=/fw/;');
  const s = await openStream(`${origin}/fw/`);
  expect(s.res.statusCode).toBe(200);
  await fleet.inventory.setTags('gce-lab:batch-1', { mounted: origin });
  await s.waitFor((f) => f.event === 'node' && JSON.parse(f.data).node.localTags.mounted === origin);
  s.close();
}

describe('mounting', () => {
  it('http.createServer with basePath', async () => {
    const dash = newDash('/fw');
    const server = createServer(dash);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    await checkMounted(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    dash.close();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('Express 5: app.use("/fw", dash), behind express.json()', async () => {
    const dash = newDash();
    const app = express();
    app.use(express.json());
    app.use('/fw', dash);
    const server = app.listen(0, '127.0.0.1');
    await new Promise<void>((r) => server.once('listening', r));
    await checkMounted(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    dash.close();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('Fastify 5: routes that hand the raw request over (reply.hijack) with basePath', async () => {
    const dash = newDash('/fw');
    const app = Fastify();
    app.addHook('preClose', (done) => {
      dash.close();
      done();
    });
    await app.register(async (f) => {
      f.removeAllContentTypeParsers();
      f.addContentTypeParser('*', (_req, _payload, done) => done(null));
      const route = (
        req: { raw: import('node:http').IncomingMessage },
        reply: { hijack(): void; raw: import('node:http').ServerResponse },
      ) => {
        reply.hijack();
        dash(req.raw, reply.raw);
      };
      f.all('/fw', route);
      f.all('/fw/*', route);
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    await checkMounted(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}`);
    await app.close();
  });
});
