/**
 * Certificate authorities for the gateway's built-in PKI: a two-tier hierarchy (an offline-style
 * root and the issuing intermediate that signs leaves and CRLs), and the checks an operator's own
 * CA must pass before the gateway signs with it. Pure functions: nothing is stored here.
 */
import { createPrivateKey } from 'node:crypto';
import { gatewayError } from '../core/errors.js';
import {
  authorityKeyIdentifier,
  checkValidity,
  CLOCK_SKEW_MS,
  createRootCa,
  loadIssuer,
  revocationExtensions,
  subjectName,
  type CertificateIssuer,
} from './issue-certificate.js';
import { exportPrivateKeyPem, generateKeyPairOfType, keyMatchesCertificate, keyTypeOf, pkiCrypto, randomSerialNumber } from './keys.js';
import { splitPemCertificates } from './pem.js';
import { x509 } from './x509.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Key types a built-in CA may use. */
export const CA_KEY_TYPES = ['ec-p256', 'rsa-2048', 'rsa-3072'] as const;
export type CaKeyType = (typeof CA_KEY_TYPES)[number];

export interface CreateCaHierarchyOptions {
  /** Base common name: the root is "<commonName> Root CA", the intermediate "<commonName> Issuing CA". */
  commonName: string;
  organization?: string;
  /** Key type of both CAs. Default `ec-p256`. */
  keyType?: CaKeyType;
  /** Default 3650. */
  rootValidityDays?: number;
  /** Default 1825; cut to the root's validity when longer. */
  intermediateValidityDays?: number;
  /**
   * Where relying parties check the intermediate's revocation: the root's CRL URL and OCSP
   * responder, written into the intermediate (never the root). Leaves get their own URLs at issuance.
   */
  crlUrl?: string;
  ocspUrl?: string;
  /** Issuance time, for tests. Default: now. Both CAs' notBefore is this minus {@link CLOCK_SKEW_MS}. */
  now?: Date;
}

export interface CaHierarchy {
  /** Self-signed trust anchor, pathLen 1. Keep its key away from the hot path. */
  root: CertificateIssuer;
  /** Signed by the root, pathLen 0: signs leaves and CRLs. */
  intermediate: CertificateIssuer;
}

export interface CreateIntermediateCaOptions {
  /** The parent CA (must allow keyCertSign). */
  issuer: CertificateIssuer;
  commonName: string;
  organization?: string;
  notBefore: Date;
  /** Cut to the issuer's notAfter when later. */
  notAfter: Date;
  /** basicConstraints pathLenConstraint. Default 0. */
  pathLength?: number;
  /** Default `ec-p256`. */
  keyType?: CaKeyType;
  crlUrl?: string;
  ocspUrl?: string;
}

function positiveDays(value: number | undefined, fallback: number, what: string): number {
  const days = value ?? fallback;
  if (!Number.isFinite(days) || days <= 0) throw gatewayError('CONFIG_INVALID', `${what} must be a positive number of days`);
  return days;
}

/**
 * Creates a subordinate CA signed by `opts.issuer`: basicConstraints CA:true (critical, pathLen),
 * keyUsage digitalSignature + keyCertSign + cRLSign (critical; digitalSignature lets it sign OCSP
 * responses itself), subject and authority key identifiers, random serial, and the CRL
 * distribution point / OCSP URL when given. Its validity is clamped to the issuer's.
 *
 * @throws GatewayError CONFIG_INVALID when the issuer cannot sign certificates, a URL is invalid,
 *   or the (clamped) validity is empty.
 */
export async function createIntermediateCa(opts: CreateIntermediateCaOptions): Promise<CertificateIssuer> {
  const crypto = pkiCrypto();
  const { cert: issuerCert, signing } = await loadIssuer(opts.issuer);
  const notBefore = new Date(Math.max(opts.notBefore.getTime(), issuerCert.notBefore.getTime()));
  const notAfter = new Date(Math.min(opts.notAfter.getTime(), issuerCert.notAfter.getTime()));
  checkValidity(notBefore, notAfter);
  const { keys } = await generateKeyPairOfType(opts.keyType);
  const publicKey = await x509.PublicKey.create(keys.publicKey, crypto);
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: randomSerialNumber(),
      subject: subjectName(opts.commonName, opts.organization),
      issuer: issuerCert.subjectName,
      notBefore,
      notAfter,
      publicKey,
      signingKey: signing.privateKey,
      signingAlgorithm: signing.algorithm,
      extensions: [
        new x509.BasicConstraintsExtension(true, opts.pathLength ?? 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(publicKey, false, crypto),
        await authorityKeyIdentifier(issuerCert),
        ...revocationExtensions(opts.crlUrl, opts.ocspUrl),
      ],
    },
    crypto,
  );
  return { certPem: cert.toString('pem') + '\n', keyPem: await exportPrivateKeyPem(keys.privateKey) };
}

/**
 * Creates a root CA (pathLen 1) and an issuing intermediate (pathLen 0) signed by it, both with a
 * fresh key of `opts.keyType`. The intermediate never outlives the root.
 *
 * @throws GatewayError CONFIG_INVALID when a validity is not a positive number of days or a URL is
 *   not an absolute http(s) URL.
 */
export async function createCaHierarchy(opts: CreateCaHierarchyOptions): Promise<CaHierarchy> {
  const rootDays = positiveDays(opts.rootValidityDays, 3650, 'rootValidityDays');
  const intermediateDays = positiveDays(opts.intermediateValidityDays, 1825, 'intermediateValidityDays');
  revocationExtensions(opts.crlUrl, opts.ocspUrl); // validate URLs before spending time on keys
  const now = (opts.now ?? new Date()).getTime();
  const notBefore = new Date(now - CLOCK_SKEW_MS);
  const root = await createRootCa({
    commonName: `${opts.commonName} Root CA`,
    organization: opts.organization,
    notBefore,
    notAfter: new Date(now + rootDays * DAY_MS),
    pathLength: 1,
    keyType: opts.keyType,
  });
  const intermediate = await createIntermediateCa({
    issuer: root,
    commonName: `${opts.commonName} Issuing CA`,
    organization: opts.organization,
    notBefore,
    notAfter: new Date(now + intermediateDays * DAY_MS),
    pathLength: 0,
    keyType: opts.keyType,
    crlUrl: opts.crlUrl,
    ocspUrl: opts.ocspUrl,
  });
  return { root, intermediate };
}

/**
 * Checks that an operator-supplied CA can be used to issue certificates at `now` (default: now).
 * `certPem` is the CA certificate; when it is a bundle, only the first certificate is checked.
 *
 * Returns one clear message per problem, `[]` when the CA is usable: unparseable certificate or
 * key, unsupported key type, key not matching the certificate, not a CA (basicConstraints), no
 * keyCertSign in keyUsage, not yet valid, or expired. Never throws; messages contain no key material.
 */
export function importCa(certPem: string, keyPem: string, now: Date = new Date()): string[] {
  const block = splitPemCertificates(certPem)[0];
  let cert: x509.X509Certificate;
  try {
    if (block === undefined) throw new Error('no certificate');
    cert = new x509.X509Certificate(block);
  } catch {
    return ['the CA certificate is not a valid PEM certificate'];
  }
  const problems: string[] = [];
  try {
    const key = createPrivateKey({ key: keyPem, format: 'pem' });
    if (keyTypeOf(key) === undefined) problems.push('the CA key type is not supported (use EC P-256/P-384 or RSA 2048/3072/4096)');
    if (!keyMatchesCertificate(keyPem, block)) problems.push('the private key does not belong to the CA certificate');
  } catch {
    problems.push('the CA key is not a valid PEM private key');
  }
  if (!cert.getExtension(x509.BasicConstraintsExtension)?.ca) {
    problems.push('the certificate is not a CA certificate (basicConstraints CA:true is missing)');
  }
  const usage = cert.getExtension(x509.KeyUsagesExtension);
  if (!usage || (usage.usages & x509.KeyUsageFlags.keyCertSign) === 0) {
    problems.push('the certificate may not sign certificates (keyUsage lacks keyCertSign)');
  }
  if (cert.notBefore.getTime() > now.getTime()) problems.push(`the CA certificate is not valid before ${cert.notBefore.toISOString()}`);
  if (cert.notAfter.getTime() <= now.getTime()) problems.push(`the CA certificate expired on ${cert.notAfter.toISOString()}`);
  return problems;
}
