import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecureContext, createServer, connect, type TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import { GatewayError } from '../core/errors.js';
import { createRootCa, issueCertificate, type RootCa } from './issue-certificate.js';
import { splitPemCertificates } from './pem.js';
import { PKCS12_ITERATIONS, buildPkcs12 } from './pkcs12.js';

const DAY = 86_400_000;
const now = Date.now();
const PASSWORD = 'correct hörse battery';
let dir: string;
let ca: RootCa;
let client: { certPem: string; keyPem: string };

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pc-pkcs12-'));
  ca = await createRootCa({ commonName: 'PKCS12 Test CA', notBefore: new Date(now - 60_000), notAfter: new Date(now + 30 * DAY) });
  client = await issueCertificate({ issuer: ca, subjectCN: 'client-1', sans: [], usage: 'client', notAfter: new Date(now + DAY) });
});
after(() => rm(dir, { recursive: true, force: true }));

/** Runs `openssl pkcs12` on the file; resolves with stdout + stderr, rejects on a non-zero exit. */
async function opensslPkcs12(p12: Buffer, password: string, ...args: string[]): Promise<string> {
  const file = join(dir, `${Math.random().toString(36).slice(2)}.p12`);
  await writeFile(file, p12);
  const { stdout, stderr } = await promisify(execFile)('openssl', ['pkcs12', '-in', file, '-passin', `pass:${password}`, ...args]);
  return stdout + stderr;
}

const fingerprints = (pem: string): string[] => splitPemCertificates(pem).map((b) => new X509Certificate(b).fingerprint256);
const spki = (keyPem: string): Buffer => createPublicKey(createPrivateKey(keyPem)).export({ type: 'spki', format: 'der' });

function extractedKey(out: string): string {
  const match = /-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----/.exec(out);
  assert.ok(match, 'openssl printed no private key');
  return match[0];
}

test('openssl pkcs12 extracts the same EC key, leaf and chain', async () => {
  const p12 = buildPkcs12({ certPem: client.certPem, keyPem: client.keyPem, chainPems: [ca.certPem], password: PASSWORD, friendlyName: 'client-1' });
  const out = await opensslPkcs12(p12, PASSWORD, '-nodes');
  assert.deepEqual(fingerprints(out), [...fingerprints(client.certPem), ...fingerprints(ca.certPem)]);
  assert.ok(spki(extractedKey(out)).equals(spki(client.keyPem)));
  assert.match(out, /friendlyName: client-1/);
  // The key bag and the leaf's cert bag carry the same localKeyID.
  const ids = [...out.matchAll(/localKeyID: ([0-9A-F ]+)/g)].map((m) => m[1]?.trim());
  assert.equal(ids.length, 2);
  assert.equal(ids[0], ids[1]);
  const leafOnly = await opensslPkcs12(p12, PASSWORD, '-nokeys', '-clcerts');
  assert.deepEqual(fingerprints(leafOnly), fingerprints(client.certPem));
});

test('openssl pkcs12 extracts an RSA key and its certificate', async () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const publicKey = rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string;
  const leaf = await issueCertificate({ issuer: ca, subjectCN: 'rsa-client', sans: [], usage: 'client', notAfter: new Date(now + DAY), publicKey });
  const out = await opensslPkcs12(buildPkcs12({ certPem: leaf.certPem, keyPem, password: PASSWORD }), PASSWORD, '-nodes');
  assert.deepEqual(fingerprints(out), fingerprints(leaf.certPem));
  assert.ok(spki(extractedKey(out)).equals(spki(keyPem)));
});

test('-info shows PBES2 / PBKDF2-HMAC-SHA256 / AES-256-CBC and an HMAC-SHA256 MAC', async () => {
  const out = await opensslPkcs12(buildPkcs12({ certPem: client.certPem, keyPem: client.keyPem, password: PASSWORD }), PASSWORD, '-info', '-nodes');
  assert.match(out, new RegExp(`MAC: sha256, Iteration ${PKCS12_ITERATIONS}`));
  assert.match(out, /MAC length: 32/);
  const pbes2 = new RegExp(`PBES2, PBKDF2, AES-256-CBC, Iteration ${PKCS12_ITERATIONS}, PRF hmacWithSHA256`);
  assert.match(out, new RegExp(`PKCS7 Encrypted data: ${pbes2.source}`));
  assert.match(out, new RegExp(`Shrouded Keybag: ${pbes2.source}`));
  assert.ok(PKCS12_ITERATIONS >= 2048);
});

test('a wrong password fails the MAC check', async () => {
  const p12 = buildPkcs12({ certPem: client.certPem, keyPem: client.keyPem, password: PASSWORD });
  await assert.rejects(opensslPkcs12(p12, 'wrong', '-nodes'), (err: Error & { stderr?: string }) => /mac verify (error|failure)/i.test(err.stderr ?? ''));
  assert.throws(() => createSecureContext({ pfx: p12, passphrase: 'wrong' }), /mac verify failure/i);
});

test('fresh salts and IVs on every call', () => {
  const opts = { certPem: client.certPem, keyPem: client.keyPem, password: PASSWORD };
  assert.ok(!buildPkcs12(opts).equals(buildPkcs12(opts)));
});

test('rejects an empty password, a foreign key and bad PEM without echoing secrets', async () => {
  const isConfigError = (pattern: RegExp) => (err: unknown) =>
    err instanceof GatewayError && err.code === 'PC_ERR_CONFIG_INVALID' && pattern.test(err.message) && !err.message.includes(PASSWORD);
  assert.throws(() => buildPkcs12({ certPem: client.certPem, keyPem: client.keyPem, password: '' }), isConfigError(/non-empty password/));
  assert.throws(() => buildPkcs12({ certPem: client.certPem, keyPem: ca.keyPem, password: PASSWORD }), isConfigError(/does not belong/));
  assert.throws(() => buildPkcs12({ certPem: 'nope', keyPem: client.keyPem, password: PASSWORD }), isConfigError(/not a valid PEM certificate/));
  assert.throws(() => buildPkcs12({ ...client, chainPems: ['nope'], password: PASSWORD }), isConfigError(/chain entry/));
  const bad = '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n';
  assert.throws(() => buildPkcs12({ certPem: client.certPem, keyPem: bad, password: PASSWORD }), (err: unknown) => err instanceof GatewayError && !err.message.includes('AAAA'));
});

test('Node loads the PFX and completes a mutual-TLS handshake with it', async () => {
  const server = await issueCertificate({ issuer: ca, subjectCN: 'localhost', sans: ['localhost', '127.0.0.1'], usage: 'server', notAfter: new Date(now + DAY) });
  const pfx = buildPkcs12({ certPem: client.certPem, keyPem: client.keyPem, chainPems: [ca.certPem], password: PASSWORD });
  assert.doesNotThrow(() => createSecureContext({ pfx, passphrase: PASSWORD }));

  const seen: string[] = [];
  const tlsServer = createServer({ cert: server.certPem, key: server.keyPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: true }, (socket) => {
    seen.push(socket.getPeerCertificate().fingerprint256);
    socket.end('hello');
  });
  await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = tlsServer.address() as AddressInfo;
    const reply = await new Promise<string>((resolve, reject) => {
      const socket: TLSSocket = connect({ host: '127.0.0.1', port, servername: 'localhost', ca: ca.certPem, pfx, passphrase: PASSWORD }, () => {
        let data = '';
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => (data += chunk));
        socket.on('end', () => resolve(data));
      });
      socket.on('error', reject);
    });
    assert.equal(reply, 'hello');
    assert.deepEqual(seen, [new X509Certificate(client.certPem).fingerprint256]);
  } finally {
    await new Promise<void>((resolve) => tlsServer.close(() => resolve()));
  }
});
