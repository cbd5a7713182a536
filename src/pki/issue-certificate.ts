/**
 * Certificate issuance: self-signed root CAs and leaf certificates signed by a CA key pair, plus
 * the issuer checks and extensions the intermediate-CA and CRL code share ({@link loadIssuer},
 * {@link authorityKeyIdentifier}, {@link revocationExtensions}).
 *
 * This is the core of Portcullis' PKI: the development CA uses it today, the built-in CA (issuing
 * server and mTLS client certificates) builds on it. Inputs are PEM strings so callers can keep
 * keys wherever they like (files, sealed in the store).
 */
import { createPublicKey } from 'node:crypto';
import { x509 } from './x509.js';
import { gatewayError } from '../core/errors.js';
import { exportPrivateKeyPem, generateKeyPairOfType, importSigningKey, keyMatchesCertificate, randomSerialNumber, pkiCrypto, type CryptoKey, type KeyType, type SigningKey } from './keys.js';
import { parseSubjectAltNames, type SubjectAltName } from './san.js';

/** Default backdating of notBefore, to tolerate small clock differences between machines. */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;

/** A CA that can sign: its certificate and private key, both PEM. */
export interface CertificateIssuer {
  certPem: string;
  keyPem: string;
}

/** `server`: EKU serverAuth, at least one SAN required. `client`: EKU clientAuth (for mutual TLS). */
export type CertificateUsage = 'server' | 'client';

export interface IssueCertificateOptions {
  issuer: CertificateIssuer;
  /** Subject common name (informational; clients match SANs). */
  subjectCN: string;
  /** Host names, IP literals or `scheme://` URIs; the SAN type is detected per entry. */
  sans: readonly string[];
  usage: CertificateUsage;
  notAfter: Date;
  /** Default: now minus {@link CLOCK_SKEW_MS}. */
  notBefore?: Date;
  /**
   * Certify this public key (CryptoKey or SPKI PEM) instead of generating a key pair; the result
   * then carries no private key. Used for CSR-style issuance.
   */
  publicKey?: CryptoKey | string;
  /** Type of the generated key pair when no `publicKey` is given. Default `ec-p256`. */
  keyType?: KeyType;
  /** http(s) URL of the issuer's CRL, written as the CRL distribution point. */
  crlUrl?: string;
  /** http(s) URL of the issuer's OCSP responder, written in authorityInfoAccess. */
  ocspUrl?: string;
  /**
   * What to do when the requested validity reaches outside the issuer's. `clamp` (default): cut it
   * to fit (notAfter lowered to the issuer's notAfter, notBefore raised to its notBefore); the
   * result's dates say what was written. `reject`: throw CONFIG_INVALID.
   */
  beyondIssuerValidity?: 'clamp' | 'reject';
}

export interface IssuedCertificate {
  certPem: string;
  /** PKCS#8 PEM of the generated key; `undefined` when `publicKey` was supplied. */
  keyPem: string | undefined;
  /** Hex serial number. */
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  /** The SANs as written (canonical form). */
  sans: SubjectAltName[];
}

export interface CreateRootCaOptions {
  commonName: string;
  organization?: string;
  notBefore: Date;
  notAfter: Date;
  /** basicConstraints pathLenConstraint; 0 (default) lets the CA sign only leaf certificates. */
  pathLength?: number;
  /** Default `ec-p256`. */
  keyType?: KeyType;
}

/** A freshly created CA: certificate and PKCS#8 private key, PEM. */
export type RootCa = CertificateIssuer;

/** A subject name `O=organization, CN=commonName` (O omitted when not given). */
export function subjectName(commonName: string, organization?: string): x509.JsonName {
  const name: x509.JsonName = [];
  if (organization) name.push({ O: [organization] });
  name.push({ CN: [commonName] });
  return name;
}

/** @throws GatewayError CONFIG_INVALID unless both dates are valid and notAfter > notBefore. */
export function checkValidity(notBefore: Date, notAfter: Date): void {
  if (Number.isNaN(notBefore.getTime()) || Number.isNaN(notAfter.getTime()) || notAfter.getTime() <= notBefore.getTime()) {
    throw gatewayError('CONFIG_INVALID', 'certificate notAfter must be a valid date after notBefore');
  }
}

/**
 * Creates a self-signed root CA (key `opts.keyType`, default EC P-256): basicConstraints CA:true (critical, pathLen), keyUsage
 * keyCertSign + cRLSign (critical), subjectKeyIdentifier, random positive 16-byte serial.
 *
 * @throws GatewayError CONFIG_INVALID when the validity period is empty or invalid.
 */
export async function createRootCa(opts: CreateRootCaOptions): Promise<RootCa> {
  checkValidity(opts.notBefore, opts.notAfter);
  const crypto = pkiCrypto();
  const { keys, algorithm } = await generateKeyPairOfType(opts.keyType);
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomSerialNumber(),
      name: subjectName(opts.commonName, opts.organization),
      notBefore: opts.notBefore,
      notAfter: opts.notAfter,
      keys,
      signingAlgorithm: algorithm,
      extensions: [
        new x509.BasicConstraintsExtension(true, opts.pathLength ?? 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  return { certPem: cert.toString('pem') + '\n', keyPem: await exportPrivateKeyPem(keys.privateKey) };
}

/** An issuer checked and ready to sign: its parsed certificate and imported private key. */
export interface LoadedIssuer {
  cert: x509.X509Certificate;
  signing: SigningKey;
}

/**
 * Parses and checks an issuer for signing certificates (`keyCertSign`) or CRLs (`cRLSign`): the
 * certificate must be a CA (basicConstraints CA:true), its keyUsage (when present) must allow the
 * operation, and the key must belong to it.
 *
 * @throws GatewayError CONFIG_INVALID naming the failed check; messages never contain key material.
 */
export async function loadIssuer(issuer: CertificateIssuer, signs: 'certificates' | 'crls' = 'certificates'): Promise<LoadedIssuer> {
  let cert: x509.X509Certificate;
  try {
    cert = new x509.X509Certificate(issuer.certPem);
  } catch (err) {
    throw gatewayError('CONFIG_INVALID', 'issuer certificate is not a valid PEM certificate', undefined, err);
  }
  const constraints = cert.getExtension(x509.BasicConstraintsExtension);
  if (!constraints?.ca) throw gatewayError('CONFIG_INVALID', 'issuer certificate is not a CA certificate (basicConstraints CA:false)');
  const usage = cert.getExtension(x509.KeyUsagesExtension);
  const [flag, text] = signs === 'certificates'
    ? [x509.KeyUsageFlags.keyCertSign, 'certificate signing (keyUsage lacks keyCertSign)']
    : [x509.KeyUsageFlags.cRLSign, 'CRL signing (keyUsage lacks cRLSign)'];
  if (usage && (usage.usages & flag) === 0) throw gatewayError('CONFIG_INVALID', `issuer certificate does not allow ${text}`);
  if (!keyMatchesCertificate(issuer.keyPem, issuer.certPem, 'issuer key')) {
    throw gatewayError('CONFIG_INVALID', 'issuer key does not belong to the issuer certificate');
  }
  return { cert, signing: await importSigningKey(issuer.keyPem, 'issuer key') };
}

/** authorityKeyIdentifier for certificates and CRLs signed by `issuerCert`: its SKI, else a hash of its key. */
export async function authorityKeyIdentifier(issuerCert: x509.X509Certificate): Promise<x509.AuthorityKeyIdentifierExtension> {
  const ski = issuerCert.getExtension(x509.SubjectKeyIdentifierExtension);
  return ski ? new x509.AuthorityKeyIdentifierExtension(ski.keyId, false) : x509.AuthorityKeyIdentifierExtension.create(issuerCert.publicKey, false, pkiCrypto());
}

/**
 * CRL distribution point and authorityInfoAccess (OCSP) extensions for the given URLs, both
 * non-critical; none when neither URL is given.
 *
 * @throws GatewayError CONFIG_INVALID when a URL is not an absolute http(s) URL.
 */
export function revocationExtensions(crlUrl?: string, ocspUrl?: string): x509.Extension[] {
  const out: x509.Extension[] = [];
  for (const [what, url] of [['crlUrl', crlUrl], ['ocspUrl', ocspUrl]] as const) {
    if (url !== undefined && !/^https?:$/.test(URL.canParse(url) ? new URL(url).protocol : '')) {
      throw gatewayError('CONFIG_INVALID', `${what} must be an absolute http(s) URL`);
    }
  }
  if (crlUrl !== undefined) out.push(new x509.CRLDistributionPointsExtension([crlUrl], false));
  if (ocspUrl !== undefined) out.push(new x509.AuthorityInfoAccessExtension({ ocsp: ocspUrl }, false));
  return out;
}

/** The validity actually written: the requested one, clamped to the issuer's unless told to reject. */
function leafValidity(opts: IssueCertificateOptions, issuerCert: x509.X509Certificate): { notBefore: Date; notAfter: Date } {
  let notBefore = opts.notBefore ?? new Date(Date.now() - CLOCK_SKEW_MS);
  let notAfter = opts.notAfter;
  if (opts.beyondIssuerValidity !== 'reject') {
    if (issuerCert.notAfter.getTime() <= notBefore.getTime()) {
      throw gatewayError('CONFIG_INVALID', `issuer certificate expired on ${issuerCert.notAfter.toISOString()}`);
    }
    if (notAfter.getTime() > issuerCert.notAfter.getTime()) notAfter = issuerCert.notAfter;
    if (notBefore.getTime() < issuerCert.notBefore.getTime()) notBefore = issuerCert.notBefore;
  }
  checkValidity(notBefore, notAfter);
  if (notAfter.getTime() > issuerCert.notAfter.getTime()) {
    throw gatewayError('CONFIG_INVALID', `certificate would outlive its issuer (issuer expires ${issuerCert.notAfter.toISOString()})`);
  }
  return { notBefore, notAfter };
}

/**
 * keyUsage for a leaf: digitalSignature always; RSA keys add keyEncipherment (TLS 1.2 RSA key
 * transport); EC client keys add keyAgreement.
 */
function leafKeyUsage(publicKey: x509.PublicKey, usage: CertificateUsage): number {
  const type = createPublicKey({ key: Buffer.from(publicKey.rawData), format: 'der', type: 'spki' }).asymmetricKeyType;
  let flags = x509.KeyUsageFlags.digitalSignature;
  if (type === 'rsa') flags |= x509.KeyUsageFlags.keyEncipherment;
  else if (type === 'ec' && usage === 'client') flags |= x509.KeyUsageFlags.keyAgreement;
  return flags;
}

/**
 * Issues a leaf certificate signed by `issuer`: basicConstraints CA:false (critical), keyUsage
 * (critical; digitalSignature, plus keyEncipherment for RSA keys and keyAgreement for EC client
 * keys), extendedKeyUsage serverAuth or clientAuth, subject and authority key identifiers, SANs,
 * random positive 16-byte serial, and the CRL distribution point / OCSP URL when given. Without
 * `publicKey`, a new key pair of `keyType` (default EC P-256) is generated and returned as PKCS#8.
 *
 * @throws GatewayError CONFIG_INVALID when the issuer certificate is not a signing CA, the issuer
 *   key does not match it, a SAN or URL is invalid, a server certificate has no SAN, or the
 *   validity is empty, the issuer has expired, or (with `beyondIssuerValidity: 'reject'`) the
 *   validity ends after the issuer's.
 */
export async function issueCertificate(opts: IssueCertificateOptions & { publicKey: CryptoKey | string }): Promise<IssuedCertificate & { keyPem: undefined }>;
export async function issueCertificate(opts: IssueCertificateOptions & { publicKey?: undefined }): Promise<IssuedCertificate & { keyPem: string }>;
export async function issueCertificate(opts: IssueCertificateOptions): Promise<IssuedCertificate>;
export async function issueCertificate(opts: IssueCertificateOptions): Promise<IssuedCertificate> {
  const crypto = pkiCrypto();
  const { cert: issuerCert, signing } = await loadIssuer(opts.issuer);

  const sans = parseSubjectAltNames(opts.sans);
  if (opts.usage === 'server' && sans.length === 0) {
    throw gatewayError('CONFIG_INVALID', 'a server certificate needs at least one host name or IP address');
  }
  const { notBefore, notAfter } = leafValidity(opts, issuerCert);
  const revocation = revocationExtensions(opts.crlUrl, opts.ocspUrl);

  let publicKey: x509.PublicKey;
  let keyPem: string | undefined;
  if (opts.publicKey === undefined) {
    const { keys } = await generateKeyPairOfType(opts.keyType);
    publicKey = await x509.PublicKey.create(keys.publicKey, crypto);
    keyPem = await exportPrivateKeyPem(keys.privateKey);
  } else if (typeof opts.publicKey === 'string') {
    try {
      publicKey = new x509.PublicKey(opts.publicKey);
    } catch (err) {
      throw gatewayError('CONFIG_INVALID', 'publicKey is not a valid SPKI PEM public key', undefined, err);
    }
  } else {
    publicKey = await x509.PublicKey.create(opts.publicKey, crypto);
  }

  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(leafKeyUsage(publicKey, opts.usage), true),
    new x509.ExtendedKeyUsageExtension([opts.usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth], false),
    await x509.SubjectKeyIdentifierExtension.create(publicKey, false, crypto),
    await authorityKeyIdentifier(issuerCert),
    ...revocation,
  ];
  if (sans.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(sans, false));

  const serialNumber = randomSerialNumber();
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber,
      subject: subjectName(opts.subjectCN),
      issuer: issuerCert.subjectName,
      notBefore,
      notAfter,
      publicKey,
      signingKey: signing.privateKey,
      signingAlgorithm: signing.algorithm,
      extensions,
    },
    crypto,
  );
  return { certPem: cert.toString('pem') + '\n', keyPem, serialNumber, notBefore: cert.notBefore, notAfter: cert.notAfter, sans };
}
