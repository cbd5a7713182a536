/**
 * API keys end to end: the generic 401, both ways of presenting a key, keys created, rotated, revoked
 * and expiring through the admin API, service scopes, last-used recording, the access log and the
 * identity headers sent upstream. Each test works in a tenant of its own.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startGateway, startUpstream, waitFor, type TestGateway, type TestUpstream } from './harness.js';
import {
  accessDoc,
  call,
  createCredential,
  curl,
  getCredential,
  grant,
  LENIENT_FAILURES,
  revokeCredential,
  servicePath,
  subscribe,
  decide,
  type Issued,
} from './access-harness.js';

const KEY_ONLY = { methods: ['api-key'], approval: 'auto' };

describe('API keys', () => {
  let gw: TestGateway;
  let up: TestUpstream;

  before(async () => {
    gw = await startGateway({ settings: { auth: { failures: LENIENT_FAILURES, lastUsedFlushInterval: 100 } } });
    up = await startUpstream();
  });
  after(async () => {
    await gw?.stop();
    await up?.close();
  });

  /** A tenant with one auto-approved key-only service `api`, an application `app` subscribed to it, and a key. */
  async function keyedTenant(tenant: string, access: Record<string, unknown> = KEY_ONLY): Promise<{ key: Issued; path: string }> {
    await gw.apply(accessDoc(tenant, up.url, [{ name: 'api', access }], { applications: [{ name: 'app' }] }), tenant);
    await grant(gw, tenant, 'app', 'api');
    return { key: await createCredential(gw, tenant, 'app'), path: servicePath(tenant, 'api') };
  }

  it('answers every missing, malformed, wrong or unknown key with the same 401 and WWW-Authenticate (curl)', async () => {
    const { key, path } = await keyedTenant('k-generic');
    const wrongSecret = `${key.prefix}_${randomBytes(32).toString('base64url')}`;
    const unknown = `pck_${'a'.repeat(10)}_${randomBytes(32).toString('base64url')}`;
    assert.equal(wrongSecret.length, key.secret.length);
    const cases: Array<[string, Record<string, string>]> = [
      ['no credentials', {}],
      ['malformed x-api-key', { 'x-api-key': 'not-a-key' }],
      ['truncated key', { 'x-api-key': key.secret.slice(0, -1) }],
      ['other scheme', { authorization: `Basic ${Buffer.from(`app:${key.secret}`).toString('base64')}` }],
      ['empty bearer', { authorization: 'Bearer ' }],
      ['two different keys', { 'x-api-key': key.secret, authorization: `Bearer ${wrongSecret}` }],
      ['wrong secret', { 'x-api-key': wrongSecret }],
      ['unknown prefix', { authorization: `Bearer ${unknown}` }],
    ];
    const bodies = new Set<string>();
    for (const [what, headers] of cases) {
      const r = await curl(gw, path, { headers });
      assert.equal(r.status, 401, `${what}: ${r.text}`);
      assert.equal(r.headers['www-authenticate'], 'Bearer realm="portcullis"', what);
      assert.equal(r.json?.error?.type, 'unauthenticated', what);
      bodies.add(r.text);
    }
    assert.equal(bodies.size, 1, `one generic body for all failures, got ${[...bodies].join(' | ')}`);
    assert.doesNotMatch([...bodies][0]!, /prefix|secret|expired|revoked|unknown|malformed/i);

    const viaHeader = await curl(gw, path, { headers: { 'x-api-key': key.secret } });
    assert.equal(viaHeader.status, 200, viaHeader.text);
    const viaBearer = await curl(gw, path, { headers: { authorization: `Bearer ${key.secret}` } });
    assert.equal(viaBearer.status, 200, viaBearer.text);
    const both = await curl(gw, path, { headers: { 'x-api-key': key.secret, authorization: `Bearer ${key.secret}` } });
    assert.equal(both.status, 200, 'the same key in both headers is fine');
    const h2 = await curl(gw, path, { http2: true, headers: { authorization: `Bearer ${key.secret}` } });
    assert.equal(h2.status, 200, `over HTTP/2: ${h2.text}`);
    const h2Refused = await curl(gw, path, { http2: true, headers: { 'x-api-key': wrongSecret } });
    assert.equal(h2Refused.status, 401);
    assert.equal(h2Refused.text, [...bodies][0]);
  });

  it('accepts a key created through the admin API once the subscription is approved', async () => {
    const tenant = 'k-approval';
    await gw.apply(accessDoc(tenant, up.url, [{ name: 'api', access: { methods: ['api-key'], approval: 'manual' } }], { applications: [{ name: 'app' }] }), tenant);
    const path = servicePath(tenant, 'api');
    const key = await createCredential(gw, tenant, 'app', { description: 'ci' });
    assert.match(key.secret, /^pck_[a-z2-7]{10}_[A-Za-z0-9_-]{43}$/);
    assert.equal(key.secret.slice(0, 14), key.prefix);
    const listed = await gw.admin('GET', `/admin/v1/tenants/${tenant}/applications/app/credentials`);
    assert.doesNotMatch(JSON.stringify(listed.body), new RegExp(key.secret.slice(15)), 'never listed with its secret');

    const unsubscribed = await call(gw, path, { headers: { 'x-api-key': key.secret } });
    assert.equal(unsubscribed.status, 403);
    assert.equal(unsubscribed.json.error.type, 'forbidden');
    const sub = await subscribe(gw, tenant, 'app', 'api');
    assert.equal((await call(gw, path, { headers: { 'x-api-key': key.secret } })).json.error.type, 'subscription_pending');
    await decide(gw, tenant, sub.id, 'approve');
    const r = await call(gw, path, { headers: { 'x-api-key': key.secret } });
    assert.equal(r.status, 200, r.text);
  });

  it('rotates with an overlap: both keys work, then the old one stops', async () => {
    const tenant = 'k-rotate';
    const { key, path } = await keyedTenant(tenant);
    const t0 = Date.now();
    const rotated = await gw.admin('POST', `/admin/v1/tenants/${tenant}/credentials/${key.id}/rotate`, { overlap: '2s' });
    assert.equal(rotated.status, 201, JSON.stringify(rotated.body));
    const fresh = rotated.body.secret as string;
    assert.notEqual(fresh, key.secret);
    assert.notEqual(rotated.body.credential.prefix, key.prefix);
    const oldEnds = Date.parse(rotated.body.previous.expiresAt);
    assert.ok(oldEnds >= t0 + 2000 && oldEnds <= Date.now() + 2000, `the old key expires 2s after the rotation, got ${rotated.body.previous.expiresAt}`);

    for (const k of [key.secret, fresh]) assert.equal((await call(gw, path, { headers: { 'x-api-key': k } })).status, 200);
    await waitFor(async () => (await call(gw, path, { headers: { 'x-api-key': key.secret } })).status === 401, 4000, 'the old key to stop');
    assert.ok(Date.now() >= oldEnds, 'the old key worked until the overlap ended');
    assert.equal((await call(gw, path, { headers: { 'x-api-key': fresh } })).status, 200, 'the new key keeps working');
  });

  it('refuses a revoked key on the very next request', async () => {
    const tenant = 'k-revoke';
    const { key, path } = await keyedTenant(tenant);
    const other = await createCredential(gw, tenant, 'app');
    assert.equal((await call(gw, path, { headers: { 'x-api-key': key.secret } })).status, 200);
    const revoked = await revokeCredential(gw, tenant, key.id);
    assert.notEqual(revoked.revokedAt, null);
    const r = await call(gw, path, { headers: { 'x-api-key': key.secret } });
    assert.equal(r.status, 401);
    assert.equal(r.json.error.type, 'unauthenticated');
    assert.equal((await call(gw, path, { headers: { 'x-api-key': other.secret } })).status, 200, "the application's other key is untouched");
    const again = await gw.admin('POST', `/admin/v1/tenants/${tenant}/credentials/${key.id}/rotate`, {});
    assert.equal(again.status, 409, 'a revoked key cannot be rotated back to life');
  });

  it('stops accepting a key when it expires (expiresIn)', async () => {
    const tenant = 'k-expiry';
    const { path } = await keyedTenant(tenant);
    const t0 = Date.now();
    const key = await createCredential(gw, tenant, 'app', { expiresIn: '1s' });
    const expiresAt = Date.parse(key.credential.expiresAt);
    assert.ok(expiresAt >= t0 + 1000 && expiresAt <= Date.now() + 1000, key.credential.expiresAt);
    assert.equal((await call(gw, path, { headers: { 'x-api-key': key.secret } })).status, 200);
    await waitFor(async () => (await call(gw, path, { headers: { 'x-api-key': key.secret } })).status === 401, 3000, 'the key to expire');
    assert.ok(Date.now() >= expiresAt);
    const rotated = await gw.admin('POST', `/admin/v1/tenants/${tenant}/credentials/${key.id}/rotate`, {});
    assert.equal(rotated.status, 409, `an expired key is not rotated into a dead one: ${JSON.stringify(rotated.body)}`);
  });

  it('limits a key to the services in its scopes', async () => {
    const tenant = 'k-scopes';
    await gw.apply(accessDoc(tenant, up.url, [{ name: 'orders', access: KEY_ONLY }, { name: 'refunds', access: KEY_ONLY }], { applications: [{ name: 'app' }] }), tenant);
    await grant(gw, tenant, 'app', 'orders');
    await grant(gw, tenant, 'app', 'refunds');
    const scoped = await createCredential(gw, tenant, 'app', { scopes: { services: ['orders'] } });
    const qualified = await createCredential(gw, tenant, 'app', { scopes: { services: [`${tenant}/refunds`] } });
    const open = await createCredential(gw, tenant, 'app');
    const status = async (k: Issued, svc: string) => (await call(gw, servicePath(tenant, svc), { headers: { 'x-api-key': k.secret } })).status;
    assert.equal(await status(scoped, 'orders'), 200);
    const denied = await call(gw, servicePath(tenant, 'refunds'), { headers: { 'x-api-key': scoped.secret } });
    assert.equal(denied.status, 403);
    assert.equal(denied.json.error.type, 'forbidden');
    assert.equal(await status(qualified, 'refunds'), 200);
    assert.equal(await status(qualified, 'orders'), 403);
    assert.equal(await status(open, 'orders'), 200);
    assert.equal(await status(open, 'refunds'), 200);
  });

  it('records when a key was last used, counting only calls it was let through', async () => {
    const tenant = 'k-last-used';
    await gw.apply(accessDoc(tenant, up.url, [{ name: 'api', access: KEY_ONLY }, { name: 'other', access: KEY_ONLY }], { applications: [{ name: 'app' }] }), tenant);
    await grant(gw, tenant, 'app', 'api');
    const key = await createCredential(gw, tenant, 'app');
    const headers = { 'x-api-key': key.secret };
    assert.equal((await call(gw, servicePath(tenant, 'other'), { headers })).status, 403, 'not subscribed');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await getCredential(gw, tenant, key.id)).lastUsedAt, null, 'a refused call is not a use');

    const before = Date.now();
    assert.equal((await call(gw, servicePath(tenant, 'api'), { headers })).status, 200);
    let lastUsedAt: string | null = null;
    await waitFor(async () => (lastUsedAt = (await getCredential(gw, tenant, key.id)).lastUsedAt) !== null, 3000, 'lastUsedAt');
    const at = Date.parse(lastUsedAt!);
    assert.ok(at >= before - 5 && at <= Date.now(), lastUsedAt!);
  });

  it('logs the application, key prefix and method, and never the key', async () => {
    const tenant = 'k-log';
    const { key, path } = await keyedTenant(tenant);
    const from = gw.accessLog.length;
    const ok = await call(gw, path, { headers: { 'x-api-key': key.secret, 'x-request-id': 'k-log-ok' } });
    assert.equal(ok.status, 200);
    const wrong = `${key.prefix}_${randomBytes(32).toString('base64url')}`;
    assert.equal((await call(gw, path, { headers: { authorization: `Bearer ${wrong}` } })).status, 401);
    await waitFor(() => gw.accessLog.length >= from + 2, 2000, 'access log lines');
    const lines = gw.accessLog.slice(from);
    const line = lines.find((l) => l.path === path && l.status === 200)!;
    assert.ok(line, JSON.stringify(lines));
    assert.equal(line.callerTenant, tenant);
    assert.equal(line.application, 'app');
    assert.equal(line.credential, key.prefix);
    assert.equal(line.authMethod, 'api-key');
    assert.equal(line.service, 'api');
    const failed = lines.find((l) => l.path === path && l.status === 401)!;
    assert.equal(failed.application, null);
    assert.equal(failed.error, 'PC_ERR_AUTH_REQUIRED');
    const all = JSON.stringify(gw.accessLog);
    for (const secret of [key.secret, key.secret.slice(15), wrong, wrong.slice(15)]) assert.ok(!all.includes(secret), 'a key (or its secret part) reached the access log');
  });

  it("replaces client-sent identity headers with the gateway's, and strips them where identity is not forwarded", async () => {
    const tenant = 'k-identity';
    await gw.apply(
      accessDoc(tenant, up.url, [{ name: 'api', access: KEY_ONLY }, { name: 'quiet', access: { ...KEY_ONLY, forwardIdentity: false } }, { name: 'public' }], { applications: [{ name: 'app' }] }),
      tenant,
    );
    await grant(gw, tenant, 'app', 'api');
    await grant(gw, tenant, 'app', 'quiet');
    const key = await createCredential(gw, tenant, 'app');
    const forged = {
      'x-portcullis-application': 'admin',
      'x-portcullis-tenant': 'root',
      'x-portcullis-credential': 'pck_forgedforg',
      'x-portcullis-auth-method': 'mtls',
    };
    const r = await call(gw, servicePath(tenant, 'api'), { headers: { ...forged, 'x-api-key': key.secret } });
    assert.equal(r.status, 200, r.text);
    const seen = r.json.headers as Record<string, string>;
    assert.equal(seen['x-portcullis-application'], 'app');
    assert.equal(seen['x-portcullis-tenant'], tenant);
    assert.equal(seen['x-portcullis-credential'], key.prefix);
    assert.equal(seen['x-portcullis-auth-method'], 'api-key');
    assert.equal(seen['x-api-key'], undefined, 'the key the gateway verified is not passed on');
    const bearer = await call(gw, servicePath(tenant, 'api'), { headers: { authorization: `Bearer ${key.secret}` } });
    assert.equal(bearer.status, 200, bearer.text);
    assert.equal(bearer.json.headers.authorization, undefined, 'the key the gateway verified is not passed on');
    for (const svc of ['quiet', 'public']) {
      const q = await call(gw, servicePath(tenant, svc), { headers: { ...forged, 'x-api-key': key.secret } });
      assert.equal(q.status, 200, q.text);
      for (const name of Object.keys(forged)) assert.equal(q.json.headers[name], undefined, `${svc}: ${name} reached the upstream`);
    }
    // A public service authenticates nothing, so consumes nothing: its client's headers pass.
    const open = await call(gw, servicePath(tenant, 'public'), { headers: { 'x-api-key': 'for-the-upstream' } });
    assert.equal(open.json.headers['x-api-key'], 'for-the-upstream');
  });
});
