/**
 * LLM usage records: one per LLM request (answered, failed, aborted or served from cache), with the
 * tokens it used and what it cost. Written in batches by the data plane, queried by the admin API.
 * Rows carry the tenant's name (no foreign key: spend history outlives a deleted tenant), and every
 * query is bound to one tenant.
 */

export type UsageOutcome = 'ok' | 'error' | 'aborted' | 'cached';

export interface UsageRecordInput {
  tenant: string;
  /** ISO-8601 instant the request started. */
  at: string;
  requestId: string;
  service: string;
  route: string;
  application: string | null;
  /** Credential id used (API key or OAuth2 client record), when one was. */
  credential: string | null;
  /** The model the client asked for (an alias or "provider/model"). */
  model: string;
  /** Provider object that answered (or was last tried); null when no provider was reached. */
  provider: string | null;
  /** "provider/model" that answered; null when none did. */
  deployment: string | null;
  /** The client API: "chat" (OpenAI), "messages" (Anthropic), "embeddings". */
  api: string;
  stream: boolean;
  status: number;
  outcome: UsageOutcome;
  /** Token counts were estimated by the gateway (the provider reported none). */
  estimated: boolean;
  inputTokens: number;
  outputTokens: number;
  cachedTokens: number;
  reasoningTokens: number;
  /** Cost in nano-US-dollars (1e-9 USD), an integer so that sums are exact. */
  costNanoUsd: number;
  attempts: number;
  latencyMs: number;
  /** Time to the first streamed byte, for streams that started. */
  ttftMs: number | null;
}

export const USAGE_DIMENSIONS = ['application', 'credential', 'model', 'provider', 'deployment', 'service', 'outcome'] as const;
export type UsageDimension = (typeof USAGE_DIMENSIONS)[number];

export interface UsageQuery {
  tenant: string;
  /** Inclusive lower bound (ISO-8601). */
  from: string;
  /** Exclusive upper bound (ISO-8601). */
  to: string;
  groupBy: readonly UsageDimension[];
  /** Also group by time bucket. */
  interval?: 'hour' | 'day' | undefined;
  /** Only rows whose dimension equals the value. */
  filter?: Partial<Record<UsageDimension, string>> | undefined;
}

export interface UsageRow {
  /** The group's dimension values (only the grouped ones), null where the record had none. */
  group: Partial<Record<UsageDimension, string | null>>;
  /** Bucket start ("2026-11-22T13" for hours, "2026-11-22" for days) when an interval was asked. */
  bucket?: string;
  requests: number;
  errors: number;
  inputTokens: number;
  outputTokens: number;
  cachedTokens: number;
  reasoningTokens: number;
  costNanoUsd: number;
}

export interface LlmUsageStore {
  /** Appends records (outside config transactions; not a config write). */
  append(records: readonly UsageRecordInput[]): Promise<void>;
  /** Sums per group, ordered by cost (highest first), then group values. */
  query(q: UsageQuery): Promise<UsageRow[]>;
  /** The most recent records of a tenant, newest first (call log). */
  recent(tenant: string, limit: number): Promise<UsageRecordInput[]>;
}
