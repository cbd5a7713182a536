/**
 * ACME end to end against pebble: a domain with an `acme` block gets its certificate by http-01 on
 * the gateway's HTTP listener; with pebble issuing 15-second certificates, the gateway renews it
 * during the test and swaps it in without a restart while a client keeps calling (every call on a
 * new TLS connection succeeds, and the client sees the new serial); an order the CA refuses is
 * reported (audit, with the CA's problem) and retried, and the gateway keeps running.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, X509Certificate } from 'node:crypto';
import { connect, type PeerCertificate } from 'node:tls';
import { startGateway, startUpstream, waitFor, type TestGateway, type TestUpstream } from './harness.js';
import { pebbleInstalled, startPebble, type Pebble } from '../fixtures/acme/pebble.js';

const HOST = 'shop.acme.test';
const required = process.env.CI === 'true';

if (!pebbleInstalled()) {
  if (required) throw new Error('pebble is required in CI (apt-get install pebble)');
  console.warn('\n*** SKIPPING the ACME tests: pebble is not installed (Debian: apt-get install pebble) ***\n');
}

/** The certificate the gateway presents for `servername`, and whether it verifies against `ca`. */
function served(port: number, servername: string, ca: string): Promise<{ cert: PeerCertificate; authorized: boolean; error?: string }> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, servername, ca, rejectUnauthorized: false }, () => {
      const cert = s.getPeerCertificate();
      resolve({ cert, authorized: s.authorized, error: s.authorizationError?.toString() });
      s.end();
    });
    s.on('error', reject);
  });
}

/** One HTTPS request on a new connection, verifying the chain against `ca`; resolves with status and serial. */
function call(port: number, ca: string): Promise<{ status: number; serial: string }> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, servername: HOST, ca, ALPNProtocols: ['http/1.1'] }, () => {
      const serial = s.getPeerCertificate().serialNumber;
      s.write(`GET /shop HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close\r\n\r\n`);
      let data = '';
      s.on('data', (c: Buffer) => (data += c.toString()));
      s.on('end', () => resolve({ status: Number(data.split(' ')[1]), serial }));
    });
    s.on('error', reject);
  });
}

describe('ACME against pebble', { skip: !pebbleInstalled() }, () => {
  let gw: TestGateway;
  let up: TestUpstream;
  let pebble: Pebble;
  let root: string;

  before(async () => {
    gw = await startGateway({ settings: { pki: { acme: { checkInterval: 200, retryBase: 500, retryMax: 2000 } } } });
    up = await startUpstream();
    pebble = await startPebble({ httpPort: Number(new URL(gw.started.httpUrl!).port), tlsPort: Number(new URL(gw.httpsUrl).port), validitySeconds: 15 });
    await gw.apply({
      domains: [{ name: 'shop', hosts: [HOST], acme: { directory: pebble.directory, directoryCa: pebble.apiCaPem, email: 'ops@acme.test' } }],
      services: [{ name: 'shop', upstream: { targets: [{ url: up.url }] }, routes: [{ name: 'shop', hosts: [HOST], paths: ['/shop'] }] }],
    });
    root = await pebble.issuingRoot();
  });
  after(async () => {
    await gw?.stop();
    await pebble?.stop();
    await up?.close();
  });

  it('obtains the certificate by http-01 and serves it; the inventory lists it as renewed automatically', async () => {
    const port = Number(new URL(gw.httpsUrl).port);
    await waitFor(async () => (await served(port, HOST, root)).authorized, 30_000, 'the pebble certificate to be served');
    const { cert } = await served(port, HOST, root);
    assert.match(String(cert.issuer.CN), /Pebble/);
    assert.match(cert.subjectaltname ?? '', new RegExp(`DNS:${HOST}`));
    assert.equal((await call(port, root)).status, 200);

    const inventory = await gw.admin('GET', '/admin/v1/tenants/default/certificate-inventory');
    const entry = inventory.body.items.find((i: any) => i.source === 'acme');
    assert.deepEqual([entry?.name, entry?.renewal, entry?.sans], ['shop', 'automatic', [HOST]]);
  });

  it('obtains a certificate by tls-alpn-01 on the TLS listener, which keeps serving everyone else meanwhile', async () => {
    const port = Number(new URL(gw.httpsUrl).port);
    await gw.apply({
      domains: [
        { name: 'shop', hosts: [HOST], acme: { directory: pebble.directory, directoryCa: pebble.apiCaPem, email: 'ops@acme.test' } },
        { name: 'alpn', hosts: ['alpn.acme.test'], acme: { directory: pebble.directory, directoryCa: pebble.apiCaPem, challenge: 'tls-alpn-01' } },
      ],
      services: [{ name: 'shop', upstream: { targets: [{ url: up.url }] }, routes: [{ name: 'shop', hosts: [HOST], paths: ['/shop'] }] }],
    });
    const failures: string[] = [];
    let served_ = false;
    const deadline = Date.now() + 30_000;
    while (!served_ && Date.now() < deadline) {
      // Other clients' connections go through the ClientHello peek while the validation is pending.
      const r = await call(port, root).catch((err: unknown) => ({ status: 0, serial: String(err) }));
      if (r.status !== 200) failures.push(r.serial);
      served_ = (await served(port, 'alpn.acme.test', root)).authorized;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(served_, 'the tls-alpn-01 certificate is served');
    assert.deepEqual(failures, [], 'no other request failed meanwhile');
    const state = (await gw.admin('GET', '/admin/v1/tenants/default/domains/alpn/acme')).body;
    assert.deepEqual([state.automatic, state.failures, state.certificate.hosts], [true, 0, ['alpn.acme.test']]);
  });

  it('renews at a third of the lifetime and swaps the certificate in while a client keeps calling', async () => {
    const port = Number(new URL(gw.httpsUrl).port);
    const first = new X509Certificate(Buffer.from((await served(port, HOST, root)).cert.raw));
    const serials = new Set<string>();
    const failures: string[] = [];
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      try {
        const r = await call(port, root);
        if (r.status !== 200) failures.push(`status ${r.status}`);
        serials.add(r.serial);
      } catch (err) {
        failures.push(String(err));
      }
      if (serials.size >= 2) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(failures, [], 'no failed request during the renewal');
    assert.ok(serials.size >= 2, `a renewed certificate was served (serials seen: ${[...serials].join(', ')})`);
    assert.ok(serials.has(first.serialNumber.toUpperCase()) || serials.has(first.serialNumber));
  });

  it('reports an order the CA refuses with its problem document, retries it, and keeps serving', async () => {
    await gw.apply({
      domains: [
        { name: 'shop', hosts: [HOST], acme: { directory: pebble.directory, directoryCa: pebble.apiCaPem, email: 'ops@acme.test' } },
        { name: 'broken', hosts: ['nxdomain-broken.acme.test'], acme: { directory: pebble.directory, directoryCa: pebble.apiCaPem } },
      ],
      services: [{ name: 'shop', upstream: { targets: [{ url: up.url }] }, routes: [{ name: 'shop', hosts: [HOST], paths: ['/shop'] }] }],
    });
    let state: any;
    await waitFor(async () => {
      state = (await gw.admin('GET', '/admin/v1/tenants/default/domains/broken/acme')).body;
      return state.failures >= 2;
    }, 30_000, 'two failed attempts on the broken domain');
    assert.equal(state.certificate, null);
    assert.match(state.lastError, /^urn:ietf:params:acme:error:\w+: .*nxdomain-broken/, "the CA's problem document is kept");
    assert.ok(Date.parse(state.nextAttemptAt) > Date.parse(state.lastAttemptAt), 'the next attempt is backed off');
    let alert: any;
    await waitFor(async () => {
      const audit = await gw.admin('GET', '/admin/v1/audit?limit=1000');
      alert = audit.body.items.find((e: any) => e.action === 'security.certificate_renewal_failed' && e.object?.name === 'broken');
      return alert !== undefined;
    }, 10_000, 'the renewal failure in the audit trail');
    assert.match(alert?.details.problem ?? '', /urn:ietf:params:acme:error:/, 'the failure is alerted (audit, log, webhook)');
    const shop = (await gw.admin('GET', '/admin/v1/tenants/default/domains/shop/acme')).body;
    assert.equal(shop.failures, 0);
    assert.ok(shop.certificate.serial && Date.parse(shop.certificate.renewAt) < Date.parse(shop.certificate.notAfter));
    const port = Number(new URL(gw.httpsUrl).port);
    assert.equal((await call(port, root)).status, 200, 'the gateway keeps serving');
  });

  it('registers with external account binding when the CA requires it, and is refused without', async () => {
    const hmacKey = randomBytes(32).toString('base64url');
    const eabPebble = await startPebble({ httpPort: Number(new URL(gw.started.httpUrl!).port), tlsPort: Number(new URL(gw.httpsUrl).port), eabKeys: { 'kid-1': hmacKey } });
    try {
      const domain = (name: string, host: string, eab?: object) => ({ name, hosts: [host], acme: { directory: eabPebble.directory, directoryCa: eabPebble.apiCaPem, ...(eab ? { eab } : {}) } });
      await gw.apply({
        domains: [
          { name: 'shop', hosts: [HOST], acme: { directory: pebble.directory, directoryCa: pebble.apiCaPem, email: 'ops@acme.test' } },
          domain('bound', 'bound.acme.test', { kid: 'kid-1', hmacKey }),
        ],
      });
      const eabRoot = await eabPebble.issuingRoot();
      const port = Number(new URL(gw.httpsUrl).port);
      await waitFor(async () => (await served(port, 'bound.acme.test', eabRoot)).authorized, 30_000, 'the EAB-registered certificate to be served');
      const exported = await gw.admin('GET', '/admin/v1/tenants/default/domains/bound');
      assert.equal(exported.body.spec.acme.eab.hmacKey, '<redacted>', 'the MAC key is a secret');

      // Another tenant has its own account: registering it without EAB is refused by this CA.
      assert.equal((await gw.admin('POST', '/admin/v1/tenants', { name: 'no-eab' })).status, 201);
      await gw.apply({ domains: [domain('unbound', 'unbound.acme.test')] }, 'no-eab');
      let state: any;
      await waitFor(async () => {
        state = (await gw.admin('GET', '/admin/v1/tenants/no-eab/domains/unbound/acme')).body;
        return state.failures >= 1;
      }, 30_000, 'the order without EAB to fail');
      assert.match(state.lastError, /externalAccountBinding/, "the CA's refusal is reported");
    } finally {
      await eabPebble.stop();
    }
  });
});
