/**
 * PKCS#12 (PFX, RFC 7292) export of a certificate, its private key and an optional chain, in the
 * shape OpenSSL 3 writes by default, so `openssl pkcs12`, Node's `tls.createSecureContext({ pfx })`,
 * browsers and OS key stores all read it:
 *
 * - authSafe[0]: EncryptedData (PBES2) holding one CertBag per certificate, leaf first;
 * - authSafe[1]: Data holding one PKCS8ShroudedKeyBag (PBES2);
 * - PBES2 = PBKDF2-HMAC-SHA256 ({@link PKCS12_ITERATIONS} iterations, 16-byte random salt) with
 *   AES-256-CBC (random IV); the PBKDF2 password is the UTF-8 password, as OpenSSL uses it;
 * - MacData: HMAC-SHA256 over the AuthenticatedSafe, keyed by the RFC 7292 appendix B KDF (SHA-256,
 *   BMPString password, 8-byte random salt, {@link PKCS12_ITERATIONS} iterations);
 * - the key bag and the leaf's cert bag share a localKeyId (SHA-1 of the leaf DER, as OpenSSL sets
 *   it) and, when given, a friendlyName.
 *
 * Everything is synchronous (node:crypto) and pure apart from the random salts and IVs.
 */
import { createCipheriv, createHash, createHmac, createPrivateKey, pbkdf2Sync, randomBytes, X509Certificate } from 'node:crypto';
import { AsnConvert, AsnProp, AsnPropTypes, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { ContentInfo, EncryptedContent, EncryptedContentInfo, id_data, id_encryptedData } from '@peculiar/asn1-cms';
import { EncryptedData as EncryptedOctets } from '@peculiar/asn1-pkcs8';
import {
  AuthenticatedSafe, CertBag, MacData, PFX, PKCS12Attribute, PKCS8ShroudedKeyBag, SafeBag, SafeContents,
  id_certBag, id_pkcs8ShroudedKeyBag, id_x509Certificate,
} from '@peculiar/asn1-pfx';
import { BmpString } from 'asn1js';
import { gatewayError } from '../core/errors.js';
import { keyMatchesCertificate } from './keys.js';
import { splitPemCertificates } from './pem.js';

/** PBKDF2 and MAC iteration count (OpenSSL 3's default). */
export const PKCS12_ITERATIONS = 2048;

export interface BuildPkcs12Options {
  /** The leaf certificate, PEM (the first block is used). */
  certPem: string;
  /** The leaf's private key, PEM (PKCS#8; EC or RSA). Must match `certPem`. */
  keyPem: string;
  /** Intermediate / root certificates to include after the leaf, PEM each (bundles are split). */
  chainPems?: string[];
  /** Non-empty. Encrypts the key and certificates and keys the MAC. */
  password: string;
  /** Shown by key stores as the entry's name (PKCS#9 friendlyName on the key and leaf bags). */
  friendlyName?: string;
}

const OID = {
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  hmacWithSha256: '1.2.840.113549.2.9',
  aes256Cbc: '2.16.840.1.101.3.4.1.42',
  sha256: '2.16.840.1.101.3.4.2.1',
  friendlyName: '1.2.840.113549.1.9.20',
  localKeyId: '1.2.840.113549.1.9.21',
} as const;

/* ASN.1 structures the @peculiar packages lack. Decorators are applied by hand because this project
 * compiles without `experimentalDecorators`. */

/** PBKDF2-params (RFC 8018 A.2) without keyLength, which OpenSSL omits for AES. */
class Pbkdf2Params {
  salt = new OctetString();
  iterationCount = 0;
  prf = new AlgorithmIdentifier();
}
AsnProp({ type: OctetString })(Pbkdf2Params.prototype, 'salt');
AsnProp({ type: AsnPropTypes.Integer })(Pbkdf2Params.prototype, 'iterationCount');
AsnProp({ type: AlgorithmIdentifier })(Pbkdf2Params.prototype, 'prf');

/** PBES2-params (RFC 8018 A.4). */
class Pbes2Params {
  keyDerivationFunc = new AlgorithmIdentifier();
  encryptionScheme = new AlgorithmIdentifier();
}
AsnProp({ type: AlgorithmIdentifier })(Pbes2Params.prototype, 'keyDerivationFunc');
AsnProp({ type: AlgorithmIdentifier })(Pbes2Params.prototype, 'encryptionScheme');

/** CMS EncryptedData (RFC 5652 §8) without unprotectedAttrs. */
class CmsEncryptedData {
  version = 0;
  encryptedContentInfo = new EncryptedContentInfo();
}
AsnProp({ type: AsnPropTypes.Integer })(CmsEncryptedData.prototype, 'version');
AsnProp({ type: EncryptedContentInfo })(CmsEncryptedData.prototype, 'encryptedContentInfo');

const der = (value: object): Buffer => Buffer.from(AsnConvert.serialize(value));
const derOctetString = (bytes: Uint8Array): ArrayBuffer => AsnConvert.serialize(new OctetString(bytes));

/** Encrypts `plain` with PBES2 (PBKDF2-HMAC-SHA256 + AES-256-CBC); returns the AlgorithmIdentifier and ciphertext. */
function pbes2Encrypt(plain: Uint8Array, password: string): { algorithm: AlgorithmIdentifier; ciphertext: Buffer } {
  const salt = randomBytes(16);
  const iv = randomBytes(16);
  const key = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, PKCS12_ITERATIONS, 32, 'sha256');
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  const ciphertext = Buffer.concat([cipher.update(plain), cipher.final()]);

  const kdf = new Pbkdf2Params();
  kdf.salt = new OctetString(salt);
  kdf.iterationCount = PKCS12_ITERATIONS;
  kdf.prf = new AlgorithmIdentifier({ algorithm: OID.hmacWithSha256, parameters: null });
  const params = new Pbes2Params();
  params.keyDerivationFunc = new AlgorithmIdentifier({ algorithm: OID.pbkdf2, parameters: AsnConvert.serialize(kdf) });
  params.encryptionScheme = new AlgorithmIdentifier({ algorithm: OID.aes256Cbc, parameters: derOctetString(iv) });
  return { algorithm: new AlgorithmIdentifier({ algorithm: OID.pbes2, parameters: AsnConvert.serialize(params) }), ciphertext };
}

/**
 * The RFC 7292 appendix B.2 key derivation with SHA-256 (u = 32, v = 64), over the password as a
 * NUL-terminated BMPString. `id` 3 derives MAC keys.
 */
function pkcs12Kdf(password: string, salt: Uint8Array, id: 1 | 2 | 3, iterations: number, length: number): Buffer {
  const u = 32;
  const v = 64;
  const pass = Buffer.concat([Buffer.from(password, 'utf16le').swap16(), Buffer.alloc(2)]);
  const fill = (src: Uint8Array): Buffer => {
    const out = Buffer.alloc(src.length === 0 ? 0 : v * Math.ceil(src.length / v));
    for (let i = 0; i < out.length; i++) out[i] = src[i % src.length] as number;
    return out;
  };
  const D = Buffer.alloc(v, id);
  const I = Buffer.concat([fill(salt), fill(pass)]);
  const out: Buffer[] = [];
  for (let produced = 0; produced < length; produced += u) {
    let A = createHash('sha256').update(D).update(I).digest();
    for (let r = 1; r < iterations; r++) A = createHash('sha256').update(A).digest();
    out.push(A);
    const B = fill(A);
    // I_j = (I_j + B + 1) mod 2^(8v) for every v-byte block of I.
    for (let j = 0; j < I.length; j += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = (I[j + k] as number) + (B[k] as number) + carry;
        I[j + k] = sum & 0xff;
        carry = sum >> 8;
      }
    }
  }
  return Buffer.concat(out).subarray(0, length);
}

function attribute(attrId: string, value: ArrayBuffer): PKCS12Attribute {
  // PKCS12Attribute's constructor ignores its argument (asn1-pfx 2.11.1), so assign by hand.
  const attr = new PKCS12Attribute();
  attr.attrId = attrId;
  attr.attrValues = [value];
  return attr;
}

function parseCertificateDer(pem: string, what: string): Buffer {
  try {
    return Buffer.from(new X509Certificate(pem).raw);
  } catch (err) {
    throw gatewayError('CONFIG_INVALID', `${what} is not a valid PEM certificate`, undefined, err);
  }
}

/**
 * Builds a password-protected PKCS#12 file (DER) holding the leaf certificate, its private key and
 * the chain, as described in the module comment. Salts and IVs are fresh on every call, so two calls
 * never return the same bytes. Pure apart from that; safe to call concurrently.
 *
 * @throws GatewayError CONFIG_INVALID when the password is empty, a certificate or the key does not
 *   parse, or the key does not belong to the leaf certificate. Messages never contain key material
 *   or the password.
 */
export function buildPkcs12(opts: BuildPkcs12Options): Buffer {
  if (typeof opts.password !== 'string' || opts.password.length === 0) {
    throw gatewayError('CONFIG_INVALID', 'a PKCS#12 file needs a non-empty password');
  }
  const [leafPem] = splitPemCertificates(opts.certPem);
  if (!leafPem) throw gatewayError('CONFIG_INVALID', 'certificate is not a valid PEM certificate');
  const leafDer = parseCertificateDer(leafPem, 'certificate');
  if (!keyMatchesCertificate(opts.keyPem, leafPem, 'private key')) {
    throw gatewayError('CONFIG_INVALID', 'private key does not belong to the certificate');
  }
  const keyDer = createPrivateKey({ key: opts.keyPem, format: 'pem' }).export({ type: 'pkcs8', format: 'der' });
  const chainDers = (opts.chainPems ?? []).flatMap((pem) => {
    const blocks = splitPemCertificates(pem);
    if (blocks.length === 0) throw gatewayError('CONFIG_INVALID', 'chain entry is not a valid PEM certificate');
    return blocks.map((b) => parseCertificateDer(b, 'chain certificate'));
  });

  const leafAttributes = [attribute(OID.localKeyId, derOctetString(createHash('sha1').update(leafDer).digest()))];
  if (opts.friendlyName) {
    leafAttributes.unshift(attribute(OID.friendlyName, new BmpString({ value: opts.friendlyName }).toBER()));
  }

  // authSafe[0]: the certificates, PBES2-encrypted.
  const certBags = [leafDer, ...chainDers].map((certDer, i) => new SafeBag({
    bagId: id_certBag,
    bagValue: AsnConvert.serialize(new CertBag({ certId: id_x509Certificate, certValue: derOctetString(certDer) })),
    ...(i === 0 ? { bagAttributes: leafAttributes } : {}),
  }));
  const certs = pbes2Encrypt(der(new SafeContents(certBags)), opts.password);
  const encryptedData = new CmsEncryptedData();
  encryptedData.encryptedContentInfo = new EncryptedContentInfo({
    contentType: id_data,
    contentEncryptionAlgorithm: certs.algorithm,
    encryptedContent: new EncryptedContent({ value: new OctetString(certs.ciphertext) }),
  });

  // authSafe[1]: the key, as a PBES2 shrouded key bag inside plain Data.
  const shroudedKey = pbes2Encrypt(keyDer, opts.password);
  const keyBag = new SafeBag({
    bagId: id_pkcs8ShroudedKeyBag,
    bagValue: AsnConvert.serialize(new PKCS8ShroudedKeyBag({
      encryptionAlgorithm: shroudedKey.algorithm,
      encryptedData: new EncryptedOctets(shroudedKey.ciphertext),
    })),
    bagAttributes: leafAttributes,
  });

  const authSafe = der(new AuthenticatedSafe([
    new ContentInfo({ contentType: id_encryptedData, content: AsnConvert.serialize(encryptedData) }),
    new ContentInfo({ contentType: id_data, content: derOctetString(der(new SafeContents([keyBag]))) }),
  ]));

  const macSalt = randomBytes(8);
  const macKey = pkcs12Kdf(opts.password, macSalt, 3, PKCS12_ITERATIONS, 32);
  const macData = new MacData();
  macData.mac.digestAlgorithm = new AlgorithmIdentifier({ algorithm: OID.sha256, parameters: null });
  macData.mac.digest = new OctetString(createHmac('sha256', macKey).update(authSafe).digest());
  macData.macSalt = new OctetString(macSalt);
  macData.iterations = PKCS12_ITERATIONS;

  return der(new PFX({
    version: 3,
    authSafe: new ContentInfo({ contentType: id_data, content: derOctetString(authSafe) }),
    macData,
  }));
}
