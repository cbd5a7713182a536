/**
 * Certificate revocation lists (RFC 5280 §5) signed by a built-in CA. Pure: the caller keeps the
 * revocation records and the CRL number counter, and publishes the result.
 */
import { gatewayError } from '../core/errors.js';
import { authorityKeyIdentifier, checkValidity, loadIssuer, type CertificateIssuer } from './issue-certificate.js';
import { toPem, pkiCrypto } from './keys.js';
import { x509 } from './x509.js';

/** RFC 5280 CRLReason names, in code order (code 7 is unused). */
export const REVOCATION_REASONS = [
  'unspecified',
  'keyCompromise',
  'cACompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'certificateHold',
  'removeFromCRL',
  'privilegeWithdrawn',
  'aACompromise',
] as const;
export type RevocationReason = (typeof REVOCATION_REASONS)[number];

/** The RFC 5280 reasonCode of each reason. */
export const REVOCATION_REASON_CODES: Readonly<Record<RevocationReason, number>> = Object.freeze({
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  certificateHold: 6,
  removeFromCRL: 8,
  privilegeWithdrawn: 9,
  aACompromise: 10,
});

/** True when `value` is exactly one of {@link REVOCATION_REASONS}. */
export function isRevocationReason(value: unknown): value is RevocationReason {
  return typeof value === 'string' && (REVOCATION_REASONS as readonly string[]).includes(value);
}

/**
 * Reads a revocation reason from user input: an RFC 5280 name in any letter case
 * (`KeyCompromise`, `keycompromise`) or its numeric code (`1`, `"1"`). Returns `undefined` when the
 * input is neither; the caller decides which error that is.
 */
export function parseRevocationReason(input: string | number): RevocationReason | undefined {
  const text = String(input).trim();
  if (/^[0-9]+$/.test(text)) return REVOCATION_REASONS.find((r) => REVOCATION_REASON_CODES[r] === Number(text));
  const lower = text.toLowerCase();
  return REVOCATION_REASONS.find((r) => r.toLowerCase() === lower);
}

export interface RevokedCertificate {
  /** Serial number as hex (as {@link randomSerialNumber} and @peculiar/x509 print it). */
  serialNumber: string;
  revokedAt: Date;
  reason: RevocationReason;
}

export interface BuildCrlOptions {
  /** The CA whose certificates are listed; it signs the CRL (keyUsage must allow cRLSign). */
  issuer: CertificateIssuer;
  /** Monotonically increasing per issuer; a non-negative safe integer. */
  crlNumber: number;
  thisUpdate: Date;
  /** Must be after `thisUpdate`; relying parties treat the CRL as stale afterwards. */
  nextUpdate: Date;
  revoked: readonly RevokedCertificate[];
}

export interface BuiltCrl {
  der: Buffer;
  pem: string;
}

/** The CRL number extension (2.5.29.20, non-critical): a DER INTEGER. */
function crlNumberExtension(value: number): x509.Extension {
  let hex = value.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  let bytes = Buffer.from(hex, 'hex');
  if ((bytes[0] as number) & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  if (bytes.length > 127) throw new Error('unreachable: safe integers fit a short-form length');
  return new x509.Extension('2.5.29.20', false, Buffer.concat([Buffer.from([0x02, bytes.length]), bytes]));
}

/**
 * Builds an X.509 v2 CRL signed by `opts.issuer` with the CRL number and authority key identifier
 * extensions and one entry per revoked certificate (serial, revocation date, reasonCode).
 * Following RFC 5280 §5.3.1, the reasonCode extension is omitted for `unspecified`. An empty
 * `revoked` list yields a valid CRL without entries.
 *
 * @throws GatewayError CONFIG_INVALID when the issuer cannot sign CRLs or its key does not match,
 *   the CRL number or dates are invalid, a serial is not hex or appears twice, or a reason is unknown.
 */
export async function buildCrl(opts: BuildCrlOptions): Promise<BuiltCrl> {
  if (!Number.isSafeInteger(opts.crlNumber) || opts.crlNumber < 0) {
    throw gatewayError('CONFIG_INVALID', 'crlNumber must be a non-negative integer');
  }
  checkValidity(opts.thisUpdate, opts.nextUpdate);
  const seen = new Set<string>();
  const entries: x509.X509CrlEntryParams[] = opts.revoked.map((entry) => {
    const serial = entry.serialNumber.toLowerCase().replace(/^(?:00)+(?=[0-9a-f]{2})/, '');
    if (!/^(?:[0-9a-f]{2})+$/.test(serial)) {
      throw gatewayError('CONFIG_INVALID', `revoked serial number "${entry.serialNumber}" is not an even-length hex string`);
    }
    if (seen.has(serial)) throw gatewayError('CONFIG_INVALID', `serial number ${serial} is listed twice`);
    seen.add(serial);
    if (!isRevocationReason(entry.reason)) throw gatewayError('CONFIG_INVALID', `"${String(entry.reason)}" is not a revocation reason`);
    if (Number.isNaN(entry.revokedAt.getTime())) throw gatewayError('CONFIG_INVALID', `revocation date of ${serial} is not a valid date`);
    return { serialNumber: serial, revocationDate: entry.revokedAt, reason: REVOCATION_REASON_CODES[entry.reason] };
  });

  const { cert, signing } = await loadIssuer(opts.issuer, 'crls');
  const crl = await x509.X509CrlGenerator.create(
    {
      issuer: cert.subjectName,
      thisUpdate: opts.thisUpdate,
      nextUpdate: opts.nextUpdate,
      signingKey: signing.privateKey,
      signingAlgorithm: signing.algorithm,
      extensions: [crlNumberExtension(opts.crlNumber), await authorityKeyIdentifier(cert)],
      entries,
    },
    pkiCrypto(),
  );
  const der = Buffer.from(crl.rawData);
  return { der, pem: toPem(der, 'X509 CRL') };
}
