import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { startGateway, startUpstream, type TestGateway, type TestUpstream } from './harness.js';

describe('graceful shutdown', () => {
  let gw: TestGateway;
  let slow: TestUpstream;

  before(async () => {
    gw = await startGateway({ settings: { shutdownTimeout: 5000 } });
    slow = await startUpstream((_req, res) => setTimeout(() => res.end('finished'), 700));
    await gw.apply({ services: [{ name: 'slow', upstream: { targets: [{ url: slow.url }] }, routes: [{ name: 'slow', paths: ['/slow'] }] }] });
  });

  after(async () => {
    await gw.stop();
    await slow.close();
  });

  it('drains in-flight requests, refuses new connections, and stops', async () => {
    const inFlight = Array.from({ length: 5 }, () => request(`${gw.httpsUrl}/slow`, { dispatcher: gw.agent }).then(async (r) => ({ status: r.statusCode, body: await r.body.text(), connection: r.headers.connection })));
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    const stopping = gw.gateway.stop();
    await new Promise((r) => setTimeout(r, 50));
    // New connections are refused once stopping began.
    const { Agent } = await import('undici');
    const fresh = new Agent({ connect: { ca: gw.caPem } });
    const refused = await request(`${gw.httpsUrl}/slow`, { dispatcher: fresh }).then(
      () => 'served',
      (e: NodeJS.ErrnoException) => e.code ?? 'error',
    );
    await fresh.close();
    assert.notEqual(refused, 'served');
    const results = await Promise.all(inFlight);
    for (const r of results) {
      assert.equal(r.status, 200);
      assert.equal(r.body, 'finished');
      assert.equal(r.connection, 'close');
    }
    await stopping;
    assert.ok(Date.now() - t0 < 4000, 'stop waited for the grace period instead of the drain');
  });
});
