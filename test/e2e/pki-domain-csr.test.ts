/**
 * Certificates for the tenant's own domains from a public CA: the gateway makes the key and the CSR,
 * a CA (here OpenSSL, as an independent signer) signs it, and the returned chain is installed only
 * when it matches the key, is complete and within validity, and names the requested hosts.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { createCaHierarchy } from '../../src/pki/ca-hierarchy.js';
import { parseCsr } from '../../src/pki/csr.js';
import { issueCertificate } from '../../src/pki/issue-certificate.js';
import { runCommand, startGateway, type TestGateway } from './harness.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const HOST = 'shop.csr.test';

describe('PKI: key and CSR for an own domain, chain from a public CA installed with checks', () => {
  let gw: TestGateway;
  let work: string;
  let chainOk: string;
  let caFiles: { cert: string; key: string; root: string };

  before(async () => {
    gw = await startGateway();
    work = await mkdtemp(join(tmpdir(), 'portcullis-csr-'));
    // Created ten days ago, so that it can also have issued a certificate that has since expired.
    const ca = await createCaHierarchy({ commonName: 'Public Test CA', now: new Date(Date.now() - 10 * 86_400_000) });
    caFiles = { cert: join(work, 'int.pem'), key: join(work, 'int-key.pem'), root: join(work, 'root.pem') };
    await writeFile(caFiles.cert, ca.intermediate.certPem);
    await writeFile(caFiles.key, ca.intermediate.keyPem);
    await writeFile(caFiles.root, ca.root.certPem);
  });

  after(async () => {
    await gw?.stop();
    await rm(work, { recursive: true, force: true });
  });

  /** Signs a CSR file with OpenSSL as the public CA, copying its SANs; returns the leaf PEM. */
  async function opensslSign(csrFile: string, days = 30): Promise<string> {
    const out = join(work, `leaf-${Date.now()}.pem`);
    const r = await runCommand('openssl', ['x509', '-req', '-in', csrFile, '-CA', caFiles.cert, '-CAkey', caFiles.key, '-CAcreateserial', '-days', String(days), '-copy_extensions', 'copy', '-out', out]);
    assert.equal(r.code, 0, r.stderr);
    return readFile(out, 'utf8');
  }

  it('makes the CSR with the CLI, installs the signed chain, and serves it for the host', async () => {
    const csrFile = join(work, 'shop.csr');
    const env = { PORTCULLIS_ADMIN_URL: gw.adminUrl, PORTCULLIS_ADMIN_TOKEN: gw.token, PORTCULLIS_CA_FILE: join(gw.dataDir, 'ca.pem') };
    const req = await runCommand(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/bin.ts'), 'cert', 'request', 'shop', '--host', HOST, '--out', csrFile], env);
    assert.equal(req.code, 0, req.stderr);
    const verify = await runCommand('openssl', ['req', '-in', csrFile, '-noout', '-verify', '-text']);
    assert.match(verify.stdout + verify.stderr, /verify OK/);
    assert.match(verify.stdout, new RegExp(`DNS:${HOST.replace(/\./g, '\\.')}`));
    const listed = await gw.admin('GET', '/admin/v1/tenants/default/certificate-requests');
    assert.equal(listed.body.items[0].name, 'shop');
    assert.ok(!JSON.stringify(listed.body).includes('PRIVATE KEY'), 'the key never leaves the gateway');

    const leaf = await opensslSign(csrFile);
    // Leaf, intermediate and (this test CA not being a public root) the root.
    chainOk = `${leaf.trimEnd()}\n${(await readFile(caFiles.cert, 'utf8')).trimEnd()}\n${(await readFile(caFiles.root, 'utf8')).trimEnd()}\n`;
    const installed = await gw.admin('POST', '/admin/v1/tenants/default/certificate-requests/shop/install', { chain: chainOk });
    assert.equal(installed.status, 201, JSON.stringify(installed.body));
    assert.equal(installed.body.spec.key, '<redacted>');
    assert.equal((await gw.admin('GET', '/admin/v1/tenants/default/certificate-requests/shop')).status, 404, 'the request is done');

    assert.equal((await gw.admin('POST', '/admin/v1/tenants/default/domains', { name: 'shop', hosts: [HOST], certificate: 'shop' })).status, 201);
    const port = Number(new URL(gw.httpsUrl).port);
    const rootPem = await readFile(caFiles.root, 'utf8');
    const served = await new Promise<string>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port, servername: HOST, ca: [rootPem], checkServerIdentity: () => undefined }, () => {
        resolve(s.getPeerX509Certificate()!.fingerprint256);
        s.end();
      });
      s.on('error', reject);
    });
    assert.equal(served, new X509Certificate(leaf).fingerprint256);
  });

  it('refuses, with the reason, a chain for another key, an incomplete chain, an expired one, one missing a host', async () => {
    const expect400 = async (chain: string, pattern: RegExp) => {
      const r = await gw.admin('POST', '/admin/v1/tenants/default/certificate-requests/api/install', { chain });
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.match(r.body.error.message, pattern);
    };
    const req = await gw.admin('POST', '/admin/v1/tenants/default/certificate-requests', { name: 'api', hosts: ['api.csr.test', 'www.csr.test'] });
    assert.equal(req.status, 201);
    const csrFile = join(work, 'api.csr');
    await writeFile(csrFile, req.body.csr);
    const intermediate = `${(await readFile(caFiles.cert, 'utf8')).trimEnd()}\n`;
    const withRoot = `${intermediate}${(await readFile(caFiles.root, 'utf8')).trimEnd()}\n`;

    // Signed for another key: the shop certificate from the previous test.
    await expect400(chainOk, /does not match|key/i);
    // Leaf alone: the intermediate is missing.
    const leaf = await opensslSign(csrFile);
    await expect400(leaf, /incomplete|issuer|missing/i);
    // Expired: the right key, the right issuer, validity over.
    const publicKey = (await parseCsr(req.body.csr)).publicKeyPem;
    const old = await issueCertificate({ issuer: { certPem: intermediate, keyPem: await readFile(caFiles.key, 'utf8') }, subjectCN: 'api.csr.test', sans: ['api.csr.test', 'www.csr.test'], usage: 'server', publicKey, notBefore: new Date(Date.now() - 3 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000) });
    await expect400(`${old.certPem.trimEnd()}\n${withRoot}`, /expired|validity/i);
    // Valid, but without one of the requested names.
    const onlyApi = await issueCertificate({ issuer: { certPem: intermediate, keyPem: await readFile(caFiles.key, 'utf8') }, subjectCN: 'api.csr.test', sans: ['api.csr.test'], usage: 'server', publicKey, notAfter: new Date(Date.now() + 86_400_000) });
    await expect400(`${onlyApi.certPem.trimEnd()}\n${withRoot}`, /www\.csr\.test/);
    // Nothing was stored by any of these.
    assert.equal((await gw.admin('GET', '/admin/v1/tenants/default/certificates/api')).status, 404);
    assert.equal((await gw.admin('GET', '/admin/v1/tenants/default/certificate-requests/api')).status, 200, 'the request is still there to retry');
  });
});
