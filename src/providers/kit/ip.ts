/**
 * Is an IP address private? The test lives with the SDK's one IP module (`inventory/ip.ts`, on
 * `node:net`'s `BlockList`); the provider kit re-exports it for the adapters.
 */
export { isPrivateIp } from '../../inventory/ip.js';
