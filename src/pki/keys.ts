/**
 * Key-pair and PEM helpers shared by the PKI code (dev CA today, the built-in CA later).
 *
 * All signing goes through Node's WebCrypto. Private keys are stored as PKCS#8 PEM
 * (`-----BEGIN PRIVATE KEY-----`), public keys as SPKI PEM (`-----BEGIN PUBLIC KEY-----`).
 * Supported key types: ECDSA P-256 / P-384 and RSA ≥ 2048 bits, both generated ({@link KeyType})
 * and imported. RSA keys sign with RSASSA-PKCS1-v1_5 / SHA-256.
 */
import { x509 } from './x509.js';
import { X509Certificate as NodeX509Certificate, createPrivateKey, createPublicKey, randomBytes, webcrypto, type KeyObject } from 'node:crypto';
import { gatewayError } from '../core/errors.js';

export type CryptoKey = webcrypto.CryptoKey;
export type CryptoKeyPair = webcrypto.CryptoKeyPair;

/** Curves this module can generate keys on. */
export type EcCurve = 'P-256' | 'P-384';

/** A private key ready for signing, with the signature algorithm that matches it. */
export interface SigningKey {
  privateKey: CryptoKey;
  /** WebCrypto signing parameters, e.g. `{ name: 'ECDSA', hash: 'SHA-256' }`. */
  algorithm: { name: string; hash: string };
}

/**
 * Returns Node's WebCrypto and makes it @peculiar/x509's default provider. Idempotent; the library
 * keeps that default in its own singleton, so this is the one place that touches it. Every call in
 * this module also passes the provider explicitly.
 */
export function pkiCrypto(): webcrypto.Crypto {
  x509.cryptoProvider.set(webcrypto);
  return webcrypto;
}

/** Generates an extractable ECDSA key pair (default P-256) for certificates. */
export async function generateKeyPair(curve: EcCurve = 'P-256'): Promise<CryptoKeyPair> {
  return pkiCrypto().subtle.generateKey({ name: 'ECDSA', namedCurve: curve }, true, ['sign', 'verify']);
}

/** Key types the PKI generates, and recognises in certificates and CSRs. */
export const KEY_TYPES = ['ec-p256', 'ec-p384', 'rsa-2048', 'rsa-3072', 'rsa-4096'] as const;
export type KeyType = (typeof KEY_TYPES)[number];

/** A generated key pair with the signature algorithm its private key signs with. */
export interface TypedKeyPair {
  keys: CryptoKeyPair;
  algorithm: SigningKey['algorithm'];
}

const RSA_SIGNING = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };

/**
 * Generates an extractable key pair of `keyType` (default `ec-p256`). EC keys sign with ECDSA and
 * the curve's hash (P-256: SHA-256, P-384: SHA-384); RSA keys (public exponent 65537) with
 * RSASSA-PKCS1-v1_5 / SHA-256. RSA generation takes from tens of milliseconds to seconds.
 */
export async function generateKeyPairOfType(keyType: KeyType = 'ec-p256'): Promise<TypedKeyPair> {
  if (keyType === 'ec-p256' || keyType === 'ec-p384') {
    const curve: EcCurve = keyType === 'ec-p256' ? 'P-256' : 'P-384';
    return { keys: await generateKeyPair(curve), algorithm: { name: 'ECDSA', hash: curve === 'P-256' ? 'SHA-256' : 'SHA-384' } };
  }
  const modulusLength = Number(keyType.slice('rsa-'.length));
  const keys = await pkiCrypto().subtle.generateKey({ ...RSA_SIGNING, modulusLength, publicExponent: new Uint8Array([1, 0, 1]) }, true, ['sign', 'verify']);
  return { keys, algorithm: { ...RSA_SIGNING } };
}

/**
 * The {@link KeyType} of a Node key object (public or private), or `undefined` when it is none of
 * them (another curve or algorithm, or an RSA modulus other than 2048/3072/4096 bits).
 */
export function keyTypeOf(key: KeyObject): KeyType | undefined {
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    return curve === 'prime256v1' ? 'ec-p256' : curve === 'secp384r1' ? 'ec-p384' : undefined;
  }
  if (key.asymmetricKeyType === 'rsa') {
    const type = `rsa-${key.asymmetricKeyDetails?.modulusLength ?? 0}`;
    return (KEY_TYPES as readonly string[]).includes(type) ? (type as KeyType) : undefined;
  }
  return undefined;
}

/** Wraps DER bytes in PEM armour with 64-character lines. */
export function toPem(der: ArrayBuffer | Uint8Array, label: string): string {
  const b64 = Buffer.from(der instanceof Uint8Array ? der : new Uint8Array(der)).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** Exports an extractable private key as PKCS#8 PEM. */
export async function exportPrivateKeyPem(key: CryptoKey): Promise<string> {
  return toPem(await pkiCrypto().subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

/** Exports a public key as SPKI PEM. */
export async function exportPublicKeyPem(key: CryptoKey): Promise<string> {
  return toPem(await pkiCrypto().subtle.exportKey('spki', key), 'PUBLIC KEY');
}

function parsePrivateKey(pem: string, what: string): KeyObject {
  try {
    return createPrivateKey({ key: pem, format: 'pem' });
  } catch (err) {
    throw gatewayError('CONFIG_INVALID', `${what} is not a valid PEM private key`, undefined, err);
  }
}

const CURVES: Record<string, { curve: EcCurve; hash: string }> = {
  prime256v1: { curve: 'P-256', hash: 'SHA-256' },
  secp384r1: { curve: 'P-384', hash: 'SHA-384' },
};

/**
 * Imports a PEM private key (PKCS#8, or SEC1/PKCS#1 as Node reads them) for signing.
 *
 * @param what label for error messages, e.g. "CA key /data/ca-key.pem".
 * @throws GatewayError CONFIG_INVALID when the PEM is not a private key or its type is unsupported.
 *   The message never contains key material.
 */
export async function importSigningKey(pem: string, what = 'private key'): Promise<SigningKey> {
  const keyObject = parsePrivateKey(pem, what);
  const der = keyObject.export({ type: 'pkcs8', format: 'der' });
  const subtle = pkiCrypto().subtle;
  if (keyObject.asymmetricKeyType === 'ec') {
    const params = CURVES[keyObject.asymmetricKeyDetails?.namedCurve ?? ''];
    if (!params) throw gatewayError('CONFIG_INVALID', `${what} uses an unsupported curve (use P-256 or P-384)`);
    const privateKey = await subtle.importKey('pkcs8', der, { name: 'ECDSA', namedCurve: params.curve }, false, ['sign']);
    return { privateKey, algorithm: { name: 'ECDSA', hash: params.hash } };
  }
  if (keyObject.asymmetricKeyType === 'rsa') {
    if ((keyObject.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) {
      throw gatewayError('CONFIG_INVALID', `${what} is an RSA key shorter than 2048 bits`);
    }
    const algorithm = { ...RSA_SIGNING };
    const privateKey = await subtle.importKey('pkcs8', der, algorithm, false, ['sign']);
    return { privateKey, algorithm };
  }
  throw gatewayError('CONFIG_INVALID', `${what} has unsupported type ${keyObject.asymmetricKeyType ?? 'unknown'} (use EC P-256/P-384 or RSA)`);
}

/**
 * A random certificate serial number as hex: `bytes` random bytes (default 16, i.e. 127 bits of
 * entropy), with the top bit cleared so the DER INTEGER is positive and the first byte non-zero so
 * the encoding keeps its full length.
 */
export function randomSerialNumber(bytes = 16): string {
  const serial = randomBytes(bytes);
  serial[0] = (serial[0] as number) & 0x7f || 0x01;
  return serial.toString('hex');
}

/** SPKI DER of the public half of a PEM private key. */
export function publicKeyDerOfPrivateKey(keyPem: string, what = 'private key'): Buffer {
  return createPublicKey(parsePrivateKey(keyPem, what)).export({ type: 'spki', format: 'der' });
}

/**
 * True when `keyPem` is the private key for the certificate `certPem`.
 *
 * @throws GatewayError CONFIG_INVALID when either PEM cannot be parsed.
 */
export function keyMatchesCertificate(keyPem: string, certPem: string, what = 'private key'): boolean {
  let certKey: Buffer;
  try {
    certKey = new NodeX509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  } catch (err) {
    throw gatewayError('CONFIG_INVALID', 'certificate is not a valid PEM certificate', undefined, err);
  }
  return publicKeyDerOfPrivateKey(keyPem, what).equals(certKey);
}
