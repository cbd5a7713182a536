/** Conformance: admin tokens' tenant filters, and `tenantBoundStore` (other tenants do not exist through it). */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import type { AdminTokenRecord } from '../store.js';
import { tenantBoundStore } from '../tenant-bound-store.js';
import { auditInput, rejectsWith, type ConformanceContext } from './context.conformance.js';

export function tenantBoundConformance(ctx: ConformanceContext): void {
  describe('admin tokens: tenant filters', () => {
    it("lists and revokes only the filter tenant's tokens", async () => {
      const [a, b] = [await ctx.newTenant('a'), await ctx.newTenant('b')];
      const now = new Date();
      const create = (tenant: string | null, name: string) => ctx.store.adminTokens.create({ name, tenant, role: 'viewer', hash: ctx.unique('h') });
      const [a1, a2, b1, platform] = [await create(a, 'a1'), await create(a, 'a2'), await create(b, 'b1'), await create(null, 'root')];

      const byName = (x: AdminTokenRecord, y: AdminTokenRecord) => (x.name < y.name ? -1 : 1);
      assert.deepEqual((await ctx.store.adminTokens.list({ tenant: a })).sort(byName), [a1, a2]);
      assert.deepEqual(await ctx.store.adminTokens.list({ tenant: b }), [b1]);
      assert.deepEqual(await ctx.store.adminTokens.list({ tenant: ctx.unique('absent') }), []);
      const all = await ctx.store.adminTokens.list();
      for (const t of [a1, a2, b1, platform]) assert.ok(all.some((x) => x.id === t.id));

      assert.equal(await ctx.store.adminTokens.revoke(b1.id, now, { tenant: a }), false);
      assert.equal(await ctx.store.adminTokens.revoke(platform.id, now, { tenant: a }), false);
      assert.equal(await ctx.store.adminTokens.revoke(a1.id, now, { tenant: ctx.unique('absent') }), false);
      assert.equal(await ctx.store.adminTokens.revoke(randomUUID(), now, { tenant: a }), false);
      assert.deepEqual((await ctx.store.adminTokens.list()).filter((t) => t.revokedAt !== null && [a1.id, b1.id, platform.id].includes(t.id)), []);

      assert.equal(await ctx.store.adminTokens.revoke(a1.id, now, { tenant: a }), true);
      assert.deepEqual((await ctx.store.adminTokens.list({ tenant: a })).sort(byName).map((t) => t.revokedAt), [now.toISOString(), null]);
    });
  });

  describe('tenantBoundStore', () => {
    /** Tenant `mine` and `theirs`, each with a service, a credential, a token and an audit entry; a subscription between them. */
    async function world() {
      const [mine, theirs] = [await ctx.newTenant('mine'), await ctx.newTenant('theirs')];
      for (const t of [mine, theirs]) {
        await ctx.inTenant(t, async (s) => {
          await s.create('service', 'svc', { owner: t });
          await s.credentials.create({ application: 'app', type: 'api-key', prefix: ctx.unique('pk'), secretHash: ctx.unique('h') });
        });
      }
      const incoming = await ctx.inTenant(theirs, (s) => s.subscriptions.create({ application: 'app', serviceTenant: mine, service: 'svc', status: 'pending', requestedBy: null }));
      const unrelated = await ctx.inTenant(theirs, (s) => s.subscriptions.create({ application: 'app', serviceTenant: theirs, service: 'svc', status: 'approved', requestedBy: null }));
      const tokenHash = { mine: ctx.unique('h'), theirs: ctx.unique('h') };
      const tokens = {
        mine: await ctx.store.adminTokens.create({ name: 'm', tenant: mine, role: 'tenant-admin', hash: tokenHash.mine }),
        theirs: await ctx.store.adminTokens.create({ name: 't', tenant: theirs, role: 'tenant-admin', hash: tokenHash.theirs }),
      };
      await ctx.store.audit.append([auditInput(mine, 'mine.1'), auditInput(theirs, 'theirs.1'), auditInput(null, 'platform.1'), auditInput(mine, 'mine.2')], ctx.link);
      return { mine, theirs, incoming, unrelated, tokens, tokenHash, bound: tenantBoundStore(ctx.store, mine) };
    }

    it('reads: tenant(), listTenants and loadAll show only the bound tenant', async () => {
      const { mine, theirs, incoming, unrelated, bound } = await world();
      assert.equal((await bound.tenant(mine)).tenant, mine);
      assert.deepEqual((await (await bound.tenant(mine)).get('service', 'svc'))?.spec, { owner: mine });
      await rejectsWith(bound.tenant(theirs), 'NOT_FOUND');
      await rejectsWith(bound.tenant(ctx.unique('absent')), 'NOT_FOUND');
      assert.deepEqual((await bound.listTenants()).map((t) => t.name), [mine]);

      const dump = await bound.loadAll();
      assert.equal(dump.revision, await ctx.store.revision());
      assert.deepEqual(dump.tenants.map((t) => t.name), [mine]);
      assert.deepEqual(dump.objects.map((o) => `${o.tenant}/${o.name}`), [`${mine}/svc`]);
      assert.deepEqual(dump.credentials.map((c) => c.tenant), [mine]);
      assert.deepEqual(dump.subscriptions.map((s) => s.id), [incoming.id], 'incoming subscriptions involve it; others do not');
      assert.ok(!dump.subscriptions.some((s) => s.id === unrelated.id));
    });

    it('transactions: tx.tenant() and tx.tenants see only the bound tenant; tenants cannot be created or deleted', async () => {
      const { mine, theirs, bound } = await world();
      const rev = await ctx.store.revision();
      await bound.transaction(async (tx) => {
        await rejectsWith(tx.tenant(theirs), 'NOT_FOUND');
        assert.equal(await tx.tenants.get(theirs), undefined);
        assert.equal((await tx.tenants.get(mine))?.name, mine);
        assert.deepEqual((await tx.tenants.list()).map((t) => t.name), [mine]);
        await rejectsWith(tx.tenants.create(ctx.unique('new')), 'FORBIDDEN');
        await rejectsWith(tx.tenants.delete(theirs), 'FORBIDDEN');
        await (await tx.tenant(mine)).update('service', 'svc', { owner: mine, v: 2 });
        await tx.audit([auditInput(mine, 'bound.write')], ctx.link);
      });
      assert.equal(await ctx.store.revision(), rev + 1);
      assert.deepEqual((await (await ctx.store.tenant(theirs)).get('service', 'svc'))?.spec, { owner: theirs });
      assert.ok(await ctx.store.tenant(theirs));
    });

    it("admin tokens: only the bound tenant's are listed, found, created or revoked", async () => {
      const { mine, theirs, tokens, tokenHash, bound } = await world();
      const now = new Date();
      assert.deepEqual(await bound.adminTokens.list(), [tokens.mine]);
      assert.deepEqual(await bound.adminTokens.findActiveByHash(tokenHash.mine, now), tokens.mine);
      assert.equal(await bound.adminTokens.findActiveByHash(tokenHash.theirs, now), undefined);
      await rejectsWith(bound.adminTokens.create({ name: 'x', tenant: theirs, role: 'viewer', hash: ctx.unique('h') }), 'NOT_FOUND');
      await rejectsWith(bound.adminTokens.create({ name: 'x', tenant: null, role: 'platform-admin', hash: ctx.unique('h') }), 'NOT_FOUND');
      const created = await bound.adminTokens.create({ name: 'ci', tenant: mine, role: 'developer', hash: ctx.unique('h') });
      assert.equal(created.tenant, mine);

      assert.equal(await bound.adminTokens.revoke(tokens.theirs.id, now), false);
      assert.deepEqual(await ctx.store.adminTokens.findActiveByHash(tokenHash.theirs, now), tokens.theirs);
      assert.equal(await bound.adminTokens.revoke(tokens.mine.id, now), true);
      assert.equal(await ctx.store.adminTokens.findActiveByHash(tokenHash.mine, now), undefined);
    });

    it('audit: list is forced to the bound tenant, raw is refused', async () => {
      const { mine, theirs, bound } = await world();
      const actions = async (tenant: string | undefined) => (await bound.audit.list({ tenant, limit: 1000 })).map((r) => r.action);
      assert.deepEqual(await actions(undefined), ['mine.1', 'mine.2']);
      assert.deepEqual(await actions(theirs), ['mine.1', 'mine.2'], 'asking for another tenant still answers with its own');
      assert.ok((await bound.audit.list({ limit: 1000 })).every((r) => r.tenant === mine));
      await rejectsWith(bound.audit.raw(0, 10), 'FORBIDDEN');
    });

    it('close() leaves the underlying store open; settings writes are refused', async () => {
      const { bound } = await world();
      await bound.close();
      await ctx.store.ping();
      await rejectsWith(bound.putSetting(ctx.unique('k'), 'v'), 'FORBIDDEN');
    });
  });
}
