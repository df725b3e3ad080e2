/**
 * Is an IP address private (not reachable from the internet)? Used to sort a provider's addresses
 * into `publicIps` and `privateIps` when the API does not say.
 */
import { isIP } from 'node:net';

const PRIVATE_V4: ReadonlyArray<readonly [base: number, bits: number]> = [
  [0x0a000000, 8], // 10.0.0.0/8
  [0xac100000, 12], // 172.16.0.0/12
  [0xc0a80000, 16], // 192.168.0.0/16
  [0x64400000, 10], // 100.64.0.0/10 (carrier-grade NAT)
  [0x7f000000, 8], // 127.0.0.0/8
  [0xa9fe0000, 16], // 169.254.0.0/16 (link-local)
];

function v4ToInt(ip: string): number {
  return ip.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

/**
 * True for RFC 1918, carrier-grade NAT, loopback and link-local IPv4, and for IPv6 loopback,
 * unique-local (fc00::/7), link-local (fe80::/10) and the old site-local (fec0::/10). False for anything else, including text that
 * is not an IP.
 */
export function isPrivateIp(ip: string): boolean {
  const kind = isIP(ip);
  if (kind === 4) {
    const n = v4ToInt(ip);
    return PRIVATE_V4.some(
      ([base, bits]) => Math.floor(n / 2 ** (32 - bits)) === Math.floor(base / 2 ** (32 - bits)),
    );
  }
  if (kind === 6) {
    const lower = ip.toLowerCase();
    if (lower === '::1') return true;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
    if (mapped) return isPrivateIp(mapped[1] as string);
    return /^f[cd]/.test(lower) || /^fe[89a-f]/.test(lower);
  }
  return false;
}
