/** Conformance: LLM usage records (`Store.llmUsage`): exact sums, grouping, time buckets, tenant binding. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { UsageRecordInput } from '../store.js';
import type { ConformanceContext } from './context.conformance.js';

/** A plausible usage record of `tenant` (also used by the usage ledger's tests). */
export function usageRecord(tenant: string, over: Partial<UsageRecordInput> = {}): UsageRecordInput {
  return {
    tenant,
    at: '2031-05-06T07:08:09.000Z',
    requestId: 'req-1',
    service: 'ai',
    route: 'ai',
    application: 'app-a',
    credential: 'cred-1',
    model: 'fast',
    provider: 'openai',
    deployment: 'openai/gpt-4o-mini',
    api: 'chat',
    stream: false,
    status: 200,
    outcome: 'ok',
    estimated: false,
    inputTokens: 10,
    outputTokens: 20,
    cachedTokens: 0,
    reasoningTokens: 0,
    costNanoUsd: 13_500,
    attempts: 1,
    latencyMs: 120,
    ttftMs: null,
    ...over,
  };
}

export function llmUsageConformance(ctx: ConformanceContext): void {
  describe('LLM usage records', () => {
    it('sums tokens and cost exactly per group, ordered by cost', async () => {
      const tenant = ctx.unique('usage');
      await ctx.store.llmUsage.append([
        usageRecord(tenant, {}),
        usageRecord(tenant, { application: 'app-a', inputTokens: 5, outputTokens: 5, costNanoUsd: 1 }),
        usageRecord(tenant, { application: 'app-b', provider: 'anthropic', deployment: 'anthropic/claude', costNanoUsd: 9_007_199_254, outcome: 'error', status: 502 }),
        usageRecord(tenant, { application: null, credential: null, costNanoUsd: 0, outcome: 'aborted', stream: true, ttftMs: 40 }),
      ]);
      const rows = await ctx.store.llmUsage.query({ tenant, from: '2031-01-01T00:00:00Z', to: '2032-01-01T00:00:00Z', groupBy: ['application'] });
      assert.deepEqual(
        rows.map((r) => [r.group.application, r.requests, r.errors, r.inputTokens, r.outputTokens, r.costNanoUsd]),
        [
          ['app-b', 1, 1, 10, 20, 9_007_199_254],
          ['app-a', 2, 0, 15, 25, 13_501],
          [null, 1, 0, 10, 20, 0],
        ],
      );
      const all = await ctx.store.llmUsage.query({ tenant, from: '2031-01-01T00:00:00Z', to: '2032-01-01T00:00:00Z', groupBy: [] });
      assert.equal(all.length, 1);
      assert.equal(all[0]!.costNanoUsd, 9_007_199_254 + 13_501);
      const filtered = await ctx.store.llmUsage.query({ tenant, from: '2031-01-01T00:00:00Z', to: '2032-01-01T00:00:00Z', groupBy: ['deployment'], filter: { provider: 'anthropic' } });
      assert.deepEqual(filtered.map((r) => r.group.deployment), ['anthropic/claude']);
    });

    it('groups by hour and day buckets, and bounds by time', async () => {
      const tenant = ctx.unique('usage');
      await ctx.store.llmUsage.append([
        usageRecord(tenant, { at: '2031-05-06T07:59:59.999Z', costNanoUsd: 1 }),
        usageRecord(tenant, { at: '2031-05-06T08:00:00.000Z', costNanoUsd: 2 }),
        usageRecord(tenant, { at: '2031-05-07T01:00:00.000Z', costNanoUsd: 4 }),
        usageRecord(tenant, { at: '2031-06-01T00:00:00.000Z', costNanoUsd: 8 }),
      ]);
      const hours = await ctx.store.llmUsage.query({ tenant, from: '2031-05-06T00:00:00Z', to: '2031-06-01T00:00:00Z', groupBy: [], interval: 'hour' });
      assert.deepEqual(hours.map((r) => [r.bucket, r.costNanoUsd]).sort(), [['2031-05-06T07', 1], ['2031-05-06T08', 2], ['2031-05-07T01', 4]]);
      const days = await ctx.store.llmUsage.query({ tenant, from: '2031-05-06T00:00:00Z', to: '2031-06-02T00:00:00Z', groupBy: ['model'], interval: 'day' });
      assert.deepEqual(days.map((r) => [r.bucket, r.group.model, r.costNanoUsd]).sort(), [['2031-05-06', 'fast', 3], ['2031-05-07', 'fast', 4], ['2031-06-01', 'fast', 8]]);
    });

    it("never returns another tenant's records", async () => {
      const a = ctx.unique('usage');
      const b = ctx.unique('usage');
      await ctx.store.llmUsage.append([usageRecord(a, { costNanoUsd: 5 }), usageRecord(b, { costNanoUsd: 7, requestId: 'req-b' })]);
      const rows = await ctx.store.llmUsage.query({ tenant: a, from: '2031-01-01T00:00:00Z', to: '2032-01-01T00:00:00Z', groupBy: [] });
      assert.equal(rows[0]!.costNanoUsd, 5);
      const recent = await ctx.store.llmUsage.recent(b, 10);
      assert.deepEqual(recent.map((r) => [r.tenant, r.requestId, r.costNanoUsd, r.stream, r.ttftMs]), [[b, 'req-b', 7, false, null]]);
    });
  });
}
