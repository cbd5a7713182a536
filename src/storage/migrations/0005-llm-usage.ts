import type { Kysely, Migration } from 'kysely';
import type { DialectColumnTypes } from '../sql/sql-dialect.js';

/**
 * 0005_llm_usage: one row per LLM request with tokens and cost (nano-USD, integer). `tenant` is the
 * tenant's name without a foreign key (spend history outlives the tenant); `hour` is the UTC hour
 * ("2026-11-22T13"), so both backends group by hour or day (its first 10 characters) the same way.
 */
export function llmUsageMigration(types: DialectColumnTypes): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('llm_usage')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant', 'text', (c) => c.notNull())
        .addColumn('at', types.timestamp, (c) => c.notNull())
        .addColumn('hour', 'text', (c) => c.notNull())
        .addColumn('request_id', 'text', (c) => c.notNull())
        .addColumn('service', 'text', (c) => c.notNull())
        .addColumn('route', 'text', (c) => c.notNull())
        .addColumn('application', 'text')
        .addColumn('credential', 'text')
        .addColumn('model', 'text', (c) => c.notNull())
        .addColumn('provider', 'text')
        .addColumn('deployment', 'text')
        .addColumn('api', 'text', (c) => c.notNull())
        .addColumn('stream', 'integer', (c) => c.notNull())
        .addColumn('status', 'integer', (c) => c.notNull())
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('estimated', 'integer', (c) => c.notNull())
        .addColumn('input_tokens', types.bigint, (c) => c.notNull())
        .addColumn('output_tokens', types.bigint, (c) => c.notNull())
        .addColumn('cached_tokens', types.bigint, (c) => c.notNull())
        .addColumn('reasoning_tokens', types.bigint, (c) => c.notNull())
        .addColumn('cost_nano_usd', types.bigint, (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('latency_ms', 'integer', (c) => c.notNull())
        .addColumn('ttft_ms', 'integer')
        .execute();
      await db.schema.createIndex('llm_usage_tenant_at_idx').on('llm_usage').columns(['tenant', 'at']).execute();
    },
  };
}
