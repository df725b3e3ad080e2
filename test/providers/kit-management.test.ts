import { describe, expect, it } from 'vitest';
import {
  createInputArg,
  followedBy,
  gracefulStopOperation,
  imagesOptionsArg,
  itemsFromPages,
  keyPairInputArg,
  pollingOperation,
  stopOptionsArg,
} from '../../src/providers/kit/index.js';
import type { Node, Operation } from '../../src/providers/types.js';
import { catchErr, collect } from './server.js';

/** A clock that only moves when the test's sleep is called. */
function manualTime() {
  let now = 1_000_000;
  return {
    clock: { now: () => now },
    sleep: async (ms: number) => {
      now += ms;
    },
    advance: (ms: number) => {
      now += ms;
    },
  };
}

const node = (state: Node['state']): Node => ({
  uid: 'p:1',
  id: '1',
  name: 'n',
  provider: 'p',
  kind: 'test',
  state,
  rawState: state,
  publicIps: [],
  privateIps: [],
  tags: {},
  extra: {},
});

describe('itemsFromPages()', () => {
  it('follows cursors, reports items per page and translates (skipping undefined)', async () => {
    const pages: Record<string, { items: number[]; next?: string }> = {
      first: { items: [1, 2], next: 'b' },
      b: { items: [3, 4], next: 'c' },
      c: { items: [5] },
    };
    const seen: Array<{ page: number; items: number }> = [];
    const out = await collect(
      itemsFromPages(
        async (cursor) => pages[cursor ?? 'first']!,
        (n) => (n % 2 === 0 ? undefined : `#${n}`),
        { provider: 'p', onPage: ({ page, items }) => seen.push({ page, items }) },
      ),
    );
    expect(out).toEqual(['#1', '#3', '#5']);
    // onPage counts the items yielded (the ones the translation skips are not reported)
    expect(seen).toEqual([
      { page: 1, items: 1 },
      { page: 2, items: 1 },
      { page: 3, items: 1 },
    ]);
  });

  it('refuses a repeated cursor with E_PROVIDER PAGINATION_LOOP', async () => {
    const err = await catchErr(
      collect(
        itemsFromPages(
          async () => ({ items: [1], next: 'same' }),
          (n) => n,
          { provider: 'p' },
        ),
      ),
    );
    expect(err.code).toBe('E_PROVIDER');
    expect(err.providerCode).toBe('PAGINATION_LOOP');
  });
});

describe('gracefulStopOperation()', () => {
  it('waits for the graceful stop while the grace lasts, then powers off once', async () => {
    const t = manualTime();
    let hardCalls = 0;
    const graceful = pollingOperation<Node>({
      id: 'n1',
      action: 'stop',
      provider: 'p',
      sleep: t.sleep,
      clock: t.clock,
      intervalMs: 1_000,
      poll: async () => ({ done: false }),
    });
    const op = gracefulStopOperation({
      graceful,
      graceMs: 10_000,
      clock: t.clock,
      hard: async () => {
        hardCalls++;
        return { id: 'n1', action: 'stop', done: async () => node('stopped') };
      },
    });
    const result = await op.done({ timeoutMs: 60_000 });
    expect(result.state).toBe('stopped');
    expect(hardCalls).toBe(1);
    await op.done();
    expect(hardCalls).toBe(1);
  });

  it('does not power off when the caller times out before the grace ends', async () => {
    const t = manualTime();
    let hardCalls = 0;
    const op = gracefulStopOperation({
      graceful: pollingOperation<Node>({
        id: 'n1',
        action: 'stop',
        provider: 'p',
        sleep: t.sleep,
        clock: t.clock,
        poll: async () => ({ done: false }),
      }),
      graceMs: 60_000,
      clock: t.clock,
      hard: async () => {
        hardCalls++;
        return { id: 'n1', action: 'stop', done: async () => node('stopped') };
      },
    });
    const err = await catchErr(op.done({ timeoutMs: 5_000 }));
    expect(err.code).toBe('E_TIMEOUT');
    expect(hardCalls).toBe(0);
  });

  it('returns the graceful result without a power-off when the node stops in time', async () => {
    const t = manualTime();
    const op = gracefulStopOperation({
      graceful: { id: 'n1', action: 'stop', done: async () => node('stopped') },
      graceMs: 1_000,
      clock: t.clock,
      hard: async () => {
        throw new Error('must not be called');
      },
    });
    expect((await op.done()).state).toBe('stopped');
  });
});

describe('followedBy()', () => {
  it('gives the second step only what is left of the timeout', async () => {
    const t = manualTime();
    const first: Operation<number> = {
      id: 'op-1',
      action: 'start',
      done: async () => {
        t.advance(4_000);
        return 7;
      },
    };
    let given: number | undefined;
    const op = followedBy(
      first,
      'start',
      async (v, wait) => {
        given = wait.timeoutMs;
        return v * 2;
      },
      t.clock,
    );
    expect(await op.done({ timeoutMs: 10_000 })).toBe(14);
    expect(given).toBe(6_000);
    t.advance(0);
    const late = followedBy(
      {
        ...first,
        done: async () => {
          t.advance(20_000);
          return 1;
        },
      },
      'start',
      async () => 0,
      t.clock,
    );
    expect((await catchErr(late.done({ timeoutMs: 10_000 }))).code).toBe('E_TIMEOUT');
  });
});

describe('management arguments', () => {
  it('stopOptionsArg() - graceful by default, 60 s grace; bad values are E_VALIDATION naming the field', () => {
    expect(stopOptionsArg(undefined)).toEqual({ graceful: true, graceMs: 60_000 });
    expect(stopOptionsArg({ graceful: false, timeoutMs: 5 })).toEqual({ graceful: false, graceMs: 5 });
    expect(() => stopOptionsArg({ graceful: 'yes' as unknown as boolean })).toThrow(
      expect.objectContaining({ code: 'E_VALIDATION', path: 'opts.graceful' }),
    );
    expect(() => stopOptionsArg({ timeoutMs: -1 })).toThrow(
      expect.objectContaining({ path: 'opts.timeoutMs' }),
    );
  });

  it('createInputArg() - location falls back to the deprecated region; image required unless said', () => {
    const rules = { cloud: 'Test', extraKeys: ['vpc'] };
    expect(createInputArg({ name: 'a', size: 's', image: 'i', region: 'r1' }, rules)).toEqual({
      name: 'a',
      size: 's',
      image: 'i',
      location: 'r1',
      tags: {},
      extra: {},
    });
    expect(() => createInputArg({ name: 'a', size: 's', location: 'l' }, rules)).toThrow(
      expect.objectContaining({ path: 'input.image' }),
    );
    expect(
      createInputArg({ name: 'a', size: 's', location: 'l' }, { ...rules, imageRequired: false }).image,
    ).toBe(undefined);
    expect(() =>
      createInputArg({ name: 'a', size: 's', image: 'i', location: 'l', extra: { other: 1 } }, rules),
    ).toThrow(expect.objectContaining({ path: 'input.extra.other' }));
    expect(() =>
      createInputArg(
        { name: 'a', size: 's', image: 'i', location: 'l', userData: 5 as unknown as string },
        rules,
      ),
    ).toThrow(expect.objectContaining({ path: 'input.userData' }));
  });

  it('imagesOptionsArg() - owner self by default; an unknown filter is refused, never ignored', () => {
    expect(imagesOptionsArg(undefined, []).owner).toBe('self');
    expect(imagesOptionsArg({ owner: 'public', filters: { type: 'x' } }, ['type']).filters).toEqual({
      type: 'x',
    });
    expect(() => imagesOptionsArg({ filters: { nope: 'x' } }, ['type'])).toThrow(
      expect.objectContaining({ code: 'E_VALIDATION', path: 'opts.filters.nope' }),
    );
    expect(() => imagesOptionsArg({ owner: 'mine' as 'self' }, [])).toThrow(
      expect.objectContaining({ path: 'opts.owner' }),
    );
  });

  it('keyPairInputArg() - takes an OpenSSH public key line, refuses a private key', () => {
    expect(keyPairInputArg({ name: 'ops', publicKey: 'ssh-ed25519 AAAAC3Nza ops@host\n' })).toEqual({
      name: 'ops',
      publicKey: 'ssh-ed25519 AAAAC3Nza ops@host',
    });
    const err = (() => {
      try {
        keyPairInputArg({ name: 'ops', publicKey: '-----BEGIN OPENSSH PRIVATE KEY-----\nabc' });
      } catch (e) {
        return e as { code: string; message: string };
      }
    })();
    expect(err?.code).toBe('E_VALIDATION');
    expect(err?.message).not.toContain('BEGIN');
  });
});
