/**
 * Admin endpoints of LLM spend and usage: sums of requests, tokens and cost over a time range,
 * grouped by application, credential, model, provider, deployment, service or outcome and
 * optionally by hour or day; and the latest call records. Cost is in US dollars (stored exactly as
 * nano-dollars).
 */

import { z } from 'zod';
import { gatewayError } from '../core/errors.js';
import { USAGE_DIMENSIONS, type UsageDimension } from '../storage/llm-usage-records.js';
import type { AdminRoute, NamedSchema, ParamSpec } from './admin-routes.js';
import { anyTenant, API_PREFIX, onTenant } from './admin-routes.js';
import { DEFAULT_PRICES } from '../llm/usage/default-prices.js';

const READ = [400, 401, 403, 404, 503] as const;
const DAY = 86_400_000;
/** Longest range one query may cover. */
const MAX_RANGE = 400 * DAY;

const Instant = z.iso.datetime({ offset: true }).optional();

const QUERY: readonly ParamSpec[] = [
  { name: 'from', schema: Instant.describe('Start (inclusive), ISO-8601; default: 30 days before `to`') },
  { name: 'to', schema: Instant.describe('End (exclusive), ISO-8601; default: now') },
  {
    name: 'groupBy',
    schema: z
      .string()
      .regex(new RegExp(`^(${USAGE_DIMENSIONS.join('|')})(,(${USAGE_DIMENSIONS.join('|')}))*$`), `must be a comma-separated list of ${USAGE_DIMENSIONS.join(', ')}`)
      .optional()
      .describe(`Comma-separated dimensions: ${USAGE_DIMENSIONS.join(', ')}`),
  },
  { name: 'interval', schema: z.enum(['hour', 'day']).optional().describe('Also group by UTC hour or day') },
  ...USAGE_DIMENSIONS.map((d) => ({ name: d, schema: z.string().max(300).optional().describe(`Only records whose ${d} is this`) })),
];

const UsageRowSchema = z
  .object({
    group: z.record(z.string(), z.string().nullable()).describe('The grouped dimensions; null where a record had none (e.g. no application on a public service)'),
    bucket: z.string().optional().describe('UTC hour ("2026-11-22T13") or day ("2026-11-22")'),
    requests: z.number().int(),
    errors: z.number().int(),
    inputTokens: z.number().int(),
    outputTokens: z.number().int(),
    cachedTokens: z.number().int(),
    reasoningTokens: z.number().int(),
    costUsd: z.number().describe('US dollars'),
  })
  .strict();

const UsageSchema: NamedSchema = {
  name: 'LlmUsage',
  schema: z.object({ from: z.string(), to: z.string(), groupBy: z.array(z.string()), items: z.array(UsageRowSchema).describe('Highest cost first') }).strict(),
};

const CallSchema: NamedSchema = {
  name: 'LlmCalls',
  schema: z.object({ items: z.array(z.record(z.string(), z.unknown())).describe('Usage records, newest first') }).strict(),
};

const PricesSchema: NamedSchema = {
  name: 'LlmDefaultPrices',
  schema: z
    .object({
      items: z
        .array(z.object({ model: z.string().describe('Model id or family prefix'), input: z.number(), output: z.number(), cachedInput: z.number().optional() }).strict())
        .describe('USD per 1M tokens; a catalogue model without `pricing` uses the entry matching its upstream id'),
    })
    .strict(),
};

export function llmUsageRoutes(): AdminRoute[] {
  return [
    {
      method: 'GET',
      path: `${API_PREFIX}/llm/default-prices`,
      operationId: 'listLlmDefaultPrices',
      summary: 'The built-in model prices used when a provider catalogue sets none (override them with `pricing` on the model)',
      tag: 'LLM',
      permission: anyTenant('config.read'),
      success: { status: 200, description: 'Built-in prices', body: PricesSchema },
      errors: [401, 403, 503],
      async handle() {
        return { status: 200, body: { items: DEFAULT_PRICES.map(([model, p]) => ({ model, ...p })) } };
      },
    },
    {
      method: 'GET',
      path: `${API_PREFIX}/tenants/{tenant}/llm/usage`,
      operationId: 'getLlmUsage',
      summary: 'LLM spend and token usage over a time range, grouped by the chosen dimensions and optionally by hour or day',
      tag: 'LLM',
      permission: onTenant('config.read'),
      query: QUERY,
      success: { status: 200, description: 'Sums per group', body: UsageSchema },
      errors: READ,
      async handle(req) {
        const tenant = (await req.store.tenant(req.params.tenant!)).tenant;
        const q = req.query;
        // Default end: the next full hour (covers everything so far; equal for calls made close together).
        const to = q.to ? new Date(String(q.to)) : new Date(Math.ceil(Date.now() / 3_600_000) * 3_600_000);
        const from = q.from ? new Date(String(q.from)) : new Date(to.getTime() - 30 * DAY);
        if (from >= to) throw gatewayError('VALIDATION', '`from` must be before `to`', [{ path: 'from', message: 'must be before `to`' }]);
        if (to.getTime() - from.getTime() > MAX_RANGE) throw gatewayError('VALIDATION', 'The range may cover at most 400 days', [{ path: 'from', message: 'range longer than 400 days' }]);
        const groupBy = q.groupBy ? (String(q.groupBy).split(',') as UsageDimension[]) : [];
        const filter: Partial<Record<UsageDimension, string>> = {};
        for (const d of USAGE_DIMENSIONS) if (typeof q[d] === 'string') filter[d] = q[d] as string;
        const rows = await req.store.llmUsage.query({ tenant, from: from.toISOString(), to: to.toISOString(), groupBy, interval: q.interval as 'hour' | 'day' | undefined, filter });
        const items = rows.map(({ costNanoUsd, ...r }) => ({ ...r, costUsd: costNanoUsd / 1e9 }));
        return { status: 200, body: { from: from.toISOString(), to: to.toISOString(), groupBy, items } };
      },
    },
    {
      method: 'GET',
      path: `${API_PREFIX}/tenants/{tenant}/llm/calls`,
      operationId: 'listLlmCalls',
      summary: 'The latest LLM calls of the tenant with their tokens, cost, outcome and who made them',
      tag: 'LLM',
      permission: onTenant('config.read'),
      query: [{ name: 'limit', schema: z.coerce.number().int().min(1).max(1000).optional().describe('How many (default 100)') }],
      success: { status: 200, description: 'Calls, newest first', body: CallSchema },
      errors: READ,
      async handle(req) {
        const tenant = (await req.store.tenant(req.params.tenant!)).tenant;
        const records = await req.store.llmUsage.recent(tenant, (req.query.limit as number | undefined) ?? 100);
        return { status: 200, body: { items: records.map(({ costNanoUsd, ...r }) => ({ ...r, costUsd: costNanoUsd / 1e9 })) } };
      },
    },
  ];
}
