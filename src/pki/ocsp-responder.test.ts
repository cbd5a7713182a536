import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Extension } from '@peculiar/asn1-x509';
import { BasicOCSPResponse, CertID, OCSPRequest, OCSPResponse, OCSPResponseStatus, Request, id_pkix_ocsp_nonce } from '@peculiar/asn1-ocsp';
import { GatewayError } from '../core/errors.js';
import { createRootCa, issueCertificate, type RootCa } from './issue-certificate.js';
import { exportPrivateKeyPem, generateKeyPair, importSigningKey, pkiCrypto, randomSerialNumber } from './keys.js';
import { splitPemCertificates } from './pem.js';
import { x509 } from './x509.js';
import {
  OCSP_RESPONSE_CONTENT_TYPE, buildOcspResponse, certIdFor, matchesIssuer, ocspError, parseOcspRequest,
  type OcspResponseEntry,
} from './ocsp-responder.js';

const DAY = 86_400_000;
const now = Date.now();
const REVOKED_AT = new Date('2025-01-02T03:04:05Z');
let dir: string;
let ca: RootCa;
let otherCa: RootCa;
let server: Server;
let url: string;
const paths: Record<'ca' | 'otherCa' | 'good' | 'revoked' | 'unlisted' | 'foreign', string> = { ca: '', otherCa: '', good: '', revoked: '', unlisted: '', foreign: '' };
/** The test CA's revocation database: serial → status. Serials not listed are 'unknown'. */
const statuses = new Map<string, Pick<OcspResponseEntry, 'status' | 'revokedAt' | 'reason'>>();

/** The responder under test: POST application/ocsp-request → application/ocsp-response. */
function startResponder(): Promise<Server> {
  const srv = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: Buffer;
      try {
        const parsed = parseOcspRequest(Buffer.concat(chunks));
        body = buildOcspResponse({
          responder: ca,
          issuerCertPem: ca.certPem,
          entries: parsed.certIds.map((certId) => ({
            certId,
            ...(matchesIssuer(certId, ca.certPem) ? statuses.get(certId.serialNumber) ?? { status: 'unknown' } : { status: 'unknown' }),
          })),
          thisUpdate: new Date(Date.now() - 60_000),
          nextUpdate: new Date(Date.now() + DAY),
          nonce: parsed.nonce,
        });
      } catch (err) {
        body = ocspError(err instanceof GatewayError && err.status === 400 ? 'malformedRequest' : 'internalError');
      }
      res.writeHead(200, { 'content-type': OCSP_RESPONSE_CONTENT_TYPE, 'content-length': body.length });
      res.end(body);
    });
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve(srv)));
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pc-ocsp-'));
  const validity = { notBefore: new Date(now - 60_000), notAfter: new Date(now + 30 * DAY) };
  ca = await createRootCa({ commonName: 'OCSP Test CA', organization: 'Portcullis tests', ...validity });
  otherCa = await createRootCa({ commonName: 'Other CA', ...validity });
  const leaf = (issuer: RootCa, cn: string) => issueCertificate({ issuer, subjectCN: cn, sans: [], usage: 'client', notAfter: new Date(now + DAY) });
  const [good, revoked, unlisted, foreign] = await Promise.all([leaf(ca, 'good'), leaf(ca, 'revoked'), leaf(ca, 'unlisted'), leaf(otherCa, 'foreign')]);
  statuses.set(good.serialNumber, { status: 'good' });
  statuses.set(revoked.serialNumber, { status: 'revoked', revokedAt: REVOKED_AT, reason: 'keyCompromise' });
  const pems = { ca: ca.certPem, otherCa: otherCa.certPem, good: good.certPem, revoked: revoked.certPem, unlisted: unlisted.certPem, foreign: foreign.certPem };
  for (const [name, pem] of Object.entries(pems)) {
    paths[name as keyof typeof paths] = join(dir, `${name}.pem`);
    await writeFile(join(dir, `${name}.pem`), pem);
  }
  server = await startResponder();
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(dir, { recursive: true, force: true });
});

/** Runs `openssl ocsp` against the test responder; resolves with stdout + stderr (also on failure). */
async function opensslOcsp(...args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await promisify(execFile)('openssl', ['ocsp', '-url', url, '-CAfile', paths.ca, '-resp_text', ...args]);
    return stdout + stderr;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    throw new Error(`openssl ocsp failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

test('openssl ocsp: a good certificate, with and without nonce', async () => {
  for (const nonceArgs of [[], ['-no_nonce']]) {
    const out = await opensslOcsp(...nonceArgs, '-issuer', paths.ca, '-cert', paths.good);
    assert.match(out, /Response verify OK/);
    assert.match(out, new RegExp(`${paths.good}: good`));
    // responderID byKey: the CA signs, so it equals the CertID's issuerKeyHash (both SHA-1 of the CA key).
    const keyHash = /Issuer Key Hash: ([0-9A-F]{40})/.exec(out)?.[1];
    assert.ok(keyHash);
    assert.match(out, new RegExp(`Responder Id: ${keyHash}\\n`));
    // The responder certificate is included, byte for byte.
    assert.deepEqual(splitPemCertificates(out), splitPemCertificates(ca.certPem));
    assert.match(out, /Signature Algorithm: ecdsa-with-SHA256/);
    assert.doesNotMatch(out, /WARNING|nonce verify error/i);
    if (nonceArgs.length === 0) assert.match(out, /OCSP Nonce:/);
    else assert.doesNotMatch(out, /OCSP Nonce:/);
  }
});

test('openssl ocsp: a revoked certificate with reason and time', async () => {
  const out = await opensslOcsp('-issuer', paths.ca, '-cert', paths.revoked);
  assert.match(out, /Response verify OK/);
  assert.match(out, new RegExp(`${paths.revoked}: revoked`));
  assert.match(out, /Reason: keyCompromise/);
  assert.match(out, /Revocation Time: Jan {2}2 03:04:05 2025 GMT/);
});

test('openssl ocsp: several certificates in one request, SHA-256 CertIDs, unknown serial', async () => {
  const out = await opensslOcsp('-sha256', '-issuer', paths.ca, '-cert', paths.good, '-cert', paths.revoked, '-cert', paths.unlisted);
  assert.match(out, /Response verify OK/);
  assert.match(out, /Hash Algorithm: sha256/);
  assert.match(out, new RegExp(`${paths.good}: good`));
  assert.match(out, new RegExp(`${paths.revoked}: revoked`));
  assert.match(out, new RegExp(`${paths.unlisted}: unknown`));
});

test('a garbage request gets malformedRequest', async () => {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/ocsp-request' }, body: 'not an ocsp request' });
  assert.equal(res.headers.get('content-type'), OCSP_RESPONSE_CONTENT_TYPE);
  const body = Buffer.from(await res.arrayBuffer());
  assert.equal(AsnConvert.parse(body, OCSPResponse).responseStatus, OCSPResponseStatus.malformedRequest);
  const file = join(dir, 'malformed.der');
  await writeFile(file, body);
  const { stdout, stderr } = await promisify(execFile)('openssl', ['ocsp', '-respin', file, '-resp_text']).catch((e: { stdout: string; stderr: string }) => e);
  assert.match(stdout + stderr, /Responder Error: malformedrequest \(1\)/);
});

test('parseOcspRequest reads what openssl sends; matchesIssuer checks SHA-1 and SHA-256 CertIDs', async () => {
  for (const hash of ['sha1', 'sha256'] as const) {
    const reqFile = join(dir, `req-${hash}.der`);
    await promisify(execFile)('openssl', ['ocsp', `-${hash}`, '-issuer', paths.ca, '-cert', paths.good, '-reqout', reqFile]);
    const parsed = parseOcspRequest(await readFile(reqFile));
    assert.equal(parsed.certIds.length, 1);
    const [certId] = parsed.certIds;
    assert.ok(certId);
    assert.deepEqual(certId, certIdFor(await readFile(paths.good, 'utf8'), ca.certPem, hash));
    assert.equal(certId.hashAlgorithm, hash);
    assert.ok(matchesIssuer(certId, ca.certPem));
    assert.ok(!matchesIssuer(certId, otherCa.certPem));
    assert.ok(!matchesIssuer({ ...certId, hashAlgorithm: '1.2.3.4' }, ca.certPem));
    // OpenSSL sends a 16-byte nonce wrapped in an OCTET STRING.
    assert.equal(parsed.nonce?.length, 18);
    assert.equal(parsed.nonce?.[0], 0x04);
  }
  const foreign = certIdFor(await readFile(paths.foreign, 'utf8'), otherCa.certPem);
  assert.ok(matchesIssuer(foreign, otherCa.certPem) && !matchesIssuer(foreign, ca.certPem));
});

test('parseOcspRequest rejects garbage, trailing bytes, empty lists and bad nonce lengths', () => {
  const isMalformed = (pattern: RegExp) => (err: unknown) => err instanceof GatewayError && err.code === 'PC_ERR_BAD_REQUEST' && pattern.test(err.message);
  const id = certIdFor(ca.certPem, ca.certPem);
  const request = (opts: { nonce?: Buffer; empty?: boolean; serial?: number[] }) => {
    const req = new OCSPRequest();
    if (!opts.empty) {
      req.tbsRequest.requestList = [new Request({ reqCert: new CertID({
        hashAlgorithm: new AlgorithmIdentifier({ algorithm: '1.3.14.3.2.26', parameters: null }),
        issuerNameHash: new OctetString(id.issuerNameHash),
        issuerKeyHash: new OctetString(id.issuerKeyHash),
        serialNumber: new Uint8Array(opts.serial ?? Buffer.from(id.serialNumber, 'hex')).buffer,
      }) })];
    }
    if (opts.nonce) {
      const extnValue = new OctetString(AsnConvert.serialize(new OctetString(opts.nonce)));
      req.tbsRequest.requestExtensions = [new Extension({ extnID: id_pkix_ocsp_nonce, extnValue })];
    }
    return Buffer.from(AsnConvert.serialize(req));
  };
  assert.throws(() => parseOcspRequest(Buffer.from('garbage')), isMalformed(/not a DER OCSPRequest/));
  assert.throws(() => parseOcspRequest(Buffer.alloc(0)), isMalformed(/not a DER OCSPRequest/));
  assert.throws(() => parseOcspRequest(Buffer.concat([request({}), Buffer.from([0])])), isMalformed(/not a DER OCSPRequest/));
  assert.throws(() => parseOcspRequest(request({ empty: true })), isMalformed(/empty request list/));
  assert.throws(() => parseOcspRequest(request({ nonce: Buffer.alloc(33, 1) })), isMalformed(/nonce/));
  assert.throws(() => parseOcspRequest(request({ nonce: Buffer.alloc(0) })), isMalformed(/nonce/));
  assert.deepEqual(parseOcspRequest(request({})), { certIds: [id] });
  // Serials print without the DER sign octet, like @peculiar/x509, and get it back when encoded.
  const [highSerial] = parseOcspRequest(request({ serial: [0x00, 0x9a, 0x01] })).certIds;
  assert.equal(highSerial?.serialNumber, '9a01');
  const response = AsnConvert.parse(buildOcspResponse({ responder: ca, issuerCertPem: ca.certPem, entries: [{ certId: highSerial!, status: 'good' }], thisUpdate: new Date(now) }), OCSPResponse);
  const basic = AsnConvert.parse(response.responseBytes!.response, BasicOCSPResponse);
  assert.deepEqual([...new Uint8Array(basic.tbsResponseData.responses[0]!.certID.serialNumber)], [0x00, 0x9a, 0x01]);
  const nonce = Buffer.alloc(32, 7);
  assert.deepEqual(parseOcspRequest(request({ nonce })).nonce, Buffer.concat([Buffer.from([0x04, 32]), nonce]));
});

test('buildOcspResponse refuses inconsistent input', async () => {
  const good = certIdFor(await readFile(paths.good, 'utf8'), ca.certPem);
  const foreign = certIdFor(await readFile(paths.foreign, 'utf8'), otherCa.certPem);
  const base = { responder: ca, issuerCertPem: ca.certPem, thisUpdate: new Date(now), entries: [{ certId: good, status: 'good' as const }] };
  const isConfigError = (pattern: RegExp) => (err: unknown) => err instanceof GatewayError && err.code === 'PC_ERR_CONFIG_INVALID' && pattern.test(err.message);
  assert.throws(() => buildOcspResponse({ ...base, entries: [] }), isConfigError(/at least one entry/));
  assert.throws(() => buildOcspResponse({ ...base, entries: [{ certId: good, status: 'revoked' }] }), isConfigError(/needs revokedAt/));
  assert.throws(() => buildOcspResponse({ ...base, entries: [{ certId: foreign, status: 'good' }] }), isConfigError(/another issuer/));
  assert.doesNotThrow(() => buildOcspResponse({ ...base, entries: [{ certId: foreign, status: 'unknown' }] }));
  assert.throws(() => buildOcspResponse({ ...base, responder: { certPem: ca.certPem, keyPem: otherCa.keyPem } }), isConfigError(/does not belong/));
  assert.throws(() => buildOcspResponse({ ...base, responder: otherCa }), isConfigError(/must be the issuer/));
  assert.throws(() => buildOcspResponse({ ...base, nextUpdate: new Date(now - DAY) }), isConfigError(/nextUpdate/));
  assert.throws(() => buildOcspResponse({ ...base, thisUpdate: new Date(Number.NaN) }), isConfigError(/thisUpdate/));
});

/** Answers openssl's request for `certPem` offline (-reqout / -respin) and returns `openssl ocsp -resp_text` output. */
async function offlineRoundTrip(name: string, issuerPem: string, certPem: string, responder: { certPem: string; keyPem: string }): Promise<string> {
  const file = (suffix: string) => join(dir, `${name}-${suffix}`);
  await writeFile(file('issuer.pem'), issuerPem);
  await writeFile(file('cert.pem'), certPem);
  const base = ['ocsp', '-issuer', file('issuer.pem'), '-cert', file('cert.pem')];
  await promisify(execFile)('openssl', [...base, '-reqout', file('req.der')]);
  const parsed = parseOcspRequest(await readFile(file('req.der')));
  const entries = parsed.certIds.map((certId) => ({ certId, status: 'good' as const }));
  await writeFile(file('resp.der'), buildOcspResponse({ responder, issuerCertPem: issuerPem, entries, thisUpdate: new Date(Date.now() - 60_000), nonce: parsed.nonce }));
  // Verify against the saved request (so its nonce is checked), not a freshly built one.
  const { stdout, stderr } = await promisify(execFile)('openssl', ['ocsp', '-reqin', file('req.der'), '-respin', file('resp.der'), '-CAfile', file('issuer.pem'), '-resp_text']);
  return stdout + stderr;
}

test('an RSA CA signs with sha256WithRSAEncryption', async () => {
  const crypto = pkiCrypto();
  const algorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  const keys = await crypto.subtle.generateKey({ ...algorithm, modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) }, true, ['sign', 'verify']);
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerialNumber(), name: 'CN=RSA OCSP Test CA', notBefore: new Date(now - 60_000), notAfter: new Date(now + 30 * DAY), keys, signingAlgorithm: algorithm,
    extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true)],
  }, crypto);
  const rsaCa = { certPem: caCert.toString('pem') + '\n', keyPem: await exportPrivateKeyPem(keys.privateKey) };
  const leaf = await issueCertificate({ issuer: rsaCa, subjectCN: 'rsa-leaf', sans: [], usage: 'client', notAfter: new Date(now + DAY) });
  const out = await offlineRoundTrip('rsa', rsaCa.certPem, leaf.certPem, rsaCa);
  assert.match(out, /Response verify OK/);
  assert.match(out, /Signature Algorithm: sha256WithRSAEncryption/);
  assert.match(out, /Cert Status: good/);
  assert.match(out, /OCSP Nonce:/);
});

test('a delegated responder with id-kp-OCSPSigning, issued by the CA, may sign', async () => {
  const crypto = pkiCrypto();
  const signing = await importSigningKey(ca.keyPem);
  const keys = await generateKeyPair('P-256');
  const caCert = new x509.X509Certificate(ca.certPem);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialNumber(), subject: 'CN=OCSP Responder', issuer: caCert.subject, notBefore: new Date(now - 60_000), notAfter: new Date(now + DAY),
    publicKey: keys.publicKey, signingKey: signing.privateKey, signingAlgorithm: signing.algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension(['1.3.6.1.5.5.7.3.9']),
    ],
  }, crypto);
  const delegated = { certPem: cert.toString('pem') + '\n', keyPem: await exportPrivateKeyPem(keys.privateKey) };
  const out = await offlineRoundTrip('delegated', ca.certPem, await readFile(paths.good, 'utf8'), delegated);
  assert.match(out, /Response verify OK/);
  assert.match(out, /Cert Status: good/);
  assert.match(out, /OCSP Nonce:/);
  assert.deepEqual(splitPemCertificates(out), splitPemCertificates(delegated.certPem));
  // The same certificate without the EKU (an ordinary leaf) is refused.
  const good = certIdFor(await readFile(paths.good, 'utf8'), ca.certPem);
  const leaf = await issueCertificate({ issuer: ca, subjectCN: 'not-a-responder', sans: [], usage: 'client', notAfter: new Date(now + DAY) });
  assert.throws(
    () => buildOcspResponse({ responder: leaf, issuerCertPem: ca.certPem, entries: [{ certId: good, status: 'good' }], thisUpdate: new Date(now) }),
    (err: unknown) => err instanceof GatewayError && /id-kp-OCSPSigning/.test(err.message),
  );
});

test('ocspError encodes each error status without responseBytes', () => {
  const codes = { malformedRequest: 1, internalError: 2, tryLater: 3, unauthorized: 6 } as const;
  for (const [status, code] of Object.entries(codes)) {
    const der = ocspError(status as keyof typeof codes);
    assert.deepEqual([...der], [0x30, 0x03, 0x0a, 0x01, code]);
  }
});
