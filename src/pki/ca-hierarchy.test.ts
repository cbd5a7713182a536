import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GatewayError } from '../core/errors.js';
import { createCaHierarchy, createIntermediateCa, importCa, type CaHierarchy } from './ca-hierarchy.js';
import { issueCertificate } from './issue-certificate.js';
import { x509 } from './x509.js';

const DAY = 86_400_000;
const CRL_URL = 'http://pki.test/_portcullis/pki/acme/main/crl';
const OCSP_URL = 'http://pki.test/_portcullis/pki/acme/main/ocsp';
let dir: string;
let ec: CaHierarchy;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pc-ca-hierarchy-'));
  ec = await createCaHierarchy({ commonName: 'Acme', organization: 'Acme Corp', crlUrl: 'http://pki.test/root.crl' });
});
after(() => rm(dir, { recursive: true, force: true }));

/** Runs openssl; resolves with exit code and combined output (never rejects on a non-zero exit). */
function openssl(...args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('openssl', args, (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, out: `${stdout}${stderr}` }));
  });
}

async function file(name: string, content: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

async function opensslVerify(h: CaHierarchy, leafPem: string, tag: string, ...extra: string[]): Promise<{ code: number; out: string }> {
  const root = await file(`${tag}-root.pem`, h.root.certPem);
  const inter = await file(`${tag}-inter.pem`, h.intermediate.certPem);
  const leaf = await file(`${tag}-leaf.pem`, leafPem);
  return openssl('verify', ...extra, '-CAfile', root, '-untrusted', inter, leaf);
}

test('createCaHierarchy: root pathLen 1, intermediate pathLen 0 signed by it, validity nested', async () => {
  const root = new x509.X509Certificate(ec.root.certPem);
  const inter = new x509.X509Certificate(ec.intermediate.certPem);
  assert.equal(root.subject, 'O=Acme Corp, CN=Acme Root CA');
  assert.equal(inter.subject, 'O=Acme Corp, CN=Acme Issuing CA');
  assert.equal(inter.issuer, root.subject);
  assert.equal(root.getExtension(x509.BasicConstraintsExtension)?.pathLength, 1);
  const bc = inter.getExtension(x509.BasicConstraintsExtension);
  assert.ok(bc?.ca && bc.critical);
  assert.equal(bc.pathLength, 0);
  assert.ok(((inter.getExtension(x509.KeyUsagesExtension)?.usages ?? 0) & x509.KeyUsageFlags.keyCertSign) !== 0);
  assert.equal(inter.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId, root.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId);
  assert.ok(await inter.verify({ publicKey: root }));
  assert.ok(inter.notAfter <= root.notAfter);
  assert.ok(Math.abs(root.notAfter.getTime() - Date.now() - 3650 * DAY) < DAY);
  assert.ok(Math.abs(inter.notAfter.getTime() - Date.now() - 1825 * DAY) < DAY);
  assert.equal(createPrivateKey(ec.intermediate.keyPem).asymmetricKeyDetails?.namedCurve, 'prime256v1');
  // The root CRL URL goes into the intermediate only.
  assert.equal(root.getExtension(x509.CRLDistributionPointsExtension), null);
  assert.ok(inter.getExtension(x509.CRLDistributionPointsExtension));

  const short = await createCaHierarchy({ commonName: 'Short', rootValidityDays: 10, intermediateValidityDays: 400 });
  const shortRoot = new x509.X509Certificate(short.root.certPem);
  assert.equal(new x509.X509Certificate(short.intermediate.certPem).notAfter.getTime(), shortRoot.notAfter.getTime());
  assert.deepEqual(importCa(short.intermediate.certPem, short.intermediate.keyPem), []);
});

test('an issued client leaf verifies with openssl and shows clientAuth, CRL DP and OCSP URL', async () => {
  const leaf = await issueCertificate({
    issuer: ec.intermediate,
    subjectCN: 'billing',
    sans: ['spiffe://acme/tenant/t1/app/billing'],
    usage: 'client',
    notAfter: new Date(Date.now() + 30 * DAY),
    crlUrl: CRL_URL,
    ocspUrl: OCSP_URL,
  });
  const verified = await opensslVerify(ec, leaf.certPem, 'ec-client', '-purpose', 'sslclient');
  assert.equal(verified.code, 0, verified.out);
  assert.match(verified.out, /: OK/);
  const text = (await openssl('x509', '-noout', '-text', '-in', await file('ec-client-text.pem', leaf.certPem))).out;
  assert.match(text, /X509v3 Extended Key Usage:\s*\n\s*TLS Web Client Authentication\n/);
  assert.match(text, /X509v3 CRL Distribution Points:[\s\S]*URI:http:\/\/pki\.test\/_portcullis\/pki\/acme\/main\/crl/);
  assert.match(text, /Authority Information Access:\s*\n\s*OCSP - URI:http:\/\/pki\.test\/_portcullis\/pki\/acme\/main\/ocsp/);
  assert.match(text, /X509v3 Key Usage: critical\s*\n\s*Digital Signature, Key Agreement\n/);
  assert.match(text, /URI:spiffe:\/\/acme\/tenant\/t1\/app\/billing/);

  // A server leaf from the same CA: serverAuth, EC keeps digitalSignature only.
  const server = await issueCertificate({ issuer: ec.intermediate, subjectCN: 'api.acme.test', sans: ['api.acme.test'], usage: 'server', notAfter: new Date(Date.now() + 30 * DAY) });
  const serverCheck = await opensslVerify(ec, server.certPem, 'ec-server', '-purpose', 'sslserver');
  assert.equal(serverCheck.code, 0, serverCheck.out);
  const serverText = (await openssl('x509', '-noout', '-text', '-in', await file('ec-server-text.pem', server.certPem))).out;
  assert.match(serverText, /TLS Web Server Authentication/);
  assert.match(serverText, /X509v3 Key Usage: critical\s*\n\s*Digital Signature\n/);
});

for (const keyType of ['rsa-2048', 'rsa-3072'] as const) {
  test(`${keyType} hierarchy issues RSA client and server leaves that openssl verifies`, async () => {
    const h = await createCaHierarchy({ commonName: `RSA ${keyType}`, keyType });
    const bits = Number(keyType.slice(4));
    assert.equal(createPrivateKey(h.root.keyPem).asymmetricKeyDetails?.modulusLength, bits);
    assert.equal(createPrivateKey(h.intermediate.keyPem).asymmetricKeyDetails?.modulusLength, bits);
    const client = await issueCertificate({ issuer: h.intermediate, subjectCN: 'rsa-client', sans: [], usage: 'client', keyType: 'rsa-2048', notAfter: new Date(Date.now() + DAY), crlUrl: CRL_URL, ocspUrl: OCSP_URL });
    assert.equal(createPrivateKey(client.keyPem).asymmetricKeyType, 'rsa');
    const verified = await opensslVerify(h, client.certPem, `${keyType}-client`, '-purpose', 'sslclient');
    assert.equal(verified.code, 0, verified.out);
    const text = (await openssl('x509', '-noout', '-text', '-in', await file(`${keyType}-client-text.pem`, client.certPem))).out;
    assert.match(text, /Signature Algorithm: sha256WithRSAEncryption/);
    assert.match(text, /TLS Web Client Authentication/);
    assert.match(text, /Digital Signature, Key Encipherment\n/);
    assert.match(text, /OCSP - URI:http:\/\/pki\.test/);
    assert.match(text, /URI:http:\/\/pki\.test\/_portcullis\/pki\/acme\/main\/crl/);

    const server = await issueCertificate({ issuer: h.intermediate, subjectCN: 'rsa.test', sans: ['rsa.test'], usage: 'server', notAfter: new Date(Date.now() + DAY) });
    assert.equal(createPrivateKey(server.keyPem).asymmetricKeyType, 'ec');
    const serverCheck = await opensslVerify(h, server.certPem, `${keyType}-server`, '-purpose', 'sslserver');
    assert.equal(serverCheck.code, 0, serverCheck.out);
  });
}

test('leaf validity is clamped to the issuer, and a random serial is used each time', async () => {
  const h = await createCaHierarchy({ commonName: 'Clamp', rootValidityDays: 20, intermediateValidityDays: 5 });
  const interNotAfter = new x509.X509Certificate(h.intermediate.certPem).notAfter;
  const a = await issueCertificate({ issuer: h.intermediate, subjectCN: 'a', sans: [], usage: 'client', notAfter: new Date(Date.now() + 365 * DAY) });
  const b = await issueCertificate({ issuer: h.intermediate, subjectCN: 'b', sans: [], usage: 'client', notAfter: new Date(Date.now() + 365 * DAY) });
  assert.equal(a.notAfter.getTime(), interNotAfter.getTime());
  assert.equal(new x509.X509Certificate(a.certPem).notAfter.getTime(), interNotAfter.getTime());
  assert.notEqual(a.serialNumber, b.serialNumber);
  assert.match(a.serialNumber, /^[0-7][0-9a-f]{31}$/);
  await assert.rejects(
    issueCertificate({ issuer: h.intermediate, subjectCN: 'c', sans: [], usage: 'client', notAfter: new Date(Date.now() + 365 * DAY), beyondIssuerValidity: 'reject' }),
    (err: unknown) => err instanceof GatewayError && /outlive its issuer/.test(err.message),
  );
  await assert.rejects(
    issueCertificate({ issuer: h.intermediate, subjectCN: 'c', sans: [], usage: 'client', notBefore: new Date(Date.now() + 10 * DAY), notAfter: new Date(Date.now() + 11 * DAY) }),
    (err: unknown) => err instanceof GatewayError && /issuer certificate expired/.test(err.message),
  );
  await assert.rejects(
    issueCertificate({ issuer: h.intermediate, subjectCN: 'c', sans: [], usage: 'client', notAfter: new Date(Date.now() + DAY), crlUrl: 'ldap://x/crl' }),
    (err: unknown) => err instanceof GatewayError && /crlUrl must be an absolute http\(s\) URL/.test(err.message),
  );
  await assert.rejects(createCaHierarchy({ commonName: 'x', rootValidityDays: 0 }), (err: unknown) => err instanceof GatewayError && /rootValidityDays/.test(err.message));
  await assert.rejects(createCaHierarchy({ commonName: 'x', ocspUrl: 'not a url' }), (err: unknown) => err instanceof GatewayError && /ocspUrl/.test(err.message));
});

test('createIntermediateCa refuses an issuer that cannot sign certificates', async () => {
  const leaf = await issueCertificate({ issuer: ec.intermediate, subjectCN: 'leaf', sans: [], usage: 'client', notAfter: new Date(Date.now() + DAY) });
  await assert.rejects(
    createIntermediateCa({ issuer: { certPem: leaf.certPem, keyPem: leaf.keyPem }, commonName: 'x', notBefore: new Date(), notAfter: new Date(Date.now() + DAY) }),
    (err: unknown) => err instanceof GatewayError && /not a CA certificate/.test(err.message),
  );
  // pathLen 0 on the intermediate: openssl refuses a CA it signed.
  const sub = await createIntermediateCa({ issuer: ec.intermediate, commonName: 'Too Deep', notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + DAY) });
  const deepLeaf = await issueCertificate({ issuer: sub, subjectCN: 'deep', sans: [], usage: 'client', notAfter: new Date(Date.now() + DAY) });
  const root = await file('deep-root.pem', ec.root.certPem);
  const untrusted = await file('deep-untrusted.pem', ec.intermediate.certPem + sub.certPem);
  const result = await openssl('verify', '-CAfile', root, '-untrusted', untrusted, await file('deep-leaf.pem', deepLeaf.certPem));
  assert.notEqual(result.code, 0);
  assert.match(result.out, /path length constraint exceeded/);
});

test('importCa reports every problem with a clear message', async () => {
  const { root, intermediate } = ec;
  assert.deepEqual(importCa(intermediate.certPem, intermediate.keyPem), []);
  assert.deepEqual(importCa(root.certPem + intermediate.certPem, root.keyPem), []);
  assert.deepEqual(importCa(intermediate.certPem, root.keyPem), ['the private key does not belong to the CA certificate']);

  const leaf = await issueCertificate({ issuer: intermediate, subjectCN: 'leaf', sans: [], usage: 'client', notAfter: new Date(Date.now() + DAY) });
  assert.deepEqual(importCa(leaf.certPem, leaf.keyPem), [
    'the certificate is not a CA certificate (basicConstraints CA:true is missing)',
    'the certificate may not sign certificates (keyUsage lacks keyCertSign)',
  ]);

  const later = new Date(Date.now() + 4000 * DAY);
  assert.deepEqual(importCa(intermediate.certPem, intermediate.keyPem, later), [`the CA certificate expired on ${new x509.X509Certificate(intermediate.certPem).notAfter.toISOString()}`]);
  const earlier = new Date(Date.now() - DAY);
  assert.match(importCa(intermediate.certPem, intermediate.keyPem, earlier).join('\n'), /^the CA certificate is not valid before /);

  assert.deepEqual(importCa('garbage', intermediate.keyPem), ['the CA certificate is not a valid PEM certificate']);
  const problems = importCa(intermediate.certPem, '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n');
  assert.deepEqual(problems, ['the CA key is not a valid PEM private key']);
});
