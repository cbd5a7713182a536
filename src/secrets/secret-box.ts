/**
 * Authenticated encryption of secret configuration values at rest (AES-256-GCM).
 *
 * Wire format: `pcenc:v1:<keyId>:<base64url(iv ‖ tag ‖ ciphertext)>` with a fresh random 12-byte IV
 * per seal and a 16-byte tag. The caller's AAD names the value's place (for example
 * `service:default:billing:secretHeaders.authorization`), so a sealed value copied to another
 * field, object or tenant does not open there. The header (`pcenc:v1:<keyId>:`) is authenticated too.
 *
 * Key rotation: values are always sealed with the current key; values sealed with any configured
 * previous key still open, and {@link SecretBox.reseal} moves them to the current key.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { gatewayError, type GatewayError } from '../core/errors.js';

/** Every sealed value starts with this. */
export const SEALED_PREFIX = 'pcenc:v1:';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const PAYLOAD_PATTERN = /^[A-Za-z0-9_-]+$/;
const DECRYPT_FAILED = 'secret could not be decrypted';

/** One AES-256 key and its identifier (the identifier is written in clear into sealed values). */
export interface SecretKey {
  /** 1–64 characters of `[A-Za-z0-9_-]`, e.g. the 8-hex id from `loadMasterKey`. */
  id: string;
  /** Exactly 32 bytes. */
  key: Buffer;
}

export interface SecretBoxKeys {
  /** Seals new values; also opens them. */
  current: SecretKey;
  /** Retired keys that still open values sealed with them (rotation). */
  previous?: SecretKey[];
}

/** True when `value` is a string in the sealed wire format (by prefix; it says nothing about validity). */
export function isSealed(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(SEALED_PREFIX);
}

/** The key id a sealed value names, or `undefined` when `value` is not in the sealed format. */
export function sealedKeyId(value: string): string | undefined {
  if (!isSealed(value)) return undefined;
  const rest = value.slice(SEALED_PREFIX.length);
  const colon = rest.indexOf(':');
  return colon > 0 ? rest.slice(0, colon) : undefined;
}

function decryptFailed(): GatewayError {
  // One message for every failure (unknown key, wrong AAD, tampering, bad encoding): no oracle, no secrets.
  return gatewayError('INTERNAL', DECRYPT_FAILED);
}

function headerFor(keyId: string): string {
  return `${SEALED_PREFIX}${keyId}:`;
}

/**
 * Seals and opens secret strings. Keys are copied on construction and held in private fields, so
 * they do not show up in `util.inspect`, `JSON.stringify` or logs of the instance.
 */
export class SecretBox {
  readonly #current: SecretKey;
  readonly #keys: ReadonlyMap<string, Buffer>;

  /**
   * @throws GatewayError CONFIG_INVALID when a key is not 32 bytes, a key id is malformed, or one
   *   id is given twice with different keys. Messages name key ids, never key bytes.
   */
  constructor(keys: SecretBoxKeys) {
    const all = [keys.current, ...(keys.previous ?? [])];
    const map = new Map<string, Buffer>();
    for (const { id, key } of all) {
      if (!KEY_ID_PATTERN.test(id)) {
        throw gatewayError('CONFIG_INVALID', 'secret key id must be 1-64 characters of A-Z, a-z, 0-9, "_" or "-"');
      }
      if (!Buffer.isBuffer(key) || key.length !== KEY_BYTES) {
        throw gatewayError('CONFIG_INVALID', `secret key "${id}" must be exactly ${KEY_BYTES} bytes`);
      }
      const existing = map.get(id);
      if (existing && !existing.equals(key)) {
        throw gatewayError('CONFIG_INVALID', `secret key id "${id}" is used for two different keys`);
      }
      map.set(id, Buffer.from(key));
    }
    this.#keys = map;
    this.#current = { id: keys.current.id, key: map.get(keys.current.id) as Buffer };
  }

  /** Id of the key new values are sealed with. */
  get currentKeyId(): string {
    return this.#current.id;
  }

  /** True when this box holds a key with this id. */
  hasKey(id: string): boolean {
    return this.#keys.has(id);
  }

  /**
   * Encrypts `plaintext` (as UTF-8) bound to `aad`. Two seals of the same input differ (random IV).
   * Never throws for string input.
   */
  seal(plaintext: string, aad: string): string {
    const { id, key } = this.#current;
    const header = headerFor(id);
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(header + aad, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const payload = Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64url');
    return header + payload;
  }

  /**
   * Decrypts a value produced by {@link seal} with the same `aad`, using whichever configured key
   * (current or previous) its id names.
   *
   * @throws GatewayError INTERNAL "secret could not be decrypted" when the value is malformed,
   *   names an unknown key, was sealed for another AAD or key, or was modified. The message is the
   *   same in every case and never contains plaintext, ciphertext or key material.
   */
  open(sealed: string, aad: string): string {
    if (typeof sealed !== 'string' || !sealed.startsWith(SEALED_PREFIX)) throw decryptFailed();
    const rest = sealed.slice(SEALED_PREFIX.length);
    const colon = rest.indexOf(':');
    if (colon <= 0) throw decryptFailed();
    const keyId = rest.slice(0, colon);
    const encoded = rest.slice(colon + 1);
    const key = this.#keys.get(keyId);
    if (!key || !PAYLOAD_PATTERN.test(encoded)) throw decryptFailed();
    const payload = Buffer.from(encoded, 'base64url');
    // Canonical encoding only: every accepted string maps to exactly one byte sequence.
    if (payload.length < IV_BYTES + TAG_BYTES || payload.toString('base64url') !== encoded) throw decryptFailed();
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, payload.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(headerFor(keyId) + aad, 'utf8'));
      decipher.setAuthTag(payload.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      const plaintext = Buffer.concat([decipher.update(payload.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
      return plaintext.toString('utf8');
    } catch {
      throw decryptFailed();
    }
  }

  /**
   * Returns `sealed` re-encrypted with the current key (same AAD), or unchanged when it already
   * uses the current key.
   *
   * @throws GatewayError INTERNAL as {@link open}.
   */
  reseal(sealed: string, aad: string): string {
    const plaintext = this.open(sealed, aad);
    return sealedKeyId(sealed) === this.#current.id ? sealed : this.seal(plaintext, aad);
  }
}
