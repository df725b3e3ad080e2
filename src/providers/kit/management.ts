import { FleetwatchError, validationError } from '../../errors.js';

/** The OpenSSH public key types clouds accept (`ssh-ed25519 AAAA… comment`). */
const PUBLIC_KEY_RE =
  /^(?:ssh-(?:rsa|dss|ed25519)|ecdsa-sha2-nistp(?:256|384|521)|sk-(?:ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com) [A-Za-z0-9+/]+={0,3}(?: [^\r\n]*)?$/;

/** Longest public key accepted (an RSA 16384-bit key is ~2.8 KiB). */
const MAX_PUBLIC_KEY_CHARS = 16_384;

/**
 * Check `importKeyPair`'s input: a non-empty `name` (at most `maxName` characters) and one
 * OpenSSH public key line. A private key is refused without echoing it.
 *
 * @example
 * ```ts
 * const { name, publicKey } = keyPairInputArg({ name: 'ops', publicKey: 'ssh-ed25519 AAAAC3Nz… ops@host' }, 255);
 * ```
 */
export function keyPairInputArg(input: unknown, maxName = 255): { name: string; publicKey: string } {
  if (typeof input !== 'object' || input === null) throw validationError('input', 'an object', input);
  const { name, publicKey } = input as { name?: unknown; publicKey?: unknown };
  if (typeof name !== 'string' || name === '' || [...name].length > maxName)
    throw validationError('input.name', `a key pair name of 1-${maxName} characters`, name);
  if (typeof publicKey !== 'string' || publicKey.includes('PRIVATE KEY'))
    throw new FleetwatchError('E_VALIDATION', 'input.publicKey: expected an OpenSSH public key line', {
      path: 'input.publicKey',
      expected: 'an OpenSSH public key line (ssh-ed25519 AAAA… comment)',
      received: typeof publicKey === 'string' ? 'not a public key' : typeof publicKey,
    });
  const line = publicKey.trim();
  if (line.length > MAX_PUBLIC_KEY_CHARS || !PUBLIC_KEY_RE.test(line))
    throw new FleetwatchError('E_VALIDATION', 'input.publicKey: expected an OpenSSH public key line', {
      path: 'input.publicKey',
      expected: 'an OpenSSH public key line (ssh-ed25519 AAAA… comment)',
      received: `${line.length} characters`,
    });
  return { name, publicKey: line };
}

/** Check a key pair name argument (`deleteKeyPair`). */
export function keyPairNameArg(name: unknown, maxName = 255): string {
  if (typeof name !== 'string' || name === '' || [...name].length > maxName)
    throw validationError('name', `a key pair name of 1-${maxName} characters`, name);
  return name;
}

/**
 * `createNode`'s `userData` (plain text) base64-encoded for the API, after checking it is a string
 * of at most `maxBytes` UTF-8 bytes (the cloud's limit before encoding).
 *
 * @example
 * ```ts
 * userDataBase64('#cloud-config\n', 16_384, 'input.userData'); // 'I2Nsb3VkLWNvbmZpZwo='
 * ```
 */
export function userDataBase64(text: unknown, maxBytes: number, path = 'input.userData'): string {
  if (typeof text !== 'string') throw validationError(path, 'a string (plain text; encoded for you)', text);
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length > maxBytes)
    throw new FleetwatchError('E_VALIDATION', `${path}: at most ${maxBytes} bytes, got ${bytes.length}`, {
      path,
      expected: `at most ${maxBytes} bytes`,
      received: `${bytes.length} bytes`,
    });
  return bytes.toString('base64');
}
