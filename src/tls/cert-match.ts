/**
 * Client-certificate match rules: reusable by routes (the `client-cert` plugin) and, later, by
 * application identities. A list of rules matches when ANY rule matches; a rule matches when ALL of
 * its fields do. Compiled once at config time into a predicate.
 */

import { z } from 'zod';
import type { ClientCertificate } from './client-certificate.js';

const Fingerprint = z
  .string()
  .regex(/^([0-9a-fA-F]{2}:?){31}[0-9a-fA-F]{2}$/, 'must be a SHA-256 fingerprint in hex (colons optional)')
  .transform((f) => f.replace(/:/g, '').toLowerCase());

const Pattern = z.string().min(1).max(2048).describe('Exact value, or a prefix ending in "*" (e.g. "spiffe://example.org/tenant/acme/*")');

const DistinguishedName = z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9.]*$/), z.string()).describe('Attribute → exact value, e.g. { CN: billing, O: Acme }');

export const CertMatchRuleSchema = z
  .object({
    sanUri: Pattern.optional(),
    sanDns: Pattern.optional(),
    sanEmail: Pattern.optional(),
    subject: DistinguishedName.optional(),
    issuer: DistinguishedName.optional(),
    fingerprint: Fingerprint.optional().describe("SHA-256 fingerprint of the client's certificate"),
    issuerFingerprint: Fingerprint.optional().describe('SHA-256 fingerprint of the issuing CA certificate'),
  })
  .strict()
  .refine((r) => Object.values(r).some((v) => v !== undefined), 'a rule needs at least one field');

export type CertMatchRule = z.output<typeof CertMatchRuleSchema>;

function patternMatcher(pattern: string, caseInsensitive: boolean): (value: string) => boolean {
  const p = caseInsensitive ? pattern.toLowerCase() : pattern;
  if (p.endsWith('*')) {
    const prefix = p.slice(0, -1);
    return (v) => (caseInsensitive ? v.toLowerCase() : v).startsWith(prefix);
  }
  return (v) => (caseInsensitive ? v.toLowerCase() : v) === p;
}

function anyOf(values: readonly string[], match: (v: string) => boolean): boolean {
  for (const v of values) if (match(v)) return true;
  return false;
}

function compileRule(rule: CertMatchRule): (cert: ClientCertificate) => boolean {
  const checks: Array<(c: ClientCertificate) => boolean> = [];
  if (rule.sanUri !== undefined) {
    const m = patternMatcher(rule.sanUri, false);
    checks.push((c) => anyOf(c.sanUris, m));
  }
  if (rule.sanDns !== undefined) {
    const m = patternMatcher(rule.sanDns, true);
    checks.push((c) => anyOf(c.sanDns, m));
  }
  if (rule.sanEmail !== undefined) {
    const m = patternMatcher(rule.sanEmail, true);
    checks.push((c) => anyOf(c.sanEmails, m));
  }
  if (rule.subject !== undefined) {
    const want = Object.entries(rule.subject);
    checks.push((c) => want.every(([k, v]) => c.subject[k] === v));
  }
  if (rule.issuer !== undefined) {
    const want = Object.entries(rule.issuer);
    checks.push((c) => want.every(([k, v]) => c.issuer[k] === v));
  }
  if (rule.fingerprint !== undefined) {
    const f = rule.fingerprint;
    checks.push((c) => c.fingerprint256 === f);
  }
  if (rule.issuerFingerprint !== undefined) {
    const f = rule.issuerFingerprint;
    checks.push((c) => c.issuerFingerprint256 === f);
  }
  return (c) => checks.every((check) => check(c));
}

/** A predicate true when any rule matches. An empty list matches every certificate. */
export function compileCertMatch(rules: readonly CertMatchRule[]): (cert: ClientCertificate) => boolean {
  if (rules.length === 0) return () => true;
  const compiled = rules.map(compileRule);
  return (c) => compiled.some((r) => r(c));
}
