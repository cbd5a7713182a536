/**
 * PKCS#10 certificate signing requests: reading one a client submits to a built-in CA, and making
 * one (with a fresh key) for the gateway to take to a public CA.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { exportPrivateKeyPem, generateKeyPairOfType, keyTypeOf, pkiCrypto, toPem, type KeyType } from './keys.js';
import { canonicalIp, parseSubjectAltNames } from './san.js';
import { x509 } from './x509.js';

/** Why a CSR was refused. */
export type CsrErrorReason = 'not-pem' | 'malformed' | 'unsupported-key' | 'bad-signature';

/**
 * A CSR that cannot be used. `reason` is stable for programs; `message` explains it for people and
 * never contains key material. Callers that answer clients map it to a registry error.
 */
export class CsrError extends Error {
  readonly reason: CsrErrorReason;
  constructor(reason: CsrErrorReason, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CsrError';
    this.reason = reason;
  }
}

/** The names a CSR asks for, from its extensionRequest's subjectAltName, canonicalised. */
export interface RequestedSubjectAltNames {
  /** Lower-case, without a trailing dot. */
  dns: string[];
  /** Canonical text (see san.ts). */
  ip: string[];
  uri: string[];
  email: string[];
}

export interface ParsedCsr {
  /** The requested public key, SPKI PEM: pass it as `publicKey` to issueCertificate. */
  publicKeyPem: string;
  /** The subject's first common name, when it has one. */
  commonName: string | undefined;
  /** Requested names as the requester wrote them; whether to grant them is the caller's policy. */
  sans: RequestedSubjectAltNames;
  keyType: KeyType;
}

const CSR_PEM = /-----BEGIN (NEW )?CERTIFICATE REQUEST-----([\s\S]*?)-----END \1CERTIFICATE REQUEST-----/;

function requestedNames(csr: x509.Pkcs10CertificateRequest): RequestedSubjectAltNames {
  const out: RequestedSubjectAltNames = { dns: [], ip: [], uri: [], email: [] };
  const ext = csr.getExtension('2.5.29.17');
  if (!ext) return out;
  const names = ext instanceof x509.SubjectAlternativeNameExtension ? ext : new x509.SubjectAlternativeNameExtension(ext.rawData);
  for (const name of names.names.items) {
    if (name.type === 'dns') out.dns.push(name.value.toLowerCase().replace(/\.$/, ''));
    else if (name.type === 'ip') out.ip.push(canonicalIp(name.value) ?? name.value);
    else if (name.type === 'url') out.uri.push(name.value);
    else if (name.type === 'email') out.email.push(name.value);
  }
  return out;
}

/**
 * Parses a PEM CSR (`CERTIFICATE REQUEST` or `NEW CERTIFICATE REQUEST`), checks that its key type
 * is supported (EC P-256/P-384, RSA 2048/3072/4096) and that it is signed by its own key, and
 * returns the key and the names it asks for. Only the first CSR in the text is read.
 *
 * @throws CsrError `not-pem` (no CSR PEM block), `malformed` (not a DER CSR, or an unreadable
 *   name), `unsupported-key`, or `bad-signature` (the self-signature does not verify).
 */
export async function parseCsr(pem: string): Promise<ParsedCsr> {
  const match = CSR_PEM.exec(pem);
  if (!match) throw new CsrError('not-pem', 'the CSR is not PEM (expected a "-----BEGIN CERTIFICATE REQUEST-----" block)');
  let csr: x509.Pkcs10CertificateRequest;
  let publicKey: KeyObject;
  let sans: RequestedSubjectAltNames;
  let commonName: string | undefined;
  try {
    csr = new x509.Pkcs10CertificateRequest(Buffer.from((match[2] ?? '').replace(/\s+/g, ''), 'base64'));
    publicKey = createPublicKey({ key: Buffer.from(csr.publicKey.rawData), format: 'der', type: 'spki' });
    sans = requestedNames(csr);
    commonName = csr.subjectName.getField('CN')[0];
  } catch (err) {
    throw new CsrError('malformed', 'the CSR could not be decoded (not a valid PKCS#10 request)', { cause: err });
  }
  const keyType = keyTypeOf(publicKey);
  if (keyType === undefined) {
    const details = publicKey.asymmetricKeyDetails;
    const what = details?.namedCurve ?? (details?.modulusLength ? `${details.modulusLength}-bit` : '');
    throw new CsrError('unsupported-key', `the CSR key (${[publicKey.asymmetricKeyType, what].filter(Boolean).join(' ')}) is not supported; use EC P-256/P-384 or RSA 2048/3072/4096`);
  }
  let valid: boolean;
  try {
    valid = await csr.verify(pkiCrypto());
  } catch (err) {
    throw new CsrError('bad-signature', 'the CSR signature could not be verified (unsupported or corrupt signature)', { cause: err });
  }
  if (!valid) throw new CsrError('bad-signature', 'the CSR signature does not match its public key (the request was altered or corrupted)');
  return { publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }) as string, commonName, sans, keyType };
}

export interface CreateCsrOptions {
  /** Default `ec-p256`. */
  keyType?: KeyType;
  /** Subject CN. */
  commonName: string;
  /**
   * Host names, IP literals or `scheme://` URIs for subjectAltName. Default `[commonName]`. Public
   * CAs require every name, the CN included, to be listed here.
   */
  sans?: readonly string[];
}

export interface CreatedCsr {
  csrPem: string;
  /** PKCS#8 PEM of the new key; keep it secret. */
  keyPem: string;
}

/**
 * Generates a key pair of `keyType` and a CSR for it: subject CN, subjectAltName (non-critical),
 * signed with the new key (ECDSA with the curve's hash, or RSASSA-PKCS1-v1_5 / SHA-256).
 *
 * @throws GatewayError CONFIG_INVALID when a SAN is not a valid host name, IP address or URI.
 */
export async function createCsr(opts: CreateCsrOptions): Promise<CreatedCsr> {
  const sans = parseSubjectAltNames(opts.sans && opts.sans.length > 0 ? opts.sans : [opts.commonName]);
  const { keys, algorithm } = await generateKeyPairOfType(opts.keyType);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create(
    {
      name: [{ CN: [opts.commonName] }],
      keys,
      signingAlgorithm: algorithm,
      extensions: [new x509.SubjectAlternativeNameExtension(sans, false)],
    },
    pkiCrypto(),
  );
  return { csrPem: toPem(csr.rawData, 'CERTIFICATE REQUEST'), keyPem: await exportPrivateKeyPem(keys.privateKey) };
}
