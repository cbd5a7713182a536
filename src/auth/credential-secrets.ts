/**
 * Credential secrets: generation, parsing and keyed hashing.
 *
 * - API key: `pck_<10 base32>_<43 base64url>`; 256 random bits after the public prefix
 *   `pck_<10 base32>`, which identifies the key in lists and logs.
 * - OAuth2 client: `client_id` `pcc_<10 base32>` (public) and a `client_secret` of 43 base64url
 *   characters (256 bits).
 *
 * The store keeps only HMAC-SHA-256(server key, secret): fast enough for the hot path, and useless to
 * someone who reads the database without the server key. Comparisons are constant-time.
 */

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const API_KEY_PREFIX = 'pck_';
export const CLIENT_ID_PREFIX = 'pcc_';

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';
const API_KEY_RE = /^pck_[a-z2-7]{10}_[A-Za-z0-9_-]{43}$/;
const CLIENT_ID_RE = /^pcc_[a-z2-7]{10}$/;
const CLIENT_SECRET_RE = /^[A-Za-z0-9_-]{43}$/;

function randomId(): string {
  const bytes = randomBytes(10);
  let out = '';
  for (const b of bytes) out += BASE32[b & 31];
  return out;
}

export interface GeneratedSecret {
  /** Public identifier: the API key's prefix, or the OAuth2 client_id. */
  readonly prefix: string;
  /** The secret to show once: the whole API key, or the client_secret. */
  readonly secret: string;
}

export function generateApiKey(): GeneratedSecret {
  const prefix = `${API_KEY_PREFIX}${randomId()}`;
  return { prefix, secret: `${prefix}_${randomBytes(32).toString('base64url')}` };
}

export function generateClientCredentials(): GeneratedSecret {
  return { prefix: `${CLIENT_ID_PREFIX}${randomId()}`, secret: randomBytes(32).toString('base64url') };
}

/** The public prefix of a well-formed API key, or undefined for anything else. */
export function apiKeyPrefix(key: string): string | undefined {
  return key.length === 58 && API_KEY_RE.test(key) ? key.slice(0, 14) : undefined;
}

export function isClientId(value: string): boolean {
  return CLIENT_ID_RE.test(value);
}

export function isClientSecret(value: string): boolean {
  return CLIENT_SECRET_RE.test(value);
}

/** Keyed hashing of credential secrets with the instance's server key (32+ bytes). */
export class CredentialHasher {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length < 32) throw new Error('credential hashing key must be at least 32 bytes');
    this.#key = key;
  }

  /** HMAC-SHA-256 as 64 lower-case hex characters. */
  hash(secret: string): string {
    return createHmac('sha256', this.#key).update(secret, 'utf8').digest('hex');
  }

  /** Constant-time check of a presented secret against a stored hash. */
  verify(secret: string, storedHex: string): boolean {
    const expected = Buffer.from(storedHex, 'hex');
    const actual = createHmac('sha256', this.#key).update(secret, 'utf8').digest();
    return expected.length === actual.length && timingSafeEqual(expected, actual);
  }
}
