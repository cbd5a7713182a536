import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GatewayError } from '../core/errors.js';
import { createCaHierarchy, type CaHierarchy } from './ca-hierarchy.js';
import { REVOCATION_REASONS, REVOCATION_REASON_CODES, buildCrl, isRevocationReason, parseRevocationReason, type RevocationReason } from './crl.js';
import { issueCertificate, type IssuedCertificate } from './issue-certificate.js';
import { x509 } from './x509.js';

const DAY = 86_400_000;
let dir: string;
let h: CaHierarchy;
let revokedLeaf: IssuedCertificate;
let goodLeaf: IssuedCertificate;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pc-crl-'));
  h = await createCaHierarchy({ commonName: 'CRL Test' });
  const leaf = (cn: string) => issueCertificate({ issuer: h.intermediate, subjectCN: cn, sans: [], usage: 'client', notAfter: new Date(Date.now() + 30 * DAY) });
  [revokedLeaf, goodLeaf] = await Promise.all([leaf('revoked'), leaf('good')]);
});
after(() => rm(dir, { recursive: true, force: true }));

function openssl(...args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('openssl', args, (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, out: `${stdout}${stderr}` }));
  });
}

async function file(name: string, content: string | Buffer): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

const window = () => ({ thisUpdate: new Date(Date.now() - 60_000), nextUpdate: new Date(Date.now() + DAY) });

test('buildCrl: openssl verifies the CRL and refuses the revoked leaf, accepts the good one', async () => {
  const crl = await buildCrl({
    issuer: h.intermediate,
    crlNumber: 42,
    ...window(),
    revoked: [
      { serialNumber: revokedLeaf.serialNumber, revokedAt: new Date(Date.now() - 30_000), reason: 'keyCompromise' },
      { serialNumber: '0a1b2c', revokedAt: new Date(Date.now() - 30_000), reason: 'superseded' },
      { serialNumber: 'ff01', revokedAt: new Date(Date.now() - 30_000), reason: 'unspecified' },
    ],
  });
  assert.match(crl.pem, /^-----BEGIN X509 CRL-----\n/);
  assert.deepEqual(Buffer.from(new x509.X509Crl(crl.pem).rawData), crl.der);

  const crlPath = await file('crl.pem', crl.pem);
  const bundle = await file('chain.pem', h.intermediate.certPem + h.root.certPem);
  const checked = await openssl('crl', '-in', crlPath, '-CAfile', bundle, '-noout');
  assert.equal(checked.code, 0, checked.out);
  assert.match(checked.out, /verify OK/);
  const derChecked = await openssl('crl', '-inform', 'DER', '-in', await file('crl.der', crl.der), '-CAfile', bundle, '-noout');
  assert.match(derChecked.out, /verify OK/);

  const root = await file('root.pem', h.root.certPem);
  const inter = await file('inter.pem', h.intermediate.certPem);
  const verify = async (leaf: IssuedCertificate, name: string) =>
    openssl('verify', '-crl_check', '-CRLfile', crlPath, '-CAfile', root, '-untrusted', inter, await file(name, leaf.certPem));
  const refused = await verify(revokedLeaf, 'revoked.pem');
  assert.notEqual(refused.code, 0);
  assert.match(refused.out, /certificate revoked/);
  const accepted = await verify(goodLeaf, 'good.pem');
  assert.equal(accepted.code, 0, accepted.out);
  assert.match(accepted.out, /good\.pem: OK/);

  const text = (await openssl('crl', '-in', crlPath, '-noout', '-text')).out;
  assert.match(text, /Version 2 \(0x1\)/);
  assert.match(text, /X509v3 CRL Number:\s*\n\s*42\n/);
  const ski = new x509.X509Certificate(h.intermediate.certPem).getExtension(x509.SubjectKeyIdentifierExtension)!.keyId;
  assert.match(text, new RegExp(`X509v3 Authority Key Identifier:\\s*\\n\\s*${ski.toUpperCase().match(/../g)!.join(':')}`));
  assert.match(text, new RegExp(`Serial Number: ${revokedLeaf.serialNumber.toUpperCase()}[\\s\\S]*?CRL Reason Code:\\s*\\n\\s*Key Compromise`));
  assert.match(text, /Serial Number: 0A1B2C[\s\S]*?CRL Reason Code:\s*\n\s*Superseded/);
  // RFC 5280 §5.3.1: no reasonCode entry extension for "unspecified".
  assert.match(text, /Serial Number: FF01\s*\n\s*Revocation Date: [^\n]+\n(?!\s*CRL entry extensions)/);
});

test('buildCrl: every reason code, large CRL numbers, an empty list, and the root signing its own CRL', async () => {
  const revoked = REVOCATION_REASONS.map((reason, i) => ({ serialNumber: (0x10 + i).toString(16), revokedAt: new Date(Date.now() - 1000), reason }));
  const crl = await buildCrl({ issuer: h.intermediate, crlNumber: Number.MAX_SAFE_INTEGER, ...window(), revoked });
  const parsed = new x509.X509Crl(crl.der);
  for (const entry of revoked) {
    const code = REVOCATION_REASON_CODES[entry.reason];
    assert.equal(parsed.findRevoked(entry.serialNumber)?.reason, code === 0 ? undefined : code, entry.reason);
  }
  const text = (await openssl('crl', '-in', await file('all.pem', crl.pem), '-noout', '-text')).out;
  assert.match(text, /CRL Number:\s*\n\s*9007199254740991\n/);
  for (const label of ['Key Compromise', 'CA Compromise', 'Affiliation Changed', 'Superseded', 'Cessation Of Operation', 'Certificate Hold', 'Remove From CRL', 'Privilege Withdrawn', 'AA Compromise']) {
    assert.ok(text.includes(label), label);
  }

  for (const n of [0, 127, 128, 255, 256, 65_535]) {
    const small = await buildCrl({ issuer: h.intermediate, crlNumber: n, ...window(), revoked: [] });
    const out = (await openssl('crl', '-in', await file(`n${n}.pem`, small.pem), '-noout', '-text')).out;
    assert.match(out, new RegExp(`CRL Number:\\s*\\n\\s*${n}\\n`), String(n));
  }

  const empty = await buildCrl({ issuer: h.root, crlNumber: 0, ...window(), revoked: [] });
  const checked = await openssl('crl', '-in', await file('root-crl.pem', empty.pem), '-CAfile', await file('root-only.pem', h.root.certPem), '-noout', '-text');
  assert.match(checked.out, /verify OK/);
  assert.match(checked.out, /No Revoked Certificates/);
});

test('buildCrl rejects bad input with clear messages', async () => {
  const base = { issuer: h.intermediate, crlNumber: 1, ...window(), revoked: [] };
  const rejects = (opts: Parameters<typeof buildCrl>[0], pattern: RegExp) =>
    assert.rejects(buildCrl(opts), (err: unknown) => err instanceof GatewayError && err.code === 'PC_ERR_CONFIG_INVALID' && pattern.test(err.message));
  const revokedAt = new Date();
  await rejects({ ...base, crlNumber: -1 }, /crlNumber/);
  await rejects({ ...base, crlNumber: 1.5 }, /crlNumber/);
  await rejects({ ...base, nextUpdate: base.thisUpdate }, /notAfter must be a valid date after/);
  await rejects({ ...base, revoked: [{ serialNumber: 'xyz', revokedAt, reason: 'superseded' }] }, /not an even-length hex string/);
  await rejects({ ...base, revoked: [{ serialNumber: 'abc', revokedAt, reason: 'superseded' }] }, /not an even-length hex string/);
  await rejects({ ...base, revoked: [{ serialNumber: 'AB01', revokedAt, reason: 'superseded' }, { serialNumber: '00ab01', revokedAt, reason: 'keyCompromise' }] }, /listed twice/);
  await rejects({ ...base, revoked: [{ serialNumber: 'ab', revokedAt, reason: 'stolen' as RevocationReason }] }, /not a revocation reason/);
  await rejects({ ...base, issuer: { certPem: h.intermediate.certPem, keyPem: h.root.keyPem } }, /does not belong/);
  const leaf = { certPem: goodLeaf.certPem, keyPem: goodLeaf.keyPem! };
  await rejects({ ...base, issuer: leaf }, /not a CA certificate/);
});

test('revocation reasons: const list, codes and parser', () => {
  assert.equal(REVOCATION_REASONS.length, 10);
  assert.equal(REVOCATION_REASON_CODES.removeFromCRL, 8);
  assert.equal(parseRevocationReason('keyCompromise'), 'keyCompromise');
  assert.equal(parseRevocationReason('KEYCOMPROMISE'), 'keyCompromise');
  assert.equal(parseRevocationReason(' cACompromise '), 'cACompromise');
  assert.equal(parseRevocationReason(10), 'aACompromise');
  assert.equal(parseRevocationReason('4'), 'superseded');
  assert.equal(parseRevocationReason(7), undefined);
  assert.equal(parseRevocationReason('key-compromise'), undefined);
  assert.equal(parseRevocationReason(''), undefined);
  assert.ok(isRevocationReason('certificateHold'));
  assert.ok(!isRevocationReason('CertificateHold'));
  assert.ok(!isRevocationReason(1));
});
