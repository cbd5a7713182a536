/**
 * Subject alternative names: parsing host strings into typed SANs and reading them back from
 * certificates, in one canonical form so "does this certificate cover that host?" is a set lookup.
 *
 * Canonical forms: DNS names lower-case without a trailing dot; IPv4 dotted quad; IPv6 compressed
 * lower-case (RFC 5952, as the WHATWG URL parser prints it); URIs as given.
 */
import { x509 } from './x509.js';
import { isIP } from 'node:net';
import { gatewayError } from '../core/errors.js';

export interface SubjectAltName {
  type: 'dns' | 'ip' | 'url';
  value: string;
}

const DNS_LABEL = /^(?:[a-z0-9_]|[a-z0-9_][a-z0-9_-]{0,61}[a-z0-9_])$/;
const URI_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/** The canonical text of an IP literal (brackets allowed around IPv6), or `null` when it is not one. */
export function canonicalIp(input: string): string | null {
  const value = input.startsWith('[') && input.endsWith(']') ? input.slice(1, -1) : input;
  const family = isIP(value);
  if (family === 4) return value;
  if (family === 6 && !value.includes('%')) return new URL(`http://[${value}]/`).hostname.slice(1, -1);
  return null;
}

/**
 * True when `name` is a valid DNS name (optionally with a leading `*.` wildcard label). An
 * all-numeric last label is refused, so a mistyped IP address (`1.2.3.256`) is not taken for a name.
 */
export function isDnsName(name: string): boolean {
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.split('.');
  if (/^[0-9]+$/.test(labels[labels.length - 1] ?? '')) return false;
  return labels.every((label, i) => (i === 0 && label === '*' && labels.length > 2) || DNS_LABEL.test(label));
}

/**
 * Classifies and canonicalises one SAN: an IP literal becomes an `ip` SAN, `scheme://…` a `url`
 * (URI) SAN, anything else must be a DNS name.
 *
 * @throws GatewayError CONFIG_INVALID when the value is none of these (IPv6 zone ids are rejected).
 */
export function parseSubjectAltName(input: string): SubjectAltName {
  const trimmed = input.trim();
  const ip = canonicalIp(trimmed);
  if (ip !== null) return { type: 'ip', value: ip };
  if (URI_SCHEME.test(trimmed)) {
    if (!URL.canParse(trimmed)) throw gatewayError('CONFIG_INVALID', `"${trimmed}" is not a valid URI for a certificate name`);
    return { type: 'url', value: trimmed };
  }
  const dns = trimmed.toLowerCase().replace(/\.$/, '');
  if (!isDnsName(dns)) {
    throw gatewayError('CONFIG_INVALID', `"${trimmed}" is not a valid host name or IP address for a certificate name`);
  }
  return { type: 'dns', value: dns };
}

/** Parses, canonicalises and de-duplicates a list of SANs, keeping first-seen order. */
export function parseSubjectAltNames(inputs: readonly string[]): SubjectAltName[] {
  const seen = new Map<string, SubjectAltName>();
  for (const input of inputs) {
    const san = parseSubjectAltName(input);
    const key = sanKey(san);
    if (!seen.has(key)) seen.set(key, san);
  }
  return [...seen.values()];
}

/** A string that identifies a canonical SAN, for sets and comparisons. */
export function sanKey(san: SubjectAltName): string {
  return `${san.type}:${san.value}`;
}

/** The DNS, IP and URI SANs of a certificate in canonical form (other name types are skipped). */
export function certificateSubjectAltNames(cert: x509.X509Certificate): SubjectAltName[] {
  const ext = cert.getExtension(x509.SubjectAlternativeNameExtension);
  if (!ext) return [];
  const out: SubjectAltName[] = [];
  for (const name of ext.names.items) {
    if (name.type === 'dns') out.push({ type: 'dns', value: name.value.toLowerCase().replace(/\.$/, '') });
    else if (name.type === 'ip') {
      const ip = canonicalIp(name.value);
      if (ip !== null) out.push({ type: 'ip', value: ip });
    } else if (name.type === 'url') out.push({ type: 'url', value: name.value });
  }
  return out;
}

/** The SANs from `wanted` that `cert` does not list (exact match; wildcards are not expanded). */
export function missingSubjectAltNames(cert: x509.X509Certificate, wanted: readonly SubjectAltName[]): SubjectAltName[] {
  const present = new Set(certificateSubjectAltNames(cert).map(sanKey));
  return wanted.filter((san) => !present.has(sanKey(san)));
}
