/**
 * TLS to upstreams, end to end: real `node:https` backends on loopback with certificates made here,
 * a real gateway configured through the admin API, real clients.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, request as httpsRequest, type Server, type ServerOptions } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import Database from 'better-sqlite3';
import { request } from 'undici';
import { createRootCa, issueCertificate, type IssuedCertificate, type RootCa } from '../../src/pki/issue-certificate.js';
import { startGateway, type TestGateway } from './harness.js';

const HOUR = 3_600_000;

type Issued = IssuedCertificate & { keyPem: string };

interface Backend {
  url: string;
  port: number;
  server: Server;
  /** `isSessionReused()` of every TLS connection, in order. */
  handshakes: boolean[];
  /** SNI of every TLS connection (`false` when none was sent). */
  servernames: Array<string | false>;
  close(): Promise<void>;
}

/** An https backend answering JSON with the TLS facts it saw (client certificate CN, SNI). */
async function startBackend(options: ServerOptions, { closeEach = false } = {}): Promise<Backend> {
  const handshakes: boolean[] = [];
  const servernames: Array<string | false> = [];
  const server = createServer(options, (req, res) => {
    const socket = req.socket as TLSSocket;
    const peer = socket.getPeerCertificate();
    const body = JSON.stringify({ clientCN: peer && 'subject' in peer ? (peer.subject?.CN ?? null) : null, servername: socket.servername || null, url: req.url });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...(closeEach ? { connection: 'close' } : {}) });
    res.end(body);
  });
  server.on('secureConnection', (socket: TLSSocket) => {
    handshakes.push(socket.isSessionReused());
    servernames.push((socket as TLSSocket & { servername: string | false }).servername);
  });
  // Long enough for undici to keep connections (it drops those whose keep-alive hint is under ~1 s).
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    server,
    handshakes,
    servernames,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function spkiPin(certPem: string): string {
  return createHash('sha256').update(new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' })).digest('base64');
}

function service(name: string, target: string, tls?: Record<string, unknown>, upstream: Record<string, unknown> = {}) {
  return { name, upstream: { targets: [{ url: target }], ...(tls ? { tls } : {}), ...upstream }, routes: [{ name, paths: [`/${name}`] }] };
}

describe('upstream TLS', () => {
  let gw: TestGateway;
  let ca: RootCa;
  let otherCa: RootCa;
  let serverCert: Issued;
  let otherNameCert: Issued;
  let unknownCaCert: Issued;
  let clientCert: Issued;
  let otherClientCert: Issued;
  let mtls: Backend;
  let mtls12: Backend;
  let mismatch: Backend;
  let plain: Backend;
  let unknown: Backend;
  let resume: Backend;
  let noResume: Backend;
  let doc: { services: Array<ReturnType<typeof service>> };

  const get = async (path: string) => {
    const r = await request(`${gw.httpsUrl}${path}`, { dispatcher: gw.agent });
    const text = await r.body.text();
    return { status: r.statusCode, body: JSON.parse(text) as any };
  };

  before(async () => {
    const now = Date.now();
    ca = await createRootCa({ commonName: 'Upstream Test CA', notBefore: new Date(now - HOUR), notAfter: new Date(now + 24 * HOUR) });
    otherCa = await createRootCa({ commonName: 'Unknown Test CA', notBefore: new Date(now - HOUR), notAfter: new Date(now + 24 * HOUR) });
    const leaf = (issuer: RootCa, cn: string, sans: string[], usage: 'server' | 'client') => issueCertificate({ issuer, subjectCN: cn, sans, usage, notAfter: new Date(now + 12 * HOUR) });
    serverCert = await leaf(ca, 'backend', ['localhost', '127.0.0.1'], 'server');
    otherNameCert = await leaf(ca, 'other', ['other.test'], 'server');
    unknownCaCert = await leaf(otherCa, 'stranger', ['localhost', '127.0.0.1'], 'server');
    clientCert = await leaf(ca, 'portcullis-gateway', [], 'client');
    otherClientCert = await leaf(ca, 'someone-else', [], 'client');

    const mtlsOptions: ServerOptions = { cert: serverCert.certPem, key: serverCert.keyPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: true };
    mtls = await startBackend(mtlsOptions);
    mtls12 = await startBackend({ ...mtlsOptions, maxVersion: 'TLSv1.2' });
    mismatch = await startBackend({ cert: otherNameCert.certPem, key: otherNameCert.keyPem });
    plain = await startBackend({ cert: serverCert.certPem, key: serverCert.keyPem });
    unknown = await startBackend({ cert: unknownCaCert.certPem, key: unknownCaCert.keyPem });
    resume = await startBackend({ cert: serverCert.certPem, key: serverCert.keyPem }, { closeEach: true });
    noResume = await startBackend({ cert: serverCert.certPem, key: serverCert.keyPem }, { closeEach: true });

    gw = await startGateway();
    const withClient = { ca: ca.certPem, clientCert: clientCert.certPem, clientKey: clientCert.keyPem };
    doc = {
      services: [
        service('mtls-ok', mtls.url, withClient),
        service('mtls-none', mtls.url, { ca: ca.certPem }),
        service('mtls12-none', mtls12.url, { ca: ca.certPem }),
        service('mtls12-ok', mtls12.url, withClient),
        service('mismatch', mismatch.url, { ca: ca.certPem, servername: 'localhost' }),
        service('mismatch-unverified', mismatch.url, { ca: ca.certPem, servername: 'localhost', verify: false }),
        service('pin-bad', plain.url, { ca: ca.certPem, spkiPins: [spkiPin(otherNameCert.certPem)] }),
        service('pin-good', plain.url, { ca: ca.certPem, spkiPins: [spkiPin(otherNameCert.certPem), spkiPin(serverCert.certPem)] }),
        service('sni', `https://localhost:${plain.port}`, { ca: ca.certPem }),
        service('sni-preserve', `https://localhost:${plain.port}`, { ca: ca.certPem }, { preserveHost: true }),
        service('unknown-ca', unknown.url),
        service('wrong-ca', unknown.url, { ca: ca.certPem }),
        service('resume', resume.url, { ca: ca.certPem }),
        service('no-resume', noResume.url, { ca: ca.certPem, sessionReuse: false }),
      ],
    };
    await gw.apply(doc);
  });

  after(async () => {
    await gw?.stop();
    await Promise.all([mtls, mtls12, mismatch, plain, unknown, resume, noResume].map((b) => b?.close()));
  });

  it('presents the client certificate to an upstream that requires mutual TLS', async () => {
    for (const path of ['/mtls-ok', '/mtls12-ok']) {
      const r = await get(path);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.clientCN, 'portcullis-gateway');
    }
  });

  it('fails with 502 upstream_tls_error when the upstream requires a client certificate and none is configured', async () => {
    for (const path of ['/mtls-none', '/mtls12-none']) {
      const r = await get(path);
      assert.equal(r.status, 502, `${path}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.type, 'upstream_tls_error');
      assert.equal(r.body.error.message, 'TLS to the upstream failed: upstream requires a client certificate', path);
    }
  });

  it('refuses a certificate that does not name the server name, unless verify is false', async () => {
    const r = await get('/mismatch');
    assert.equal(r.status, 502);
    assert.equal(r.body.error.type, 'upstream_tls_error');
    assert.equal(r.body.error.message, 'TLS to the upstream failed: hostname mismatch');
    const ok = await get('/mismatch-unverified');
    assert.equal(ok.status, 200);
    assert.equal(ok.body.servername, 'localhost', 'the configured SNI is sent');
  });

  it('sends the target host as SNI by default, and none for an IP literal', async () => {
    const before = plain.servernames.length;
    assert.equal((await get('/sni')).body.servername, 'localhost');
    assert.equal((await get('/pin-good')).body.servername, null);
    assert.deepEqual(plain.servernames.slice(before), ['localhost', false]);
  });

  it("keeps the target's SNI when the client's Host header is preserved", async () => {
    const url = new URL(gw.httpsUrl);
    for (const host of ['api.example.test', 'other.example.test']) {
      // node:https with an explicit SNI: undici would derive its SNI from this Host header.
      const r = await new Promise<{ status: number; body: any }>((resolve, reject) => {
        const req = httpsRequest({ host: url.hostname, port: url.port, path: '/sni-preserve', ca: gw.caPem, servername: 'localhost', headers: { host }, agent: false }, (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
        });
        req.on('error', reject);
        req.end();
      });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.servername, 'localhost');
    }
  });

  it('enforces SPKI pins: a mismatch is refused, a listed pin accepted', async () => {
    const bad = await get('/pin-bad');
    assert.equal(bad.status, 502);
    assert.equal(bad.body.error.type, 'upstream_tls_error');
    assert.equal(bad.body.error.message, 'TLS to the upstream failed: certificate pin mismatch');
    const good = await get('/pin-good');
    assert.equal(good.status, 200);
  });

  it('refuses a certificate from an unknown CA: system roots by default, or the configured ca', async () => {
    for (const path of ['/unknown-ca', '/wrong-ca']) {
      const r = await get(path);
      assert.equal(r.status, 502, path);
      assert.equal(r.body.error.type, 'upstream_tls_error');
      assert.equal(r.body.error.message, 'TLS to the upstream failed: unknown certificate authority', path);
    }
  });

  it('seals the client key at rest and redacts it in reads and exports; "<redacted>" keeps it', async () => {
    const keyBody = clientCert.keyPem.split('\n')[1]!;
    // The raw store: the spec holds a sealed value, and the PEM appears nowhere in the database files.
    const db = new Database(join(gw.dataDir, 'portcullis.db'), { readonly: true, fileMustExist: true });
    try {
      const row = db.prepare("SELECT spec FROM config_objects WHERE kind = 'service' AND name = 'mtls-ok'").get() as { spec: string };
      const stored = JSON.parse(row.spec);
      assert.match(stored.upstream.tls.clientKey, /^pcenc:v1:/);
      assert.equal(stored.upstream.tls.clientCert, clientCert.certPem, 'the certificate is not secret');
    } finally {
      db.close();
    }
    for (const file of ['portcullis.db', 'portcullis.db-wal']) {
      const bytes = await readFile(join(gw.dataDir, file)).catch(() => Buffer.alloc(0));
      assert.ok(!bytes.includes(keyBody), `${file} holds the client key in clear`);
      assert.ok(!bytes.includes('PRIVATE KEY'), `${file} holds a PEM private key`);
    }

    const read = await gw.admin('GET', '/admin/v1/tenants/default/services/mtls-ok');
    assert.equal(read.status, 200);
    assert.equal(read.body.spec.upstream.tls.clientKey, '<redacted>');
    assert.equal(read.body.spec.upstream.tls.verify, true);
    assert.equal(read.body.spec.upstream.tls.sessionReuse, true);
    assert.ok(!JSON.stringify(read.body).includes(keyBody));

    const exported = await gw.admin('GET', '/admin/v1/tenants/default/config');
    assert.equal(exported.status, 200);
    const svc = exported.body.services.find((s: { name: string }) => s.name === 'mtls-ok');
    assert.equal(svc.upstream.tls.clientKey, '<redacted>');
    assert.ok(!JSON.stringify(exported.body).includes(keyBody));

    // export → apply changes nothing, and the kept key still works.
    const again = await gw.admin('POST', '/admin/v1/tenants/default/config', exported.body);
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.deepEqual(again.body.changes, []);
    assert.equal((await get('/mtls-ok')).status, 200);

    // A new certificate with the kept key is checked against that key.
    const swapped = structuredClone(exported.body);
    const index = swapped.services.findIndex((s: { name: string }) => s.name === 'mtls-ok');
    swapped.services[index].upstream.tls.clientCert = otherClientCert.certPem;
    const refused = await gw.admin('POST', '/admin/v1/tenants/default/config', swapped);
    assert.equal(refused.status, 400);
    assert.deepEqual(
      refused.body.error.details.map((d: { path: string }) => d.path),
      [`services.${index}.upstream.tls.clientKey`],
    );
    assert.ok(!JSON.stringify(refused.body).includes(keyBody));
  });

  it('refuses invalid TLS settings at apply time with field paths', async () => {
    const bad = structuredClone(doc);
    bad.services[0]!.upstream = {
      targets: [{ url: mtls.url }],
      tls: { ca: 'not a pem', clientCert: clientCert.certPem, clientKey: otherClientCert.keyPem, spkiPins: ['abc'] },
    } as never;
    const r = await gw.admin('POST', '/admin/v1/tenants/default/config', bad);
    assert.equal(r.status, 400);
    assert.deepEqual(r.body.error.details.map((d: { path: string }) => d.path).sort(), [
      'services.0.upstream.tls.ca',
      'services.0.upstream.tls.clientKey',
      'services.0.upstream.tls.spkiPins.0',
    ]);
    assert.ok(!JSON.stringify(r.body).includes(otherClientCert.keyPem.split('\n')[1]!), 'no key material in errors');
    assert.equal((await get('/mtls-ok')).status, 200, 'nothing changed');
  });

  it('resumes TLS sessions on new connections unless sessionReuse is false', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await get('/resume')).status, 200);
    for (let i = 0; i < 3; i++) assert.equal((await get('/no-resume')).status, 200);
    assert.equal(resume.handshakes.length, 3, 'the backend closes every connection');
    assert.deepEqual(resume.handshakes, [false, true, true]);
    assert.deepEqual(noResume.handshakes, [false, false, false]);
  });

  it('keeps pools whose TLS settings did not change, and replaces the ones that did', async () => {
    const served = await gw.admin('GET', '/admin/v1/tenants/default/config');
    // Touch only the "resume" service's TLS; "pin-good" keeps its pool (its keep-alive connection).
    const before = plain.handshakes.length;
    assert.equal((await get('/pin-good')).status, 200);
    const handshakesAfterFirst = plain.handshakes.length;
    const next = structuredClone(served.body);
    next.services.find((s: { name: string }) => s.name === 'resume').upstream.tls.servername = 'localhost';
    const r = await gw.admin('POST', '/admin/v1/tenants/default/config', next);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.changes.map((c: { name: string }) => c.name), ['resume']);
    await gw.gateway.snapshots!.reload();
    assert.equal((await get('/pin-good')).status, 200);
    assert.equal(plain.handshakes.length, handshakesAfterFirst, 'the unchanged pool kept its connection');
    assert.ok(handshakesAfterFirst - before <= 1);
    const resumed = resume.servernames.length;
    assert.equal((await get('/resume')).body.servername, 'localhost', 'the changed settings took effect');
    assert.equal(resume.servernames.length, resumed + 1);
  });
});
