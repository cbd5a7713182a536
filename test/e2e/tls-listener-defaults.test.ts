/**
 * The listener's own TLS defaults: refusing unknown server names, a listener-wide client-certificate
 * policy, and the permission check on a configured private key file.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { createRootCa, issueCertificate, type CertificateIssuer } from '../../src/pki/issue-certificate.js';
import { startGateway, waitFor, type TestGateway } from './harness.js';

const DAY = 86_400_000;

function handshake(gw: TestGateway, servername: string | undefined, ca: string, cert?: { certPem: string; keyPem: string }): Promise<{ ok: boolean; status?: number }> {
  const port = Number(new URL(gw.httpsUrl).port);
  return new Promise((resolve) => {
    let data = '';
    const socket = connect(
      { host: '127.0.0.1', port, ...(servername ? { servername } : {}), ca, checkServerIdentity: () => undefined, ...(cert ? { cert: cert.certPem, key: cert.keyPem } : {}) },
      () => socket.write(`GET /nothing HTTP/1.1\r\nHost: ${servername ?? 'localhost'}\r\nConnection: close\r\n\r\n`),
    );
    socket.on('data', (c: Buffer) => (data += c.toString()));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(data.startsWith('HTTP/1.1') ? { ok: true, status: Number(data.slice(9, 12)) } : { ok: false }));
  });
}

describe('listener TLS defaults', () => {
  let work: string;
  let clientCa: CertificateIssuer;
  let client: { certPem: string; keyPem: string };

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'portcullis-tls-defaults-'));
    const now = Date.now();
    clientCa = await createRootCa({ commonName: 'listener clients', notBefore: new Date(now - DAY), notAfter: new Date(now + 30 * DAY) });
    const c = await issueCertificate({ issuer: clientCa, subjectCN: 'svc', sans: ['spiffe://test/svc'], usage: 'client', notAfter: new Date(now + 10 * DAY) });
    client = { certPem: c.certPem, keyPem: c.keyPem! };
    await writeFile(join(work, 'clients.pem'), clientCa.certPem);
  });

  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('refuses unknown server names (and none) when unknownSni is refuse', async () => {
    const gw = await startGateway({ settings: { https: { host: '127.0.0.1', port: 0, unknownSni: 'refuse' } } });
    try {
      assert.equal((await handshake(gw, 'unknown.test', gw.caPem)).ok, false);
      assert.equal((await handshake(gw, undefined, gw.caPem)).ok, false);
      assert.ok((gw.gateway.tlsRejections().get('unknown server name') ?? 0) >= 1);
    } finally {
      await gw.stop();
    }
  });

  it('applies https.clientAuth to names that match no domain', async () => {
    const gw = await startGateway({ settings: { https: { host: '127.0.0.1', port: 0, clientAuth: { mode: 'required', caFile: join(work, 'clients.pem') } } } });
    try {
      assert.equal((await handshake(gw, 'localhost', gw.caPem)).ok, false, 'no certificate');
      const withCert = await handshake(gw, 'localhost', gw.caPem, client);
      assert.equal(withCert.ok, true);
      assert.equal(withCert.status, 404);
      // A client connecting by IP address sends no server name: the same policy, the same CAs.
      const byIp = await handshake(gw, undefined, gw.caPem, client);
      assert.equal(byIp.ok, true, 'a valid client certificate over a connection without SNI');
      assert.equal((await handshake(gw, undefined, gw.caPem)).ok, false, 'no certificate, no SNI');
      // Refusals are security events in the audit trail (deduplicated per source and reason).
      await waitFor(async () => {
        const audit = await gw.admin('GET', '/admin/v1/audit?limit=1000');
        return audit.body.items.some((e: { action: string; sourceIp: string | null; details: { reason?: string } }) => e.action === 'security.certificate_rejected' && e.sourceIp === '127.0.0.1' && typeof e.details.reason === 'string');
      }, 5000, 'a security.certificate_rejected audit entry');
    } finally {
      await gw.stop();
    }
  });

  it('refuses a group-readable key file unless explicitly allowed', async () => {
    const now = Date.now();
    const ca = await createRootCa({ commonName: 'files', notBefore: new Date(now - DAY), notAfter: new Date(now + 30 * DAY) });
    const server = await issueCertificate({ issuer: ca, subjectCN: 'localhost', sans: ['localhost', '127.0.0.1'], usage: 'server', notAfter: new Date(now + 10 * DAY) });
    const certFile = join(work, 'server.pem');
    const keyFile = join(work, 'server-key.pem');
    await writeFile(certFile, server.certPem);
    await writeFile(keyFile, server.keyPem!);
    await chmod(keyFile, 0o640);
    await assert.rejects(startGateway({ settings: { tls: { certFile, keyFile } } }), /chmod 600/);
    const gw = await startGateway({ settings: { tls: { certFile, keyFile, allowInsecureKeyFile: true } } });
    try {
      assert.equal((await handshake(gw, 'localhost', ca.certPem)).ok, true);
    } finally {
      await gw.stop();
    }
  });
});
