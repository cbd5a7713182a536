/**
 * Revocation of certificates from other issuers: a domain trusting an outside CA loads that CA's CRL
 * from a URL, refreshes it, refuses a certificate once the CRL lists it, and fails closed when the
 * CRL cannot be had, is stale or is not signed by the trusted CA (unless told to allow).
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:tls';
import { createRootCa, issueCertificate, type CertificateIssuer } from '../../src/pki/issue-certificate.js';
import { buildCrl } from '../../src/pki/crl.js';
import { startGateway, waitFor, type TestGateway } from './harness.js';

const DAY = 86_400_000;
const HOST = 'partner.crl.test';

describe('PKI: CRLs of other issuers, refreshed, failing closed', () => {
  let gw: TestGateway;
  let crlServer: Server;
  let crlUrl: string;
  let partnerCa: CertificateIssuer;
  let otherCa: CertificateIssuer;
  let server: { certPem: string; keyPem: string };
  let serverCa: CertificateIssuer;
  let alice: { certPem: string; keyPem: string; serial: string };
  let bob: { certPem: string; keyPem: string; serial: string };
  /** What the CRL server answers: a CRL PEM, or an HTTP status. */
  let answer: string | number;

  const crl = (issuer: CertificateIssuer, revoked: string[], nextUpdate = new Date(Date.now() + DAY), thisUpdate = new Date(Date.now() - 60_000)) =>
    buildCrl({ issuer, crlNumber: Math.floor(Date.now() / 1000), thisUpdate, nextUpdate, revoked: revoked.map((serialNumber) => ({ serialNumber, revokedAt: new Date(), reason: 'keyCompromise' })) }).then((c) => c.pem);

  /** A handshake to the partner domain with a client certificate: true when an HTTP answer came back. */
  const admitted = (cert: { certPem: string; keyPem: string }) =>
    new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port: Number(new URL(gw.httpsUrl).port), servername: HOST, ca: serverCa.certPem, cert: cert.certPem, key: cert.keyPem }, () => s.write(`GET /none HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close\r\n\r\n`));
      let data = '';
      s.on('data', (c: Buffer) => (data += c.toString()));
      s.on('error', () => undefined);
      s.on('close', () => resolve(data.startsWith('HTTP/1.1')));
    });

  const domain = (onUnavailable: 'refuse' | 'allow' = 'refuse') => ({
    certificates: [{ name: 'partner', cert: server.certPem, key: server.keyPem }],
    domains: [{ name: 'partner', hosts: [HOST], certificate: 'partner', clientAuth: { mode: 'required', trustedCas: partnerCa.certPem, revocation: { crls: [{ url: crlUrl }], refresh: '1s', onUnavailable } } }],
  });

  before(async () => {
    const now = Date.now();
    partnerCa = await createRootCa({ commonName: 'Partner CA', notBefore: new Date(now - DAY), notAfter: new Date(now + 30 * DAY) });
    otherCa = await createRootCa({ commonName: 'Partner CA', notBefore: new Date(now - DAY), notAfter: new Date(now + 30 * DAY) });
    serverCa = await createRootCa({ commonName: 'Server CA', notBefore: new Date(now - DAY), notAfter: new Date(now + 30 * DAY) });
    const s = await issueCertificate({ issuer: serverCa, subjectCN: HOST, sans: [HOST], usage: 'server', notAfter: new Date(now + 10 * DAY) });
    server = { certPem: s.certPem, keyPem: s.keyPem! };
    const a = await issueCertificate({ issuer: partnerCa, subjectCN: 'alice', sans: ['spiffe://partner/alice'], usage: 'client', notAfter: new Date(now + 10 * DAY) });
    const b = await issueCertificate({ issuer: partnerCa, subjectCN: 'bob', sans: ['spiffe://partner/bob'], usage: 'client', notAfter: new Date(now + 10 * DAY) });
    alice = { certPem: a.certPem, keyPem: a.keyPem!, serial: a.serialNumber };
    bob = { certPem: b.certPem, keyPem: b.keyPem!, serial: b.serialNumber };
    answer = await crl(partnerCa, []);
    crlServer = createServer((_req, res) => {
      if (typeof answer === 'number') res.writeHead(answer).end();
      else res.writeHead(200, { 'content-type': 'application/x-pem-file' }).end(answer);
    });
    await new Promise<void>((r) => crlServer.listen(0, '127.0.0.1', r));
    crlUrl = `http://127.0.0.1:${(crlServer.address() as AddressInfo).port}/partner.crl`;
    gw = await startGateway();
  });

  after(async () => {
    await gw?.stop();
    await new Promise((r) => crlServer?.close(r));
  });

  it('accepts certificates the CRL does not list, and refuses one after the CRL lists it (refresh)', async () => {
    await gw.apply(domain());
    assert.equal(await admitted(alice), true);
    assert.equal(await admitted(bob), true);
    answer = await crl(partnerCa, [bob.serial]);
    await waitFor(async () => !(await admitted(bob)), 15_000, 'bob refused after the CRL refresh');
    assert.equal(await admitted(alice), true, 'alice is unaffected');
  });

  it('fails closed when the CRL is stale, unavailable or signed by someone else; allow accepts without checks', async () => {
    answer = await crl(partnerCa, [], new Date(Date.now() - 1000), new Date(Date.now() - 2 * DAY));
    await waitFor(async () => !(await admitted(alice)), 15_000, 'refused on a stale CRL');
    answer = await crl(otherCa, []);
    await waitFor(async () => !(await admitted(alice)), 15_000, 'refused on a CRL of another key');
    answer = 503;
    await gw.apply(domain('allow'));
    await waitFor(async () => admitted(alice), 15_000, 'allow: accepted without revocation information');
    await gw.apply(domain('refuse'));
    await waitFor(async () => !(await admitted(alice)), 15_000, 'refuse: refused without revocation information');
    answer = await crl(partnerCa, []);
    await waitFor(async () => admitted(alice), 15_000, 'accepted again once the CRL is back');
  });
});
