import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { storeConformance } from '../store.conformance.js';
import type { Store } from '../store.js';
import { openPostgresStore } from './postgres-store.js';
import { postgresTestUrl, withTestSchema } from './test-database.js';

const url = await postgresTestUrl();

if (url === undefined) {
  it('PostgreSQL store tests', { skip: 'PostgreSQL not reachable' }, () => undefined);
} else {
  const conformance = withTestSchema(url);
  storeConformance('postgres', () => openPostgresStore({ url, schema: conformance.schema, poolSize: 4 }));
  after(() => conformance.drop());

  describe('PostgreSQL: several nodes on one database', () => {
    const nodes = withTestSchema(url);
    const stores: Store[] = [];
    const openNode = async (): Promise<Store> => {
      const store = await openPostgresStore({ url, schema: nodes.schema, poolSize: 2 });
      stores.push(store);
      return store;
    };
    after(async () => {
      await Promise.all(stores.map((s) => s.close()));
      await nodes.drop();
    });

    it('concurrent migrate() calls on a fresh schema all succeed', async () => {
      const all = await Promise.all([openNode(), openNode(), openNode(), openNode()]);
      await Promise.all(all.map((s) => s.migrate()));
      const revisions = await Promise.all(all.map((s) => s.revision()));
      assert.deepEqual(revisions, [1, 1, 1, 1]);
      assert.deepEqual((await all[0]!.listTenants()).map((t) => t.name), ['default']);
    });

    it("each node sees the other's writes through revision bumps", async () => {
      const [a, b] = [stores[0]!, stores[1]!];
      const rev = await b.revision();
      await a.transaction(async (tx) => (await tx.tenant('default')).create('service', 'from-a', { node: 'a' }));
      assert.equal(await b.revision(), rev + 1);
      assert.deepEqual((await (await b.tenant('default')).get('service', 'from-a'))?.spec, { node: 'a' });

      await b.transaction(async (tx) => {
        await tx.tenants.create('team-b');
        await (await tx.tenant('team-b')).create('route', 'r', { node: 'b' });
      });
      assert.equal(await a.revision(), rev + 2);
      const dump = await a.loadAll();
      assert.equal(dump.revision, rev + 2);
      assert.deepEqual(dump.objects.map((o) => `${o.tenant}/${o.kind}/${o.name}`), ['default/service/from-a', 'team-b/route/r']);
    });

    it('serialises read-modify-write transactions across nodes', async () => {
      const [a, b] = [stores[0]!, stores[1]!];
      await a.transaction(async (tx) => (await tx.tenant('default')).create('service', 'counter', { n: 0 }));
      const bump = (s: Store) =>
        s.transaction(async (tx) => {
          const scope = await tx.tenant('default');
          const cur = await scope.get('service', 'counter');
          assert.ok(cur);
          await scope.update('service', 'counter', { n: Number(cur.spec.n) + 1 }, cur.version);
        });
      await Promise.all([a, b, a, b, a, b].map(bump));
      assert.deepEqual((await (await b.tenant('default')).get('service', 'counter'))?.spec, { n: 6 });
    });
  });
}
