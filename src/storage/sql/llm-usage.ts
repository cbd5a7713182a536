import { sql, type Kysely } from 'kysely';
import type { LlmUsageStore, UsageDimension, UsageOutcome, UsageQuery, UsageRecordInput, UsageRow } from '../llm-usage-records.js';
import { USAGE_DIMENSIONS } from '../llm-usage-records.js';
import type { Database } from './database.js';
import { usageRowValues, uuidV7s, type UsageRowWriter } from './llm-usage-rows.js';
import { normaliseTimestamp, toNumber } from './row-mapping.js';
import type { SqlDialect } from './sql-dialect.js';
import { withStorageErrors } from './storage-errors.js';

const sumOf = (column: string) => sql<number | string>`coalesce(sum(${sql.ref(column)}), 0)`;

/**
 * {@link LlmUsageStore} on SQL. Grouping columns come from a fixed list, never from input. Appends go
 * through the backend's {@link UsageRowWriter}; queries through Kysely.
 */
export class SqlLlmUsage implements LlmUsageStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: SqlDialect,
    private readonly writer: UsageRowWriter,
  ) {}

  /** Appends in one write: all records or (on a STORAGE error) none. VALIDATION for an `at` that is not an instant. */
  append(records: readonly UsageRecordInput[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    const ids = uuidV7s(records.length);
    const rows = records.map((r, i) => usageRowValues(r, ids[i]!));
    return this.#guard(() => this.writer(rows));
  }

  query(q: UsageQuery): Promise<UsageRow[]> {
    const dims = USAGE_DIMENSIONS.filter((d) => q.groupBy.includes(d));
    const bucket = q.interval === 'day' ? sql<string>`substr(hour, 1, 10)` : sql<string>`hour`;
    return this.#guard(async () => {
      let qb = this.db
        .selectFrom('llm_usage')
        .where('tenant', '=', q.tenant)
        .where('at', '>=', normaliseTimestamp(q.from, 'from'))
        .where('at', '<', normaliseTimestamp(q.to, 'to'));
      for (const d of USAGE_DIMENSIONS) {
        const v = q.filter?.[d];
        if (v !== undefined) qb = qb.where(d, '=', v);
      }
      let sel = qb.select([
        sql<number | string>`count(*)`.as('requests'),
        sql<number | string>`coalesce(sum(case when outcome = 'error' then 1 else 0 end), 0)`.as('errors'),
        sumOf('input_tokens').as('input_tokens'),
        sumOf('output_tokens').as('output_tokens'),
        sumOf('cached_tokens').as('cached_tokens'),
        sumOf('reasoning_tokens').as('reasoning_tokens'),
        sumOf('cost_nano_usd').as('cost'),
      ]);
      for (const d of dims) sel = sel.select(sql.ref<string | null>(d).as(d)).groupBy(d);
      if (q.interval) sel = sel.select(bucket.as('bucket')).groupBy(bucket);
      const rows = (await sel.orderBy(sql`cost`, 'desc').execute()) as Array<Record<string, unknown>>;
      // Without grouping, SQL answers one all-zero row for an empty range: no records, no rows.
      return rows.filter((r) => toNumber(r.requests as number) > 0).map((r) => {
        const group: Partial<Record<UsageDimension, string | null>> = {};
        for (const d of dims) group[d] = (r[d] as string | null) ?? null;
        const row: UsageRow = {
          group,
          requests: toNumber(r.requests as number),
          errors: toNumber(r.errors as number),
          inputTokens: toNumber(r.input_tokens as number),
          outputTokens: toNumber(r.output_tokens as number),
          cachedTokens: toNumber(r.cached_tokens as number),
          reasoningTokens: toNumber(r.reasoning_tokens as number),
          costNanoUsd: toNumber(r.cost as number),
        };
        if (q.interval) row.bucket = String(r.bucket);
        return row;
      }).sort((a, b) => b.costNanoUsd - a.costNanoUsd || (a.bucket ?? '').localeCompare(b.bucket ?? '') || JSON.stringify(a.group).localeCompare(JSON.stringify(b.group)));
    });
  }

  recent(tenant: string, limit: number): Promise<UsageRecordInput[]> {
    return this.#guard(async () => {
      const rows = await this.db.selectFrom('llm_usage').selectAll().where('tenant', '=', tenant).orderBy('at', 'desc').orderBy('id').limit(limit).execute();
      return rows.map((r) => ({
        tenant: r.tenant,
        at: this.dialect.decodeTimestamp(r.at),
        requestId: r.request_id,
        service: r.service,
        route: r.route,
        application: r.application,
        credential: r.credential,
        model: r.model,
        provider: r.provider,
        deployment: r.deployment,
        api: r.api,
        stream: r.stream === 1,
        status: r.status,
        outcome: r.outcome as UsageOutcome,
        estimated: r.estimated === 1,
        inputTokens: toNumber(r.input_tokens),
        outputTokens: toNumber(r.output_tokens),
        cachedTokens: toNumber(r.cached_tokens),
        reasoningTokens: toNumber(r.reasoning_tokens),
        costNanoUsd: toNumber(r.cost_nano_usd),
        attempts: r.attempts,
        latencyMs: r.latency_ms,
        ttftMs: r.ttft_ms,
      }));
    });
  }

  #guard<T>(fn: () => Promise<T>): Promise<T> {
    return withStorageErrors((err) => this.dialect.toStorageError(err), fn);
  }
}
