/**
 * The one conformance suite every {@link Store} backend must pass. A backend's test file calls
 * `storeConformance(name, open)`; `open` must return a new, unmigrated store each call (on the same
 * database or a fresh one: the suite does not rely on either, except that the audit log of the first
 * store opened must be empty, because the suite verifies the whole hash chain). Tests share one
 * store and isolate themselves by creating their own uniquely named tenants.
 *
 * The groups for credentials, subscriptions, the audit log and the tenant-bound view live in
 * `conformance/`; this file is the entry point and holds the core groups.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { auditLinker } from '../audit/audit-chain.js';
import { DEFAULT_TENANT } from '../model/common.js';
import { auditConformance } from './conformance/audit.conformance.js';
import { assertIso, rejectsWith, UUID_RE, type ConformanceContext } from './conformance/context.conformance.js';
import { credentialsConformance } from './conformance/credentials.conformance.js';
import { subscriptionsConformance } from './conformance/subscriptions.conformance.js';
import { llmUsageConformance } from './conformance/llm-usage.conformance.js';
import { acmeConformance } from './conformance/acme.conformance.js';
import { pkiConformance } from './conformance/pki.conformance.js';
import { tenantBoundConformance } from './conformance/tenant-bound.conformance.js';
import type { ConfigRecord, Store, TenantScope } from './store.js';

export function storeConformance(name: string, open: () => Promise<Store>): void {
  describe(`Store conformance: ${name}`, () => {
    let store: Store;
    const run = randomUUID().slice(0, 8);
    let seq = 0;
    /** A name unique to this run and test. */
    const unique = (prefix: string): string => `${prefix}-${run}-${++seq}`;

    async function newTenant(prefix = 'tenant'): Promise<string> {
      const tenant = unique(prefix);
      await store.transaction((tx) => tx.tenants.create(tenant));
      return tenant;
    }
    /** Runs `fn` with a writable scope on `tenant`, in its own transaction. */
    function inTenant<T>(tenant: string, fn: (scope: TenantScope) => Promise<T>): Promise<T> {
      return store.transaction(async (tx) => fn(await tx.tenant(tenant)));
    }
    const ctx: ConformanceContext = {
      get store() {
        return store;
      },
      link: auditLinker(randomBytes(32)),
      unique,
      newTenant,
      inTenant,
    };

    before(async () => {
      store = await open();
      await store.migrate();
    });
    after(async () => {
      await store?.close();
    });

    describe('lifecycle', () => {
      it('ping resolves', async () => {
        await store.ping();
      });

      it('migrate creates the default tenant, and migrating again changes nothing', async () => {
        const before = { revision: await store.revision(), tenants: await store.listTenants() };
        assert.ok(before.tenants.some((t) => t.name === DEFAULT_TENANT));
        await store.migrate();
        await store.migrate();
        assert.equal(await store.revision(), before.revision);
        assert.deepEqual(await store.listTenants(), before.tenants);
      });

      it('close is idempotent and later calls fail with STORAGE', async () => {
        const other = await open();
        await other.ping();
        await other.close();
        await other.close();
        await rejectsWith(other.ping(), 'STORAGE');
        await rejectsWith(other.transaction(async () => 1), 'STORAGE');
      });
    });

    describe('tenants', () => {
      it('creates, reads, lists and deletes tenants', async () => {
        const tenant = unique('t');
        const created = await store.transaction((tx) => tx.tenants.create(tenant, 'Team T'));
        assert.match(created.id, UUID_RE);
        assert.equal(created.name, tenant);
        assert.equal(created.displayName, 'Team T');
        assertIso(created.createdAt);
        assertIso(created.updatedAt);
        await store.transaction(async (tx) => {
          assert.deepEqual(await tx.tenants.get(tenant), created);
          assert.equal(await tx.tenants.get(unique('absent')), undefined);
          assert.ok((await tx.tenants.list()).some((t) => t.id === created.id));
        });
        assert.deepEqual((await store.listTenants()).find((t) => t.name === tenant), created);
        const names = (await store.listTenants()).map((t) => t.name);
        assert.deepEqual(names, [...names].sort());
        assert.equal((await store.tenant(tenant)).tenant, tenant);

        assert.ok(await store.transaction((tx) => tx.tenants.delete(tenant)));
        assert.equal(await store.transaction((tx) => tx.tenants.delete(tenant)), undefined);
        await rejectsWith(store.tenant(tenant), 'NOT_FOUND');
      });

      it('rejects a duplicate tenant name with CONFLICT', async () => {
        const tenant = await newTenant();
        await rejectsWith(store.transaction((tx) => tx.tenants.create(tenant)), 'CONFLICT');
      });

      it('throws NOT_FOUND for unknown tenants, from the store and from a transaction', async () => {
        await rejectsWith(store.tenant(unique('absent')), 'NOT_FOUND');
        await rejectsWith(store.transaction((tx) => tx.tenant(unique('absent'))), 'NOT_FOUND');
      });

      it('refuses to delete a tenant that owns objects, and the default tenant', async () => {
        const tenant = await newTenant();
        await inTenant(tenant, (s) => s.create('service', 'svc', {}));
        await rejectsWith(store.transaction((tx) => tx.tenants.delete(tenant)), 'CONFLICT');
        assert.ok(await store.tenant(tenant));
        await inTenant(tenant, (s) => s.delete('service', 'svc'));
        assert.ok(await store.transaction((tx) => tx.tenants.delete(tenant)));
        await rejectsWith(store.transaction((tx) => tx.tenants.delete(DEFAULT_TENANT)), 'CONFLICT');
      });
    });

    describe('config objects', () => {
      it('creates, reads, updates and deletes objects', async () => {
        const tenant = await newTenant();
        const spec = { url: 'https://example.test/ü', retries: 3, tls: { verify: true }, tags: ['a', 'b'], extra: null };
        const created = await inTenant(tenant, (s) => s.create('service', 'svc', spec));
        assert.match(created.id, UUID_RE);
        assert.deepEqual({ ...created, id: '', createdAt: '', updatedAt: '' }, {
          id: '', tenant, kind: 'service', name: 'svc', spec, version: 1, createdAt: '', updatedAt: '',
        });
        assertIso(created.createdAt);
        assert.equal(created.updatedAt, created.createdAt);
        const reader = await store.tenant(tenant);
        assert.deepEqual(await reader.get('service', 'svc'), created);
        assert.equal(await reader.get('route', 'svc'), undefined, 'kinds are separate namespaces');
        assert.equal(await reader.get('service', 'absent'), undefined);

        await sleep(5);
        const updated = await inTenant(tenant, (s) => s.update('service', 'svc', { url: 'https://other.test' }));
        assert.equal(updated.id, created.id);
        assert.equal(updated.version, 2);
        assert.equal(updated.createdAt, created.createdAt);
        assert.ok(updated.updatedAt > created.updatedAt);
        assert.deepEqual(updated.spec, { url: 'https://other.test' });
        assert.deepEqual(await reader.get('service', 'svc'), updated);

        await inTenant(tenant, (s) => s.create('route', 'svc', { path: '/' }));
        assert.equal(await inTenant(tenant, (s) => s.delete('service', 'svc')), true);
        assert.equal(await inTenant(tenant, (s) => s.delete('service', 'svc')), false);
        assert.equal(await reader.get('service', 'svc'), undefined);
        assert.ok(await reader.get('route', 'svc'));
        await rejectsWith(inTenant(tenant, (s) => s.update('service', 'svc', {})), 'NOT_FOUND');
      });

      it('rejects a duplicate name with CONFLICT, and the transaction can go on', async () => {
        const tenant = await newTenant();
        await inTenant(tenant, (s) => s.create('service', 'svc', { n: 1 }));
        await rejectsWith(inTenant(tenant, (s) => s.create('service', 'svc', { n: 2 })), 'CONFLICT');
        await inTenant(tenant, async (s) => {
          await rejectsWith(s.create('service', 'svc', { n: 3 }), 'CONFLICT');
          await s.create('service', 'svc-2', {});
        });
        const reader = await store.tenant(tenant);
        assert.deepEqual((await reader.get('service', 'svc'))?.spec, { n: 1 });
        assert.ok(await reader.get('service', 'svc-2'));
      });

      it('checks expectedVersion on update', async () => {
        const tenant = await newTenant();
        await inTenant(tenant, (s) => s.create('service', 'svc', { n: 1 }));
        await rejectsWith(inTenant(tenant, (s) => s.update('service', 'svc', { n: 2 }, 2)), 'CONFLICT');
        const v2 = await inTenant(tenant, (s) => s.update('service', 'svc', { n: 2 }, 1));
        assert.equal(v2.version, 2);
        await rejectsWith(inTenant(tenant, (s) => s.update('service', 'svc', { n: 3 }, 1)), 'CONFLICT');
        assert.equal((await inTenant(tenant, (s) => s.update('service', 'svc', { n: 3 }))).version, 3);
        await rejectsWith(inTenant(tenant, (s) => s.update('service', 'absent', {}, 1)), 'NOT_FOUND');
      });

      it('isolates tenants: same names, no cross-tenant reads or writes', async () => {
        const a = await newTenant('a');
        const b = await newTenant('b');
        await inTenant(a, (s) => s.create('service', 'shared', { owner: 'a' }));
        await inTenant(b, (s) => s.create('service', 'shared', { owner: 'b' }));
        await inTenant(b, (s) => s.create('service', 'only-b', { owner: 'b' }));

        const ra = await store.tenant(a);
        assert.deepEqual((await ra.get('service', 'shared'))?.spec, { owner: 'a' });
        assert.equal(await ra.get('service', 'only-b'), undefined);
        assert.deepEqual((await ra.listAll('service')).map((o) => o.name), ['shared']);
        assert.deepEqual((await ra.list('service', { limit: 10 })).items.map((o) => o.name), ['shared']);
        await inTenant(a, async (s) => {
          await rejectsWith(s.update('service', 'only-b', { owner: 'a' }), 'NOT_FOUND');
          assert.equal(await s.delete('service', 'only-b'), false);
          await s.update('service', 'shared', { owner: 'a2' });
        });

        const rb = await store.tenant(b);
        assert.deepEqual((await rb.get('service', 'shared'))?.spec, { owner: 'b' });
        assert.deepEqual((await rb.get('service', 'only-b'))?.spec, { owner: 'b' });
        const dump = await store.loadAll();
        const owners = dump.objects.filter((o) => o.tenant === a || o.tenant === b).map((o) => `${o.tenant === a ? 'A' : 'B'}:${o.name}:${String(o.spec.owner)}`);
        assert.deepEqual(owners, ['A:shared:a2', 'B:only-b:b', 'B:shared:b']);
      });

      it('paginates by name ascending with an `after` cursor', async () => {
        const tenant = await newTenant();
        const names = ['c1', 'a.b', 'ab', 'b', 'a-b', 'a_b', 'c0'];
        await inTenant(tenant, async (s) => {
          for (const n of names) await s.create('route', n, { n });
        });
        await inTenant(tenant, (s) => s.create('service', 'zz', {}));
        const sorted = [...names].sort();
        const reader = await store.tenant(tenant);
        const pages: string[][] = [];
        let after: string | undefined;
        for (;;) {
          const page = await reader.list('route', { limit: 3, after });
          pages.push(page.items.map((o) => o.name));
          if (page.items.length === 3) assert.equal(page.next, page.items[2]?.name);
          else assert.equal(page.next, undefined);
          if (page.next === undefined) break;
          after = page.next;
        }
        assert.deepEqual(pages, [sorted.slice(0, 3), sorted.slice(3, 6), sorted.slice(6)]);
        const exact = await reader.list('route', { limit: 7 });
        assert.equal(exact.next, 'c1', 'a full page sets next');
        assert.deepEqual(await reader.list('route', { limit: 7, after: 'c1' }), { items: [] });
        assert.deepEqual((await reader.listAll('route')).map((o) => o.name), sorted);
        await rejectsWith(reader.list('route', { limit: 0 }), 'VALIDATION');
        await rejectsWith(reader.list('route', { limit: 1001 }), 'VALIDATION');
      });
    });

    describe('transactions and revision', () => {
      it('rolls back everything when the callback throws, without bumping the revision', async () => {
        const tenant = await newTenant();
        await inTenant(tenant, (s) => s.create('service', 'keep', { n: 1 }));
        const rev = await store.revision();
        const boom = new Error('boom');
        const ghost = unique('ghost');
        await assert.rejects(
          store.transaction(async (tx) => {
            await tx.tenants.create(ghost);
            await (await tx.tenant(ghost)).create('service', 'svc', {});
            const scope = await tx.tenant(tenant);
            await scope.update('service', 'keep', { n: 2 });
            await scope.create('service', 'new', {});
            throw boom;
          }),
          (err) => err === boom,
        );
        assert.equal(await store.revision(), rev);
        await rejectsWith(store.tenant(ghost), 'NOT_FOUND');
        const reader = await store.tenant(tenant);
        assert.deepEqual((await reader.get('service', 'keep'))?.spec, { n: 1 });
        assert.equal((await reader.get('service', 'keep'))?.version, 1);
        assert.equal(await reader.get('service', 'new'), undefined);
      });

      it('bumps the revision exactly once per writing transaction, never for reads or no-ops', async () => {
        const rev0 = await store.revision();
        const tenant = unique('t');
        const result = await store.transaction(async (tx) => {
          await tx.tenants.create(tenant);
          const scope = await tx.tenant(tenant);
          await scope.create('service', 's1', {});
          await scope.create('service', 's2', {});
          await scope.update('service', 's1', { x: 1 });
          return 'done';
        });
        assert.equal(result, 'done');
        assert.equal(await store.revision(), rev0 + 1);
        await store.transaction(async (tx) => {
          const scope = await tx.tenant(tenant);
          await scope.listAll('service');
          assert.equal(await scope.delete('service', 'absent'), false);
          assert.equal(await tx.tenants.delete(unique('absent')), undefined);
        });
        assert.equal(await store.revision(), rev0 + 1);
        await inTenant(tenant, (s) => s.delete('service', 's2'));
        assert.equal(await store.revision(), rev0 + 2);
        await store.putSetting(unique('k'), 'v');
        assert.equal(await store.revision(), rev0 + 2, 'settings are not config');
      });

      it('serialises concurrent transactions', async () => {
        const tenant = await newTenant();
        await inTenant(tenant, (s) => s.create('service', 'counter', { n: 0 }));
        const events: string[] = [];
        await Promise.all(
          [0, 1, 2, 3, 4].map((i) =>
            inTenant(tenant, async (s) => {
              events.push(`start ${i}`);
              const current = await s.get('service', 'counter');
              assert.ok(current);
              await sleep(10);
              await s.update('service', 'counter', { n: Number(current.spec.n) + 1 }, current.version);
              events.push(`end ${i}`);
            }),
          ),
        );
        for (let i = 0; i < events.length; i += 2) {
          assert.equal(events[i]?.replace('start', 'end'), events[i + 1], `interleaved: ${events.join(', ')}`);
        }
        const final = await (await store.tenant(tenant)).get('service', 'counter');
        assert.deepEqual([final?.spec.n, final?.version], [5, 6]);
      });

      it('loadAll returns tenants and objects at one revision', async () => {
        const tenant = await newTenant();
        const rev0 = await store.revision();
        const writes = (async () => {
          for (let i = 0; i < 15; i++) await inTenant(tenant, (s) => s.create('service', `s${String(i).padStart(2, '0')}`, {}));
        })();
        const dumps = [];
        for (let i = 0; i < 15; i++) {
          dumps.push(await store.loadAll());
          await sleep(1);
        }
        await writes;
        dumps.push(await store.loadAll());
        for (const dump of dumps) {
          const mine = dump.objects.filter((o) => o.tenant === tenant);
          assert.equal(mine.length, dump.revision - rev0, `revision ${dump.revision} with ${mine.length} objects`);
        }
        const last = dumps.at(-1);
        assert.ok(last);
        assert.equal(last.revision, await store.revision());
        assert.deepEqual(last.tenants, await store.listTenants());
        const key = (o: ConfigRecord): string => `${o.tenant}\u0000${o.kind}\u0000${o.name}`;
        const keys = last.objects.map(key);
        assert.deepEqual(keys, [...keys].sort());
      });
    });

    describe('settings', () => {
      it('gets, puts and overwrites settings', async () => {
        const key = unique('setting');
        assert.equal(await store.getSetting(key), undefined);
        await store.putSetting(key, 'one');
        assert.equal(await store.getSetting(key), 'one');
        await store.putSetting(key, 'two');
        assert.equal(await store.getSetting(key), 'two');
        assert.equal(await store.putSettingIfAbsent(key, 'three'), 'two');
      });

      it('putSettingIfAbsent: the first writer wins under concurrency', async () => {
        const key = unique('secret');
        const candidates = Array.from({ length: 8 }, (_, i) => `value-${i}`);
        const results = await Promise.all(candidates.map((v) => store.putSettingIfAbsent(key, v)));
        const winner = results[0];
        assert.ok(winner !== undefined && candidates.includes(winner));
        assert.deepEqual(results, candidates.map(() => winner));
        assert.equal(await store.getSetting(key), winner);
      });
    });

    describe('admin tokens', () => {
      it('creates, finds active tokens by hash, lists and revokes', async () => {
        const tenant = await newTenant();
        const rev = await store.revision();
        const now = new Date();
        const later = new Date(now.getTime() + 60_000);
        const platform = await store.adminTokens.create({ name: 'root', tenant: null, role: 'platform-admin', hash: unique('h') });
        assert.match(platform.id, UUID_RE);
        assert.deepEqual({ ...platform, id: '', createdAt: '' }, { id: '', name: 'root', tenant: null, role: 'platform-admin', createdAt: '', expiresAt: null, revokedAt: null });
        assertIso(platform.createdAt);
        const hash = unique('h');
        const scoped = await store.adminTokens.create({ name: 'ci', tenant, role: 'developer', hash, expiresAt: later.toISOString() });
        assert.equal(scoped.tenant, tenant);
        assert.equal(scoped.expiresAt, later.toISOString());
        assert.equal(await store.revision(), rev, 'tokens are not config');

        await rejectsWith(store.adminTokens.create({ name: 'dup', tenant: null, role: 'viewer', hash }), 'CONFLICT');
        await rejectsWith(store.adminTokens.create({ name: 'x', tenant: unique('absent'), role: 'viewer', hash: unique('h') }), 'NOT_FOUND');

        assert.deepEqual(await store.adminTokens.findActiveByHash(hash, now), scoped);
        assert.equal(await store.adminTokens.findActiveByHash(hash, later), undefined, 'expired at expiresAt');
        assert.equal(await store.adminTokens.findActiveByHash(unique('h'), now), undefined);

        const revokedAt = new Date(now.getTime() + 1000);
        assert.equal(await store.adminTokens.revoke(scoped.id, revokedAt), true);
        assert.equal(await store.adminTokens.findActiveByHash(hash, now), undefined);
        assert.equal(await store.adminTokens.revoke(scoped.id, later), true);
        assert.equal(await store.adminTokens.revoke(randomUUID(), now), false);
        assert.equal(await store.adminTokens.revoke('not-a-uuid', now), false);

        const listed = (await store.adminTokens.list()).filter((t) => t.id === platform.id || t.id === scoped.id);
        listed.sort((x, y) => x.name.localeCompare(y.name));
        assert.deepEqual(listed.map((t) => [t.name, t.revokedAt]), [['ci', revokedAt.toISOString()], ['root', null]]);
      });

      it("deletes a tenant's tokens with the tenant", async () => {
        const tenant = await newTenant();
        const hash = unique('h');
        const token = await store.adminTokens.create({ name: 'viewer', tenant, role: 'viewer', hash });
        assert.ok(await store.transaction((tx) => tx.tenants.delete(tenant)));
        assert.equal(await store.adminTokens.findActiveByHash(hash, new Date()), undefined);
        assert.ok(!(await store.adminTokens.list()).some((t) => t.id === token.id));
      });
    });

    credentialsConformance(ctx);
    subscriptionsConformance(ctx);
    auditConformance(ctx);
    llmUsageConformance(ctx);
    acmeConformance(ctx);
    pkiConformance(ctx);
    tenantBoundConformance(ctx);
  });
}
