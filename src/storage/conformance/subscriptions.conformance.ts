/** Conformance: subscriptions (`TenantScope.subscriptions`) and services shared across tenants (`visibleService`). */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import type { SubscriptionRecord, SubscriptionStatus, TenantScope } from '../store.js';
import { assertIso, rejectsWith, UUID_RE, type ConformanceContext } from './context.conformance.js';

export function subscriptionsConformance(ctx: ConformanceContext): void {
  /** Three tenants: a provider, a subscriber and a bystander. */
  async function parties(): Promise<{ provider: string; subscriber: string; bystander: string }> {
    return { provider: await ctx.newTenant('prov'), subscriber: await ctx.newTenant('sub'), bystander: await ctx.newTenant('other') };
  }
  function subscribe(scope: TenantScope, serviceTenant: string, extra: { application?: string; service?: string; status?: SubscriptionStatus } = {}): Promise<SubscriptionRecord> {
    return scope.subscriptions.create({ application: extra.application ?? 'app', serviceTenant, service: extra.service ?? 'svc', status: extra.status ?? 'pending', requestedBy: 'alice' });
  }
  const ids = (subs: readonly SubscriptionRecord[]): string[] => subs.map((s) => s.id);

  describe('subscriptions', () => {
    it('creates a cross-tenant subscription, visible from both sides only', async () => {
      const { provider, subscriber, bystander } = await parties();
      const rev = await ctx.store.revision();
      const sub = await ctx.inTenant(subscriber, (s) => s.subscriptions.create({ application: 'app', serviceTenant: provider, service: 'svc', status: 'pending', requestedBy: 'alice', comment: 'please' }));
      assert.equal(await ctx.store.revision(), rev + 1, 'a subscription write is a config write');
      assert.match(sub.id, UUID_RE);
      assertIso(sub.requestedAt);
      assert.deepEqual({ ...sub, id: '', requestedAt: '', updatedAt: '' }, {
        id: '', tenant: subscriber, application: 'app', serviceTenant: provider, service: 'svc', status: 'pending',
        comment: 'please', requestedBy: 'alice', decidedBy: null, requestedAt: '', decidedAt: null, updatedAt: '',
      });
      assert.equal(sub.updatedAt, sub.requestedAt);

      const [rp, rs, rx] = [await ctx.store.tenant(provider), await ctx.store.tenant(subscriber), await ctx.store.tenant(bystander)];
      assert.deepEqual(await rs.subscriptions.get(sub.id), sub);
      assert.deepEqual(await rp.subscriptions.get(sub.id), sub);
      assert.equal(await rx.subscriptions.get(sub.id), undefined);
      assert.equal(await rs.subscriptions.get(randomUUID()), undefined);
      assert.equal(await rs.subscriptions.get('not-a-uuid'), undefined);

      assert.deepEqual(await rs.subscriptions.listOwn(), [sub]);
      assert.deepEqual(await rs.subscriptions.listOwn('app'), [sub]);
      assert.deepEqual(await rs.subscriptions.listOwn('other-app'), []);
      assert.deepEqual(await rs.subscriptions.listIncoming(), [], 'the subscriber provides nothing');
      assert.deepEqual(await rp.subscriptions.listIncoming(), [sub]);
      assert.deepEqual(await rp.subscriptions.listIncoming('pending'), [sub]);
      assert.deepEqual(await rp.subscriptions.listIncoming('approved'), []);
      assert.deepEqual(await rp.subscriptions.listOwn(), [], 'the provider subscribes to nothing');
      assert.deepEqual([await rx.subscriptions.listOwn(), await rx.subscriptions.listIncoming()], [[], []]);
    });

    it('lists newest first, and supports subscribing to an own service', async () => {
      const { provider, subscriber } = await parties();
      const first = await ctx.inTenant(subscriber, (s) => subscribe(s, provider, { service: 'a' }));
      await sleep(5);
      const second = await ctx.inTenant(subscriber, (s) => subscribe(s, provider, { service: 'b', application: 'app2' }));
      await sleep(5);
      const own = await ctx.inTenant(provider, (s) => subscribe(s, provider, { application: 'internal', status: 'approved' }));
      const rs = await ctx.store.tenant(subscriber);
      assert.deepEqual(ids(await rs.subscriptions.listOwn()), [second.id, first.id]);
      assert.deepEqual(ids(await rs.subscriptions.listOwn('app2')), [second.id]);
      const rp = await ctx.store.tenant(provider);
      assert.deepEqual(ids(await rp.subscriptions.listIncoming()), [own.id, second.id, first.id]);
      assert.deepEqual(ids(await rp.subscriptions.listOwn()), [own.id]);
      assert.deepEqual([own.status, own.decidedBy !== null, own.decidedAt !== null], ['approved', true, true], 'created decided');
    });

    it('refuses a second live subscription for the same pair (CONFLICT), but not after a rejection', async () => {
      const { provider, subscriber } = await parties();
      const sub = await ctx.inTenant(subscriber, (s) => subscribe(s, provider));
      await rejectsWith(ctx.inTenant(subscriber, (s) => subscribe(s, provider)), 'CONFLICT');
      await rejectsWith(ctx.inTenant(subscriber, (s) => subscribe(s, provider, { status: 'approved' })), 'CONFLICT');
      await ctx.inTenant(subscriber, async (s) => {
        await subscribe(s, provider, { application: 'app2' });
        await subscribe(s, provider, { service: 'svc2' });
      });
      await ctx.inTenant(provider, (s) => s.subscriptions.decide(sub.id, { status: 'approved', comment: null, decidedBy: 'bob', side: 'provider' }));
      await rejectsWith(ctx.inTenant(subscriber, (s) => subscribe(s, provider)), 'CONFLICT');
      await ctx.inTenant(provider, (s) => s.subscriptions.decide(sub.id, { status: 'rejected', comment: 'no', decidedBy: 'bob', side: 'provider' }));
      await sleep(5);
      const again = await ctx.inTenant(subscriber, (s) => subscribe(s, provider));
      assert.notEqual(again.id, sub.id);
      const forPair = (await (await ctx.store.tenant(subscriber)).subscriptions.listOwn('app')).filter((s) => s.service === 'svc');
      assert.deepEqual(forPair.map((s) => [s.id, s.status]), [[again.id, 'pending'], [sub.id, 'rejected']]);
    });

    it('requires the provider tenant to exist (NOT_FOUND)', async () => {
      const subscriber = await ctx.newTenant('sub');
      const rev = await ctx.store.revision();
      await rejectsWith(ctx.inTenant(subscriber, (s) => subscribe(s, ctx.unique('absent'))), 'NOT_FOUND');
      assert.equal(await ctx.store.revision(), rev);
      assert.deepEqual(await (await ctx.store.tenant(subscriber)).subscriptions.listOwn(), []);
    });

    it('decides from the provider side; the subscriber side may only revoke; others cannot reach it', async () => {
      const { provider, subscriber, bystander } = await parties();
      const sub = await ctx.inTenant(subscriber, (s) => subscribe(s, provider));
      const rev = await ctx.store.revision();
      const decide = (tenant: string, status: SubscriptionStatus, side: 'provider' | 'subscriber') =>
        ctx.inTenant(tenant, (s) => s.subscriptions.decide(sub.id, { status, comment: `${tenant} says ${status}`, decidedBy: tenant, side }));

      assert.equal(await decide(bystander, 'approved', 'provider'), undefined);
      assert.equal(await decide(bystander, 'revoked', 'subscriber'), undefined);
      assert.equal(await decide(subscriber, 'approved', 'provider'), undefined, 'the subscriber is not the provider');
      assert.equal(await decide(subscriber, 'approved', 'subscriber'), undefined, 'a subscriber cannot approve itself');
      assert.equal(await decide(provider, 'revoked', 'subscriber'), undefined, 'the provider is not the subscriber');
      assert.equal(await ctx.store.revision(), rev, 'nothing was written');
      assert.deepEqual(await (await ctx.store.tenant(provider)).subscriptions.get(sub.id), sub);

      await sleep(5);
      const approved = await decide(provider, 'approved', 'provider');
      assert.equal(await ctx.store.revision(), rev + 1);
      assert.ok(approved?.decidedAt);
      assertIso(approved.decidedAt);
      assert.ok(approved.updatedAt > sub.updatedAt);
      assert.deepEqual({ ...approved, decidedAt: '', updatedAt: '' }, { ...sub, status: 'approved', comment: `${provider} says approved`, decidedBy: provider, decidedAt: '', updatedAt: '' });
      assert.deepEqual(await (await ctx.store.tenant(subscriber)).subscriptions.get(sub.id), approved);

      const revoked = await decide(subscriber, 'revoked', 'subscriber');
      assert.deepEqual([revoked?.status, revoked?.decidedBy], ['revoked', subscriber]);
      assert.equal(await decide(provider, 'approved', 'provider').then((s) => s?.status), 'approved', 'the provider may approve again');
      assert.equal(await decide(provider, 'revoked', 'provider').then((s) => s?.status), 'revoked');
      assert.equal(await ctx.inTenant(provider, (s) => s.subscriptions.decide(randomUUID(), { status: 'approved', comment: null, decidedBy: null, side: 'provider' })), undefined);
    });

    it('loadAll returns approved and pending subscriptions only', async () => {
      const { provider, subscriber } = await parties();
      const decideAs = (id: string, status: SubscriptionStatus) => ctx.inTenant(provider, (s) => s.subscriptions.decide(id, { status, comment: null, decidedBy: 'bob', side: 'provider' }));
      const [pending, approved, rejected, revoked] = await ctx.inTenant(subscriber, async (s) => [
        await subscribe(s, provider, { application: 'pending' }),
        await subscribe(s, provider, { application: 'approved', status: 'approved' }),
        await subscribe(s, provider, { application: 'rejected' }),
        await subscribe(s, provider, { application: 'revoked', status: 'approved' }),
      ]);
      assert.ok(pending && approved && rejected && revoked);
      await decideAs(rejected.id, 'rejected');
      await decideAs(revoked.id, 'revoked');
      const dump = await ctx.store.loadAll();
      const mine = dump.subscriptions.filter((s) => s.tenant === subscriber).sort((x, y) => (x.application < y.application ? -1 : 1));
      assert.deepEqual(mine, [approved, pending]);
      assert.ok(dump.subscriptions.every((s) => s.status === 'approved' || s.status === 'pending'));
    });

    it('deleteForApplication works from the subscriber side only', async () => {
      const { provider, subscriber } = await parties();
      await ctx.inTenant(subscriber, async (s) => {
        await subscribe(s, provider);
        await subscribe(s, provider, { service: 'svc2' });
        await subscribe(s, provider, { application: 'keep' });
      });
      const rev = await ctx.store.revision();
      assert.equal(await ctx.inTenant(provider, (s) => s.subscriptions.deleteForApplication('app')), 0);
      assert.equal(await ctx.store.revision(), rev);
      assert.equal(await ctx.inTenant(subscriber, (s) => s.subscriptions.deleteForApplication('app')), 2);
      assert.equal(await ctx.store.revision(), rev + 1);
      assert.deepEqual((await (await ctx.store.tenant(subscriber)).subscriptions.listOwn()).map((s) => s.application), ['keep']);
      assert.equal((await (await ctx.store.tenant(provider)).subscriptions.listIncoming()).length, 1);
    });

    it('refuses to delete either tenant of a subscription, and the transaction can go on', async () => {
      const { provider, subscriber } = await parties();
      await ctx.inTenant(subscriber, (s) => subscribe(s, provider));
      const marker = ctx.unique('after-conflict');
      await ctx.store.transaction(async (tx) => {
        await rejectsWith(tx.tenants.delete(provider), 'CONFLICT');
        await rejectsWith(tx.tenants.delete(subscriber), 'CONFLICT');
        await tx.tenants.create(marker);
      });
      assert.ok(await ctx.store.tenant(marker));
      await ctx.inTenant(subscriber, (s) => s.subscriptions.deleteForApplication('app'));
      assert.deepEqual(await ctx.store.transaction((tx) => tx.tenants.delete(provider)), { services: [], cas: [], certificates: [] });
    });
  });

  describe('visibleService', () => {
    it("sees own services, and another tenant's only when shared with this tenant", async () => {
      const { provider, subscriber, bystander } = await parties();
      const [shared, hidden, other] = await ctx.inTenant(provider, async (s) => [
        await s.create('service', 'shared', { url: 'https://shared.test', access: { sharedWith: [subscriber, ctx.unique('nobody')] } }),
        await s.create('service', 'hidden', { url: 'https://hidden.test', access: { sharedWith: [] } }),
        await s.create('service', 'other', { url: 'https://other.test' }),
      ]);
      await ctx.inTenant(provider, (s) => s.create('route', 'shared', { access: { sharedWith: [subscriber] } }));
      const rs = await ctx.store.tenant(subscriber);
      assert.deepEqual(await rs.visibleService(provider, 'shared'), shared);
      assert.equal(await rs.visibleService(provider, 'hidden'), undefined);
      assert.equal(await rs.visibleService(provider, 'other'), undefined);
      assert.equal(await rs.visibleService(provider, 'absent'), undefined);
      assert.equal(await rs.visibleService(ctx.unique('absent'), 'shared'), undefined);

      const rx = await ctx.store.tenant(bystander);
      assert.equal(await rx.visibleService(provider, 'shared'), undefined, 'shared with someone else');

      const rp = await ctx.store.tenant(provider);
      assert.deepEqual(await rp.visibleService(provider, 'hidden'), hidden, 'own services are always visible');
      assert.deepEqual(await rp.visibleService(provider, 'other'), other);
      assert.equal(await rs.visibleService(subscriber, 'shared'), undefined, 'the subscriber has no service of that name');

      await ctx.inTenant(subscriber, async (s) => assert.deepEqual(await s.visibleService(provider, 'shared'), shared));
      await ctx.inTenant(provider, (s) => s.update('service', 'shared', { url: 'https://shared.test', access: { sharedWith: [bystander] } }));
      assert.equal(await rs.visibleService(provider, 'shared'), undefined, 'unsharing hides it');
      assert.equal((await rx.visibleService(provider, 'shared'))?.version, 2);
    });

    it('forgets a deleted tenant: a later tenant of the same name sees nothing it was shared', async () => {
      const { provider, subscriber, bystander } = await parties();
      await ctx.inTenant(provider, (s) => s.create('service', 'shared', { url: 'https://shared.test', access: { sharedWith: [subscriber, bystander], approval: 'manual' } }));
      const rev = await ctx.store.revision();
      assert.deepEqual(await ctx.store.transaction((tx) => tx.tenants.delete(subscriber)), { services: [{ tenant: provider, name: 'shared' }], cas: [], certificates: [] });
      assert.ok((await ctx.store.revision()) > rev);
      const after = await (await ctx.store.tenant(provider)).get('service', 'shared');
      assert.deepEqual(after?.spec, { url: 'https://shared.test', access: { sharedWith: [bystander], approval: 'manual' } });
      assert.equal(after?.version, 2, 'the service changed');
      await ctx.store.transaction((tx) => tx.tenants.create(subscriber));
      assert.equal(await (await ctx.store.tenant(subscriber)).visibleService(provider, 'shared'), undefined);
      assert.equal((await (await ctx.store.tenant(bystander)).visibleService(provider, 'shared'))?.name, 'shared');
    });
  });
}
