import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ipMatcher, isCidr, isPrivateIp } from '../../src/inventory/ip.js';
import { cidrContains, ipEquals, parseCidr, parseIp } from '../helpers/ip-bytes.js';

describe('ipMatcher() - ip: terms through node:net BlockList', () => {
  it('matches IPv4 blocks and addresses like the byte-wise definition', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.ipV4(), fc.integer({ min: 0, max: 32 }), (ip, net, prefix) => {
        const cidr = `${net}/${prefix}`;
        expect(ipMatcher(cidr)!(ip)).toBe(cidrContains(parseCidr(cidr)!, parseIp(ip)!));
        expect(ipMatcher(net)!(ip)).toBe(ipEquals(parseIp(net)!, parseIp(ip)!));
      }),
      { numRuns: 2000 },
    );
  });

  it('matches IPv6 blocks and addresses, whatever the spelling, like the byte-wise definition', () => {
    fc.assert(
      fc.property(fc.ipV6(), fc.ipV6(), fc.integer({ min: 0, max: 128 }), (ip, net, prefix) => {
        const cidr = `${net}/${prefix}`;
        expect(ipMatcher(cidr)!(ip)).toBe(cidrContains(parseCidr(cidr)!, parseIp(ip)!));
        expect(ipMatcher(net)!(ip)).toBe(ipEquals(parseIp(net)!, parseIp(ip)!));
        expect(ipMatcher(ip)!(ip)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('treats spellings of one address as equal, and an IPv4-mapped address as its IPv4 address', () => {
    expect(ipMatcher('fe80::1')!('fe80:0:0::1')).toBe(true);
    expect(ipMatcher('fe80::1')!('FE80:0000::0001')).toBe(true);
    expect(ipMatcher('10.0.0.0/8')!('::ffff:10.1.2.3')).toBe(true);
    expect(ipMatcher('10.0.0.0/8')!('11.0.0.1')).toBe(false);
    expect(ipMatcher('2001:db8::/32')!('2001:db8:ffff::1')).toBe(true);
    expect(ipMatcher('2001:db8::/32')!('10.0.0.1')).toBe(false);
    expect(ipMatcher('fe80::/10')!('fe80::1%eth0')).toBe(true);
  });

  it('never matches what is not an address, and refuses terms that are neither an address nor a block', () => {
    const m = ipMatcher('0.0.0.0/0')!;
    for (const bad of [
      '',
      'a.b.c.d',
      '1.2.3',
      '01.2.3.4',
      '256.1.1.1',
      '1.2.3.4 ',
      'fe80::1::2',
      5 as unknown as string,
    ])
      expect([bad, m(bad)]).toEqual([bad, false]);
    for (const bad of [
      '10.0.0.0/33',
      '::/129',
      '10.0.0.0/',
      '10.0.0/8',
      'web-1',
      '10.0.0.0/-1',
      '1.2.3.4/08x',
    ]) {
      expect([bad, ipMatcher(bad)]).toEqual([bad, undefined]);
      expect([bad, isCidr(bad)]).toEqual([bad, false]);
    }
    expect(isCidr('10.0.0.0/8')).toBe(true);
    expect(isCidr('::/0')).toBe(true);
  });
});

describe('isPrivateIp() - the private ranges through the same BlockList', () => {
  it('agrees with the byte-wise definition of every private block, for IPv4 and IPv6', () => {
    const v4 = [
      '10.0.0.0/8',
      '172.16.0.0/12',
      '192.168.0.0/16',
      '100.64.0.0/10',
      '127.0.0.0/8',
      '169.254.0.0/16',
    ];
    // An IPv4-mapped IPv6 address is private when its IPv4 address is.
    const mapped = v4.map((b) => `::ffff:${b.split('/')[0]}/${Number(b.split('/')[1]) + 96}`);
    const blocks = [...v4, ...mapped, '::1/128', 'fc00::/7', 'fe80::/10', 'fec0::/10'].map(
      (b) => parseCidr(b)!,
    );
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), (ip) => {
        const bytes = parseIp(ip)!;
        expect([ip, isPrivateIp(ip)]).toEqual([ip, blocks.some((b) => cidrContains(b, bytes))]);
      }),
      { numRuns: 2000 },
    );
  });

  it('sees IPv4-mapped and zoned addresses by their address, and nothing else as private', () => {
    expect(isPrivateIp('::ffff:10.1.2.3')).toBe(true);
    expect(isPrivateIp('::ffff:8.8.8.8')).toBe(false);
    expect(isPrivateIp('fe80::1%eth0')).toBe(true);
    expect(isPrivateIp('FD12:3456::1')).toBe(true);
    for (const bad of ['', 'not-an-ip', '10.0.0.1/8', '010.0.0.1', 5 as unknown as string])
      expect([bad, isPrivateIp(bad)]).toEqual([bad, false]);
  });
});
