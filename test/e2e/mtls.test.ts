/**
 * SNI per tenant domain and mutual TLS, with real handshakes against certificates made here: domain
 * selection, client-certificate refusals before HTTP, route rules, the forwarded identity header,
 * Host/SNI mismatch, session resumption that must not bypass checks, and hot certificate swaps.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { createRootCa, issueCertificate, type CertificateIssuer } from '../../src/pki/issue-certificate.js';
import { startGateway, startUpstream, type TestGateway, type TestUpstream } from './harness.js';

const DAY = 86_400_000;
const now = Date.now();

interface Leaf {
  certPem: string;
  keyPem: string;
}

async function ca(name: string): Promise<CertificateIssuer> {
  return createRootCa({ commonName: name, notBefore: new Date(now - DAY), notAfter: new Date(now + 365 * DAY) });
}

async function leaf(issuer: CertificateIssuer, cn: string, sans: string[], usage: 'server' | 'client', notAfter = new Date(now + 30 * DAY), notBefore?: Date): Promise<Leaf> {
  const c = await issueCertificate({ issuer, subjectCN: cn, sans, usage, notAfter, ...(notBefore ? { notBefore } : {}) });
  return { certPem: c.certPem, keyPem: c.keyPem! };
}

interface Exchange {
  /** True when the TLS handshake completed and an HTTP response came back. */
  answered: boolean;
  status?: number;
  headers?: string;
  body?: string;
  peerFingerprint?: string;
  session?: Buffer;
  resumed?: boolean;
}

/** One HTTP/1.1 request over a fresh TLS connection, raw, so refusals and resumption are visible. */
function exchange(
  gw: TestGateway,
  opts: { servername: string; host?: string; path?: string; cert?: Leaf; ca: string; session?: Buffer; maxVersion?: 'TLSv1.2' | 'TLSv1.3'; headers?: Record<string, string>; anyName?: boolean },
): Promise<Exchange> {
  const port = Number(new URL(gw.httpsUrl).port);
  return new Promise((resolve) => {
    const options: ConnectionOptions = {
      host: '127.0.0.1',
      port,
      servername: opts.servername,
      ca: opts.ca,
      ...(opts.cert ? { cert: opts.cert.certPem, key: opts.cert.keyPem } : {}),
      ...(opts.session ? { session: opts.session } : {}),
      ...(opts.maxVersion ? { maxVersion: opts.maxVersion } : {}),
      ...(opts.anyName ? { checkServerIdentity: () => undefined } : {}),
    };
    const result: Exchange = { answered: false };
    let data = '';
    let session: Buffer | undefined;
    const socket: TLSSocket = tlsConnect(options, () => {
      result.peerFingerprint = socket.getPeerX509Certificate()?.fingerprint256;
      result.resumed = socket.isSessionReused();
      const extra = Object.entries(opts.headers ?? {})
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('');
      socket.write(`GET ${opts.path ?? '/svc/x'} HTTP/1.1\r\nHost: ${opts.host ?? opts.servername}\r\n${extra}Connection: close\r\n\r\n`);
    });
    socket.on('session', (s: Buffer) => (session = s));
    socket.on('data', (c: Buffer) => (data += c.toString()));
    const done = () => {
      if (data.startsWith('HTTP/1.1 ')) {
        result.answered = true;
        result.status = Number(data.slice(9, 12));
        const split = data.indexOf('\r\n\r\n');
        result.headers = data.slice(0, split).toLowerCase();
        result.body = data.slice(split + 4);
      }
      if (session) result.session = session;
      resolve(result);
    };
    socket.on('close', done);
    socket.on('error', () => undefined);
    socket.setTimeout(5000, () => socket.destroy());
  });
}

function run(cmd: string, args: string[], input?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], timeout: 20_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

describe('SNI per tenant domain and mutual TLS', () => {
  let gw: TestGateway;
  let upstream: TestUpstream;
  let work: string;
  let caA: CertificateIssuer;
  let caB: CertificateIssuer;
  let serverCa: CertificateIssuer;
  let clientA: Leaf;
  let clientB: Leaf;
  let expiredA: Leaf;
  let unknownCaClient: Leaf;
  const servers: Record<string, Leaf> = {};

  const domainDoc = (tenant: string, extra: { routes?: unknown[]; trust?: string; cert?: Leaf } = {}) => {
    const hosts = tenant === 'tenant-w' ? ['*.w.test'] : [`api.${tenant}.test`];
    const mode = tenant === 'tenant-a' ? 'required' : tenant === 'tenant-b' ? 'optional' : 'off';
    const cert = extra.cert ?? servers[tenant]!;
    return {
      tenant,
      certificates: [{ name: 'main', cert: cert.certPem, key: cert.keyPem }],
      domains: [
        {
          name: 'api',
          hosts,
          certificate: 'main',
          clientAuth: mode === 'off' ? { mode } : { mode, trustedCas: extra.trust ?? (tenant === 'tenant-a' ? caA.certPem : caB.certPem) },
        },
      ],
      services: [
        {
          name: 'svc',
          upstream: { targets: [{ url: upstream.url }] },
          routes: extra.routes ?? [{ name: 'svc', hosts, paths: ['/svc'] }],
        },
      ],
    };
  };

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'portcullis-mtls-'));
    [caA, caB, serverCa] = await Promise.all([ca('Tenant A Client CA'), ca('Tenant B Client CA'), ca('Server CA')]);
    const otherCa = await ca('Unknown CA');
    for (const t of ['tenant-a', 'tenant-b', 'tenant-c']) servers[t] = await leaf(serverCa, `api.${t}.test`, [`api.${t}.test`], 'server');
    servers['tenant-w'] = await leaf(serverCa, 'w.test', ['*.w.test'], 'server');
    clientA = await leaf(caA, 'app-a', ['spiffe://portcullis.test/tenant/tenant-a/app/billing'], 'client');
    clientB = await leaf(caB, 'app-b', ['spiffe://portcullis.test/tenant/tenant-b/app/reports'], 'client');
    expiredA = await leaf(caA, 'old-a', ['spiffe://portcullis.test/tenant/tenant-a/app/old'], 'client', new Date(now - DAY), new Date(now - 10 * DAY));
    unknownCaClient = await leaf(otherCa, 'stranger', ['spiffe://elsewhere/app'], 'client');
    upstream = await startUpstream();
    gw = await startGateway();
    await gw.apply(domainDoc('tenant-a', { routes: [{ name: 'svc', hosts: ['api.tenant-a.test'], paths: ['/svc'], plugins: { 'forward-client-cert': {} } }] }), 'tenant-a');
    await gw.apply(
      domainDoc('tenant-b', {
        routes: [
          { name: 'svc', hosts: ['api.tenant-b.test'], paths: ['/svc'] },
          {
            name: 'reports',
            hosts: ['api.tenant-b.test'],
            paths: ['/reports'],
            plugins: { 'client-cert': { rules: [{ sanUri: 'spiffe://portcullis.test/tenant/tenant-b/app/reports' }] } },
          },
          { name: 'admin', hosts: ['api.tenant-b.test'], paths: ['/admin'], plugins: { 'client-cert': { rules: [{ sanUri: 'spiffe://portcullis.test/tenant/tenant-b/app/admin' }] } } },
        ],
      }),
      'tenant-b',
    );
    await gw.apply(domainDoc('tenant-c'), 'tenant-c');
    await gw.apply(domainDoc('tenant-w'), 'tenant-w');
  });

  after(async () => {
    await gw?.stop();
    await upstream?.close();
    await rm(work, { recursive: true, force: true });
  });

  const fp = (pem: string) => new X509Certificate(pem).fingerprint256;

  it('picks the certificate by SNI across tenant domains, a wildcard, and the default for unknown names', async () => {
    for (const t of ['tenant-c']) {
      const r = await exchange(gw, { servername: `api.${t}.test`, ca: serverCa.certPem });
      assert.equal(r.peerFingerprint, fp(servers[t]!.certPem));
      assert.equal(r.status, 200);
    }
    const a = await exchange(gw, { servername: 'api.tenant-a.test', ca: serverCa.certPem, cert: clientA });
    assert.equal(a.peerFingerprint, fp(servers['tenant-a']!.certPem));
    const b = await exchange(gw, { servername: 'api.tenant-b.test', ca: serverCa.certPem });
    assert.equal(b.peerFingerprint, fp(servers['tenant-b']!.certPem));
    const w = await exchange(gw, { servername: 'x.w.test', ca: serverCa.certPem });
    assert.equal(w.peerFingerprint, fp(servers['tenant-w']!.certPem));
    assert.equal(w.status, 200);
    const unknown = await exchange(gw, { servername: 'nobody.test', host: 'nobody.test', path: '/nope', ca: gw.caPem, anyName: true });
    assert.notEqual(unknown.peerFingerprint, undefined);
    assert.equal(unknown.status, 404, 'the default certificate answers unknown names');
  });

  it('keeps certificate keys secret: redacted in reads and exports, which apply back unchanged', async () => {
    const one = await gw.admin('GET', '/admin/v1/tenants/tenant-c/certificates/main');
    assert.equal(one.status, 200);
    assert.equal(one.body.spec.key, '<redacted>');
    assert.match(one.body.spec.cert, /BEGIN CERTIFICATE/);
    const doc = await gw.admin('GET', '/admin/v1/tenants/tenant-c/config');
    assert.equal(doc.body.certificates[0].key, '<redacted>');
    assert.doesNotMatch(JSON.stringify(doc.body), /PRIVATE KEY/);
    const again = await gw.admin('POST', '/admin/v1/tenants/tenant-c/config', doc.body);
    assert.equal(again.status, 200);
    assert.deepEqual(again.body.changes, []);
    const wrongKey = await leaf(serverCa, 'api.tenant-c.test', ['api.tenant-c.test'], 'server');
    const mismatch = await gw.admin('PUT', '/admin/v1/tenants/tenant-c/certificates/main', { cert: servers['tenant-c']!.certPem, key: wrongKey.keyPem });
    assert.equal(mismatch.status, 400);
    assert.equal(mismatch.body.error.details[0].path, 'key');
    const uncovered = await gw.admin('POST', '/admin/v1/tenants/tenant-c/domains', { name: 'other', hosts: ['other.tenant-c.test'], certificate: 'main' });
    assert.equal(uncovered.status, 400);
    assert.match(uncovered.body.error.message, /does not cover/);
    const taken = await gw.admin('POST', '/admin/v1/tenants/tenant-c/domains', { name: 'steal', hosts: ['api.tenant-a.test'], certificate: 'main' });
    assert.equal(taken.status, 400);
    assert.match(JSON.stringify(taken.body), /belongs to another tenant/);
    assert.doesNotMatch(JSON.stringify(taken.body), /tenant-a\/|"tenant-a"|domain "api"/, 'another tenant and its domain are never named');
  });

  it('refuses bad client certificates on a required domain before any HTTP reaches the pipeline', async () => {
    const logged = gw.accessLog.length;
    const seen = upstream.requests.length;
    for (const [what, cert] of [
      ['no certificate', undefined],
      ['unknown CA', unknownCaClient],
      ['expired', expiredA],
      ["another tenant's CA", clientB],
    ] as const) {
      const r = await exchange(gw, { servername: 'api.tenant-a.test', ca: serverCa.certPem, ...(cert ? { cert } : {}) });
      assert.equal(r.answered, false, `${what}: got an HTTP answer`);
    }
    const ok = await exchange(gw, { servername: 'api.tenant-a.test', ca: serverCa.certPem, cert: clientA });
    assert.equal(ok.status, 200);
    assert.equal(upstream.requests.length, seen + 1, 'only the good request reached the upstream');
    assert.equal(gw.accessLog.length, logged + 1, 'refused connections never reached the pipeline');
    const rejections = gw.gateway.tlsRejections();
    assert.ok([...rejections.values()].reduce((a, b) => a + b, 0) >= 4, 'each refusal is counted');
    const { request } = await import('undici');
    const text = await (await request(`${gw.adminUrl}/metrics`, { dispatcher: gw.agent, headers: { authorization: `Bearer ${gw.token}` } })).body.text();
    assert.match(text, /portcullis_tls_client_rejections_total\{listener="https",reason="no client certificate"\} [1-9]/);
    assert.match(text, /portcullis_routes \d+/);
    const anonymous = await request(`${gw.adminUrl}/metrics`, { dispatcher: gw.agent });
    assert.equal(anonymous.statusCode, 401);
    await anonymous.body.dump();
  });

  it('forwards the verified identity upstream and never a client-supplied one', async () => {
    const r = await exchange(gw, { servername: 'api.tenant-a.test', ca: serverCa.certPem, cert: clientA, headers: { 'x-forwarded-client-cert': 'Hash=forged;URI=spiffe://evil' } });
    assert.equal(r.status, 200);
    const seen = JSON.parse(r.body!) as { headers: Record<string, string> };
    const xfcc = seen.headers['x-forwarded-client-cert']!;
    assert.match(xfcc, new RegExp(`^Hash=${fp(clientA.certPem).replace(/:/g, '').toLowerCase()};`));
    assert.match(xfcc, /URI=spiffe:\/\/portcullis\.test\/tenant\/tenant-a\/app\/billing/);
    assert.doesNotMatch(xfcc, /forged|evil/);
    const b = await exchange(gw, { servername: 'api.tenant-b.test', ca: serverCa.certPem, headers: { 'x-forwarded-client-cert': 'Hash=forged' } });
    assert.equal(JSON.parse(b.body!).headers['x-forwarded-client-cert'], undefined, 'stripped even where forwarding is off');
  });

  it('applies route rules under optional mode: 401 without a certificate, 403 when it does not match', async () => {
    const none = await exchange(gw, { servername: 'api.tenant-b.test', path: '/reports', ca: serverCa.certPem });
    assert.equal(none.status, 401);
    assert.match(none.body!, /"type":"unauthenticated"/);
    const good = await exchange(gw, { servername: 'api.tenant-b.test', path: '/reports', ca: serverCa.certPem, cert: clientB });
    assert.equal(good.status, 200);
    const wrong = await exchange(gw, { servername: 'api.tenant-b.test', path: '/admin', ca: serverCa.certPem, cert: clientB });
    assert.equal(wrong.status, 403);
    const open = await exchange(gw, { servername: 'api.tenant-b.test', path: '/svc', ca: serverCa.certPem });
    assert.equal(open.status, 200, 'routes without the plugin stay open under optional mode');
    const foreign = await exchange(gw, { servername: 'api.tenant-b.test', path: '/svc', ca: serverCa.certPem, cert: clientA });
    assert.equal(foreign.answered, false, 'a certificate that is sent must verify, even under optional mode');
  });

  it('answers 421 when the Host header differs from the SNI name on an mTLS domain', async () => {
    const r = await exchange(gw, { servername: 'api.tenant-a.test', host: 'api.tenant-c.test', ca: serverCa.certPem, cert: clientA });
    assert.equal(r.status, 421);
    assert.match(r.body!, /"type":"misdirected_request"/);
  });

  for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
    it(`never lets a resumed ${version} session bypass client-certificate checks`, async () => {
      const first = await exchange(gw, { servername: 'api.tenant-b.test', path: '/reports', ca: serverCa.certPem, cert: clientB, maxVersion: version });
      assert.equal(first.status, 200);
      if (first.session) {
        // The listener does not resume sessions at all: every connection verifies its certificate.
        const same = await exchange(gw, { servername: 'api.tenant-b.test', path: '/reports', ca: serverCa.certPem, cert: clientB, session: first.session, maxVersion: version });
        assert.equal(same.resumed, false);
        assert.equal(same.status, 200);
      }
      // Resumption under another domain's name, whose policy does not trust this certificate.
      if (first.session) {
        const seen = upstream.requests.length;
        const cross = await exchange(gw, { servername: 'api.tenant-a.test', ca: serverCa.certPem, cert: clientB, session: first.session, maxVersion: version });
        assert.equal(cross.answered, false, `resumed=${cross.resumed} under another SNI name and got ${cross.status}`);
        assert.equal(upstream.requests.length, seen, 'nothing reached the upstream');
      }
      // The CA is removed from the domain's trust: the old session must not get back in.
      await gw.apply(domainDoc('tenant-b', { trust: caA.certPem, routes: [{ name: 'reports', hosts: ['api.tenant-b.test'], paths: ['/reports'], plugins: { 'client-cert': {} } }] }), 'tenant-b');
      try {
        const again = await exchange(gw, { servername: 'api.tenant-b.test', path: '/reports', ca: serverCa.certPem, cert: clientB, ...(first.session ? { session: first.session } : {}), maxVersion: version });
        assert.equal(again.answered, false, `resumed=${again.resumed}: a session from before the CA was removed got ${again.status}`);
      } finally {
        await gw.apply(
          domainDoc('tenant-b', {
            routes: [
              { name: 'svc', hosts: ['api.tenant-b.test'], paths: ['/svc'] },
              { name: 'reports', hosts: ['api.tenant-b.test'], paths: ['/reports'], plugins: { 'client-cert': { rules: [{ sanUri: 'spiffe://portcullis.test/tenant/tenant-b/app/reports' }] } } },
              { name: 'admin', hosts: ['api.tenant-b.test'], paths: ['/admin'], plugins: { 'client-cert': { rules: [{ sanUri: 'spiffe://portcullis.test/tenant/tenant-b/app/admin' }] } } },
            ],
          }),
          'tenant-b',
        );
      }
    });
  }

  it('works with curl --cert/--key/--cacert and openssl s_client', async () => {
    const port = new URL(gw.httpsUrl).port;
    const files = { cert: join(work, 'client.pem'), key: join(work, 'client-key.pem'), ca: join(work, 'server-ca.pem') };
    await writeFile(files.cert, clientA.certPem);
    await writeFile(files.key, clientA.keyPem, { mode: 0o600 });
    await writeFile(files.ca, serverCa.certPem);
    const resolveArg = `api.tenant-a.test:${port}:127.0.0.1`;
    const ok = await run('curl', ['-sS', '--resolve', resolveArg, '--cert', files.cert, '--key', files.key, '--cacert', files.ca, `https://api.tenant-a.test:${port}/svc/curl`, '-o', '/dev/null', '-w', '%{http_code}']);
    assert.equal(ok.stdout, '200', ok.stderr);
    const refused = await run('curl', ['-sS', '--resolve', resolveArg, '--cacert', files.ca, `https://api.tenant-a.test:${port}/svc/curl`, '-o', '/dev/null', '-w', '%{http_code}']);
    assert.notEqual(refused.code, 0, 'curl without a client certificate must fail');
    const s = await run('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'api.tenant-a.test', '-CAfile', files.ca, '-cert', files.cert, '-key', files.key, '-verify_return_error', '-brief', '-ign_eof'], `GET /svc/openssl HTTP/1.1\r\nHost: api.tenant-a.test\r\nConnection: close\r\n\r\n`);
    assert.match(s.stdout, /HTTP\/1\.1 200/, s.stderr);
    assert.match(s.stderr, /Verification: OK/);
  });

  it('swaps a certificate for new handshakes while a stream on the old one completes', async () => {
    const stream = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      let n = 0;
      const t = setInterval(() => {
        res.write(`data: ${++n}\n\n`);
        if (n === 8) {
          clearInterval(t);
          res.end();
        }
      }, 100);
    });
    try {
      const doc = (cert: Leaf) => ({ ...domainDoc('tenant-c', { cert }), services: [{ name: 'svc', upstream: { targets: [{ url: stream.url }] }, routes: [{ name: 'svc', hosts: ['api.tenant-c.test'], paths: ['/svc'] }] }] });
      await gw.apply(doc(servers['tenant-c']!), 'tenant-c');
      const streaming = exchange(gw, { servername: 'api.tenant-c.test', ca: serverCa.certPem });
      await new Promise((r) => setTimeout(r, 250));
      const renewed = await leaf(serverCa, 'api.tenant-c.test', ['api.tenant-c.test'], 'server');
      const t0 = Date.now();
      await gw.apply(doc(renewed), 'tenant-c');
      const fresh = await exchange(gw, { servername: 'api.tenant-c.test', ca: serverCa.certPem });
      assert.ok(Date.now() - t0 < 1000);
      assert.equal(fresh.peerFingerprint, fp(renewed.certPem), 'new handshakes see the new certificate');
      const old = await streaming;
      assert.equal(old.peerFingerprint, fp(servers['tenant-c']!.certPem));
      assert.equal(old.status, 200);
      assert.equal((old.body!.match(/data: /g) ?? []).length, 8, 'the stream on the old certificate completed');
    } finally {
      await stream.close();
    }
  });
});
