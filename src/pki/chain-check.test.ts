import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createCaHierarchy, type CaHierarchy } from './ca-hierarchy.js';
import { checkCertificateChain } from './chain-check.js';
import { issueCertificate, type IssuedCertificate } from './issue-certificate.js';
import { exportPrivateKeyPem, generateKeyPair, importSigningKey, pkiCrypto, randomSerialNumber } from './keys.js';
import { x509 } from './x509.js';

const DAY = 86_400_000;
let h: CaHierarchy;
let other: CaHierarchy;
let leaf: IssuedCertificate & { keyPem: string };

before(async () => {
  [h, other] = await Promise.all([createCaHierarchy({ commonName: 'Chain' }), createCaHierarchy({ commonName: 'Other' })]);
  leaf = await issueCertificate({ issuer: h.intermediate, subjectCN: 'www.acme.test', sans: ['www.acme.test'], usage: 'server', notAfter: new Date(Date.now() + 90 * DAY) });
});

const join = (...pems: string[]) => pems.map((p) => p.trimEnd()).join('\n') + '\n';

test('a complete chain with its key has no problems, with or without the root', () => {
  assert.deepEqual(checkCertificateChain({ chainPem: join(leaf.certPem, h.intermediate.certPem, h.root.certPem), keyPem: leaf.keyPem }), []);
  // Ends at the intermediate, as public CAs send it: its issuer must be a given root.
  assert.deepEqual(checkCertificateChain({ chainPem: join(leaf.certPem, h.intermediate.certPem), keyPem: leaf.keyPem, roots: [h.root.certPem] }), []);
  // A self-signed certificate alone is a complete chain.
  assert.deepEqual(checkCertificateChain({ chainPem: h.root.certPem, keyPem: h.root.keyPem }), []);
});

test('a missing intermediate is reported', () => {
  const onlyLeaf = checkCertificateChain({ chainPem: leaf.certPem, keyPem: leaf.keyPem, roots: [h.root.certPem] });
  assert.deepEqual(onlyLeaf, [
    'the chain is incomplete: certificate 1 (CN=www.acme.test) was issued by CN=Chain Issuing CA, which is neither included nor a known root; add the missing intermediate certificate',
  ]);
  const skipped = checkCertificateChain({ chainPem: join(leaf.certPem, h.root.certPem), keyPem: leaf.keyPem });
  assert.deepEqual(skipped, [
    'certificate 1 (CN=www.acme.test) was not issued by certificate 2 (CN=Chain Root CA) (issuer is CN=Chain Issuing CA): an intermediate is missing or the order is wrong (leaf first, then each issuer)',
  ]);
  // Our private root is not in Node's bundled store, so the default roots do not complete the chain.
  const defaultRoots = checkCertificateChain({ chainPem: join(leaf.certPem, h.intermediate.certPem), keyPem: leaf.keyPem });
  assert.equal(defaultRoots.length, 1);
  assert.match(defaultRoots[0]!, /^the chain is incomplete: certificate 2 \(CN=Chain Issuing CA\) was issued by CN=Chain Root CA, which is neither/);
});

test('wrong order, a forged link and a non-CA signer are reported', async () => {
  const reversed = checkCertificateChain({ chainPem: join(h.intermediate.certPem, leaf.certPem, h.root.certPem), keyPem: leaf.keyPem });
  assert.ok(reversed.includes('the private key does not belong to the leaf certificate 1 (CN=Chain Issuing CA)'), reversed.join('\n'));
  assert.ok(reversed.some((p) => p.startsWith('certificate 2 (CN=www.acme.test) is not a CA certificate')), reversed.join('\n'));

  // Same names as the real intermediate but another key: names match, the signature does not.
  const impostor = await createCaHierarchy({ commonName: 'Chain' });
  const forged = checkCertificateChain({ chainPem: join(leaf.certPem, impostor.intermediate.certPem, impostor.root.certPem), keyPem: leaf.keyPem });
  assert.equal(forged.length, 1, forged.join('\n'));
  // The authority key identifier already tells the impostor apart.
  assert.match(forged[0]!, /^certificate 1 \(CN=www\.acme\.test\) was not issued by certificate 2 \(CN=Chain Issuing CA\)/);
});

test('a certificate naming the right issuer but signed by another key is reported', async () => {
  const inter = new x509.X509Certificate(h.intermediate.certPem);
  const keys = await generateKeyPair();
  const wrongSigner = await importSigningKey(other.intermediate.keyPem);
  const forged = await x509.X509CertificateGenerator.create(
    {
      serialNumber: randomSerialNumber(),
      subject: 'CN=forged.test',
      issuer: inter.subjectName,
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + DAY),
      publicKey: keys.publicKey,
      signingKey: wrongSigner.privateKey,
      signingAlgorithm: wrongSigner.algorithm,
      extensions: [new x509.AuthorityKeyIdentifierExtension(inter.getExtension(x509.SubjectKeyIdentifierExtension)!.keyId)],
    },
    pkiCrypto(),
  );
  const problems = checkCertificateChain({ chainPem: join(forged.toString('pem'), h.intermediate.certPem, h.root.certPem), keyPem: await exportPrivateKeyPem(keys.privateKey) });
  assert.deepEqual(problems, ['the signature of certificate 1 (CN=forged.test) does not verify with the key of certificate 2 (CN=Chain Issuing CA)']);
});

test('a certificate outside its validity is reported with its dates', async () => {
  const later = new Date(Date.now() + 200 * DAY);
  const leafEnd = new x509.X509Certificate(leaf.certPem).notAfter.toISOString();
  assert.deepEqual(checkCertificateChain({ chainPem: join(leaf.certPem, h.intermediate.certPem, h.root.certPem), keyPem: leaf.keyPem, now: later }), [
    `certificate 1 (CN=www.acme.test) expired on ${leafEnd}`,
  ]);
  const muchLater = new Date(Date.now() + 4000 * DAY);
  assert.equal(checkCertificateChain({ chainPem: join(leaf.certPem, h.intermediate.certPem, h.root.certPem), keyPem: leaf.keyPem, now: muchLater }).length, 3);
  const future = await issueCertificate({ issuer: h.intermediate, subjectCN: 'soon', sans: ['soon.test'], usage: 'server', notBefore: new Date(Date.now() + DAY), notAfter: new Date(Date.now() + 2 * DAY) });
  const early = checkCertificateChain({ chainPem: join(future.certPem, h.intermediate.certPem, h.root.certPem), keyPem: future.keyPem });
  assert.deepEqual(early, [`certificate 1 (CN=soon) is not valid before ${future.notBefore.toISOString()}`]);
});

test('a mismatched or unreadable key, and unreadable chains, are reported', () => {
  const full = join(leaf.certPem, h.intermediate.certPem, h.root.certPem);
  assert.deepEqual(checkCertificateChain({ chainPem: full, keyPem: other.intermediate.keyPem }), ['the private key does not belong to the leaf certificate 1 (CN=www.acme.test)']);
  assert.deepEqual(checkCertificateChain({ chainPem: full, keyPem: 'nope' }), ['the private key is not a valid PEM private key']);
  assert.deepEqual(checkCertificateChain({ chainPem: 'nothing here', keyPem: leaf.keyPem }), ['the chain holds no PEM certificate']);
  const broken = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';
  assert.deepEqual(checkCertificateChain({ chainPem: join(leaf.certPem, broken), keyPem: leaf.keyPem }), ['certificate 2 of the chain is not a valid certificate']);
});
