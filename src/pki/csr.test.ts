import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GatewayError } from '../core/errors.js';
import { createCaHierarchy } from './ca-hierarchy.js';
import { CsrError, createCsr, parseCsr, type CsrErrorReason } from './csr.js';
import { issueCertificate } from './issue-certificate.js';
import { toPem } from './keys.js';

let dir: string;
let n = 0;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pc-csr-'));
});
after(() => rm(dir, { recursive: true, force: true }));

function openssl(...args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('openssl', args, (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, out: `${stdout}${stderr}` }));
  });
}

/** `openssl req -new` with a fresh key from `newkey` (e.g. `ec -pkeyopt ec_paramgen_curve:P-256`). */
async function opensslCsr(keyAlg: string[], subj: string, ...extra: string[]): Promise<{ csrPem: string; keyPem: string }> {
  const base = join(dir, `req-${n++}`);
  const made = await openssl('req', '-new', '-nodes', ...keyAlg, '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', subj, ...extra);
  assert.equal(made.code, 0, made.out);
  return { csrPem: await readFile(`${base}.csr`, 'utf8'), keyPem: await readFile(`${base}.key`, 'utf8') };
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
const spkiOf = (keyPem: string) => createPublicKey(createPrivateKey(keyPem)).export({ type: 'spki', format: 'pem' });

function csrError(reason: CsrErrorReason, pattern: RegExp) {
  return (err: unknown) => err instanceof CsrError && err.name === 'CsrError' && err.reason === reason && pattern.test(err.message);
}

test('parseCsr reads an openssl CSR: key, CN, all SAN kinds, key type', async () => {
  const { csrPem, keyPem } = await opensslCsr(EC, '/O=Acme/CN=api.acme.test', '-addext',
    'subjectAltName=DNS:API.acme.test.,DNS:*.acme.test,IP:10.0.0.1,IP:0:0:0:0:0:0:0:1,URI:spiffe://acme/app/x,email:ops@acme.test');
  const parsed = await parseCsr(csrPem);
  assert.equal(parsed.commonName, 'api.acme.test');
  assert.equal(parsed.keyType, 'ec-p256');
  assert.equal(parsed.publicKeyPem, spkiOf(keyPem));
  assert.deepEqual(parsed.sans, { dns: ['api.acme.test', '*.acme.test'], ip: ['10.0.0.1', '::1'], uri: ['spiffe://acme/app/x'], email: ['ops@acme.test'] });

  const rsa = await opensslCsr(['-newkey', 'rsa:3072'], '/CN=rsa-client');
  const parsedRsa = await parseCsr(rsa.csrPem);
  assert.equal(parsedRsa.keyType, 'rsa-3072');
  assert.equal(parsedRsa.commonName, 'rsa-client');
  assert.deepEqual(parsedRsa.sans, { dns: [], ip: [], uri: [], email: [] });

  const p384 = await opensslCsr(['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384', '-sha384'], '/CN=p384');
  assert.equal((await parseCsr(p384.csrPem)).keyType, 'ec-p384');
  // The legacy "NEW CERTIFICATE REQUEST" label is accepted too.
  const legacy = csrPem.replace(/CERTIFICATE REQUEST/g, 'NEW CERTIFICATE REQUEST');
  assert.equal((await parseCsr(legacy)).commonName, 'api.acme.test');
});

test('parseCsr refuses a tampered CSR, non-PEM input, garbage and unsupported keys, saying why', async () => {
  const { csrPem } = await opensslCsr(EC, '/CN=victim.test', '-addext', 'subjectAltName=DNS:victim.test');
  const der = Buffer.from(csrPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');

  // Change the requested name (same length) without re-signing: still a well-formed CSR.
  const at = der.indexOf(Buffer.from('victim.test'));
  assert.ok(at > 0);
  const renamed = Buffer.from(der);
  renamed.write('attack', at);
  const renamedPem = toPem(renamed, 'CERTIFICATE REQUEST');
  // openssl 3.0 exits 0 either way; its message is the verdict.
  assert.match((await openssl('req', '-verify', '-noout', '-in', await writeTemp(renamedPem))).out, /self-signature verify failure/);
  await assert.rejects(parseCsr(renamedPem), csrError('bad-signature', /signature does not match/));

  // Flip a bit in the signature itself.
  const flipped = Buffer.from(der);
  flipped[flipped.length - 3] = (flipped[flipped.length - 3] as number) ^ 0x01;
  await assert.rejects(parseCsr(toPem(flipped, 'CERTIFICATE REQUEST')), csrError('bad-signature', /signature/));

  await assert.rejects(parseCsr('hello'), csrError('not-pem', /not PEM/));
  await assert.rejects(parseCsr(toPem(der, 'CERTIFICATE')), csrError('not-pem', /not PEM/));
  await assert.rejects(parseCsr(toPem(Buffer.from('not a csr at all'), 'CERTIFICATE REQUEST')), csrError('malformed', /could not be decoded/));

  const ed = await opensslCsr(['-newkey', 'ed25519'], '/CN=ed');
  await assert.rejects(parseCsr(ed.csrPem), csrError('unsupported-key', /ed25519\) is not supported/));
  const weak = await opensslCsr(['-newkey', 'rsa:1024'], '/CN=weak');
  await assert.rejects(parseCsr(weak.csrPem), csrError('unsupported-key', /rsa 1024-bit\) is not supported/));
});

async function writeTemp(content: string): Promise<string> {
  const path = join(dir, `tmp-${n++}.pem`);
  await writeFile(path, content);
  return path;
}

for (const keyType of ['ec-p256', 'ec-p384', 'rsa-2048'] as const) {
  test(`createCsr (${keyType}) output verifies with openssl req -verify and round-trips`, async () => {
    const { csrPem, keyPem } = await createCsr({ keyType, commonName: 'www.acme.test', sans: ['www.acme.test', 'acme.test', '192.0.2.7'] });
    assert.match(keyPem, /^-----BEGIN PRIVATE KEY-----\n/);
    const path = await writeTemp(csrPem);
    const verified = await openssl('req', '-verify', '-noout', '-in', path);
    assert.equal(verified.code, 0, verified.out);
    assert.match(verified.out, /self-signature verify OK/);
    const text = (await openssl('req', '-noout', '-text', '-in', path)).out;
    assert.match(text, /Subject: CN = www\.acme\.test/);
    assert.match(text, /DNS:www\.acme\.test, DNS:acme\.test, IP Address:192\.0\.2\.7/);
    // The key matches the CSR's public key.
    const pub = (await openssl('req', '-noout', '-pubkey', '-in', path)).out;
    assert.equal(pub, spkiOf(keyPem));

    const parsed = await parseCsr(csrPem);
    assert.equal(parsed.keyType, keyType);
    assert.deepEqual(parsed.sans, { dns: ['www.acme.test', 'acme.test'], ip: ['192.0.2.7'], uri: [], email: [] });
  });
}

test('createCsr defaults: EC P-256 and the CN as the only SAN; bad names are refused', async () => {
  const { csrPem } = await createCsr({ commonName: 'solo.acme.test' });
  const parsed = await parseCsr(csrPem);
  assert.equal(parsed.keyType, 'ec-p256');
  assert.deepEqual(parsed.sans.dns, ['solo.acme.test']);
  await assert.rejects(createCsr({ commonName: 'x', sans: ['bad host!'] }), (err: unknown) => err instanceof GatewayError && /not a valid host name/.test(err.message));
});

test('a parsed CSR key is certified by the built-in CA (the key stays with the requester)', async () => {
  const { root, intermediate } = await createCaHierarchy({ commonName: 'CSR CA' });
  const { csrPem, keyPem } = await opensslCsr(EC, '/CN=svc', '-addext', 'subjectAltName=URI:spiffe://acme/app/svc');
  const parsed = await parseCsr(csrPem);
  const leaf = await issueCertificate({ issuer: intermediate, subjectCN: 'svc', sans: parsed.sans.uri, usage: 'client', notAfter: new Date(Date.now() + 86_400_000), publicKey: parsed.publicKeyPem });
  assert.equal(leaf.keyPem, undefined);
  assert.ok(new X509Certificate(leaf.certPem).checkPrivateKey(createPrivateKey(keyPem)));
  const verified = await openssl('verify', '-CAfile', await writeTemp(root.certPem), '-untrusted', await writeTemp(intermediate.certPem), await writeTemp(leaf.certPem));
  assert.equal(verified.code, 0, verified.out);
});
