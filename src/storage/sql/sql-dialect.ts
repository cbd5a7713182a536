import type { ColumnDataType, Expression, Kysely } from 'kysely';
import type { GatewayError } from '../../core/errors.js';
import type { Database } from './database.js';

/** A column type in a migration: a Kysely type name or raw SQL such as `text collate "C"`. */
export type SqlColumnType = ColumnDataType | Expression<unknown>;

/** Column types that differ per backend; migrations use these instead of literal type names. */
export interface DialectColumnTypes {
  /** Tenant and object names. Must compare and sort bytewise, so pagination is identical on every backend. */
  readonly name: SqlColumnType;
  /** A JSON document (`jsonb` / `text`). */
  readonly json: SqlColumnType;
  /** An instant, written as an ISO-8601 string (`timestamptz` / `text`). */
  readonly timestamp: SqlColumnType;
  /** A 64-bit counter. */
  readonly bigint: SqlColumnType;
}

/**
 * The few things that differ between the SQL backends. Everything else (queries, semantics,
 * error mapping) lives once in {@link SqlStore}.
 */
export interface SqlDialect {
  readonly backend: 'sqlite' | 'postgres';
  readonly columnTypes: DialectColumnTypes;

  /** Turns a value read from a JSON column into a JavaScript value. */
  decodeJson(raw: unknown): unknown;
  /** Turns a value read from a timestamp column into an ISO-8601 string. */
  decodeTimestamp(raw: string | Date): string;

  /**
   * Runs `fn` in a read-write transaction on one connection and commits, or rolls back and rethrows.
   * Write transactions are serialised: no two run their `fn` at the same time on the same database
   * (per store for SQLite, across all nodes for PostgreSQL).
   */
  writeTransaction<T>(db: Kysely<Database>, fn: (trx: Kysely<Database>) => Promise<T>): Promise<T>;
  /** Runs `fn` in a read-only transaction whose reads all see one snapshot. */
  readTransaction<T>(db: Kysely<Database>, fn: (trx: Kysely<Database>) => Promise<T>): Promise<T>;
  /**
   * Runs `fn` on one connection while holding the database-wide migration lock, so concurrent
   * migrations (several nodes starting at once) run one after the other. `migrationSchema` is the
   * schema holding the migration bookkeeping tables, when the backend has schemas.
   */
  withMigrationLock<T>(db: Kysely<Database>, fn: (conn: Kysely<Database>, migrationSchema: string | undefined) => Promise<T>): Promise<T>;

  /** True for a foreign-key violation raised by the driver. */
  isForeignKeyViolation(err: unknown): boolean;
  /** A STORAGE error describing a driver error, with no credentials in its message. */
  toStorageError(err: unknown, context?: string): GatewayError;
}
