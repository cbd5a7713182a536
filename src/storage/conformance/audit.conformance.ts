/** Conformance: the hash-chained audit log (`Store.audit`, `StoreTx.audit`). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { verifyAuditChain } from '../../audit/audit-chain.js';
import { canonicalJson } from '../../core/canonical-json.js';
import type { AuditRawRow } from '../store.js';
import { auditInput, type ConformanceContext } from './context.conformance.js';

export function auditConformance(ctx: ConformanceContext): void {
  /** Every stored row, in seq order. */
  async function allRows(): Promise<AuditRawRow[]> {
    const rows: AuditRawRow[] = [];
    for (;;) {
      const page = await ctx.store.audit.raw(rows.at(-1)?.seq ?? 0, 100);
      rows.push(...page);
      if (page.length < 100) return rows;
    }
  }
  const headSeq = async (): Promise<number> => (await allRows()).at(-1)?.seq ?? 0;

  /** The whole log: seqs 1..n without gaps, and a chain that verifies with the suite's key. */
  async function assertIntactChain(): Promise<AuditRawRow[]> {
    const rows = await allRows();
    assert.deepEqual(rows.map((r) => r.seq), rows.map((_, i) => i + 1), 'seq is contiguous from 1');
    const report = await verifyAuditChain((after, limit) => ctx.store.audit.raw(after, limit), ctx.link, 7);
    assert.equal(report.problem, undefined, report.problem?.message);
    assert.deepEqual([report.ok, report.entries, report.head?.seq], [true, rows.length, rows.at(-1)?.seq]);
    return rows;
  }

  describe('audit log', () => {
    it('appends outside transactions: records, raw rows with the verbatim body, and the chain', async () => {
      const tenant = await ctx.newTenant();
      const head = await headSeq();
      const rev = await ctx.store.revision();
      const at = new Date('2031-01-02T03:04:05.678Z');
      const inputs = [
        auditInput(tenant, 'service.create', { z: 1, a: ['ü', { y: null, b: true }] }),
        { ...auditInput(null, 'tenant.create'), object: null, diff: null, sourceIp: null },
      ];
      const records = await ctx.store.audit.append(inputs, ctx.link, at);
      assert.equal(await ctx.store.revision(), rev, 'audit entries are not config');
      assert.deepEqual(records.map((r) => r.seq), [head + 1, head + 2]);
      assert.deepEqual(await ctx.store.audit.append([], ctx.link), []);

      const listed = await ctx.store.audit.list({ afterSeq: head, limit: 10 });
      assert.deepEqual(listed, records);
      const [first, second] = records;
      assert.ok(first && second);
      assert.deepEqual({ ...first, seq: 0, prevHash: '', hash: '' }, { ...inputs[0], seq: 0, at: at.toISOString(), prevHash: '', hash: '' });
      assert.equal(second.prevHash, first.hash);

      const raw = await ctx.store.audit.raw(head, 10);
      assert.deepEqual(raw.map((r) => [r.seq, r.prevHash, r.hash]), records.map((r) => [r.seq, r.prevHash, r.hash]));
      const { prevHash: _p, hash: _h, ...body } = first;
      assert.equal(raw[0]?.body, canonicalJson(body), 'the body is stored verbatim (canonical JSON, no re-encoding)');
      for (const r of raw) assert.equal(ctx.link(r.prevHash, r.body), r.hash);
      await assertIntactChain();
    });

    it('appends in a transaction: committed with its writes, rolled back with them', async () => {
      const tenant = await ctx.newTenant();
      const head = await headSeq();
      const rev = await ctx.store.revision();
      await ctx.store.transaction(async (tx) => {
        await (await tx.tenant(tenant)).create('service', 'svc', {});
        await tx.audit([auditInput(tenant, 'service.create')], ctx.link);
        await tx.audit([auditInput(tenant, 'route.create'), auditInput(tenant, 'route.update')], ctx.link);
      });
      assert.equal(await ctx.store.revision(), rev + 1, 'one bump for the config write, none for the audit');
      assert.deepEqual((await ctx.store.audit.list({ afterSeq: head, limit: 10 })).map((r) => [r.seq, r.action]), [
        [head + 1, 'service.create'],
        [head + 2, 'route.create'],
        [head + 3, 'route.update'],
      ]);

      const boom = new Error('boom');
      await assert.rejects(
        ctx.store.transaction(async (tx) => {
          await (await tx.tenant(tenant)).create('service', 'ghost', {});
          await tx.audit([auditInput(tenant, 'service.create'), auditInput(tenant, 'service.update')], ctx.link);
          throw boom;
        }),
        (err) => err === boom,
      );
      assert.equal(await headSeq(), head + 3, 'no audit rows from a rolled-back transaction');
      assert.equal(await (await ctx.store.tenant(tenant)).get('service', 'ghost'), undefined);
      assert.equal(await ctx.store.revision(), rev + 1);

      await ctx.store.transaction((tx) => tx.audit([auditInput(tenant, 'credential.touch')], ctx.link));
      assert.equal(await ctx.store.revision(), rev + 1, 'an audit-only transaction is not a config write');
      const after = await ctx.store.audit.append([auditInput(tenant, 'after')], ctx.link);
      assert.equal(after[0]?.seq, head + 5, 'the next append continues after the rolled-back one without a gap');
      await assertIntactChain();
    });

    it('lists by tenant and afterSeq, in seq order, up to the limit', async () => {
      const [a, b] = [await ctx.newTenant('a'), await ctx.newTenant('b')];
      const head = await headSeq();
      await ctx.store.audit.append([auditInput(a, 'a1'), auditInput(b, 'b1'), auditInput(null, 'platform'), auditInput(a, 'a2')], ctx.link);
      await ctx.store.transaction((tx) => tx.audit([auditInput(a, 'a3'), auditInput(b, 'b2')], ctx.link));
      const actions = async (q: { tenant?: string; afterSeq?: number; limit: number }) => (await ctx.store.audit.list(q)).map((r) => r.action);

      assert.deepEqual(await actions({ tenant: a, limit: 100 }), ['a1', 'a2', 'a3']);
      assert.deepEqual(await actions({ tenant: b, limit: 100 }), ['b1', 'b2']);
      assert.deepEqual(await actions({ tenant: a, limit: 2 }), ['a1', 'a2']);
      assert.deepEqual(await actions({ tenant: a, afterSeq: head + 1, limit: 100 }), ['a2', 'a3']);
      assert.deepEqual(await actions({ tenant: a, afterSeq: head + 4, limit: 100 }), ['a3']);
      assert.deepEqual(await actions({ afterSeq: head, limit: 100 }), ['a1', 'b1', 'platform', 'a2', 'a3', 'b2']);
      assert.deepEqual(await actions({ afterSeq: head + 2, limit: 2 }), ['platform', 'a2']);
      assert.deepEqual(await actions({ tenant: ctx.unique('absent'), limit: 100 }), []);
      const all = await ctx.store.audit.list({ limit: 1000 });
      assert.deepEqual(all.map((r) => r.seq), all.map((_, i) => i + 1));
      assert.deepEqual((await ctx.store.audit.raw(head + 4, 1)).map((r) => r.seq), [head + 5]);
    });

    it('keeps one unforked chain under concurrent appends, in and out of transactions', async () => {
      const tenant = await ctx.newTenant();
      const head = await headSeq();
      const appends = Array.from({ length: 20 }, (_, i) =>
        ctx.store.audit.append([auditInput(tenant, `direct-${i}`), auditInput(tenant, `direct-${i}-b`)], ctx.link),
      );
      const inTx = Array.from({ length: 5 }, (_, i) =>
        ctx.store.transaction(async (tx) => {
          await (await tx.tenant(tenant)).create('service', `svc-${i}`, {});
          await tx.audit([auditInput(tenant, `tx-${i}`)], ctx.link);
        }),
      );
      const results = await Promise.all(appends);
      await Promise.all(inTx);
      for (const batch of results) assert.equal(batch[1]?.seq, (batch[0]?.seq ?? 0) + 1, 'a batch is contiguous');
      const rows = await assertIntactChain();
      const mine = rows.filter((r) => r.seq > head);
      assert.equal(mine.length, 45);
      assert.equal(new Set(rows.map((r) => r.prevHash)).size, rows.length, 'no two entries share a predecessor');
    });
  });
}
