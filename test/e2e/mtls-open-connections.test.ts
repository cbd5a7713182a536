/**
 * Connections opened before a domain's client-certificate policy changed: they were admitted under
 * the old policy, so the gateway checks them against the new one on their next request. A domain
 * that starts requiring client certificates refuses a keep-alive connection without one (403
 * certificate_required, then closes it); new connections meet the policy in the handshake.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'undici';
import { createRootCa, issueCertificate, type CertificateIssuer } from '../../src/pki/issue-certificate.js';
import { startGateway, startUpstream, type TestGateway, type TestUpstream } from './harness.js';

const DAY = 86_400_000;
const HOST = 'policy.mtls.test';

describe('mutual TLS: connections opened under an earlier policy', () => {
  let gw: TestGateway;
  let up: TestUpstream;
  let serverCa: CertificateIssuer;
  let clientCa: CertificateIssuer;
  let doc: (mode: 'off' | 'required') => unknown;

  before(async () => {
    const now = Date.now();
    gw = await startGateway();
    up = await startUpstream();
    serverCa = await createRootCa({ commonName: 'server ca', notBefore: new Date(now - DAY), notAfter: new Date(now + DAY) });
    clientCa = await createRootCa({ commonName: 'client ca', notBefore: new Date(now - DAY), notAfter: new Date(now + DAY) });
    const server = await issueCertificate({ issuer: serverCa, subjectCN: HOST, sans: [HOST], usage: 'server', notAfter: new Date(now + DAY) });
    doc = (mode) => ({
      certificates: [{ name: 'srv', cert: server.certPem, key: server.keyPem }],
      domains: [{ name: 'd', hosts: [HOST], certificate: 'srv', clientAuth: mode === 'off' ? { mode } : { mode, trustedCas: clientCa.certPem } }],
      services: [{ name: 'svc', upstream: { targets: [{ url: up.url }] }, routes: [{ name: 'r', hosts: [HOST], paths: ['/p'] }] }],
    });
    await gw.apply(doc('off'));
  });

  after(async () => {
    await gw?.stop();
    await up?.close();
  });

  it('refuses a keep-alive connection without a certificate once the domain requires one, and closes it', async () => {
    const agent = new Agent({ connect: { ca: serverCa.certPem, servername: HOST }, connections: 1, keepAliveTimeout: 30_000 });
    let connects = 0;
    agent.on('connect', () => connects++);
    const get = () => request(`https://127.0.0.1:${new URL(gw.httpsUrl).port}/p`, { dispatcher: agent, headers: { host: HOST } });
    try {
      const first = await get();
      assert.equal(first.statusCode, 200);
      await first.body.dump();
      await gw.apply({ ...(doc('off') as object), applications: [{ name: 'unrelated' }] });
      const again = await get();
      assert.equal(again.statusCode, 200, 'an unrelated reload changes nothing for it');
      await again.body.dump();
      await gw.apply(doc('required'));
      const refused = await get();
      assert.equal(refused.statusCode, 403);
      assert.equal(((await refused.body.json()) as { error: { type: string } }).error.type, 'certificate_required');
      assert.equal(connects, 1, 'the same connection');
      await assert.rejects(get(), 'a new connection without a certificate fails the handshake');
    } finally {
      await agent.close();
    }
  });
});
