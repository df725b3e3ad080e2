import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startAzureManagement } from './fakes/azure.js';
import { catchErr, collect } from './server.js';

describe('azure() management', () => {
  let ctx: Awaited<ReturnType<typeof startAzureManagement>>;
  beforeAll(async () => {
    ctx = await startAzureManagement();
  });
  afterAll(() => ctx.server.close());
  beforeEach(() => {
    ctx.server.requests.length = 0;
    ctx.waits.length = 0;
  });

  it('listLocations() - follows nextLink', async () => {
    expect(await collect(ctx.provider.listLocations())).toMatchObject([
      { id: 'eastus', name: 'East US' },
      { id: 'westeurope', name: 'West Europe', extra: { geography: 'Europe' } },
    ]);
  });

  it('stopNode() - powerOff, then Azure-AsyncOperation polled with Retry-After until Succeeded, then the VM', async () => {
    ctx.fake.vms.set('web', { name: 'web', power: 'running' });
    const op = await ctx.provider.stopNode('rg/web');
    const node = await op!.done();
    expect(node).toMatchObject({ state: 'stopped', rawState: 'PowerState/stopped' });
    const post = ctx.server.requests.find((r) => r.method === 'POST' && !r.url.includes('oauth2'));
    expect(post!.url).not.toContain('skipShutdown');
    expect(ctx.waits[0]).toBe(7_000);
    expect(ctx.server.requests.filter((r) => r.url.startsWith('/ops/'))).toHaveLength(2);
  });

  it('stopNode({ graceful: false }) - skipShutdown=true', async () => {
    ctx.fake.vms.set('web2', { name: 'web2', power: 'running' });
    await (await ctx.provider.stopNode('rg/web2', { graceful: false }))!.done();
    expect(ctx.server.requests.find((r) => r.method === 'POST' && !r.url.includes('oauth2'))!.url).toContain(
      'skipShutdown=true',
    );
  });

  it("rebootNode() - a Failed async operation rejects with E_PROVIDER carrying ARM's code and message", async () => {
    ctx.fake.vms.set('fail-1', { name: 'fail-1', power: 'running' });
    const err = await catchErr((await ctx.provider.rebootNode('rg/fail-1'))!.done());
    expect(err).toMatchObject({ code: 'E_PROVIDER', providerCode: 'OperationNotAllowed' });
    expect(err.message).toContain('is not allowed on VM fail-1');
    expect(JSON.stringify(err)).not.toMatch(/SECRET/);
  });

  it('startNode() - done() times out (E_TIMEOUT) and aborts (E_ABORTED); waitForState() likewise', async () => {
    ctx.fake.vms.set('slow', { name: 'slow', power: 'stopped' });
    ctx.fake.opPolls = 10_000;
    try {
      const op = await ctx.provider.startNode('rg/slow');
      expect((await catchErr(op!.done({ timeoutMs: 60_000 }))).code).toBe('E_TIMEOUT');
      const ac = new AbortController();
      ac.abort();
      expect((await catchErr(op!.done({ signal: ac.signal }))).code).toBe('E_ABORTED');
      expect(
        (await catchErr(ctx.provider.waitForState('rg/slow', ['running'], { timeoutMs: 30_000 }))).code,
      ).toBe('E_TIMEOUT');
    } finally {
      ctx.fake.opPolls = 2;
    }
  });

  it('destroyNode() - DELETE, then the Location URL until 200', async () => {
    ctx.fake.vms.set('tmp', { name: 'tmp', power: 'running' });
    await (await ctx.provider.destroyNode('rg/tmp'))!.done();
    expect(ctx.fake.vms.has('tmp')).toBe(false);
    expect(await ctx.provider.getNode('rg/tmp')).toBeUndefined();
  });
});
