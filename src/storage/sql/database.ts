import type { ColumnType } from 'kysely';

/**
 * The Kysely view of the schema created by `migrations/`. One interface serves both backends, so
 * the read side of dialect-specific columns is a union: the row mapper (`row-mapping.ts`), through
 * the dialect, turns it into the contract's types.
 */

/** Written as an ISO-8601 string; read as a string (SQLite `text`) or a Date (PostgreSQL `timestamptz`). */
export type TimestampColumn = ColumnType<string | Date, string, string>;
export type NullableTimestampColumn = ColumnType<string | Date | null, string | null, string | null>;
/** Written as a JSON text; read as text (SQLite) or an already parsed value (PostgreSQL `jsonb`). */
export type JsonColumn = ColumnType<unknown, string, string>;
/** SQLite returns numbers, PostgreSQL `bigint` arrives as a decimal string. */
export type BigIntColumn = ColumnType<number | string | bigint, number, number>;

export interface TenantsTable {
  id: string;
  name: string;
  display_name: string | null;
  created_at: TimestampColumn;
  updated_at: TimestampColumn;
}

export interface ConfigObjectsTable {
  id: string;
  tenant_id: string;
  kind: string;
  name: string;
  spec: JsonColumn;
  version: number;
  created_at: TimestampColumn;
  updated_at: TimestampColumn;
}

/** Exactly one row, id = 1. */
export interface ConfigRevisionTable {
  id: number;
  revision: BigIntColumn;
}

export interface SettingsTable {
  key: string;
  value: string;
}

export interface AdminTokensTable {
  id: string;
  name: string;
  tenant_id: string | null;
  role: string;
  token_hash: string;
  created_at: TimestampColumn;
  expires_at: NullableTimestampColumn;
  revoked_at: NullableTimestampColumn;
}

export interface Database {
  tenants: TenantsTable;
  config_objects: ConfigObjectsTable;
  config_revision: ConfigRevisionTable;
  settings: SettingsTable;
  admin_tokens: AdminTokensTable;
}
