import { CompiledQuery, type Kysely } from 'kysely';
import type { Database } from '../sql/database.js';
import { USAGE_COLUMNS, type UsageRowValues, type UsageRowWriter } from '../sql/llm-usage-rows.js';

/** The PostgreSQL array type each `llm_usage` column's values travel as (see migration 0005). */
const COLUMN_ARRAY_TYPES: Readonly<Record<(typeof USAGE_COLUMNS)[number], string>> = {
  id: 'text[]',
  tenant: 'text[]',
  at: 'timestamptz[]',
  hour: 'text[]',
  request_id: 'text[]',
  service: 'text[]',
  route: 'text[]',
  application: 'text[]',
  credential: 'text[]',
  model: 'text[]',
  provider: 'text[]',
  deployment: 'text[]',
  api: 'text[]',
  stream: 'integer[]',
  status: 'integer[]',
  outcome: 'text[]',
  estimated: 'integer[]',
  input_tokens: 'bigint[]',
  output_tokens: 'bigint[]',
  cached_tokens: 'bigint[]',
  reasoning_tokens: 'bigint[]',
  cost_nano_usd: 'bigint[]',
  attempts: 'integer[]',
  latency_ms: 'integer[]',
  ttft_ms: 'integer[]',
};

/** One statement for any number of rows: a parameter per column, each an array of that column's values. */
const INSERT_SQL = `insert into llm_usage (${USAGE_COLUMNS.join(', ')}) select * from unnest(${USAGE_COLUMNS.map((c, i) => `$${i + 1}::${COLUMN_ARRAY_TYPES[c]}`).join(', ')})`;

/**
 * The PostgreSQL {@link UsageRowWriter}: every row in one `INSERT … SELECT * FROM unnest(…)` with 25
 * array parameters (one statement, so all rows or none, whatever the batch size; no SQL is built
 * per batch).
 */
export function postgresUsageWriter(db: Kysely<Database>): UsageRowWriter {
  return async (rows) => {
    if (rows.length === 0) return;
    const columns = USAGE_COLUMNS.map((_, c) => rows.map((row: UsageRowValues) => row[c]));
    await db.executeQuery(CompiledQuery.raw(INSERT_SQL, columns));
  };
}
