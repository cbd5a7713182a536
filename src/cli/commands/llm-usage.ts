/**
 * `portcullis usage`: LLM spend and usage of the tenant (GET …/llm/usage) and its latest calls
 * (GET …/llm/calls), as tables or, with `--json`, the API's answer.
 */

import { CliUsageError, printTable, type AccessCommandContext, type Values } from './access.js';

const enc = encodeURIComponent;
const DAY = 86_400_000;

interface UsageRow {
  group: Record<string, string | null>;
  bucket?: string;
  requests: number;
  errors: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

/** `--since 7d` → ISO instant; an ISO instant passes through. */
function since(value: string): string {
  const m = /^(\d+)([hd])$/.exec(value);
  if (m) return new Date(Date.now() - Number(m[1]) * (m[2] === 'd' ? DAY : 3_600_000)).toISOString();
  if (Number.isNaN(Date.parse(value))) throw new CliUsageError('--since takes a duration such as 24h or 30d, or an ISO-8601 instant');
  return new Date(value).toISOString();
}

export async function runUsage(ctx: AccessCommandContext, v: Values, p: readonly string[]): Promise<number> {
  const base = `/admin/v1/tenants/${enc(ctx.tenant)}/llm`;
  const json = v.json === true;
  switch (p[0] ?? 'summary') {
    case 'summary': {
      const query: Record<string, string> = {};
      if (typeof v.since === 'string') query.from = since(v.since);
      if (typeof v['group-by'] === 'string') query.groupBy = v['group-by'];
      if (typeof v.interval === 'string') query.interval = v.interval;
      for (const d of ['application', 'model', 'provider', 'deployment']) if (typeof v[d] === 'string') query[d] = v[d] as string;
      const r = await ctx.client.request<{ from: string; to: string; groupBy: string[]; items: UsageRow[] }>('GET', `${base}/usage`, { query });
      if (json) ctx.out(JSON.stringify(r, null, 2));
      else {
        ctx.out(`LLM usage of tenant ${ctx.tenant}, ${r.from} to ${r.to}`);
        const columns = [...(r.items.some((i) => i.bucket) ? ['bucket'] : []), ...r.groupBy, 'requests', 'errors', 'input', 'output', 'cost_usd'];
        printTable(
          ctx.out,
          r.items.map((i) => ({ ...i.group, bucket: i.bucket, requests: i.requests, errors: i.errors, input: i.inputTokens, output: i.outputTokens, cost_usd: i.costUsd.toFixed(6) })),
          columns,
        );
      }
      return 0;
    }
    case 'calls': {
      const r = await ctx.client.request<{ items: Array<Record<string, unknown>> }>('GET', `${base}/calls`, { query: { limit: typeof v.limit === 'string' ? v.limit : '20' } });
      if (json) ctx.out(JSON.stringify(r, null, 2));
      else printTable(ctx.out, r.items.map((c) => ({ ...c, cost_usd: Number(c.costUsd).toFixed(6), tokens: `${String(c.inputTokens)}/${String(c.outputTokens)}` })), ['at', 'application', 'model', 'deployment', 'outcome', 'status', 'tokens', 'cost_usd']);
      return 0;
    }
    default:
      throw new CliUsageError('usage takes: summary (default) | calls');
  }
}
