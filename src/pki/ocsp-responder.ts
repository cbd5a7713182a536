/**
 * The core of an RFC 6960 OCSP responder: parse a DER OCSPRequest, build a signed DER OCSPResponse,
 * or an unsigned error response. Transport (HTTP POST/GET, content types, body limits) and the
 * revocation lookup belong to the caller:
 *
 *   parseOcspRequest(body) → for each CertID: matchesIssuer(certId, caPem) ? look up serial : 'unknown'
 *   → buildOcspResponse(...)   (or, when parsing throws, ocspError('malformedRequest'))
 *
 * Responses are BasicOCSPResponses with responderID byKey, the responder certificate in `certs`,
 * times truncated to whole seconds, and the request nonce echoed when one is passed. The signer is
 * normally the issuing CA itself; a delegated responder certificate is accepted when the issuer
 * signed it and it carries id-kp-OCSPSigning. All functions are synchronous, pure (apart from the
 * default `producedAt`) and safe to call concurrently.
 */
import { X509Certificate, createHash, createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { AsnConvert, AsnParser, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, CRLReason, CRLReasons, Certificate, Extension } from '@peculiar/asn1-x509';
import {
  BasicOCSPResponse, CertID, CertStatus, OCSPRequest, OCSPResponse, OCSPResponseStatus, ResponderID, ResponseBytes,
  ResponseData, RevokedInfo, SingleResponse, id_pkix_ocsp_basic, id_pkix_ocsp_nonce,
} from '@peculiar/asn1-ocsp';
import { OctetString as Asn1OctetString, fromBER, type AsnType, type Sequence } from 'asn1js';
import { gatewayError } from '../core/errors.js';
import { keyMatchesCertificate } from './keys.js';

/** Hash algorithms this module can compute CertIDs with. */
export type OcspHashAlgorithm = 'sha1' | 'sha256' | 'sha384' | 'sha512';

const HASH_OIDS: Readonly<Record<OcspHashAlgorithm, string>> = {
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
};
const HASH_NAMES = new Map(Object.entries(HASH_OIDS).map(([name, oid]) => [oid, name as OcspHashAlgorithm]));
const ID_KP_OCSP_SIGNING = '1.3.6.1.5.5.7.3.9';

/** One certificate a client asks about (RFC 6960 CertID). */
export interface OcspCertId {
  /** An {@link OcspHashAlgorithm} name, or the dotted OID of any other hash algorithm. */
  hashAlgorithm: string;
  /** Hash of the issuer's DER subject name. */
  issuerNameHash: Buffer;
  /** Hash of the issuer's public key (the subjectPublicKey BIT STRING value). */
  issuerKeyHash: Buffer;
  /**
   * The serial as lowercase hex, as @peculiar/x509 and randomSerialNumber print serials: the DER
   * INTEGER content octets without the leading 00 sign octet a high first byte needs.
   */
  serialNumber: string;
}

export interface ParsedOcspRequest {
  /** One entry per request in the requestList, in order (at least one). */
  certIds: OcspCertId[];
  /**
   * The nonce extension's extnValue exactly as received (for RFC 8954 clients such as OpenSSL, a DER
   * OCTET STRING wrapping the nonce). Pass it unchanged to {@link buildOcspResponse} to echo it.
   */
  nonce?: Buffer;
}

/** Revocation reasons by their RFC 5280 names (the same names as crl.ts' RevocationReason). */
export type OcspRevocationReason = keyof typeof CRLReasons;

export interface OcspResponseEntry {
  certId: OcspCertId;
  status: 'good' | 'revoked' | 'unknown';
  /** Required when `status` is 'revoked'. */
  revokedAt?: Date;
  /** Optional with 'revoked'; omitted from the response when absent. */
  reason?: OcspRevocationReason;
}

export interface BuildOcspResponseOptions {
  /** The signer: the issuing CA (certificate and PEM private key, EC P-256/P-384 or RSA) or a delegated responder. */
  responder: { certPem: string; keyPem: string };
  /** The CA that issued the certificates in `entries`. */
  issuerCertPem: string;
  /** At least one. 'good' and 'revoked' entries must match `issuerCertPem` ({@link matchesIssuer}). */
  entries: readonly OcspResponseEntry[];
  thisUpdate: Date;
  /** When clients should fetch a newer response; omitted means newer information is always available. */
  nextUpdate?: Date;
  /** {@link ParsedOcspRequest.nonce}, echoed as a response extension. */
  nonce?: Buffer;
  /** Default: now. */
  producedAt?: Date;
}

/** OCSPResponseStatus values an error response can carry. */
export type OcspErrorStatus = 'malformedRequest' | 'internalError' | 'tryLater' | 'unauthorized';

/** MIME types of RFC 6960 appendix A. */
export const OCSP_REQUEST_CONTENT_TYPE = 'application/ocsp-request';
export const OCSP_RESPONSE_CONTENT_TYPE = 'application/ocsp-response';

/** DER INTEGER content octets → {@link OcspCertId.serialNumber}. */
function serialHex(octets: ArrayBuffer): string {
  const bytes = Buffer.from(octets);
  return (bytes.length > 1 && bytes[0] === 0 && (bytes[1] as number) > 0x7f ? bytes.subarray(1) : bytes).toString('hex');
}

/** {@link OcspCertId.serialNumber} → DER INTEGER content octets (sign octet restored). */
function serialOctets(hex: string): ArrayBuffer {
  if (!/^([0-9a-f]{2})+$/i.test(hex)) throw gatewayError('CONFIG_INVALID', 'CertID serialNumber must be hex octets');
  const bytes = Buffer.from(hex, 'hex');
  return new Uint8Array((bytes[0] as number) > 0x7f ? Buffer.concat([Buffer.alloc(1), bytes]) : bytes).buffer;
}

const malformed = (message: string, cause?: unknown) => gatewayError('BAD_REQUEST', `malformed OCSP request: ${message}`, undefined, cause);

/**
 * Parses a DER OCSPRequest. A request signature (optionalSignature) is ignored, not verified;
 * single-request extensions other than the nonce are ignored.
 *
 * @throws GatewayError BAD_REQUEST when the bytes are not exactly one DER OCSPRequest, the request
 *   list is empty, or the nonce is not 1–32 octets (RFC 8954). Answer it with
 *   `ocspError('malformedRequest')`.
 */
export function parseOcspRequest(der: Uint8Array): ParsedOcspRequest {
  let request: OCSPRequest;
  try {
    const asn = fromBER(der);
    if (asn.offset !== der.byteLength) throw new Error('trailing or truncated data');
    request = AsnParser.fromASN(asn.result, OCSPRequest);
  } catch (err) {
    throw malformed('not a DER OCSPRequest', err);
  }
  const list = request.tbsRequest.requestList;
  if (list.length === 0) throw malformed('empty request list');
  const certIds = list.map(({ reqCert }) => ({
    hashAlgorithm: HASH_NAMES.get(reqCert.hashAlgorithm.algorithm) ?? reqCert.hashAlgorithm.algorithm,
    issuerNameHash: Buffer.from(reqCert.issuerNameHash.buffer),
    issuerKeyHash: Buffer.from(reqCert.issuerKeyHash.buffer),
    serialNumber: serialHex(reqCert.serialNumber),
  }));
  const ext = request.tbsRequest.requestExtensions?.find((e) => e.extnID === id_pkix_ocsp_nonce);
  if (!ext) return { certIds };
  const nonce = Buffer.from(ext.extnValue.buffer);
  // RFC 8954: the nonce is an OCTET STRING of 1..32 octets. Legacy clients put raw bytes in extnValue.
  const wrapped = fromBER(nonce);
  const inner = wrapped.offset === nonce.length && wrapped.result instanceof Asn1OctetString
    ? wrapped.result.valueBlock.valueHexView
    : nonce;
  if (inner.length < 1 || inner.length > 32) throw malformed('nonce must be 1 to 32 octets');
  return { certIds, nonce };
}

interface CertificateParts {
  node: X509Certificate;
  /** DER of the subject Name, exactly as encoded in the certificate. */
  subject: Buffer;
  /** The subjectPublicKey BIT STRING value. */
  publicKeyBits: Buffer;
  /** {@link OcspCertId.serialNumber} form of the certificate's serial. */
  serialNumber: string;
}

function certificateParts(pem: string, what: string): CertificateParts {
  try {
    const node = new X509Certificate(pem);
    const asn = fromBER(node.raw);
    const tbs = (asn.result as Sequence).valueBlock.value[0] as Sequence;
    const fields = tbs.valueBlock.value;
    const skipVersion = fields[0]?.idBlock.tagClass === 3 ? 1 : 0; // [0] EXPLICIT version present
    const subject = fields[skipVersion + 4];
    if (!subject) throw new Error('no subject');
    const cert = AsnConvert.parse(node.raw, Certificate);
    return {
      node,
      subject: Buffer.from(subject.valueBeforeDecodeView),
      publicKeyBits: Buffer.from(cert.tbsCertificate.subjectPublicKeyInfo.subjectPublicKey),
      serialNumber: serialHex(cert.tbsCertificate.serialNumber),
    };
  } catch (err) {
    throw gatewayError('CONFIG_INVALID', `${what} is not a valid PEM certificate`, undefined, err);
  }
}

const isHashName = (name: string): name is OcspHashAlgorithm => Object.hasOwn(HASH_OIDS, name);

function hashWith(algorithm: string, data: Uint8Array): Buffer | undefined {
  if (!isHashName(algorithm)) return undefined;
  return createHash(algorithm).update(data).digest();
}

/**
 * True when `certId` names `issuerCertPem` as the issuer: its issuerNameHash and issuerKeyHash equal
 * the issuer's subject-name and public-key hashes under the CertID's hash algorithm (any
 * {@link OcspHashAlgorithm}). False for other hash algorithms. Says nothing about the serial.
 *
 * @throws GatewayError CONFIG_INVALID when `issuerCertPem` is not a certificate.
 */
export function matchesIssuer(certId: OcspCertId, issuerCertPem: string): boolean {
  const issuer = certificateParts(issuerCertPem, 'issuer certificate');
  const nameHash = hashWith(certId.hashAlgorithm, issuer.subject);
  const keyHash = hashWith(certId.hashAlgorithm, issuer.publicKeyBits);
  return !!nameHash && !!keyHash && nameHash.equals(certId.issuerNameHash) && keyHash.equals(certId.issuerKeyHash);
}

/**
 * The CertID a client would send for `certPem` issued by `issuerCertPem` (default hash SHA-1, as
 * most clients use). For tests, pre-computed responses and stapling.
 *
 * @throws GatewayError CONFIG_INVALID when either PEM is not a certificate.
 */
export function certIdFor(certPem: string, issuerCertPem: string, hashAlgorithm: OcspHashAlgorithm = 'sha1'): OcspCertId {
  const issuer = certificateParts(issuerCertPem, 'issuer certificate');
  const cert = certificateParts(certPem, 'certificate');
  return {
    hashAlgorithm,
    issuerNameHash: createHash(hashAlgorithm).update(issuer.subject).digest(),
    issuerKeyHash: createHash(hashAlgorithm).update(issuer.publicKeyBits).digest(),
    serialNumber: cert.serialNumber,
  };
}

/**
 * A stand-in for a parsed Certificate that embeds the certificate as its own DER rather than through
 * asn1-schema's model (asn1-schema serialises any object with toASN/fromASN through toASN). asn1js
 * re-encodes the parsed tree, so this checks first that doing so reproduces the input exactly.
 */
function verbatimCertificate(der: Uint8Array): Certificate {
  const parsed = fromBER(der);
  if (parsed.offset !== der.byteLength || !Buffer.from(parsed.result.toBER()).equals(der)) {
    throw gatewayError('CONFIG_INVALID', 'OCSP responder certificate is not DER-encoded');
  }
  const stub = { toASN: (): AsnType => parsed.result, fromASN: (): never => { throw new Error('write-only'); } };
  return stub as unknown as Certificate;
}

/** Whole seconds: GeneralizedTime in OCSP carries no fraction (RFC 5280 §4.1.2.5.2). */
const seconds = (date: Date): Date => new Date(Math.floor(date.getTime() / 1000) * 1000);

function checkDate(date: Date | undefined, what: string): void {
  if (date !== undefined && (!(date instanceof Date) || Number.isNaN(date.getTime()))) {
    throw gatewayError('CONFIG_INVALID', `OCSP ${what} must be a valid date`);
  }
}

function encodeCertId(certId: OcspCertId): CertID {
  const oid = isHashName(certId.hashAlgorithm) ? HASH_OIDS[certId.hashAlgorithm] : certId.hashAlgorithm;
  if (!/^[0-2](\.\d+)+$/.test(oid)) throw gatewayError('CONFIG_INVALID', `unknown CertID hash algorithm ${certId.hashAlgorithm}`);
  return new CertID({
    hashAlgorithm: new AlgorithmIdentifier({ algorithm: oid, parameters: null }),
    issuerNameHash: new OctetString(certId.issuerNameHash),
    issuerKeyHash: new OctetString(certId.issuerKeyHash),
    serialNumber: serialOctets(certId.serialNumber),
  });
}

function encodeStatus(entry: OcspResponseEntry): CertStatus {
  switch (entry.status) {
    case 'good':
      return new CertStatus({ good: null });
    case 'unknown':
      return new CertStatus({ unknown: null });
    case 'revoked': {
      checkDate(entry.revokedAt, 'revokedAt');
      if (!entry.revokedAt) throw gatewayError('CONFIG_INVALID', 'a revoked OCSP entry needs revokedAt');
      const info = new RevokedInfo({ revocationTime: seconds(entry.revokedAt) });
      if (entry.reason !== undefined) {
        const code: unknown = CRLReasons[entry.reason];
        if (typeof code !== 'number') throw gatewayError('CONFIG_INVALID', `unknown revocation reason ${String(entry.reason)}`);
        info.revocationReason = new CRLReason(code);
      }
      return new CertStatus({ revoked: info });
    }
    default:
      throw gatewayError('CONFIG_INVALID', `unknown OCSP certificate status ${String((entry as { status: unknown }).status)}`);
  }
}

/** The signature algorithm for a responder key: ECDSA with SHA-256 (P-256) / SHA-384 (P-384), or RSA PKCS#1 v1.5 with SHA-256. */
function signatureAlgorithm(key: KeyObject): { hash: string; id: AlgorithmIdentifier } {
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1') return { hash: 'sha256', id: new AlgorithmIdentifier({ algorithm: '1.2.840.10045.4.3.2' }) };
    if (curve === 'secp384r1') return { hash: 'sha384', id: new AlgorithmIdentifier({ algorithm: '1.2.840.10045.4.3.3' }) };
  } else if (key.asymmetricKeyType === 'rsa') {
    return { hash: 'sha256', id: new AlgorithmIdentifier({ algorithm: '1.2.840.113549.1.1.11', parameters: null }) };
  }
  throw gatewayError('CONFIG_INVALID', 'OCSP responder key must be EC P-256/P-384 or RSA');
}

/**
 * Builds a successful OCSPResponse (DER) whose BasicOCSPResponse answers `entries`, in order,
 * signed by `responder`.
 *
 * @throws GatewayError CONFIG_INVALID when a PEM does not parse, the responder key does not match
 *   its certificate, a delegated responder is not issued by the issuer or lacks id-kp-OCSPSigning,
 *   `entries` is empty, a 'good'/'revoked' entry names another issuer, a 'revoked' entry lacks
 *   `revokedAt`, or a date is invalid. Messages never contain key material.
 */
export function buildOcspResponse(opts: BuildOcspResponseOptions): Buffer {
  const issuer = certificateParts(opts.issuerCertPem, 'issuer certificate');
  const responder = certificateParts(opts.responder.certPem, 'OCSP responder certificate');
  if (!keyMatchesCertificate(opts.responder.keyPem, opts.responder.certPem, 'OCSP responder key')) {
    throw gatewayError('CONFIG_INVALID', 'OCSP responder key does not belong to the responder certificate');
  }
  if (!responder.node.raw.equals(issuer.node.raw)) {
    const delegated = responder.node.checkIssued(issuer.node) && responder.node.verify(issuer.node.publicKey)
      && (responder.node.keyUsage ?? []).includes(ID_KP_OCSP_SIGNING);
    if (!delegated) throw gatewayError('CONFIG_INVALID', 'OCSP responder must be the issuer or a certificate it issued with id-kp-OCSPSigning');
  }
  if (opts.entries.length === 0) throw gatewayError('CONFIG_INVALID', 'an OCSP response needs at least one entry');
  checkDate(opts.thisUpdate, 'thisUpdate');
  checkDate(opts.nextUpdate, 'nextUpdate');
  checkDate(opts.producedAt, 'producedAt');
  if (opts.nextUpdate && opts.nextUpdate.getTime() < opts.thisUpdate.getTime()) {
    throw gatewayError('CONFIG_INVALID', 'OCSP nextUpdate must not be before thisUpdate');
  }

  const responses = opts.entries.map((entry) => {
    if (entry.status !== 'unknown' && !matchesIssuer(entry.certId, opts.issuerCertPem)) {
      throw gatewayError('CONFIG_INVALID', `OCSP entry for serial ${entry.certId.serialNumber} names another issuer; only 'unknown' may be answered`);
    }
    const single = new SingleResponse({ certID: encodeCertId(entry.certId), certStatus: encodeStatus(entry), thisUpdate: seconds(opts.thisUpdate) });
    if (opts.nextUpdate) single.nextUpdate = seconds(opts.nextUpdate);
    return single;
  });

  const tbs = new ResponseData({
    responderID: new ResponderID({ byKey: new OctetString(createHash('sha1').update(responder.publicKeyBits).digest()) }),
    producedAt: seconds(opts.producedAt ?? new Date()),
    responses,
  });
  if (opts.nonce) {
    tbs.responseExtensions = [new Extension({ extnID: id_pkix_ocsp_nonce, critical: false, extnValue: new OctetString(opts.nonce) })];
  }
  const tbsDer = Buffer.from(AsnConvert.serialize(tbs));

  const key = createPrivateKey({ key: opts.responder.keyPem, format: 'pem' });
  const algorithm = signatureAlgorithm(key);
  const basic = new BasicOCSPResponse({
    tbsResponseData: tbs,
    signatureAlgorithm: algorithm.id,
    signature: new Uint8Array(sign(algorithm.hash, tbsDer, key)).buffer,
    certs: [verbatimCertificate(responder.node.raw)],
  });
  const response = new OCSPResponse({
    responseStatus: OCSPResponseStatus.successful,
    responseBytes: new ResponseBytes({ responseType: id_pkix_ocsp_basic, response: new OctetString(AsnConvert.serialize(basic)) }),
  });
  return Buffer.from(AsnConvert.serialize(response));
}

/** An unsigned OCSPResponse (DER) carrying only an error status (RFC 6960 §2.3). */
export function ocspError(status: OcspErrorStatus): Buffer {
  const code = OCSPResponseStatus[status];
  if (code === undefined || status === ('successful' as string)) throw gatewayError('INTERNAL', `not an OCSP error status: ${String(status)}`);
  return Buffer.from(AsnConvert.serialize(new OCSPResponse({ responseStatus: code })));
}
