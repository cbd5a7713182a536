import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { createServer, connect, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { GatewayError } from '../core/errors.js';
import { createRootCa, issueCertificate, type RootCa } from './issue-certificate.js';
import { exportPublicKeyPem, generateKeyPair, importSigningKey, keyMatchesCertificate, randomSerialNumber } from './keys.js';
import { canonicalIp, parseSubjectAltName, parseSubjectAltNames } from './san.js';
import { x509 } from './x509.js';

const DAY = 86_400_000;
const now = Date.now();

function makeCa(days = 3650): Promise<RootCa> {
  return createRootCa({ commonName: 'Test CA', organization: 'Portcullis tests', notBefore: new Date(now - 60_000), notAfter: new Date(now + days * DAY) });
}

function isConfigError(pattern: RegExp) {
  return (err: unknown) => err instanceof GatewayError && err.code === 'PC_ERR_CONFIG_INVALID' && pattern.test(err.message);
}

test('createRootCa: self-signed CA with the required extensions', async () => {
  const ca = await makeCa();
  const cert = new x509.X509Certificate(ca.certPem);
  assert.equal(cert.subject, 'O=Portcullis tests, CN=Test CA');
  assert.equal(cert.issuer, cert.subject);
  const bc = cert.getExtension(x509.BasicConstraintsExtension);
  assert.ok(bc?.ca && bc.critical);
  assert.equal(bc.pathLength, 0);
  const ku = cert.getExtension(x509.KeyUsagesExtension);
  assert.ok(ku?.critical);
  assert.equal(ku.usages, x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign);
  assert.ok(cert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId);
  assert.match(ca.keyPem, /^-----BEGIN PRIVATE KEY-----\n/);
  const nodeCert = new X509Certificate(ca.certPem);
  assert.ok(nodeCert.ca);
  assert.ok(nodeCert.verify(nodeCert.publicKey));
  assert.ok(keyMatchesCertificate(ca.keyPem, ca.certPem));
  assert.equal(createPrivateKey(ca.keyPem).asymmetricKeyDetails?.namedCurve, 'prime256v1');
});

test('issueCertificate (server): leaf extensions, SANs and signature', async () => {
  const ca = await makeCa();
  const notAfter = new Date(now + 397 * DAY);
  const leaf = await issueCertificate({ issuer: ca, subjectCN: 'api.test', sans: ['api.test', 'API.Example.COM.', '10.0.0.1', '::1', 'localhost'], usage: 'server', notAfter });
  assert.ok(leaf.keyPem.startsWith('-----BEGIN PRIVATE KEY-----'));
  const cert = new x509.X509Certificate(leaf.certPem);
  assert.equal(cert.serialNumber, leaf.serialNumber);
  assert.equal(cert.notAfter.getTime(), Math.floor(notAfter.getTime() / 1000) * 1000);
  const bc = cert.getExtension(x509.BasicConstraintsExtension);
  assert.ok(bc && !bc.ca && bc.critical);
  const ku = cert.getExtension(x509.KeyUsagesExtension);
  assert.ok(ku?.critical);
  assert.equal(ku.usages, x509.KeyUsageFlags.digitalSignature);
  assert.deepEqual([...(cert.getExtension(x509.ExtendedKeyUsageExtension)?.usages ?? [])], [x509.ExtendedKeyUsage.serverAuth]);
  const caSki = new x509.X509Certificate(ca.certPem).getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  assert.equal(cert.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId, caSki);
  assert.ok(cert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId);
  assert.deepEqual(leaf.sans.map((s) => `${s.type}:${s.value}`), ['dns:api.test', 'dns:api.example.com', 'ip:10.0.0.1', 'ip:::1', 'dns:localhost']);

  const nodeLeaf = new X509Certificate(leaf.certPem);
  const nodeCa = new X509Certificate(ca.certPem);
  assert.ok(nodeLeaf.checkIssued(nodeCa));
  assert.ok(nodeLeaf.verify(nodeCa.publicKey));
  assert.equal(nodeLeaf.checkHost('api.example.com'), 'api.example.com');
  assert.equal(nodeLeaf.checkIP('10.0.0.1'), '10.0.0.1');
  assert.equal(nodeLeaf.checkHost('other.test'), undefined);
  assert.ok(keyMatchesCertificate(leaf.keyPem, leaf.certPem));
});

test('issueCertificate (client) works for mutual TLS against the issuing CA', async () => {
  const ca = await makeCa();
  const server = await issueCertificate({ issuer: ca, subjectCN: 'localhost', sans: ['127.0.0.1'], usage: 'server', notAfter: new Date(now + 30 * DAY) });
  const client = await issueCertificate({ issuer: ca, subjectCN: 'billing-service', sans: ['spiffe://portcullis/tenant/default/billing'], usage: 'client', notAfter: new Date(now + 30 * DAY) });
  assert.deepEqual([...(new x509.X509Certificate(client.certPem).getExtension(x509.ExtendedKeyUsageExtension)?.usages ?? [])], [x509.ExtendedKeyUsage.clientAuth]);

  const tlsServer = createServer({ cert: server.certPem, key: server.keyPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: true }, (socket) => {
    socket.end(`hello ${socket.getPeerCertificate().subject.CN}`);
  });
  await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = tlsServer.address() as AddressInfo;
    const reply = await new Promise<string>((resolve, reject) => {
      const socket: TLSSocket = connect({ host: '127.0.0.1', port, ca: ca.certPem, cert: client.certPem, key: client.keyPem }, () => {
        assert.ok(socket.authorized);
      });
      let data = '';
      socket.on('data', (d: Buffer) => (data += d.toString()));
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    assert.equal(reply, 'hello billing-service');
  } finally {
    tlsServer.close();
  }
});

test('issueCertificate certifies a supplied public key and returns no private key', async () => {
  const ca = await makeCa();
  const keys = await generateKeyPair('P-384');
  const pem = await exportPublicKeyPem(keys.publicKey);
  for (const publicKey of [pem, keys.publicKey]) {
    const leaf = await issueCertificate({ issuer: ca, subjectCN: 'csr', sans: ['csr.test'], usage: 'server', notAfter: new Date(now + DAY), publicKey });
    assert.equal(leaf.keyPem, undefined);
    const certKey = new X509Certificate(leaf.certPem).publicKey.export({ type: 'spki', format: 'pem' });
    assert.equal(certKey, pem);
  }
  await assert.rejects(
    issueCertificate({ issuer: ca, subjectCN: 'x', sans: ['x.test'], usage: 'server', notAfter: new Date(now + DAY), publicKey: 'garbage' }),
    isConfigError(/publicKey/),
  );
});

test('issueCertificate rejects bad issuers, names and validity', async () => {
  const ca = await makeCa(10);
  const other = await makeCa();
  const leaf = await issueCertificate({ issuer: ca, subjectCN: 'l', sans: ['l.test'], usage: 'server', notAfter: new Date(now + DAY) });
  const base = { subjectCN: 'x', sans: ['x.test'], usage: 'server' as const, notAfter: new Date(now + DAY) };
  await assert.rejects(issueCertificate({ ...base, issuer: { certPem: leaf.certPem, keyPem: leaf.keyPem } }), isConfigError(/not a CA/));
  await assert.rejects(issueCertificate({ ...base, issuer: { certPem: ca.certPem, keyPem: other.keyPem } }), isConfigError(/does not belong/));
  await assert.rejects(issueCertificate({ ...base, issuer: { certPem: 'nope', keyPem: ca.keyPem } }), isConfigError(/not a valid PEM certificate/));
  await assert.rejects(issueCertificate({ ...base, issuer: { certPem: ca.certPem, keyPem: 'nope' } }), (err: unknown) => err instanceof GatewayError && !err.message.includes('nope'));
  await assert.rejects(issueCertificate({ ...base, issuer: ca, sans: [] }), isConfigError(/at least one/));
  await assert.rejects(issueCertificate({ ...base, issuer: ca, sans: ['bad host!'] }), isConfigError(/not a valid host name/));
  await assert.rejects(issueCertificate({ ...base, issuer: ca, notAfter: new Date(now + 20 * DAY), beyondIssuerValidity: 'reject' }), isConfigError(/outlive its issuer/));
  await assert.rejects(issueCertificate({ ...base, issuer: ca, notBefore: new Date(now), notAfter: new Date(now - 1) }), isConfigError(/notAfter/));
  await assert.doesNotReject(issueCertificate({ ...base, issuer: ca, sans: [], usage: 'client' }));
});

test('importSigningKey accepts EC and RSA >= 2048, rejects others without echoing the key', async () => {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  assert.deepEqual((await importSigningKey(ec)).algorithm, { name: 'ECDSA', hash: 'SHA-384' });
  const sec1 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'sec1', format: 'pem' }) as string;
  assert.deepEqual((await importSigningKey(sec1)).algorithm, { name: 'ECDSA', hash: 'SHA-256' });
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  assert.deepEqual((await importSigningKey(rsa)).algorithm, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' });
  const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  await assert.rejects(importSigningKey(weak), isConfigError(/2048/));
  const ed = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  await assert.rejects(importSigningKey(ed, 'my key'), isConfigError(/my key has unsupported type ed25519/));
  const bad = '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n';
  await assert.rejects(importSigningKey(bad), (err: unknown) => err instanceof GatewayError && !err.message.includes('AAAA'));
});

test('randomSerialNumber: 16 bytes, positive, full length, unique', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const s = randomSerialNumber();
    assert.match(s, /^[0-9a-f]{32}$/);
    const first = parseInt(s.slice(0, 2), 16);
    assert.ok(first >= 0x01 && first <= 0x7f, s);
    seen.add(s);
  }
  assert.equal(seen.size, 2000);
});

test('SAN parsing detects and canonicalises DNS, IP and URI names', () => {
  assert.deepEqual(parseSubjectAltName('LocalHost.'), { type: 'dns', value: 'localhost' });
  assert.deepEqual(parseSubjectAltName('*.svc.cluster.local'), { type: 'dns', value: '*.svc.cluster.local' });
  assert.deepEqual(parseSubjectAltName('127.0.0.1'), { type: 'ip', value: '127.0.0.1' });
  assert.deepEqual(parseSubjectAltName('[0:0:0:0:0:0:0:1]'), { type: 'ip', value: '::1' });
  assert.deepEqual(parseSubjectAltName('FE80:0:0:0:0:0:0:AB'), { type: 'ip', value: 'fe80::ab' });
  assert.deepEqual(parseSubjectAltName('spiffe://td/ns/x'), { type: 'url', value: 'spiffe://td/ns/x' });
  assert.equal(canonicalIp('example.com'), null);
  assert.equal(canonicalIp('fe80::1%eth0'), null);
  for (const bad of ['', 'a..b', '-a.test', 'a-.test', 'host name', '*.com', 'x'.repeat(64) + '.test', 'fe80::1%eth0', '1.2.3.256', '10.0.0.01.5']) {
    assert.throws(() => parseSubjectAltName(bad), isConfigError(/not a valid/), bad);
  }
  assert.deepEqual(
    parseSubjectAltNames(['localhost', 'LOCALHOST', '::1', '0::1']).map((s) => s.value),
    ['localhost', '::1'],
  );
});
