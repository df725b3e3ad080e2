import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cidrContains, ipEquals, ipMatcher, isCidr, parseCidr, parseIp } from '../../src/inventory/ip.js';

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
