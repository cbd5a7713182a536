import { X509Certificate } from 'node:crypto';
import type { PeerCertificate, TLSSocket } from 'node:tls';

/**
 * A verified client certificate, as every pipeline phase sees it. Only certificates that passed the
 * domain's client-auth policy are ever exposed; with mTLS off there is none.
 */
export interface ClientCertificate {
  /** Subject attributes (CN, O, OU, …); repeated attributes keep the first value. */
  readonly subject: Readonly<Record<string, string>>;
  /** RFC 4514-like one-line subject, e.g. "CN=app,O=acme". */
  readonly subjectText: string;
  readonly issuer: Readonly<Record<string, string>>;
  readonly issuerText: string;
  readonly sanUris: readonly string[];
  readonly sanDns: readonly string[];
  readonly sanEmails: readonly string[];
  /** SHA-256 of the DER certificate, lower-case hex without separators. */
  readonly fingerprint256: string;
  /** SHA-256 fingerprint of the issuing certificate, when known. */
  readonly issuerFingerprint256: string | undefined;
  /** Upper-case hex serial number. */
  readonly serialNumber: string;
  readonly validFrom: string;
  readonly validTo: string;
  /** PEM of the leaf. */
  readonly pem: string;
  /** PEMs of the verified chain above the leaf, nearest first, ending at the trusted CA. */
  readonly chain: readonly string[];
}

/** "CN=a\nO=b" (Node's X509Certificate format) → attributes. */
export function parseDistinguishedName(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq).trim();
    if (!(key in out)) out[key] = line.slice(eq + 1).trim();
  }
  return out;
}

function dnText(dn: Record<string, string>): string {
  return Object.entries(dn)
    .map(([k, v]) => `${k}=${v.replace(/([,+"\\<>;])/g, '\\$1')}`)
    .join(',');
}

const SAN_RE = /(DNS|URI|email|IP Address):("(?:[^"\\]|\\.)*"|[^,]*)(?:,\s*|$)/g;

/** Splits Node's `subjectAltName` text ("DNS:a, URI:spiffe://…, email:x@y") by type. */
export function parseSubjectAltNames(text: string | undefined): { uris: string[]; dns: string[]; emails: string[] } {
  const out = { uris: [] as string[], dns: [] as string[], emails: [] as string[] };
  if (!text) return out;
  for (const m of text.matchAll(SAN_RE)) {
    let value = m[2]!;
    if (value.startsWith('"')) value = JSON.parse(value) as string;
    if (m[1] === 'URI') out.uris.push(value);
    else if (m[1] === 'DNS') out.dns.push(value.toLowerCase());
    else if (m[1] === 'email') out.emails.push(value.toLowerCase());
  }
  return out;
}

function hexFingerprint(colonHex: string): string {
  return colonHex.replace(/:/g, '').toLowerCase();
}

/** Builds the identity of a certificate (and, when given, the chain above it). */
export function describeCertificate(cert: X509Certificate, chain: readonly X509Certificate[] = []): ClientCertificate {
  const subject = parseDistinguishedName(cert.subject);
  const issuer = parseDistinguishedName(cert.issuer);
  const sans = parseSubjectAltNames(cert.subjectAltName);
  return Object.freeze({
    subject,
    subjectText: dnText(subject),
    issuer,
    issuerText: dnText(issuer),
    sanUris: sans.uris,
    sanDns: sans.dns,
    sanEmails: sans.emails,
    fingerprint256: hexFingerprint(cert.fingerprint256),
    issuerFingerprint256: chain[0] ? hexFingerprint(chain[0].fingerprint256) : undefined,
    serialNumber: cert.serialNumber.toUpperCase(),
    validFrom: new Date(cert.validFrom).toISOString(),
    validTo: new Date(cert.validTo).toISOString(),
    pem: cert.toString(),
    chain: chain.map((c) => c.toString()),
  });
}

/** The certificates the peer sent above its leaf, nearest first (empty on a resumed session). */
export function peerChain(socket: TLSSocket): X509Certificate[] {
  const out: X509Certificate[] = [];
  let cur: PeerCertificate | undefined = socket.getPeerCertificate(true);
  const seen = new Set<string>();
  while (cur && cur.raw) {
    if (seen.has(cur.fingerprint256)) break;
    seen.add(cur.fingerprint256);
    const next: PeerCertificate | undefined = (cur as PeerCertificate & { issuerCertificate?: PeerCertificate }).issuerCertificate;
    if (!next || !next.raw || next.fingerprint256 === cur.fingerprint256) break;
    out.push(new X509Certificate(next.raw));
    cur = next;
  }
  return out;
}
