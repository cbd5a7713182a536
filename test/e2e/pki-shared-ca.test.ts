/**
 * A CA shared between tenants, as docs/pki.md tells it: tenant "platform" runs one CA and shares it
 * with "retail"; retail has it issue a client certificate for its own application (with the CLI)
 * and trusts it on its own mTLS domain; curl gets through. Revoking it (retail) refuses the same curl
 * within a second and shows in platform's CRL and OCSP answers. A third tenant can neither see nor
 * use the CA, and when platform stops sharing, retail's domain refuses the CA's certificates at once.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { createCsr } from '../../src/pki/csr.js';
import { createRootCa, issueCertificate } from '../../src/pki/issue-certificate.js';
import { runCommand, type TestGateway } from './harness.js';
import { startPkiTestBed, type PkiTestBed } from './pki-testbed.js';

const HOST = 'mtls.retail.test';
const SHARED = encodeURIComponent('platform/clients');

describe('PKI: a CA shared between tenants', () => {
  let bed: PkiTestBed;
  let gw: TestGateway;
  let work: string;
  let httpBase: string;
  const cli = (tenant: string, ...args: string[]) => bed.cli(...args, '--tenant', tenant);
  const curl = (dir: string) => bed.curl(dir, '/shop');
  /** Polls curl until it answers `want` (0: handshake refused); returns how long it took. */
  const until = async (dir: string, want: number, within = 1000) => {
    const t0 = Date.now();
    let status = await curl(dir);
    while (status !== want && Date.now() - t0 < within) status = await curl(dir);
    assert.equal(status, want);
    return Date.now() - t0;
  };
  const issue = async (dir: string) => {
    const r = await cli('retail', 'cert', 'issue', '--ca', 'platform/clients', '--client', 'billing', '--out', dir);
    assert.equal(r.code, 0, r.stderr);
    const m = /issued certificate ([0-9A-F]+) for (\S+),/.exec(r.stdout);
    assert.ok(m, r.stdout);
    return { serial: m[1]!, identity: m[2]! };
  };

  before(async () => {
    bed = await startPkiTestBed(HOST);
    ({ gw, work, httpBase } = bed);
    for (const name of ['platform', 'retail', 'other']) assert.equal((await gw.admin('POST', '/admin/v1/tenants', { name })).status, 201);
    const created = await cli('platform', 'ca', 'create', 'clients', '--trust-domain', 'corp.example', '--share-with', 'retail');
    assert.equal(created.code, 0, created.stderr);
    await gw.apply(
      {
        certificates: [{ name: 'mtls', cert: bed.server.certPem, key: bed.server.keyPem }],
        domains: [{ name: 'mtls', hosts: [HOST], certificate: 'mtls', clientAuth: { mode: 'required', authorities: ['platform/clients'] } }],
        services: [{ name: 'shop', upstream: { targets: [{ url: bed.up.url }] }, routes: [{ name: 'shop', hosts: [HOST], paths: ['/shop'] }] }],
        applications: [{ name: 'billing' }],
      },
      'retail',
    );
  });

  after(async () => {
    await bed?.close();
  });

  it('the owner sees whom it shares with; the other tenant sees the CA as platform/clients, without that list', async () => {
    const own = await gw.admin('GET', '/admin/v1/tenants/platform/cas/clients');
    assert.equal(own.status, 200);
    assert.deepEqual([own.body.name, own.body.tenant, own.body.settings.sharedWith], ['clients', 'platform', ['retail']]);
    const seen = await gw.admin('GET', `/admin/v1/tenants/retail/cas/${SHARED}`);
    assert.equal(seen.status, 200);
    assert.deepEqual([seen.body.name, seen.body.tenant, seen.body.settings.sharedWith, seen.body.certificate], ['platform/clients', 'platform', undefined, own.body.certificate]);
    assert.match(seen.body.crlUrl, /\/_portcullis\/pki\/platform\/clients\/crl$/);
    const listed = await cli('retail', 'ca', 'list');
    assert.match(listed.stdout, /platform\/clients\s+platform\s+generated\s+corp\.example\s+-/);
    const chain = await cli('retail', 'ca', 'export', 'platform/clients');
    assert.equal(chain.code, 0, chain.stderr);
    assert.match(chain.stdout, /BEGIN CERTIFICATE/);
  });

  it("issues for the tenant's own application (CLI), curl gets through its domain; revoked by that tenant, refused within a second and in the owner's CRL and OCSP", async () => {
    const dir = join(work, 'billing');
    const { serial, identity } = await issue(dir);
    assert.equal(identity, 'spiffe://corp.example/tenant/retail/app/billing', 'the identity names the tenant that asked, not the owner');
    assert.equal(await curl(dir), 200);

    const ocsp = () =>
      runCommand('openssl', ['ocsp', '-issuer', join(dir, 'ca.pem'), '-cert', join(dir, 'cert.pem'), '-url', `${httpBase}/_portcullis/pki/platform/clients/ocsp`, '-CAfile', join(dir, 'ca.pem')]);
    assert.match((await ocsp()).stdout, /cert\.pem: good/, 'the owner\'s responder knows serials it issued for other tenants');

    const listed = await gw.admin('GET', `/admin/v1/tenants/retail/issued-certificates?ca=${SHARED}`);
    assert.deepEqual(listed.body.items.map((c: { serial: string; ca: string }) => [c.serial, c.ca]), [[serial, 'platform/clients']]);
    assert.deepEqual((await gw.admin('GET', '/admin/v1/tenants/platform/issued-certificates')).body.items, [], "the owner does not list another tenant's certificates");
    assert.equal((await gw.admin('POST', `/admin/v1/tenants/platform/issued-certificates/${serial}/revoke`, { reason: 'superseded' })).status, 404, 'nor revoke them');

    const revoked = await cli('retail', 'cert', 'revoke', serial, '--reason', 'keyCompromise');
    assert.equal(revoked.code, 0, revoked.stderr);
    const took = await until(dir, 0);
    assert.ok(took < 1000, `refused after ${took} ms`);

    const crl = await request(`${httpBase}/_portcullis/pki/platform/clients/crl.pem`);
    await writeFile(join(work, 'crl.pem'), await crl.body.text());
    const verify = await runCommand('openssl', ['verify', '-crl_check', '-CAfile', join(dir, 'ca.pem'), '-CRLfile', join(work, 'crl.pem'), join(dir, 'cert.pem')]);
    assert.notEqual(verify.code, 0);
    assert.match(verify.stdout + verify.stderr, /certificate revoked/);
    assert.match((await ocsp()).stdout, /cert\.pem: revoked/);
  });

  it('still only issues what the tenant owns: a CSR for another tenant\'s identity is refused', async () => {
    const { csrPem } = await createCsr({ keyType: 'ec-p256', commonName: 'ops', sans: ['spiffe://corp.example/tenant/platform/app/ops'] });
    const r = await gw.admin('POST', `/admin/v1/tenants/retail/cas/${SHARED}/certificates`, { usage: 'client', application: 'billing', csr: csrPem });
    assert.equal(r.status, 400);
    assert.match(r.body.error.message, /names the tenant does not own: spiffe:\/\/corp\.example\/tenant\/platform\/app\/ops/);
  });

  it('a tenant it is not shared with can neither see, use nor trust it, and cannot tell it from an absent one', async () => {
    const absent = encodeURIComponent('platform/absent');
    for (const [ref, what] of [[SHARED, 'shared elsewhere'], [absent, 'absent']] as const) {
      const get = await gw.admin('GET', `/admin/v1/tenants/other/cas/${ref}`);
      assert.equal(get.status, 404, what);
      const issued = await gw.admin('POST', `/admin/v1/tenants/other/cas/${ref}/certificates`, { usage: 'client', application: 'billing' });
      assert.equal(issued.status, 404, what);
      assert.equal(issued.body.error.message.replace('absent', 'clients'), `Certificate authority "platform/clients" not found`);
    }
    assert.deepEqual((await gw.admin('GET', '/admin/v1/tenants/other/cas')).body.items, []);
    const domain = await gw.admin('POST', '/admin/v1/tenants/other/domains', { name: 'd', hosts: ['other.test'], acme: {}, clientAuth: { mode: 'required', authorities: ['platform/clients'] } });
    assert.equal(domain.status, 400);
    assert.equal(domain.body.error.details[0].message, 'certificate authority "platform/clients" does not exist or is not shared with tenant "other"');
    assert.equal((await gw.admin('PUT', `/admin/v1/tenants/retail/cas/${SHARED}/sharing`, { sharedWith: ['other'] })).status, 404, 'only the owner shares');
  });

  it("server certificates only when the owner allows it, never for hosts another tenant's domain matches; the owner's lifetimes; the owner's revocation", async () => {
    const T = '/admin/v1/tenants';
    const issueServer = (hosts: string[]) => gw.admin('POST', `${T}/retail/cas/${SHARED}/certificates`, { usage: 'server', hosts });
    const now = Date.now();
    const otherCa = await createRootCa({ commonName: 'retail own', notBefore: new Date(now - 86_400_000), notAfter: new Date(now + 86_400_000) });
    const wild = await issueCertificate({ issuer: otherCa, subjectCN: '*.corp.example', sans: ['*.corp.example'], usage: 'server', notAfter: new Date(now + 86_400_000) });
    const api = await issueCertificate({ issuer: otherCa, subjectCN: 'api.corp.example', sans: ['api.corp.example'], usage: 'server', notAfter: new Date(now + 86_400_000) });
    assert.equal((await gw.admin('POST', `${T}/platform/certificates`, { name: 'api', cert: api.certPem, key: api.keyPem })).status, 201);
    assert.equal((await gw.admin('POST', `${T}/platform/domains`, { name: 'api', hosts: ['api.corp.example'], certificate: 'api' })).status, 201);
    assert.equal((await gw.admin('POST', `${T}/retail/certificates`, { name: 'wild', cert: wild.certPem, key: wild.keyPem })).status, 201);
    assert.equal((await gw.admin('POST', `${T}/retail/domains`, { name: 'wild', hosts: ['*.corp.example'], certificate: 'wild' })).status, 201);

    const refused = await issueServer(['www.corp.example']);
    assert.equal(refused.status, 400, 'client certificates only, by default');
    assert.match(refused.body.error.message, /issues client certificates only/);
    const allowed = await cli('platform', 'ca', 'share', 'platform/clients', '--with', 'retail', '--server-certificates');
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.match(allowed.stdout, /shared with retail \(client and server certificates\)/);
    for (const hosts of [['api.corp.example'], ['*.corp.example']]) {
      const r = await issueServer(hosts);
      assert.equal(r.status, 400, hosts[0]);
      assert.equal(r.body.error.details[0].message, `"${hosts[0]}" overlaps a domain of another tenant`);
    }
    const www = await issueServer(['www.corp.example']);
    assert.equal(www.status, 201, JSON.stringify(www.body));

    const long = await gw.admin('POST', `${T}/retail/cas/${SHARED}/certificates`, { usage: 'client', application: 'billing', lifetimeDays: 91 });
    assert.equal(long.status, 400);
    assert.equal(long.body.error.details[0].message, 'must be at most 90');
    assert.equal((await gw.admin('PUT', `${T}/platform/cas/clients/sharing`, { sharedWith: ['retail', 'nobody-yet'] })).status, 400, 'only existing tenants');

    const serial: string = www.body.certificate.serial;
    assert.equal((await cli('platform', 'ca', 'revoke', 'clients', 'ABCDEF')).code, 1, 'a serial the CA never issued');
    const revoked = await cli('platform', 'ca', 'revoke', 'clients', serial, '--reason', 'keyCompromise');
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.match(revoked.stdout, new RegExp(`revoked ${serial} \\(issued to tenant retail\\)`));
    const seen = await gw.admin('GET', `${T}/retail/issued-certificates/${serial}`);
    assert.equal(seen.body.revocationReason, 'keyCompromise');
    assert.equal((await gw.admin('DELETE', `${T}/retail/domains/wild`)).status, 204);
    assert.equal((await gw.admin('DELETE', `${T}/platform/domains/api`)).status, 204);
  });

  it("deleting a tenant that used the CA revokes what it obtained, leaves the owner's list, and says so in the owner's audit trail", async () => {
    const T = '/admin/v1/tenants';
    assert.equal((await gw.admin('POST', T, { name: 'temp' })).status, 201);
    assert.equal((await cli('platform', 'ca', 'share', 'clients', '--with', 'retail,temp')).code, 0);
    assert.equal((await gw.admin('POST', `${T}/temp/applications`, { name: 'job' })).status, 201);
    const issued = await gw.admin('POST', `${T}/temp/cas/${SHARED}/certificates`, { usage: 'client', application: 'job' });
    assert.equal(issued.status, 201);
    const serial: string = issued.body.certificate.serial;
    assert.equal((await gw.admin('DELETE', `${T}/temp/applications/job`)).status, 204);
    assert.equal((await gw.admin('DELETE', `${T}/temp`)).status, 204);

    assert.deepEqual((await gw.admin('GET', `${T}/platform/cas/clients`)).body.settings.sharedWith, ['retail']);
    const crl = await runCommand('sh', ['-c', `curl -s ${httpBase}/_portcullis/pki/platform/clients/crl.pem | openssl crl -noout -text`]);
    assert.match(crl.stdout, new RegExp(`Serial Number: ${serial}[\\s\\S]*?Cessation Of Operation`));
    const trail = (await gw.admin('GET', '/admin/v1/audit?tenant=platform&limit=1000')).body.items as Array<{ action: string; object: { name: string }; details: Record<string, unknown> | null }>;
    const mine = trail.filter((e) => e.details?.tenantDeleted === 'temp').map((e) => `${e.action} ${e.object.name}`);
    assert.deepEqual(mine.sort(), ['ca.unshare clients', `certificate.revoke ${serial}`].sort());
    assert.equal((await gw.admin('POST', T, { name: 'temp' })).status, 201);
    assert.equal((await gw.admin('GET', `${T}/temp/cas/${SHARED}`)).status, 404, 'a new tenant of that name inherits nothing');
  });

  it('when the owner stops sharing, the domain refuses the CA\'s certificates at once; the tenant must drop the reference before other writes', async () => {
    const dir = join(work, 'second');
    await issue(dir);
    assert.equal(await curl(dir), 200);
    // A keep-alive connection admitted before: refused on its next request.
    const agent = new Agent({
      connect: { ca: await readFile(join(work, 'server-ca.pem'), 'utf8'), cert: await readFile(join(dir, 'cert.pem'), 'utf8'), key: await readFile(join(dir, 'key.pem'), 'utf8'), servername: HOST },
      connections: 1,
      keepAliveTimeout: 30_000,
    });
    const get = () => request(`https://127.0.0.1:${bed.port}/shop`, { dispatcher: agent, headers: { host: HOST } });
    const before = await get();
    assert.equal(before.statusCode, 200);
    await before.body.dump();
    const unshared = await cli('platform', 'ca', 'share', 'clients');
    assert.equal(unshared.code, 0, unshared.stderr);
    assert.match(unshared.stdout, /shared with no other tenant/);
    const took = await until(dir, 0);
    assert.ok(took < 1000, `refused after ${took} ms`);
    try {
      const after = await get();
      assert.equal(after.statusCode, 403);
      assert.equal(((await after.body.json()) as { error: { type: string } }).error.type, 'certificate_untrusted');
    } finally {
      await agent.close();
    }
    assert.equal((await gw.admin('GET', `/admin/v1/tenants/retail/cas/${SHARED}`)).status, 404);

    const write = await gw.admin('POST', '/admin/v1/tenants/retail/applications', { name: 'later' });
    assert.equal(write.status, 400);
    assert.equal(write.body.error.details[0].path, 'domains.retail/mtls.clientAuth.authorities.0');
    const removal = await gw.admin('DELETE', '/admin/v1/tenants/retail/applications/billing');
    assert.equal(removal.status, 400, 'a deletion is refused for the broken reference, not as a conflict');
    assert.equal(removal.body.error.details[0].path, 'domains.retail/mtls.clientAuth.authorities.0');
    assert.match(removal.body.error.message, /is not shared with tenant "retail"/);
    const fixed = await gw.admin('PUT', '/admin/v1/tenants/retail/domains/mtls', { hosts: [HOST], certificate: 'mtls', clientAuth: { mode: 'off' } });
    assert.equal(fixed.status, 200, JSON.stringify(fixed.body));
    assert.equal((await gw.admin('POST', '/admin/v1/tenants/retail/applications', { name: 'later' })).status, 201);
  });
});
