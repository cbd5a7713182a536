/**
 * Failed authentication end to end: per-source and per-tenant failure limits (429 with Retry-After,
 * `security.auth_failures` in the audit trail), and the audit entry for a revoked credential in use.
 * Each test calls from its own loopback source address (127.0.0.x), so the per-source counters of
 * one test never reach another.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { fetch, type Agent } from 'undici';
import { startGateway, startUpstream, waitFor, type TestGateway, type TestUpstream } from './harness.js';
import { accessDoc, call, clientAgent, createCredential, curl, grant, revokeCredential, servicePath, waitForAudit, type Issued } from './access-harness.js';

const PER_SOURCE = 3;
const PER_TENANT = 5;
const SHORT_WINDOW_MS = 1500;

describe('failed authentication', () => {
  /** Window 1m: no count resets while a test runs. */
  let gw: TestGateway;
  /** Window 1.5s: for a block that ends. */
  let shortGw: TestGateway;
  let up: TestUpstream;
  const agents: Agent[] = [];

  before(async () => {
    [gw, shortGw, up] = await Promise.all([
      startGateway({ settings: { auth: { failures: { perSource: PER_SOURCE, perTenant: PER_TENANT, window: '1m' } } } }),
      startGateway({ settings: { auth: { failures: { perSource: 2, perTenant: 1000, window: SHORT_WINDOW_MS } } } }),
      startUpstream(),
    ]);
  });
  after(async () => {
    await Promise.all(agents.map((a) => a.close()));
    await gw?.stop();
    await shortGw?.stop();
    await up?.close();
  });

  /** An agent connecting from `address`. */
  const from = (address: string, g: TestGateway = gw) => {
    const a = clientAgent(g, { localAddress: address });
    agents.push(a);
    return a;
  };

  async function keyedTenant(tenant: string, g: TestGateway = gw): Promise<{ key: Issued; path: string }> {
    await g.apply(accessDoc(tenant, up.url, [{ name: 'api', access: { methods: ['api-key'], approval: 'auto' } }], { applications: [{ name: 'app' }] }), tenant);
    await grant(g, tenant, 'app', 'api');
    return { key: await createCredential(g, tenant, 'app'), path: servicePath(tenant, 'api') };
  }

  const badKey = (prefix: string) => `${prefix}_${randomBytes(32).toString('base64url')}`;

  it('answers 429 with Retry-After once a source is over its limit, and audits it', async () => {
    const source = '127.0.0.2';
    const { key, path } = await keyedTenant('f-source');
    for (let i = 1; i <= PER_SOURCE + 2; i++) {
      const bare = await curl(gw, path, { from: source });
      assert.equal(bare.status, 401, 'a request without credentials is refused, and does not count');
    }
    for (let i = 1; i <= PER_SOURCE; i++) {
      const r = await curl(gw, path, { from: source, headers: { 'x-api-key': badKey(key.prefix) } });
      assert.equal(r.status, 401, `attempt ${i}`);
    }
    const blocked = await curl(gw, path, { from: source, headers: { 'x-api-key': badKey(key.prefix) } });
    assert.equal(blocked.status, 429, blocked.text);
    assert.equal(blocked.json.error.type, 'too_many_auth_failures');
    const retryAfter = Number(blocked.headers['retry-after']);
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${blocked.headers['retry-after']}`);
    assert.equal(blocked.headers['www-authenticate'], undefined);

    const goodBlocked = await curl(gw, path, { from: source, headers: { 'x-api-key': key.secret } });
    assert.equal(goodBlocked.status, 429, 'a blocked source is refused before its credentials are looked at');
    const elsewhere = await curl(gw, path, { from: '127.0.0.3', headers: { 'x-api-key': key.secret } });
    assert.equal(elsewhere.status, 200, 'other sources are unaffected');

    const entry = await waitForAudit(gw, 'security.auth_failures', (e) => e.sourceIp === source);
    assert.equal(entry.details.scope, 'source');
    assert.equal(entry.details.failures, PER_SOURCE);
    assert.equal(entry.actor.id, 'data-plane');
    assert.doesNotMatch(JSON.stringify(entry), /pck_[a-z2-7]{10}_/, 'no key in the audit entry');
  });

  it('lets a blocked source in again when the window ends', async () => {
    const source = '127.0.0.12';
    const { key, path } = await keyedTenant('f-window', shortGw);
    const dispatcher = from(source, shortGw);
    let blockedAt = 0;
    for (let i = 0; i < 10 && blockedAt === 0; i++) {
      const r = await call(shortGw, path, { dispatcher, headers: { 'x-api-key': badKey(key.prefix) } });
      if (r.status === 429) blockedAt = Date.now();
      else assert.equal(r.status, 401);
    }
    assert.notEqual(blockedAt, 0, 'the source was blocked');
    assert.equal((await call(shortGw, path, { dispatcher, headers: { 'x-api-key': key.secret } })).status, 429);
    await waitFor(async () => (await call(shortGw, path, { dispatcher, headers: { 'x-api-key': key.secret } })).status === 200, SHORT_WINDOW_MS + 1500, 'the window to end');
    assert.ok(Date.now() - blockedAt <= SHORT_WINDOW_MS + 1500);
  });

  it('counts failures at the token endpoint against the same limit', async () => {
    const source = '127.0.0.4';
    const tenant = 'f-token';
    await gw.apply(accessDoc(tenant, up.url, [{ name: 'api', access: { methods: ['oauth2'], approval: 'auto' } }], { applications: [{ name: 'app' }] }), tenant);
    const client = await createCredential(gw, tenant, 'app', { type: 'oauth-client' });
    const dispatcher = from(source);
    const token = async (secret: string) => {
      const r = await fetch(`${gw.httpsUrl}/_portcullis/oauth2/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: client.clientId!, client_secret: secret }).toString(),
        dispatcher,
      });
      return { status: r.status, retryAfter: r.headers.get('retry-after'), body: (await r.json()) as { error: string } };
    };
    for (let i = 1; i <= PER_SOURCE; i++) assert.equal((await token('B'.repeat(43))).status, 401, `attempt ${i}`);
    const blocked = await token(client.secret);
    assert.equal(blocked.status, 429);
    assert.equal(blocked.body.error, 'slow_down');
    assert.ok(Number(blocked.retryAfter) >= 1);
    const ok = await fetch(`${gw.httpsUrl}/_portcullis/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: client.clientId!, client_secret: client.secret }).toString(),
      dispatcher: from('127.0.0.5'),
    });
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
  });

  it('answers further failures against a tenant over its limit with 429, while valid credentials keep working', async () => {
    const tenant = 'f-tenant';
    const { key, path } = await keyedTenant(tenant);
    const client = await createCredential(gw, tenant, 'app', { type: 'oauth-client' });
    // Failures from several sources, each below its own limit.
    let windowStarted = 0;
    let failures = 0;
    for (const s of ['127.0.0.6', '127.0.0.7', '127.0.0.8']) {
      for (let i = 0; i < PER_SOURCE - 1 && failures < PER_TENANT; i++, failures++) {
        const r = await call(gw, path, { dispatcher: from(s), headers: { 'x-api-key': badKey(key.prefix) } });
        assert.ok(r.status === 401 || r.status === 429, String(r.status));
        windowStarted ||= Date.now(); // no earlier than the tenant's window began
      }
    }
    // Retry-After counts down the tenant's window (more than a second old), not the new window of a
    // source that has not failed before.
    await new Promise((r) => setTimeout(r, Math.max(0, windowStarted + 1100 - Date.now())));
    const fresh = from('127.0.0.9');
    const next = await call(gw, path, { dispatcher: fresh, headers: { 'x-api-key': badKey(key.prefix) } });
    assert.equal(next.status, 429, 'a failure against a tenant over its limit');
    assert.equal(next.json.error.type, 'too_many_auth_failures');
    assert.ok(Number(next.headers['retry-after']) <= 59, `Retry-After ${next.headers['retry-after']}`);
    const valid = await call(gw, path, { dispatcher: fresh, headers: { 'x-api-key': key.secret } });
    assert.equal(valid.status, 200, 'valid credentials are still served');

    // The token endpoint applies the same tenant limit.
    const token = async (secret: string) => {
      const r = await fetch(`${gw.httpsUrl}/_portcullis/oauth2/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: client.clientId!, client_secret: secret }).toString(),
        dispatcher: from('127.0.0.11'),
      });
      return { status: r.status, body: (await r.json()) as { error?: string } };
    };
    const refused = await token('C'.repeat(43));
    assert.equal(refused.status, 429, JSON.stringify(refused.body));
    assert.equal(refused.body.error, 'slow_down');
    assert.equal((await token(client.secret)).status, 200, 'a valid client still gets a token');

    const entry = await waitForAudit(gw, 'security.auth_failures', (e) => e.tenant === tenant);
    assert.equal(entry.details.scope, 'tenant');
  });

  it('audits the use of a revoked credential', async () => {
    const tenant = 'f-revoked';
    const { key, path } = await keyedTenant(tenant);
    const dispatcher = from('127.0.0.10');
    assert.equal((await call(gw, path, { dispatcher, headers: { 'x-api-key': key.secret } })).status, 200);
    await revokeCredential(gw, tenant, key.id);
    const r = await call(gw, path, { dispatcher, headers: { 'x-api-key': key.secret } });
    assert.equal(r.status, 401);
    const entry = await waitForAudit(gw, 'security.revoked_credential_used', (e) => e.tenant === tenant);
    assert.deepEqual(entry.object, { kind: 'credential', name: key.prefix });
    assert.equal(entry.sourceIp, '127.0.0.10');
    assert.equal(entry.details.application, 'app');
    assert.equal(entry.details.service, `${tenant}/api`);
    assert.ok(!JSON.stringify(entry).includes(key.secret), 'never the key');
    const verify = await gw.admin('GET', '/admin/v1/audit/verify');
    assert.equal(verify.body.ok, true, JSON.stringify(verify.body));
  });
  it('behind a trusted proxy, counts failures per forwarded client address, not per proxy', async () => {
    const proxied = await startGateway({ settings: { trustedProxies: ['127.0.0.0/8'], auth: { failures: { perSource: 2, perTenant: 1000, window: '1m' } } } });
    try {
      const { key, path } = await keyedTenant('f-proxied', proxied);
      const via = (client: string, headers: Record<string, string>) => call(proxied, path, { headers: { 'x-forwarded-for': client, ...headers } });
      for (let i = 0; i < 2; i++) assert.equal((await via('203.0.113.9', { 'x-api-key': badKey(key.prefix) })).status, 401);
      assert.equal((await via('203.0.113.9', { 'x-api-key': badKey(key.prefix) })).status, 429, 'the attacker is limited');
      assert.equal((await via('198.51.100.7', { 'x-api-key': key.secret })).status, 200, 'another client behind the same proxy is not');
      const entry = await waitForAudit(proxied, 'security.auth_failures', (e) => e.sourceIp === '203.0.113.9');
      assert.equal(entry.details.scope, 'source');
    } finally {
      await proxied.stop();
    }
  });
});
