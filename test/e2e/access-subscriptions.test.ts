/**
 * Subscriptions end to end: manual approval (pending, approved, revoked), rejection, auto approval,
 * services shared with another tenant, and the signed approver webhook.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { startGateway, startUpstream, waitFor, type TestGateway, type TestUpstream } from './harness.js';
import { accessDoc, call, createCredential, decide, grant, LENIENT_FAILURES, servicePath, startWebhookServer, subscribe, type WebhookServer } from './access-harness.js';

const MANUAL = { methods: ['api-key'], approval: 'manual' };

describe('subscriptions', () => {
  let gw: TestGateway;
  let up: TestUpstream;
  let hook: WebhookServer;

  before(async () => {
    gw = await startGateway({ settings: { auth: { failures: LENIENT_FAILURES } } });
    up = await startUpstream();
    hook = await startWebhookServer();
  });
  after(async () => {
    await gw?.stop();
    await up?.close();
    await hook?.close();
  });

  const use = (key: string, tenant: string, service: string) => call(gw, servicePath(tenant, service), { headers: { 'x-api-key': key } });

  it('manual approval: pending, approved, then revoked', async () => {
    const tenant = 's-manual';
    await gw.apply(accessDoc(tenant, up.url, [{ name: 'api', access: MANUAL }], { applications: [{ name: 'app' }] }), tenant);
    const key = (await createCredential(gw, tenant, 'app')).secret;

    const sub = await subscribe(gw, tenant, 'app', 'api');
    assert.equal(sub.status, 'pending');
    const queue = await gw.admin('GET', `/admin/v1/tenants/${tenant}/subscription-requests?status=pending`);
    assert.deepEqual(
      queue.body.items.map((s: { id: string }) => s.id),
      [sub.id],
    );
    const pending = await use(key, tenant, 'api');
    assert.equal(pending.status, 403);
    assert.equal(pending.json.error.type, 'subscription_pending');
    assert.equal(pending.json.error.code, 'PC_ERR_SUBSCRIPTION_PENDING');

    const approved = await decide(gw, tenant, sub.id, 'approve');
    assert.equal(approved.status, 'approved');
    assert.equal(approved.comment, 'approve in test');
    assert.notEqual(approved.decidedAt, null);
    assert.equal((await use(key, tenant, 'api')).status, 200);

    const revoked = await decide(gw, tenant, sub.id, 'revoke');
    assert.equal(revoked.status, 'revoked');
    const after = await use(key, tenant, 'api');
    assert.equal(after.status, 403);
    assert.equal(after.json.error.type, 'forbidden');
    assert.equal((await gw.admin('POST', `/admin/v1/tenants/${tenant}/subscriptions/${sub.id}/approve`, {})).status, 409, 'a revoked subscription stays revoked');
  });

  it('rejection: the request is refused and the key stays unusable', async () => {
    const tenant = 's-reject';
    await gw.apply(accessDoc(tenant, up.url, [{ name: 'api', access: MANUAL }], { applications: [{ name: 'app' }] }), tenant);
    const key = (await createCredential(gw, tenant, 'app')).secret;
    const sub = await subscribe(gw, tenant, 'app', 'api');
    const rejected = await decide(gw, tenant, sub.id, 'reject');
    assert.equal(rejected.status, 'rejected');
    const r = await use(key, tenant, 'api');
    assert.equal(r.status, 403);
    assert.equal(r.json.error.type, 'forbidden', 'rejected is not "pending"');
    assert.equal((await gw.admin('POST', `/admin/v1/tenants/${tenant}/subscriptions/${sub.id}/reject`, {})).status, 409);
    const listed = await gw.admin('GET', `/admin/v1/tenants/${tenant}/subscriptions?application=app`);
    assert.equal(listed.body.items[0].status, 'rejected');
  });

  it('auto approval: usable at once, and no approver is notified', async () => {
    const tenant = 's-auto';
    await gw.apply(
      accessDoc(tenant, up.url, [{ name: 'api', access: { methods: ['api-key'], approval: 'auto', notify: { url: `${hook.url}?${tenant}` } } }], { applications: [{ name: 'app' }] }),
      tenant,
    );
    const key = (await createCredential(gw, tenant, 'app')).secret;
    assert.equal((await use(key, tenant, 'api')).status, 403, 'still needs a subscription');
    const sub = await subscribe(gw, tenant, 'app', 'api');
    assert.equal(sub.status, 'approved');
    assert.equal((await use(key, tenant, 'api')).status, 200);
    await gw.apply(accessDoc(tenant, up.url, [{ name: 'api', access: { methods: ['api-key'], approval: 'auto' } }, { name: 'open' }], { applications: [{ name: 'app' }] }), tenant);
    const publicSub = await gw.admin('POST', `/admin/v1/tenants/${tenant}/subscriptions`, { application: 'app', service: 'open' });
    assert.equal(publicSub.status, 400, 'a public service needs no subscription');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(hook.received.filter((h) => JSON.parse(h.body).subscription.tenant === tenant).length, 0);
  });

  it('shares a service with another tenant, and hides the unshared one like a missing one', async () => {
    const provider = 's-provider';
    const consumer = 's-consumer';
    await gw.apply(
      accessDoc(provider, up.url, [
        { name: 'shared', access: { ...MANUAL, sharedWith: [consumer] } },
        { name: 'private', access: MANUAL },
      ]),
      provider,
    );
    await gw.apply(accessDoc(consumer, up.url, [], { applications: [{ name: 'client' }] }), consumer);
    const key = (await createCredential(gw, consumer, 'client')).secret;

    const sub = await subscribe(gw, consumer, 'client', `${provider}/shared`);
    assert.equal(sub.status, 'pending');
    assert.equal(sub.tenant, consumer);
    assert.equal(sub.serviceTenant, provider);
    const incoming = await gw.admin('GET', `/admin/v1/tenants/${provider}/subscription-requests?status=pending`);
    assert.deepEqual(
      incoming.body.items.map((s: { id: string }) => s.id),
      [sub.id],
      'the provider sees the request',
    );
    assert.equal((await gw.admin('POST', `/admin/v1/tenants/${consumer}/subscriptions/${sub.id}/approve`, {})).status, 403, 'the consumer cannot approve its own request');
    assert.equal((await use(key, provider, 'shared')).json.error.type, 'subscription_pending');
    await decide(gw, provider, sub.id, 'approve');
    const ok = await use(key, provider, 'shared');
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.json.headers['x-portcullis-tenant'], consumer);
    assert.equal(ok.json.headers['x-portcullis-application'], 'client');

    const refusals = new Map<string, { status: number; body: any }>();
    for (const ref of [`${provider}/private`, `${provider}/nothing`, 'no-such-tenant/private']) {
      refusals.set(ref, await gw.admin('POST', `/admin/v1/tenants/${consumer}/subscriptions`, { application: 'client', service: ref }));
    }
    const shapes = new Set(
      [...refusals].map(([ref, r]) => {
        assert.equal(r.status, 404, `${ref}: ${JSON.stringify(r.body)}`);
        return JSON.stringify(r.body).replaceAll(ref, '<ref>');
      }),
    );
    assert.equal(shapes.size, 1, `unshared and missing services answer alike: ${[...shapes].join(' | ')}`);
    assert.equal((await use(key, provider, 'private')).status, 401, "another tenant's key is no credential on an unshared service");

    // Unsharing ends the access even with an approved subscription.
    await gw.apply(accessDoc(provider, up.url, [{ name: 'shared', access: MANUAL }, { name: 'private', access: MANUAL }]), provider);
    assert.equal((await use(key, provider, 'shared')).status, 401);
  });

  it('notifies the approver webhook with an HMAC-SHA-256 signature over the body', async () => {
    const tenant = 's-notify';
    const secret = 'webhook-signing-secret-0123456789';
    await gw.apply(accessDoc(tenant, up.url, [{ name: 'api', access: { ...MANUAL, notify: { url: `${hook.url}?${tenant}`, secret } } }], { applications: [{ name: 'app' }] }), tenant);
    const stored = await gw.admin('GET', `/admin/v1/tenants/${tenant}/config`);
    assert.equal(stored.body.services[0].access.notify.secret, '<redacted>');
    assert.doesNotMatch(JSON.stringify(stored.body), new RegExp(secret));

    const seen = hook.received.length;
    const sub = await subscribe(gw, tenant, 'app', 'api');
    await waitFor(() => hook.received.length > seen, 5000, 'the webhook call');
    const got = hook.received.at(-1)!;
    assert.equal(got.headers['content-type'], 'application/json');
    const signature = String(got.headers['x-portcullis-signature']);
    assert.match(signature, /^sha256=[0-9a-f]{64}$/);
    const expected = createHmac('sha256', secret).update(got.body).digest();
    assert.ok(timingSafeEqual(Buffer.from(signature.slice(7), 'hex'), expected), 'the signature verifies with the configured secret');
    const wrong = createHmac('sha256', 'another-secret-of-some-length').update(got.body).digest('hex');
    assert.notEqual(signature.slice(7), wrong);
    const event = JSON.parse(got.body);
    assert.equal(event.event, 'subscription.requested');
    assert.equal(event.subscription.id, sub.id);
    assert.equal(event.subscription.application, 'app');
    assert.equal(event.subscription.status, 'pending');
    assert.doesNotMatch(got.body, new RegExp(secret));
  });
});
