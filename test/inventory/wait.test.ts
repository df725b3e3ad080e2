import { afterEach, describe, expect, it, vi } from 'vitest';
import type { FleetwatchError } from '../../src/errors.js';
import { Inventory } from '../../src/inventory/inventory.js';
import { ArrayProvider } from './providers.js';

afterEach(() => {
  vi.useRealTimers();
});

async function rejection(p: Promise<unknown>): Promise<FleetwatchError> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: FleetwatchError) => e,
  );
}

describe('inv.waitFor()', () => {
  it('resolves with the matching nodes once every one is in the wanted states (syncing itself)', async () => {
    vi.useFakeTimers();
    const p = new ArrayProvider('p');
    p.add('1', { state: 'pending', tags: { role: 'web' } });
    p.add('2', { state: 'pending', tags: { role: 'web' } });
    p.add('3', { state: 'pending', tags: { role: 'db' } });
    const inv = new Inventory({ providers: [p] });
    let settled: string[] | undefined;
    const waiting = inv.waitFor('tag:role=web', { states: ['running'], intervalMs: 1_000 }).then((nodes) => {
      settled = nodes.map((n) => n.id);
      return settled;
    });
    await vi.advanceTimersByTimeAsync(2_500);
    expect(settled).toBeUndefined();
    p.setState('1', 'running');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(settled).toBeUndefined();
    p.setState('2', 'running');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await waiting).toEqual(['1', '2']);
    expect(p.listings).toBeGreaterThanOrEqual(4);
    await inv.close();
  });

  it('count: at least that many matching nodes in the states; count 0: none left', async () => {
    vi.useFakeTimers();
    const p = new ArrayProvider('p');
    for (const id of ['a', 'b', 'c']) p.add(id, { state: 'pending', tags: { role: 'web' } });
    const inv = new Inventory({ providers: [p] });
    await inv.sync();
    const two = inv.waitFor('tag:role=web', { states: ['running'], count: 2, intervalMs: 500 });
    p.setState('a', 'running');
    p.setState('c', 'running');
    await vi.advanceTimersByTimeAsync(600);
    expect((await two).map((n) => n.id)).toEqual(['a', 'c']);
    const gone = inv.waitFor('tag:role=web', { count: 0, intervalMs: 500 });
    for (const id of ['a', 'b', 'c']) p.delete(id);
    await vi.advanceTimersByTimeAsync(600);
    expect(await gone).toEqual([]);
    await inv.close();
  });

  it('a started inventory is only listened to: its own syncs resolve the wait', async () => {
    vi.useFakeTimers();
    const p = new ArrayProvider('p');
    p.add('1', { state: 'stopped', name: 'api-1' });
    const inv = new Inventory({ providers: [p] });
    inv.start({ intervalMs: 10_000, jitter: 0 });
    await vi.advanceTimersByTimeAsync(0);
    const listings = p.listings;
    const waiting = inv.waitFor('name:api-1', { states: ['running'], intervalMs: 100 });
    p.setState('1', 'running');
    await vi.advanceTimersByTimeAsync(5_000);
    expect(p.listings).toBe(listings); // no extra syncs from waitFor
    await vi.advanceTimersByTimeAsync(5_000);
    expect((await waiting)[0]?.state).toBe('running');
    await inv.close();
  });

  it('E_TIMEOUT, E_ABORTED, E_CLOSED and E_VALIDATION', async () => {
    vi.useFakeTimers();
    const p = new ArrayProvider('p');
    p.add('1', { state: 'pending' });
    const inv = new Inventory({ providers: [p] });
    const timeout = rejection(inv.waitFor('state:pending', { states: ['running'], timeoutMs: 3_000 }));
    await vi.advanceTimersByTimeAsync(3_000);
    expect((await timeout).code).toBe('E_TIMEOUT');
    const controller = new AbortController();
    const aborted = rejection(
      inv.waitFor('state:pending', { states: ['running'], signal: controller.signal }),
    );
    controller.abort();
    expect((await aborted).code).toBe('E_ABORTED');
    expect((await rejection(inv.waitFor('state:pending', { states: ['up' as 'running'] }))).path).toBe(
      'opts.states[0]',
    );
    expect((await rejection(inv.waitFor('tag:(', {}))).code).toBe('E_VALIDATION');
    const closing = rejection(inv.waitFor('state:pending', { states: ['running'], intervalMs: 100 }));
    await inv.close();
    await vi.advanceTimersByTimeAsync(200);
    expect((await closing).code).toBe('E_CLOSED');
  });
});
