import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmod, mkdtemp, readFile, readdir, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { promisify } from 'node:util';
import { GatewayError } from '../core/errors.js';
import { ensureDevPki, type DevPki } from './dev-ca.js';
import { createRootCa } from './issue-certificate.js';
import { x509 } from './x509.js';

const DAY = 86_400_000;
const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pc-dev-ca-'));
  dirs.push(dir);
  return dir;
}
after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function startHttps(pki: DevPki, host = '127.0.0.1'): Promise<{ server: Server; port: number }> {
  const server = createServer({ cert: pki.serverCertPem, key: pki.serverKeyPem }, (_req, res) => res.end('ok'));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  return { server, port: (server.address() as AddressInfo).port };
}

async function stopHttps(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** HTTPS GET trusting only `ca`; resolves with the body, rejects on any TLS verification failure. */
function httpsGet(port: number, ca: string, host: string, servername?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path: '/', ca, servername, agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Raw TLS handshake trusting only `ca`; resolves with whether the peer was authorized. */
function tlsHandshake(port: number, ca: string, host: string, servername?: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, ca, servername }, () => {
      resolve(socket.authorized);
      socket.end();
    });
    socket.on('error', reject);
  });
}

function logCollector(): { logger: { info(obj: object, msg: string): void }; lines: string[] } {
  const lines: string[] = [];
  return { lines, logger: { info: (obj, msg) => lines.push(`${msg} ${JSON.stringify(obj)}`) } };
}

test('first run creates a CA and server certificate that real TLS clients verify', async () => {
  const dataDir = await tempDir();
  const { logger, lines } = logCollector();
  const pki = await ensureDevPki({ dataDir, logger });
  assert.equal(pki.created, true);
  assert.equal(pki.serverCertIssued, true);
  assert.equal(pki.caCertPath, join(dataDir, 'ca.pem'));
  assert.equal(await readFile(pki.caCertPath, 'utf8'), pki.caCertPem);
  assert.equal(await readFile(pki.serverCertPath, 'utf8'), pki.serverCertPem);
  assert.equal(await readFile(pki.serverKeyPath, 'utf8'), pki.serverKeyPem);
  assert.equal(lines.length, 2);
  assert.ok(lines.every((l) => !l.includes('PRIVATE KEY')));

  const { server, port } = await startHttps(pki);
  try {
    assert.equal(await httpsGet(port, pki.caCertPem, '127.0.0.1', 'localhost'), 'ok');
    assert.equal(await httpsGet(port, pki.caCertPem, '127.0.0.1'), 'ok');
    assert.equal(await tlsHandshake(port, pki.caCertPem, '127.0.0.1', 'localhost'), true);
    assert.equal(await tlsHandshake(port, pki.caCertPem, '127.0.0.1'), true);
    // The checks are real: a name outside the SANs, or another CA, is refused.
    await assert.rejects(httpsGet(port, pki.caCertPem, '127.0.0.1', 'example.com'), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
    const stranger = await createRootCa({ commonName: 'Stranger', notBefore: new Date(Date.now() - DAY), notAfter: new Date(Date.now() + DAY) });
    await assert.rejects(httpsGet(port, stranger.certPem, '127.0.0.1', 'localhost'), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
  } finally {
    await stopHttps(server);
  }
});

test('the server certificate verifies over IPv6 ::1 (skipped when the host has no IPv6 loopback)', async (t) => {
  const pki = await ensureDevPki({ dataDir: await tempDir() });
  let started;
  try {
    started = await startHttps(pki, '::1');
  } catch {
    t.skip('no IPv6 loopback');
    return;
  }
  try {
    assert.equal(await tlsHandshake(started.port, pki.caCertPem, '::1'), true);
  } finally {
    await stopHttps(started.server);
  }
});

test('openssl verify accepts server.pem against ca.pem', async (t) => {
  const pki = await ensureDevPki({ dataDir: await tempDir() });
  let stdout: string;
  try {
    ({ stdout } = await promisify(execFile)('openssl', ['verify', '-purpose', 'sslserver', '-CAfile', pki.caCertPath, pki.serverCertPath]));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      t.skip('openssl is not installed');
      return;
    }
    throw err;
  }
  assert.equal(stdout.trim(), `${pki.serverCertPath}: OK`);
});

test('certificates carry the specified profile', async () => {
  const pki = await ensureDevPki({ dataDir: await tempDir(), hosts: ['gateway.test', '10.9.8.7'] });
  const ca = new x509.X509Certificate(pki.caCertPem);
  assert.equal(ca.subject, 'CN=Portcullis Development CA');
  assert.ok(Math.abs(ca.notAfter.getTime() - ca.notBefore.getTime() - 3652 * DAY) < 2 * DAY, '10 years');
  const bc = ca.getExtension(x509.BasicConstraintsExtension);
  assert.ok(bc?.ca && bc.critical && bc.pathLength === 0);
  const caKu = ca.getExtension(x509.KeyUsagesExtension);
  assert.ok(caKu?.critical && caKu.usages === (x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign));
  const caSki = ca.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  assert.ok(caSki);

  const leaf = new x509.X509Certificate(pki.serverCertPem);
  assert.equal(leaf.issuer, ca.subject);
  assert.match(leaf.serialNumber, /^[0-7][0-9a-f]{31}$/);
  assert.ok(Math.abs(leaf.notAfter.getTime() - Date.now() - 397 * DAY) < 60_000, '397 days');
  const leafBc = leaf.getExtension(x509.BasicConstraintsExtension);
  assert.ok(leafBc && !leafBc.ca);
  const ku = leaf.getExtension(x509.KeyUsagesExtension);
  assert.ok(ku?.critical && ku.usages === x509.KeyUsageFlags.digitalSignature);
  assert.deepEqual([...(leaf.getExtension(x509.ExtendedKeyUsageExtension)?.usages ?? [])], [x509.ExtendedKeyUsage.serverAuth]);
  assert.equal(leaf.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId, caSki);
  assert.ok(leaf.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId);
  const sans = leaf.getExtension(x509.SubjectAlternativeNameExtension)?.names.toJSON();
  assert.deepEqual(sans, [
    { type: 'dns', value: 'localhost' },
    { type: 'ip', value: '127.0.0.1' },
    { type: 'ip', value: '::1' },
    { type: 'dns', value: 'gateway.test' },
    { type: 'ip', value: '10.9.8.7' },
  ]);
  assert.match(pki.serverKeyPem, /^-----BEGIN PRIVATE KEY-----\n/);
  assert.match(await readFile(join(pki.caCertPath, '..', 'ca-key.pem'), 'utf8'), /^-----BEGIN PRIVATE KEY-----\n/);
});

test('files have the specified modes and no temporary files remain', async () => {
  const dataDir = await tempDir();
  await ensureDevPki({ dataDir });
  const mode = async (name: string) => (await stat(join(dataDir, name))).mode & 0o777;
  assert.equal(await mode('ca.pem'), 0o644);
  assert.equal(await mode('ca-key.pem'), 0o600);
  assert.equal(await mode('server.pem'), 0o644);
  assert.equal(await mode('server-key.pem'), 0o600);
  assert.deepEqual((await readdir(dataDir)).sort(), ['ca-key.pem', 'ca.pem', 'server-key.pem', 'server.pem']);
});

test('a second call reuses everything', async () => {
  const dataDir = await tempDir();
  const first = await ensureDevPki({ dataDir, hosts: ['gateway.test'] });
  const second = await ensureDevPki({ dataDir, hosts: ['gateway.test'] });
  assert.equal(second.created, false);
  assert.equal(second.serverCertIssued, false);
  assert.equal(second.caCertPem, first.caCertPem);
  assert.equal(second.serverCertPem, first.serverCertPem);
  assert.equal(second.serverKeyPem, first.serverKeyPem);
  // Fewer hosts than the certificate covers is fine too.
  assert.equal((await ensureDevPki({ dataDir })).serverCertIssued, false);
});

test('a leaf near expiry is re-issued under the same CA', async () => {
  const dataDir = await tempDir();
  const first = await ensureDevPki({ dataDir });
  const later = () => new Date(Date.now() + 380 * DAY); // 17 days before the leaf expires
  const renewed = await ensureDevPki({ dataDir, now: later });
  assert.equal(renewed.created, false);
  assert.equal(renewed.serverCertIssued, true);
  assert.equal(renewed.caCertPem, first.caCertPem);
  assert.notEqual(renewed.serverCertPem, first.serverCertPem);
  assert.notEqual(renewed.serverKeyPem, first.serverKeyPem);
  const oldLeaf = new X509Certificate(first.serverCertPem);
  const newLeaf = new X509Certificate(renewed.serverCertPem);
  assert.notEqual(newLeaf.serialNumber, oldLeaf.serialNumber);
  assert.ok(new Date(newLeaf.validTo).getTime() > new Date(oldLeaf.validTo).getTime() + 300 * DAY);
  assert.ok(newLeaf.verify(new X509Certificate(first.caCertPem).publicKey));
  // Ten days after the renewal the new leaf has over a year left: reused.
  assert.equal((await ensureDevPki({ dataDir, now: () => new Date(Date.now() + 390 * DAY) })).serverCertIssued, false);
});

test('a requested host missing from the SANs triggers re-issue and then verifies', async () => {
  const dataDir = await tempDir();
  const first = await ensureDevPki({ dataDir });
  const renewed = await ensureDevPki({ dataDir, hosts: ['gw.local.test'] });
  assert.equal(renewed.serverCertIssued, true);
  assert.equal(renewed.caCertPem, first.caCertPem);
  const { server, port } = await startHttps(renewed);
  try {
    assert.equal(await httpsGet(port, renewed.caCertPem, '127.0.0.1', 'gw.local.test'), 'ok');
  } finally {
    await stopHttps(server);
  }
});

test('a damaged or foreign leaf is replaced; the CA is not', async () => {
  const dataDir = await tempDir();
  const first = await ensureDevPki({ dataDir });
  await writeFile(first.serverCertPath, 'garbage');
  const repaired = await ensureDevPki({ dataDir });
  assert.equal(repaired.serverCertIssued, true);
  assert.equal(repaired.caCertPem, first.caCertPem);

  const stranger = await ensureDevPki({ dataDir: await tempDir() });
  await writeFile(first.serverCertPath, stranger.serverCertPem);
  await writeFile(first.serverKeyPath, stranger.serverKeyPem, { mode: 0o600 });
  const reissued = await ensureDevPki({ dataDir });
  assert.equal(reissued.serverCertIssued, true);
  assert.ok(new X509Certificate(reissued.serverCertPem).checkIssued(new X509Certificate(first.caCertPem)));
});

test('group/world readable key files are refused with a chmod hint', async () => {
  const dataDir = await tempDir();
  const pki = await ensureDevPki({ dataDir });
  const isModeError = (path: string) => (err: unknown) =>
    err instanceof GatewayError && err.code === 'PC_ERR_CONFIG_INVALID' && err.message.includes(`chmod 600 ${path}`) && !err.message.includes('PRIVATE KEY');

  await chmod(pki.serverKeyPath, 0o644);
  await assert.rejects(ensureDevPki({ dataDir }), isModeError(pki.serverKeyPath));
  assert.equal((await stat(pki.serverKeyPath)).mode & 0o777, 0o644, 'the refused file is left alone');
  await chmod(pki.serverKeyPath, 0o600);

  const caKey = join(dataDir, 'ca-key.pem');
  await chmod(caKey, 0o640);
  await assert.rejects(ensureDevPki({ dataDir }), isModeError(caKey));
  await chmod(caKey, 0o600);
  assert.equal((await ensureDevPki({ dataDir })).serverCertIssued, false);
});

test('a CA certificate without its key is an error, never silently replaced', async () => {
  const dataDir = await tempDir();
  const pki = await ensureDevPki({ dataDir });
  await unlink(join(dataDir, 'ca-key.pem'));
  await assert.rejects(ensureDevPki({ dataDir }), (err: unknown) => err instanceof GatewayError && /ca-key\.pem is missing/.test(err.message));
  assert.equal(await readFile(pki.caCertPath, 'utf8'), pki.caCertPem);
});

test('an expired CA is an error that says how to regenerate', async () => {
  const dataDir = await tempDir();
  await ensureDevPki({ dataDir });
  await assert.rejects(ensureDevPki({ dataDir, now: () => new Date(Date.now() + 11 * 365 * DAY) }), (err: unknown) =>
    err instanceof GatewayError && /expired.*delete .*ca\.pem and .*ca-key\.pem/.test(err.message),
  );
});

test('invalid hosts are rejected', async () => {
  await assert.rejects(ensureDevPki({ dataDir: await tempDir(), hosts: ['not a host'] }), (err: unknown) => err instanceof GatewayError && err.code === 'PC_ERR_CONFIG_INVALID');
});

test('concurrent first runs agree on one CA', async () => {
  const dataDir = await tempDir();
  const results = await Promise.all(Array.from({ length: 4 }, () => ensureDevPki({ dataDir })));
  assert.equal(new Set(results.map((r) => r.caCertPem)).size, 1);
  assert.equal(results.filter((r) => r.created).length, 1);
  assert.equal(new Set(results.map((r) => r.serverCertPem)).size, 1);
  assert.equal(await readFile(join(dataDir, 'ca.pem'), 'utf8'), results[0]!.caCertPem);
});
