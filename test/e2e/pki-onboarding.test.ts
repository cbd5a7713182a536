/**
 * Client onboarding with the built-in CA, as docs/pki.md tells it, with real tools on both ends:
 * the CLI creates a CA and issues a client certificate; curl uses it through a domain that requires
 * client certificates of that CA; revoking it refuses the same curl within a second; OpenSSL checks
 * the gateway's CRL, OCSP answers and PKCS#12 independently.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { runCommand, type TestGateway } from './harness.js';
import { startPkiTestBed, type PkiTestBed } from './pki-testbed.js';

const HOST = 'mtls.pki.test';

const run = runCommand;

describe('PKI: onboarding a client with the built-in CA, revocation, CRL, OCSP, PKCS#12', () => {
  let bed: PkiTestBed;
  let gw: TestGateway;
  let work: string;
  let port: number;
  let httpBase: string;
  const cli = (...args: string[]) => bed.cli(...args);
  /** curl through the mTLS domain: the HTTP status, or 0 when the handshake was refused. */
  const curl = (dir: string) => bed.curl(dir, '/echo');

  before(async () => {
    bed = await startPkiTestBed(HOST);
    ({ gw, work, port, httpBase } = bed);
    assert.equal((await cli('ca', 'create', 'clients', '--trust-domain', 'example.org')).code, 0);
    assert.equal((await cli('app', 'create', 'billing')).code, 0);
    await gw.apply({
      certificates: [{ name: 'mtls', cert: bed.server.certPem, key: bed.server.keyPem }],
      domains: [{ name: 'mtls', hosts: [HOST], certificate: 'mtls', clientAuth: { mode: 'required', authorities: ['clients'] } }],
      services: [{ name: 'echo', upstream: { targets: [{ url: bed.up.url }] }, routes: [{ name: 'echo', hosts: [HOST], paths: ['/echo'] }] }],
      applications: [{ name: 'billing' }],
    });
  });

  after(async () => {
    await bed?.close();
  });

  it('issues a client certificate with the CLI; curl gets through; revoked, the same curl is refused within a second', async () => {
    const dir = join(work, 'billing');
    const issued = await cli('cert', 'issue', '--ca', 'clients', '--client', 'billing', '--out', dir);
    assert.equal(issued.code, 0, issued.stderr);
    const serial = /issued certificate ([0-9A-F]+) for (\S+),/.exec(issued.stdout);
    assert.ok(serial, issued.stdout);
    assert.equal(serial[2], 'spiffe://example.org/tenant/default/app/billing');
    assert.equal(await curl(dir), 200);

    const listed = await cli('cert', 'list', '--expiring', '100d');
    assert.match(listed.stdout, new RegExp(serial[1]!));
    const revoked = await cli('cert', 'revoke', serial[1]!, '--reason', 'keyCompromise');
    assert.equal(revoked.code, 0, revoked.stderr);
    const t0 = Date.now();
    let status = await curl(dir);
    while (status !== 0 && Date.now() - t0 < 1000) status = await curl(dir);
    assert.equal(status, 0, 'the handshake is refused');
    assert.ok(Date.now() - t0 < 1000, `refused after ${Date.now() - t0} ms`);
    assert.equal(await curl(dir), 0, 'and stays refused');
  });

  it('refuses a revoked certificate on a keep-alive connection opened before the revocation', async () => {
    const dir = join(work, 'keepalive');
    const issued = await cli('cert', 'issue', '--ca', 'clients', '--client', 'billing', '--out', dir);
    assert.equal(issued.code, 0, issued.stderr);
    const serial = /issued certificate ([0-9A-F]+) /.exec(issued.stdout)![1]!;
    const agent = new Agent({
      connect: { ca: await readFile(join(work, 'server-ca.pem'), 'utf8'), cert: await readFile(join(dir, 'cert.pem'), 'utf8'), key: await readFile(join(dir, 'key.pem'), 'utf8'), servername: HOST },
      connections: 1,
      keepAliveTimeout: 30_000,
    });
    try {
      const get = () => request(`https://127.0.0.1:${port}/echo`, { dispatcher: agent, headers: { host: HOST } });
      const ok = await get();
      assert.equal(ok.statusCode, 200);
      await ok.body.dump();
      assert.equal((await gw.admin('POST', `/admin/v1/tenants/default/issued-certificates/${serial}/revoke`, { reason: 'superseded' })).status, 200);
      const refused = await get();
      assert.equal(refused.statusCode, 403);
      assert.equal(((await refused.body.json()) as { error: { type: string } }).error.type, 'certificate_revoked');
    } finally {
      await agent.close();
    }
  });

  it('publishes a CRL that openssl verify -crl_check agrees with, over plain HTTP', async () => {
    const good = join(work, 'good');
    assert.equal((await cli('cert', 'issue', '--ca', 'clients', '--client', 'billing', '--out', good)).code, 0);
    const crl = await request(`${httpBase}/_portcullis/pki/default/clients/crl.pem`);
    assert.equal(crl.statusCode, 200);
    await writeFile(join(work, 'crl.pem'), await crl.body.text());
    const der = await request(`${httpBase}/_portcullis/pki/default/clients/crl`);
    assert.equal(der.headers['content-type'], 'application/pkix-crl');
    await der.body.dump();
    const verify = (dir: string) => run('openssl', ['verify', '-crl_check', '-CAfile', join(dir, 'ca.pem'), '-CRLfile', join(work, 'crl.pem'), join(dir, 'cert.pem')]);
    const g = await verify(good);
    assert.equal(g.code, 0, g.stdout + g.stderr);
    const r = await verify(join(work, 'billing'));
    assert.notEqual(r.code, 0);
    assert.match(r.stdout + r.stderr, /certificate revoked/);
    const text = await run('openssl', ['crl', '-in', join(work, 'crl.pem'), '-noout', '-text']);
    assert.match(text.stdout, /Next Update/);
    assert.match(text.stdout, /Key Compromise/);
  });

  it('answers OCSP that openssl ocsp verifies: good, revoked', async () => {
    const ocsp = (dir: string) =>
      run('openssl', ['ocsp', '-issuer', join(dir, 'ca.pem'), '-cert', join(dir, 'cert.pem'), '-url', `${httpBase}/_portcullis/pki/default/clients/ocsp`, '-CAfile', join(dir, 'ca.pem'), '-resp_text']);
    // ca.pem holds the issuing CA first: openssl takes it as the issuer.
    const good = await ocsp(join(work, 'good'));
    assert.match(good.stdout + good.stderr, /Response verify OK/);
    assert.match(good.stdout, /cert\.pem: good/);
    const bad = await ocsp(join(work, 'billing'));
    assert.match(bad.stdout, /cert\.pem: revoked/);
    assert.match(bad.stdout, /Reason: keyCompromise/);
  });

  it('delivers a password-protected PKCS#12 that openssl opens', async () => {
    const dir = join(work, 'p12');
    const r = await cli('cert', 'issue', '--ca', 'clients', '--client', 'billing', '--out', dir, '--p12-password', 'correct horse battery');
    assert.equal(r.code, 0, r.stderr);
    const open = await run('openssl', ['pkcs12', '-in', join(dir, 'bundle.p12'), '-passin', 'pass:correct horse battery', '-nokeys', '-clcerts']);
    assert.equal(open.code, 0, open.stderr);
    assert.match(open.stdout, /spiffe:\/\/example\.org\/tenant\/default\/app\/billing|BEGIN CERTIFICATE/);
    const wrong = await run('openssl', ['pkcs12', '-in', join(dir, 'bundle.p12'), '-passin', 'pass:wrong', '-nokeys']);
    assert.notEqual(wrong.code, 0);
  });

  it('issues from a CSR (the key never leaves the client), and refuses a CSR for names the tenant does not own', async () => {
    const dir = join(work, 'csr');
    await run('mkdir', ['-p', dir]);
    const key = join(dir, 'key.pem');
    const csrOk = join(dir, 'ok.csr');
    assert.equal((await run('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-subj', '/CN=billing', '-out', csrOk])).code, 0);
    const ok = await cli('cert', 'issue', '--ca', 'clients', '--client', 'billing', '--csr', csrOk, '--out', dir);
    assert.equal(ok.code, 0, ok.stderr);
    const verify = await run('openssl', ['verify', '-CAfile', join(dir, 'ca.pem'), join(dir, 'cert.pem')]);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    const csrBad = join(dir, 'bad.csr');
    assert.equal((await run('openssl', ['req', '-new', '-key', key, '-subj', '/CN=evil', '-addext', 'subjectAltName=URI:spiffe://example.org/tenant/other/app/payroll', '-out', csrBad])).code, 0);
    const bad = await cli('cert', 'issue', '--ca', 'clients', '--client', 'billing', '--csr', csrBad, '--out', dir);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /names the tenant does not own/);
    const missingApp = await gw.admin('POST', '/admin/v1/tenants/default/cas/clients/certificates', { usage: 'client', application: 'nobody' });
    assert.equal(missingApp.status, 404);
    const foreignHost = await gw.admin('POST', '/admin/v1/tenants/default/cas/clients/certificates', { usage: 'server', hosts: ['bank.example.com'] });
    assert.equal(foreignHost.status, 400);
    assert.match(foreignHost.body.error.message, /no domain covering "bank.example.com"/);
    const unknownSerial = await gw.admin('POST', '/admin/v1/tenants/default/issued-certificates/ABCDEF/revoke', {});
    assert.equal(unknownSerial.status, 404);
  });
});
