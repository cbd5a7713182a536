/**
 * Two gateway nodes sharing one PostgreSQL database: a change made through one node's admin API is
 * served by the other within a few seconds. Mandatory under CI=true; skipped loudly elsewhere when
 * PostgreSQL is not reachable.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { postgresTestUrl, withTestSchema } from '../../src/storage/postgres/test-database.js';
import { simpleDoc, startGateway, startUpstream, waitFor, type TestGateway, type TestUpstream } from './harness.js';

const url = await postgresTestUrl();

describe('multi-node on PostgreSQL', { skip: url === undefined ? 'PostgreSQL not reachable' : false }, () => {
  let schema: ReturnType<typeof withTestSchema>;
  let a: TestGateway;
  let b: TestGateway;
  let upstream: TestUpstream;

  before(async () => {
    schema = withTestSchema(url!);
    const env = { PORTCULLIS_TEST_SCHEMA: schema.schema, PORTCULLIS_MASTER_KEY: Buffer.alloc(32, 7).toString('base64') };
    a = await startGateway({ settings: { databaseUrl: url, configPollInterval: 500 }, env });
    b = await startGateway({ settings: { databaseUrl: url, configPollInterval: 500 }, env });
    upstream = await startUpstream((_req, res) => res.end('from upstream'));
    upstream.requests.length = 0;
  });

  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await upstream?.close();
    await schema?.drop();
  });

  it('propagates a change made on one node to the other within a few seconds', async () => {
    const before = await request(`${b.httpsUrl}/echo`, { dispatcher: b.agent });
    assert.equal(before.statusCode, 404);
    await before.body.dump();
    await a.apply(simpleDoc(upstream.url, { service: { upstream: { secretHeaders: { authorization: 'Bearer shared-secret' } } } }));
    const t0 = Date.now();
    await waitFor(async () => {
      const r = await request(`${b.httpsUrl}/echo`, { dispatcher: b.agent });
      const text = await r.body.text();
      return r.statusCode === 200 && text === 'from upstream';
    }, 5000, 'node B to serve the route created on node A');
    assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms`);
    // Node B opened the secret sealed by node A (same master key) and forwarded the credential.
    const last = upstream.requests.at(-1)!;
    assert.equal(last.headers.authorization, 'Bearer shared-secret');
    assert.match(String(last.headers.via), /portcullis/);
  });
});
