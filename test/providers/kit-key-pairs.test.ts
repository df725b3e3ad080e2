import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { digitalocean } from '../../src/providers/digitalocean.js';
import { describeWithFixtures, fixture } from './management-fixtures.js';
import { catchErr, type ReplayServer, startReplayServer } from './server.js';

// withKeyPairs() (src/providers/kit/key-pairs.ts) through a cloud built on it, DigitalOcean, whose
// listing is the recorded list_key_pairs.json: one key, id 7717, named test1.
describeWithFixtures('withKeyPairs() deleteKeyPair() - recorded responses', () => {
  let server: ReplayServer;
  /** The listing's keys, as recorded or as a test changes them. */
  let listing: Record<string, unknown>;
  beforeAll(async () => {
    server = await startReplayServer((req) => {
      const path = new URL(req.url, 'http://x').pathname;
      if (req.method === 'GET' && path === '/v2/account/keys') return { body: listing };
      if (req.method === 'DELETE' && path === '/v2/account/keys/7717') return { status: 204 };
      return {
        status: 404,
        body: { id: 'not_found', message: 'The resource you requested could not be found.' },
      };
    });
  });
  afterAll(() => server.close());
  beforeEach(() => {
    listing = JSON.parse(fixture('digitalocean', 'list_key_pairs.json'));
    server.requests.length = 0;
  });
  const make = () =>
    digitalocean({ id: 'do', token: 't', baseUrl: `${server.url}/v2/`, http: { retryLimit: 0 } });
  const deletes = () => server.requests.filter((r) => r.method === 'DELETE').map((r) => r.url);

  it('deleteKeyPair() - looks the name up and deletes the listed key by its id', async () => {
    await make().deleteKeyPair('test1');
    expect(deletes()).toEqual(['/v2/account/keys/7717']);
  });

  it('deleteKeyPair() - a listed key without an id is E_MALFORMED_RESPONSE, and no DELETE is sent', async () => {
    const keys = listing.ssh_keys as Array<Record<string, unknown>>;
    delete keys[0]?.id;
    const err = await catchErr(make().deleteKeyPair('test1'));
    expect(err).toMatchObject({ code: 'E_MALFORMED_RESPONSE', provider: 'do' });
    expect(err.message).toContain('test1');
    // before the fix the missing id became '' and the DELETE went to the collection itself
    expect(deletes()).toEqual([]);
  });
});
