/**
 * Certificate issuance: self-signed root CAs and leaf certificates signed by a CA key pair.
 *
 * This is the core of Portcullis' PKI: the development CA uses it today, the built-in CA (issuing
 * server and mTLS client certificates) builds on it. Inputs are PEM strings so callers can keep
 * keys wherever they like (files, sealed in the store).
 */
import { x509 } from './x509.js';
import { gatewayError } from '../core/errors.js';
import { exportPrivateKeyPem, generateKeyPair, importSigningKey, keyMatchesCertificate, randomSerialNumber, pkiCrypto, type CryptoKey } from './keys.js';
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
}

/** A freshly created CA: certificate and PKCS#8 private key, PEM. */
export type RootCa = CertificateIssuer;

function subjectName(commonName: string, organization?: string): x509.JsonName {
  const name: x509.JsonName = [];
  if (organization) name.push({ O: [organization] });
  name.push({ CN: [commonName] });
  return name;
}

function checkValidity(notBefore: Date, notAfter: Date): void {
  if (Number.isNaN(notBefore.getTime()) || Number.isNaN(notAfter.getTime()) || notAfter.getTime() <= notBefore.getTime()) {
    throw gatewayError('CONFIG_INVALID', 'certificate notAfter must be a valid date after notBefore');
  }
}

/**
 * Creates a self-signed EC P-256 root CA: basicConstraints CA:true (critical, pathLen), keyUsage
 * keyCertSign + cRLSign (critical), subjectKeyIdentifier, random positive 16-byte serial.
 *
 * @throws GatewayError CONFIG_INVALID when the validity period is empty or invalid.
 */
export async function createRootCa(opts: CreateRootCaOptions): Promise<RootCa> {
  checkValidity(opts.notBefore, opts.notAfter);
  const crypto = pkiCrypto();
  const keys = await generateKeyPair('P-256');
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomSerialNumber(),
      name: subjectName(opts.commonName, opts.organization),
      notBefore: opts.notBefore,
      notAfter: opts.notAfter,
      keys,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
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

function parseIssuerCertificate(pem: string): x509.X509Certificate {
  let cert: x509.X509Certificate;
  try {
    cert = new x509.X509Certificate(pem);
  } catch (err) {
    throw gatewayError('CONFIG_INVALID', 'issuer certificate is not a valid PEM certificate', undefined, err);
  }
  const constraints = cert.getExtension(x509.BasicConstraintsExtension);
  if (!constraints?.ca) throw gatewayError('CONFIG_INVALID', 'issuer certificate is not a CA certificate (basicConstraints CA:false)');
  const usage = cert.getExtension(x509.KeyUsagesExtension);
  if (usage && (usage.usages & x509.KeyUsageFlags.keyCertSign) === 0) {
    throw gatewayError('CONFIG_INVALID', 'issuer certificate does not allow certificate signing (keyUsage lacks keyCertSign)');
  }
  return cert;
}

/**
 * Issues a leaf certificate signed by `issuer`: basicConstraints CA:false (critical), keyUsage
 * digitalSignature (critical), extendedKeyUsage serverAuth or clientAuth, subject and authority key
 * identifiers, SANs, random positive 16-byte serial. Without `publicKey`, a new EC P-256 key pair
 * is generated and returned as PKCS#8 PEM.
 *
 * keyUsage is digitalSignature only, which suits EC keys and (EC)DHE key exchange; an RSA
 * `publicKey` certified here cannot be used for TLS 1.2 RSA key transport.
 *
 * @throws GatewayError CONFIG_INVALID when the issuer certificate is not a signing CA, the issuer
 *   key does not match it, a SAN is invalid, a server certificate has no SAN, or the validity is
 *   empty or ends after the issuer's.
 */
export async function issueCertificate(opts: IssueCertificateOptions & { publicKey: CryptoKey | string }): Promise<IssuedCertificate & { keyPem: undefined }>;
export async function issueCertificate(opts: IssueCertificateOptions & { publicKey?: undefined }): Promise<IssuedCertificate & { keyPem: string }>;
export async function issueCertificate(opts: IssueCertificateOptions): Promise<IssuedCertificate>;
export async function issueCertificate(opts: IssueCertificateOptions): Promise<IssuedCertificate> {
  const crypto = pkiCrypto();
  const issuerCert = parseIssuerCertificate(opts.issuer.certPem);
  if (!keyMatchesCertificate(opts.issuer.keyPem, opts.issuer.certPem, 'issuer key')) {
    throw gatewayError('CONFIG_INVALID', 'issuer key does not belong to the issuer certificate');
  }
  const signing = await importSigningKey(opts.issuer.keyPem, 'issuer key');

  const sans = parseSubjectAltNames(opts.sans);
  if (opts.usage === 'server' && sans.length === 0) {
    throw gatewayError('CONFIG_INVALID', 'a server certificate needs at least one host name or IP address');
  }
  const notBefore = opts.notBefore ?? new Date(Date.now() - CLOCK_SKEW_MS);
  checkValidity(notBefore, opts.notAfter);
  if (opts.notAfter.getTime() > issuerCert.notAfter.getTime()) {
    throw gatewayError('CONFIG_INVALID', `certificate would outlive its issuer (issuer expires ${issuerCert.notAfter.toISOString()})`);
  }

  let publicKey: x509.PublicKey;
  let keyPem: string | undefined;
  if (opts.publicKey === undefined) {
    const keys = await generateKeyPair('P-256');
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

  const issuerSki = issuerCert.getExtension(x509.SubjectKeyIdentifierExtension);
  const authorityKeyId = issuerSki
    ? new x509.AuthorityKeyIdentifierExtension(issuerSki.keyId, false)
    : await x509.AuthorityKeyIdentifierExtension.create(issuerCert.publicKey, false, crypto);
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([opts.usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth], false),
    await x509.SubjectKeyIdentifierExtension.create(publicKey, false, crypto),
    authorityKeyId,
  ];
  if (sans.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(sans, false));

  const serialNumber = randomSerialNumber();
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber,
      subject: subjectName(opts.subjectCN),
      issuer: issuerCert.subjectName,
      notBefore,
      notAfter: opts.notAfter,
      publicKey,
      signingKey: signing.privateKey,
      signingAlgorithm: signing.algorithm,
      extensions,
    },
    crypto,
  );
  return { certPem: cert.toString('pem') + '\n', keyPem, serialNumber, notBefore: cert.notBefore, notAfter: cert.notAfter, sans };
}
