import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CertMatchRuleSchema, compileCertMatch } from './cert-match.js';
import type { ClientCertificate } from './client-certificate.js';

const cert: ClientCertificate = {
  subject: { CN: 'billing', O: 'Acme' },
  subjectText: 'CN=billing,O=Acme',
  issuer: { CN: 'Acme Client CA' },
  issuerText: 'CN=Acme Client CA',
  sanUris: ['spiffe://acme.test/tenant/acme/app/billing'],
  sanDns: ['billing.acme.test'],
  sanEmails: ['ops@acme.test'],
  fingerprint256: 'ab'.repeat(32),
  issuerFingerprint256: 'cd'.repeat(32),
  serialNumber: '01',
  validFrom: '',
  validTo: '',
  pem: '',
  chain: [],
};

const rules = (r: unknown[]) => compileCertMatch(r.map((x) => CertMatchRuleSchema.parse(x)));

describe('certificate match rules', () => {
  it('matches any rule, all fields of a rule', () => {
    assert.equal(rules([{ sanUri: 'spiffe://acme.test/tenant/acme/app/billing' }])(cert), true);
    assert.equal(rules([{ sanUri: 'spiffe://acme.test/tenant/acme/*' }])(cert), true);
    assert.equal(rules([{ sanUri: 'spiffe://acme.test/tenant/other/*' }])(cert), false);
    assert.equal(rules([{ sanUri: 'spiffe://acme.test/tenant/acme/*', subject: { CN: 'reports' } }])(cert), false);
    assert.equal(rules([{ subject: { CN: 'reports' } }, { sanDns: 'BILLING.acme.test' }])(cert), true);
    assert.equal(rules([{ sanEmail: 'ops@acme.test', issuer: { CN: 'Acme Client CA' } }])(cert), true);
    assert.equal(rules([{ fingerprint: 'AB:'.repeat(31) + 'AB' }])(cert), true);
    assert.equal(rules([{ issuerFingerprint: 'cd'.repeat(32) }])(cert), true);
    assert.equal(rules([])(cert), true);
  });

  it('refuses empty rules and malformed fingerprints', () => {
    assert.equal(CertMatchRuleSchema.safeParse({}).success, false);
    assert.equal(CertMatchRuleSchema.safeParse({ fingerprint: 'abc' }).success, false);
    assert.equal(CertMatchRuleSchema.safeParse({ sanUri: 'x', bogus: 1 }).success, false);
  });
});
