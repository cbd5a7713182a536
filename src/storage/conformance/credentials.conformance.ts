/** Conformance: application credentials (`TenantScope.credentials`) and `Store.touchCredentials`. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import type { CredentialRecord, NewCredential } from '../store.js';
import { assertIso, rejectsWith, UUID_RE, type ConformanceContext } from './context.conformance.js';

export function credentialsConformance(ctx: ConformanceContext): void {
  describe('credentials', () => {
    const key = (application: string, extra: Partial<NewCredential> = {}): NewCredential => ({
      application,
      type: 'api-key',
      prefix: ctx.unique('pk'),
      secretHash: ctx.unique('hash'),
      ...extra,
    });

    it('creates, reads and lists credentials, newest first and by application', async () => {
      const tenant = await ctx.newTenant();
      const rev = await ctx.store.revision();
      const input = key('app', {
        type: 'oauth-client',
        description: 'CI client',
        scopes: { services: ['svc', 'other/svc'], models: ['openai/gpt'] },
        boundCertificate: 'ab'.repeat(32),
        expiresAt: '2031-02-03T04:05:06Z',
      });
      const created = await ctx.inTenant(tenant, (s) => s.credentials.create(input));
      assert.equal(await ctx.store.revision(), rev + 1, 'a credential write is a config write');
      assert.match(created.id, UUID_RE);
      assertIso(created.createdAt);
      assert.deepEqual({ ...created, id: '', createdAt: '' }, {
        id: '', tenant, application: 'app', type: 'oauth-client', prefix: input.prefix, secretHash: input.secretHash,
        description: 'CI client', scopes: input.scopes, boundCertificate: 'ab'.repeat(32),
        expiresAt: '2031-02-03T04:05:06.000Z', revokedAt: null, createdAt: '', lastUsedAt: null,
      });

      await sleep(5);
      const minimal = await ctx.inTenant(tenant, (s) => s.credentials.create(key('other-app')));
      assert.deepEqual([minimal.description, minimal.scopes, minimal.boundCertificate, minimal.expiresAt], [null, {}, null, null]);

      const reader = await ctx.store.tenant(tenant);
      assert.deepEqual(await reader.credentials.get(created.id), created);
      assert.equal(await reader.credentials.get(randomUUID()), undefined);
      assert.equal(await reader.credentials.get('not-a-uuid'), undefined);
      assert.deepEqual((await reader.credentials.list()).map((c) => c.id), [minimal.id, created.id]);
      assert.deepEqual(await reader.credentials.list('app'), [created]);
      assert.deepEqual(await reader.credentials.list('absent'), []);
      await ctx.inTenant(tenant, async (s) => assert.deepEqual(await s.credentials.get(minimal.id), minimal));
    });

    it('isolates tenants: no reading, listing, changing or deleting another tenant’s credential', async () => {
      const a = await ctx.newTenant('a');
      const b = await ctx.newTenant('b');
      const ofA = await ctx.inTenant(a, (s) => s.credentials.create(key('app')));
      const rev = await ctx.store.revision();
      const rb = await ctx.store.tenant(b);
      assert.equal(await rb.credentials.get(ofA.id), undefined);
      assert.deepEqual(await rb.credentials.list(), []);
      assert.deepEqual(await rb.credentials.list('app'), []);
      await ctx.inTenant(b, async (s) => {
        assert.equal(await s.credentials.get(ofA.id), undefined);
        assert.equal(await s.credentials.update(ofA.id, { revokedAt: new Date().toISOString(), expiresAt: '2000-01-01T00:00:00.000Z' }), undefined);
        assert.equal(await s.credentials.deleteForApplication('app'), 0);
      });
      assert.equal(await ctx.store.revision(), rev, 'nothing was written');
      assert.deepEqual(await (await ctx.store.tenant(a)).credentials.get(ofA.id), ofA);
    });

    it('keeps prefixes globally unique (CONFLICT), and the transaction can go on', async () => {
      const a = await ctx.newTenant('a');
      const b = await ctx.newTenant('b');
      const first = await ctx.inTenant(a, (s) => s.credentials.create(key('app')));
      await rejectsWith(ctx.inTenant(a, (s) => s.credentials.create(key('other', { prefix: first.prefix }))), 'CONFLICT');
      const second = await ctx.inTenant(b, async (s) => {
        await rejectsWith(s.credentials.create(key('app', { prefix: first.prefix })), 'CONFLICT');
        return s.credentials.create(key('app'));
      });
      assert.deepEqual((await (await ctx.store.tenant(b)).credentials.list()).map((c) => c.id), [second.id]);
      assert.deepEqual((await (await ctx.store.tenant(a)).credentials.list()).map((c) => c.id), [first.id]);
    });

    it('updates expiry and revocation; a set revokedAt is never cleared or moved', async () => {
      const tenant = await ctx.newTenant();
      const cred = await ctx.inTenant(tenant, (s) => s.credentials.create(key('app', { expiresAt: '2030-01-01T00:00:00.000Z' })));
      const rev = await ctx.store.revision();
      const expiring = await ctx.inTenant(tenant, (s) => s.credentials.update(cred.id, { expiresAt: '2029-06-01T12:00:00+02:00' }));
      assert.equal(expiring?.expiresAt, '2029-06-01T10:00:00.000Z');
      assert.equal(expiring?.revokedAt, null);
      assert.equal(await ctx.store.revision(), rev + 1);

      const revokedAt = '2025-05-05T05:05:05.555Z';
      const revoked = await ctx.inTenant(tenant, (s) => s.credentials.update(cred.id, { revokedAt }));
      assert.deepEqual({ ...revoked }, { ...cred, expiresAt: '2029-06-01T10:00:00.000Z', revokedAt });
      assert.equal(await ctx.store.revision(), rev + 2);

      const again = await ctx.inTenant(tenant, (s) => s.credentials.update(cred.id, { revokedAt: '2026-01-01T00:00:00.000Z', expiresAt: null }));
      assert.equal(again?.revokedAt, revokedAt, 'the first revocation stays');
      assert.equal(again?.expiresAt, null);
      const untouched = await ctx.inTenant(tenant, (s) => s.credentials.update(cred.id, {}));
      assert.deepEqual(untouched, again);
      assert.deepEqual(await (await ctx.store.tenant(tenant)).credentials.get(cred.id), again);

      const rev2 = await ctx.store.revision();
      assert.equal(await ctx.inTenant(tenant, (s) => s.credentials.update(randomUUID(), { revokedAt })), undefined);
      assert.equal(await ctx.store.revision(), rev2, 'updating an absent credential writes nothing');
      await rejectsWith(ctx.inTenant(tenant, (s) => s.credentials.update(cred.id, { expiresAt: 'tomorrow' })), 'VALIDATION');
    });

    it("deleteForApplication removes one application's credentials and counts them", async () => {
      const tenant = await ctx.newTenant();
      const other = await ctx.newTenant();
      const [, , keep] = await ctx.inTenant(tenant, async (s) => [
        await s.credentials.create(key('app')),
        await s.credentials.create(key('app', { type: 'oauth-client' })),
        await s.credentials.create(key('keep')),
      ]);
      const foreign = await ctx.inTenant(other, (s) => s.credentials.create(key('app')));
      const rev = await ctx.store.revision();
      assert.equal(await ctx.inTenant(tenant, (s) => s.credentials.deleteForApplication('app')), 2);
      assert.equal(await ctx.store.revision(), rev + 1);
      assert.equal(await ctx.inTenant(tenant, (s) => s.credentials.deleteForApplication('app')), 0);
      assert.equal(await ctx.store.revision(), rev + 1, 'deleting nothing writes nothing');
      assert.deepEqual((await (await ctx.store.tenant(tenant)).credentials.list()).map((c) => c.id), [keep?.id]);
      assert.deepEqual(await (await ctx.store.tenant(other)).credentials.get(foreign.id), foreign);
    });

    it('rolls credential writes back with their transaction', async () => {
      const tenant = await ctx.newTenant();
      const rev = await ctx.store.revision();
      const boom = new Error('boom');
      await assert.rejects(
        ctx.inTenant(tenant, async (s) => {
          await s.credentials.create(key('app'));
          throw boom;
        }),
        (err) => err === boom,
      );
      assert.deepEqual(await (await ctx.store.tenant(tenant)).credentials.list(), []);
      assert.equal(await ctx.store.revision(), rev);
    });

    it('loadAll returns every credential, revoked ones included, with its tenant', async () => {
      const tenant = await ctx.newTenant();
      const [live, revoked] = await ctx.inTenant(tenant, async (s) => {
        const l = await s.credentials.create(key('app'));
        const r = await s.credentials.create(key('app'));
        return [l, await s.credentials.update(r.id, { revokedAt: new Date().toISOString() })];
      });
      assert.ok(revoked?.revokedAt);
      const byPrefix = (x: CredentialRecord, y: CredentialRecord) => (x.prefix < y.prefix ? -1 : 1);
      const dump = await ctx.store.loadAll();
      assert.deepEqual(dump.credentials.filter((c) => c.tenant === tenant).sort(byPrefix), [live, revoked].sort(byPrefix));
    });

    it('refuses to delete a tenant that still has credentials, and the transaction can go on', async () => {
      const tenant = await ctx.newTenant();
      await ctx.inTenant(tenant, (s) => s.credentials.create(key('app')));
      const marker = ctx.unique('after-conflict');
      await ctx.store.transaction(async (tx) => {
        await rejectsWith(tx.tenants.delete(tenant), 'CONFLICT');
        await tx.tenants.create(marker);
      });
      assert.ok(await ctx.store.tenant(tenant));
      assert.ok(await ctx.store.tenant(marker));
      await ctx.inTenant(tenant, (s) => s.credentials.deleteForApplication('app'));
      assert.ok(await ctx.store.transaction((tx) => tx.tenants.delete(tenant)));
    });

    it('touchCredentials moves lastUsedAt forward only, without a config write', async () => {
      const tenant = await ctx.newTenant();
      const [one, two] = await ctx.inTenant(tenant, async (s) => [await s.credentials.create(key('app')), await s.credentials.create(key('app'))]);
      assert.ok(one && two);
      const rev = await ctx.store.revision();
      const lastUsed = async (id: string) => (await (await ctx.store.tenant(tenant)).credentials.get(id))?.lastUsedAt;

      await ctx.store.touchCredentials([]);
      await ctx.store.touchCredentials([{ id: one.id, at: '2030-01-01T00:00:00.500Z' }, { id: randomUUID(), at: '2030-01-01T00:00:00.000Z' }]);
      assert.equal(await lastUsed(one.id), '2030-01-01T00:00:00.500Z');
      assert.equal(await lastUsed(two.id), null);

      await ctx.store.touchCredentials([{ id: one.id, at: '2029-12-31T23:59:59.999Z' }]);
      assert.equal(await lastUsed(one.id), '2030-01-01T00:00:00.500Z', 'an older use does not move it back');
      await ctx.store.touchCredentials([{ id: one.id, at: '2030-01-01T00:00:00Z' }]);
      assert.equal(await lastUsed(one.id), '2030-01-01T00:00:00.500Z', 'an older use written without milliseconds does not either');
      await ctx.store.touchCredentials([
        { id: one.id, at: '2030-01-02T00:00:00.000Z' },
        { id: two.id, at: '2030-01-03T00:00:00.000Z' },
        { id: one.id, at: '2030-01-01T12:00:00.000Z' },
      ]);
      assert.equal(await lastUsed(one.id), '2030-01-02T00:00:00.000Z');
      assert.equal(await lastUsed(two.id), '2030-01-03T00:00:00.000Z');
      assert.equal(await ctx.store.revision(), rev, 'usage is not config');
    });
  });
}
