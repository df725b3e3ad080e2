/**
 * The body of a GCE `instances.insert` from a checked {@link CreateRequest}: machine type, a boot
 * disk from the image, one NIC (with an external address unless `extra.externalIp` is false),
 * labels, and metadata `user-data` (cloud-init) and `ssh-keys`.
 */
import { validationError } from '../errors.js';
import type { CreateRequest } from './kit/index.js';

const LABEL_KEY = /^\p{Ll}[\p{Ll}\p{Lo}\p{N}_-]{0,62}$/u;
const LABEL_VALUE = /^[\p{Ll}\p{Lo}\p{N}_-]{0,63}$/u;

/** The `input.extra` fields GCE's `createNode` takes. */
export const GCE_CREATE_EXTRA_KEYS = [
  'sshKeys',
  'network',
  'subnetwork',
  'diskSizeGb',
  'externalIp',
  'networkTags',
];

/**
 * GCE has no key pairs: `extra.sshKeys` is written to the instance's metadata `ssh-keys`, one
 * `user:ssh-ed25519 AAAA… comment` line per key (cloud.google.com/compute/docs/connect/add-ssh-keys).
 */
export function gceInstanceBody(req: CreateRequest, zone: string): Record<string, unknown> {
  const x = req.extra;
  checkLabels(req.tags, 'input.tags');
  if (req.keyPair !== undefined)
    throw validationError(
      'input.keyPair',
      'nothing: GCE has no key pairs (use input.extra.sshKeys)',
      req.keyPair,
    );
  const sshKeys = x.sshKeys === undefined ? [] : x.sshKeys;
  if (!Array.isArray(sshKeys) || sshKeys.some((k) => typeof k !== 'string' || !/^[^:\s]+:\S+ \S+/.test(k)))
    throw validationError(
      'input.extra.sshKeys',
      'an array of "user:ssh-ed25519 AAAA… comment" lines',
      '(not shown)',
    );
  if (x.diskSizeGb !== undefined && (typeof x.diskSizeGb !== 'number' || !Number.isInteger(x.diskSizeGb)))
    throw validationError('input.extra.diskSizeGb', 'an integer', x.diskSizeGb);
  const metadata = [
    ...(req.userData === undefined ? [] : [{ key: 'user-data', value: req.userData }]),
    ...(sshKeys.length ? [{ key: 'ssh-keys', value: sshKeys.join('\n') }] : []),
  ];
  return {
    name: req.name,
    machineType: `zones/${zone}/machineTypes/${req.size}`,
    disks: [
      {
        boot: true,
        autoDelete: true,
        initializeParams: {
          sourceImage: req.image,
          ...(x.diskSizeGb === undefined ? {} : { diskSizeGb: String(x.diskSizeGb) }),
        },
      },
    ],
    networkInterfaces: [
      {
        network: typeof x.network === 'string' ? x.network : 'global/networks/default',
        ...(typeof x.subnetwork === 'string' ? { subnetwork: x.subnetwork } : {}),
        ...(x.externalIp === false
          ? {}
          : { accessConfigs: [{ type: 'ONE_TO_ONE_NAT', name: 'External NAT' }] }),
      },
    ],
    ...(Object.keys(req.tags).length ? { labels: req.tags } : {}),
    ...(Array.isArray(x.networkTags) ? { tags: { items: x.networkTags } } : {}),
    ...(metadata.length ? { metadata: { items: metadata } } : {}),
  };
}

/** Check GCE labels (lowercase keys and values, ≤ 63 characters). */
export function checkLabels(tags: Record<string, string>, path = 'tags'): Record<string, string> {
  for (const [k, v] of Object.entries(tags)) {
    if (!LABEL_KEY.test(k))
      throw validationError(
        `${path}.${k}`,
        'a GCE label key (lowercase letter first; lowercase, digits, _ -; ≤ 63)',
        k,
      );
    if (!LABEL_VALUE.test(v))
      throw validationError(`${path}.${k}`, 'a GCE label value (lowercase, digits, _ -; ≤ 63)', v);
  }
  return tags;
}
