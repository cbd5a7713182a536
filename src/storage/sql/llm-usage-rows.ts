/**
 * LLM usage records as `llm_usage` rows: the column order every backend's writer inserts in, the
 * values of one record in that order, and the rows' ids. Ids are UUIDv7 (RFC 9562: the write time
 * in milliseconds, then random bits), so the primary-key index grows at its end instead of taking
 * each new row at a random place, which is what made large usage tables slow to append to.
 */

import { v7 as uuidv7 } from 'uuid';
import type { UsageRecordInput } from '../llm-usage-records.js';
import { normaliseTimestamp } from './row-mapping.js';

/** The `llm_usage` columns, in the order of {@link usageRowValues}. */
export const USAGE_COLUMNS = [
  'id',
  'tenant',
  'at',
  'hour',
  'request_id',
  'service',
  'route',
  'application',
  'credential',
  'model',
  'provider',
  'deployment',
  'api',
  'stream',
  'status',
  'outcome',
  'estimated',
  'input_tokens',
  'output_tokens',
  'cached_tokens',
  'reasoning_tokens',
  'cost_nano_usd',
  'attempts',
  'latency_ms',
  'ttft_ms',
] as const;

/** One row's values, in {@link USAGE_COLUMNS} order (strings, integers and nulls only). */
export type UsageRowValues = Array<string | number | null>;

/**
 * Appends rows to `llm_usage`: all of them or, when it rejects, none. Each backend supplies one
 * (a prepared statement for SQLite, one array insert for PostgreSQL). Not called concurrently by
 * the usage store's own users (the ledger writes one batch at a time), but must be safe if it is.
 */
export type UsageRowWriter = (rows: readonly UsageRowValues[]) => Promise<void>;

/** A record's row values with id `id`; throws VALIDATION when `at` is not an instant. */
export function usageRowValues(r: UsageRecordInput, id: string): UsageRowValues {
  const at = normaliseTimestamp(r.at, 'at');
  return [
    id,
    r.tenant,
    at,
    at.slice(0, 13),
    r.requestId,
    r.service,
    r.route,
    r.application,
    r.credential,
    r.model,
    r.provider,
    r.deployment,
    r.api,
    r.stream ? 1 : 0,
    r.status,
    r.outcome,
    r.estimated ? 1 : 0,
    r.inputTokens,
    r.outputTokens,
    r.cachedTokens,
    r.reasoningTokens,
    Math.round(r.costNanoUsd),
    r.attempts,
    Math.round(r.latencyMs),
    r.ttftMs === null ? null : Math.round(r.ttftMs),
  ];
}

/**
 * `count` UUIDv7 ids (RFC 9562: time-ordered, so the primary-key index grows at its end). Without
 * `now`, the clock's and increasing within a millisecond; with it, for that instant.
 */
export function uuidV7s(count: number, now?: number): string[] {
  const out = new Array<string>(count);
  for (let i = 0; i < count; i++) out[i] = now === undefined ? uuidv7() : uuidv7({ msecs: now });
  return out;
}
