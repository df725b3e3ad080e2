import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FleetwatchError } from '../../src/errors.js';
import {
  compileQuery,
  parseQuery,
  printQuery,
  QUERY_FIELDS,
  type QueryAst,
  type QueryTarget,
} from '../../src/inventory/query.js';
import { NODE_STATES, PROVIDER_KINDS } from '../../src/providers/types.js';
import { onlyValidationErrors, querySoup } from '../helpers/query.js';
import { makeNode } from './providers.js';

const web1: QueryTarget = {
  ...makeNode('aws', 'i-1', {
    name: 'web-1',
    kind: 'ec2',
    region: 'us-east-1',
    zone: 'us-east-1a',
    size: 't3.micro',
    image: 'ami-123',
    publicIps: ['54.1.2.3'],
    privateIps: ['10.1.2.3', 'fe80::1'],
    tags: { role: 'web', env: 'prod' },
  }),
  localTags: { owner: 'ops', env: 'staging' },
  mergedTags: { role: 'web', env: 'staging', owner: 'ops' },
};
const db1: QueryTarget = makeNode('do', '42', {
  name: 'db primary',
  kind: 'digitalocean',
  state: 'stopped',
  region: 'nyc3',
  privateIps: ['192.168.0.5'],
  tags: { role: 'db', 'team name': 'données' },
});

const match = (q: string, n: QueryTarget) => compileQuery(q).matches(n);

function positionOf(q: string): number | undefined {
  try {
    parseQuery(q);
  } catch (err) {
    expect(err).toBeInstanceOf(FleetwatchError);
    expect((err as FleetwatchError).code).toBe('E_VALIDATION');
    return (err as FleetwatchError).position;
  }
  throw new Error(`expected ${q} to fail`);
}

describe('parseQuery()', () => {
  it('parses a tag term and a field term joined by and', () => {
    expect(parseQuery('tag:role=web and state:running')).toEqual({
      type: 'and',
      left: { type: 'tag', scope: 'tag', key: 'role', value: 'web' },
      right: { type: 'field', field: 'state', value: 'running' },
    });
  });

  it('gives not > and > or precedence, with implicit and between adjacent terms', () => {
    expect(parseQuery('a b or not c d')).toEqual({
      type: 'or',
      left: {
        type: 'and',
        left: { type: 'field', field: 'name', value: 'a' },
        right: { type: 'field', field: 'name', value: 'b' },
      },
      right: {
        type: 'and',
        left: { type: 'not', operand: { type: 'field', field: 'name', value: 'c' } },
        right: { type: 'field', field: 'name', value: 'd' },
      },
    });
  });

  it('parses tag existence, quoted keys and values with spaces and unicode', () => {
    expect(parseQuery('tag:"team name"="données ü"')).toEqual({
      type: 'tag',
      scope: 'tag',
      key: 'team name',
      value: 'données ü',
    });
    expect(parseQuery('localtag:owner')).toEqual({ type: 'tag', scope: 'localtag', key: 'owner' });
    expect(parseQuery('"and"')).toEqual({ type: 'field', field: 'name', value: 'and' });
    expect(parseQuery('name:"a \\"b\\" \\\\ c"')).toEqual({
      type: 'field',
      field: 'name',
      value: 'a "b" \\ c',
    });
  });

  it('treats keywords and field names case-insensitively and an empty query as all', () => {
    expect(parseQuery('NOT STATE:running')).toEqual({
      type: 'not',
      operand: { type: 'field', field: 'state', value: 'running' },
    });
    expect(parseQuery('   ')).toEqual({ type: 'all' });
  });

  it('fails with E_VALIDATION and the position of the error', () => {
    expect(positionOf('state:running and')).toBe(17);
    expect(positionOf('foo:bar')).toBe(0);
    expect(positionOf('tag:a (b')).toBe(8);
    expect(positionOf('x )')).toBe(2);
    expect(positionOf('name:"open')).toBe(5);
    expect(positionOf('state:runing')).toBe(6);
    expect(positionOf('ip:10.0.0.0/33')).toBe(3);
    expect(positionOf('tag:=x')).toBe(4);
    expect(positionOf('()')).toBe(0);
    expect(positionOf('region:')).toBe(7);
    expect(positionOf(`${'('.repeat(100)}a${')'.repeat(100)}`)).toBe(64);
  });
});

describe('printQuery()', () => {
  it('prints canonical text with the parentheses precedence needs', () => {
    expect(printQuery(parseQuery('(a or b) c'))).toBe('(name:a or name:b) and name:c');
    expect(printQuery(parseQuery('a or (b or c)'))).toBe('name:a or (name:b or name:c)');
    expect(printQuery(parseQuery('not (a and b)'))).toBe('not (name:a and name:b)');
    expect(printQuery(parseQuery('tag:"k v"=x=y'))).toBe('tag:"k v"="x=y"');
  });
});

describe('compileQuery()', () => {
  it('matches fields, wildcards and both nodes as expected', () => {
    const cases: Array<[string, boolean, boolean]> = [
      ['tag:role=web and state:running', true, false],
      ['tag:role', true, true],
      ['tag:role=w*', true, false],
      ['tag:*=db', false, true],
      ['tag:"team name"=données', false, true],
      ['provider:aws', true, false],
      ['kind:digitalocean', false, true],
      ['state:stop*', false, true],
      ['region:us-*', true, false],
      ['zone:*', true, false],
      ['size:t3.*', true, false],
      ['image:ami-123', true, false],
      ['id:42', false, true],
      ['web-*', true, false],
      ['"db primary"', false, true],
      ['db*', false, true],
      ['not provider:aws', false, true],
      ['provider:aws or provider:do', true, true],
      ['(provider:aws or provider:do) and not tag:role=db', true, false],
      ['', true, true],
    ];
    for (const [q, a, b] of cases) {
      expect([q, match(q, web1)]).toEqual([q, a]);
      expect([q, match(q, db1)]).toEqual([q, b]);
    }
  });

  it('uses merged tags for tag:, local only for localtag:, provider only for providertag:', () => {
    expect(match('tag:env=staging', web1)).toBe(true);
    expect(match('tag:env=prod', web1)).toBe(false);
    expect(match('providertag:env=prod', web1)).toBe(true);
    expect(match('localtag:owner=ops', web1)).toBe(true);
    expect(match('localtag:role', web1)).toBe(false);
    expect(match('tag:role=db', db1)).toBe(true);
    expect(match('localtag:role', db1)).toBe(false);
  });

  it('matches ip: exactly, by IPv4 and IPv6 CIDR, and by wildcard', () => {
    expect(match('ip:54.1.2.3', web1)).toBe(true);
    expect(match('ip:10.0.0.0/8', web1)).toBe(true);
    expect(match('ip:10.0.0.0/8', db1)).toBe(false);
    expect(match('ip:192.168.0.0/24', db1)).toBe(true);
    expect(match('ip:192.168.1.0/24', db1)).toBe(false);
    expect(match('ip:fe80::/10', web1)).toBe(true);
    expect(match('ip:fe80:0:0::1', web1)).toBe(true);
    expect(match('ip:fe80::2', web1)).toBe(false);
    expect(match('ip:::/0', db1)).toBe(false);
    expect(match('ip:0.0.0.0/0', db1)).toBe(true);
    expect(match('ip:192.168.*', db1)).toBe(true);
  });

  it('does not treat inherited object keys as tags', () => {
    expect(match('tag:constructor', db1)).toBe(false);
    expect(match('tag:__proto__', db1)).toBe(false);
    expect(match('tag:toString=x', db1)).toBe(false);
  });

  it('returns the same compiled object for the same text (cache)', () => {
    expect(compileQuery('tag:cached=1')).toBe(compileQuery('tag:cached=1'));
    expect(compileQuery('tag:cached=1').text).toBe('tag:cached=1');
  });
});

// ------------------------------------------------------------------------------------ properties

const text = fc.string({ unit: 'grapheme', maxLength: 8 });
const nonEmpty = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 });
const fieldTerm: fc.Arbitrary<QueryAst> = fc.oneof(
  fc.record({
    type: fc.constant('field' as const),
    field: fc.constantFrom(...QUERY_FIELDS.filter((f) => f !== 'state' && f !== 'kind' && f !== 'ip')),
    value: text,
  }),
  fc.record({
    type: fc.constant('field' as const),
    field: fc.constant('state' as const),
    value: fc.constantFrom(...NODE_STATES, 'stop*'),
  }),
  fc.record({
    type: fc.constant('field' as const),
    field: fc.constant('kind' as const),
    value: fc.constantFrom(...PROVIDER_KINDS, 'my-cloud', 'scaleway'),
  }),
  fc.record({
    type: fc.constant('field' as const),
    field: fc.constant('ip' as const),
    value: fc.constantFrom('10.0.0.0/8', '::1', 'fe80::/10', '10.*', '1.2.3.4'),
  }),
  fc.record(
    {
      type: fc.constant('tag' as const),
      scope: fc.constantFrom('tag' as const, 'localtag' as const, 'providertag' as const),
      key: nonEmpty,
      value: text,
    },
    { requiredKeys: ['type', 'scope', 'key'] },
  ),
);
const ast: fc.Arbitrary<QueryAst> = fc.letrec<{ node: QueryAst }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fieldTerm,
    fc.record({ type: fc.constant('not' as const), operand: tie('node') }),
    fc.record({ type: fc.constant('and' as const), left: tie('node'), right: tie('node') }),
    fc.record({ type: fc.constant('or' as const), left: tie('node'), right: tie('node') }),
  ),
})).node;

describe('query properties', () => {
  it('parseQuery(printQuery(ast)) gives the same AST', () => {
    fc.assert(
      fc.property(ast, (a) => {
        expect(parseQuery(printQuery(a))).toEqual(a);
      }),
      { numRuns: 500 },
    );
  });

  it('random strings never throw anything but E_VALIDATION', () => {
    fc.assert(
      fc.property(querySoup(40), (q) => {
        onlyValidationErrors(() => compileQuery(q).matches(web1), { position: true });
      }),
      { numRuns: 1000 },
    );
  });
});

describe('ip parsing', () => {
  it('ipv4ToInt() agrees with parseIp() on valid and invalid addresses', async () => {
    const { ipv4ToInt } = await import('../../src/inventory/ip.js');
    const { parseIp } = await import('../helpers/ip-bytes.js');
    expect(ipv4ToInt('10.1.2.3')).toBe(10 * 2 ** 24 + 1 * 2 ** 16 + 2 * 256 + 3);
    expect(ipv4ToInt('255.255.255.255')).toBe(2 ** 32 - 1);
    for (const bad of ['1.2.3', '1.2.3.4.5', '01.2.3.4', '256.1.1.1', '1..2.3', '', 'a.b.c.d', '1.2.3.4 ']) {
      expect([bad, ipv4ToInt(bad)]).toEqual([bad, -1]);
      expect([bad, parseIp(bad)]).toEqual([bad, undefined]);
    }
    fc.assert(
      fc.property(fc.ipV4(), (ip) => {
        const bytes = parseIp(ip)!;
        expect(ipv4ToInt(ip)).toBe(
          ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0,
        );
      }),
    );
  });

  it('CIDR matching agrees between the IPv4 fast path and the byte path', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.ipV4(), fc.integer({ min: 0, max: 32 }), (ip, net, prefix) => {
        const node = makeNode('p', '1', { privateIps: [ip] });
        const v4 = compileQuery(`ip:${net}/${prefix}`).matches(node);
        const v6 = compileQuery(`ip:"::ffff:${net}/${prefix + 96}"`).matches({
          ...node,
          privateIps: [`::ffff:${ip}`],
        });
        expect(v4).toBe(v6);
      }),
      { numRuns: 300 },
    );
  });
});
