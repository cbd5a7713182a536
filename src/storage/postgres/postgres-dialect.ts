import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { gatewayError, type GatewayError } from '../../core/errors.js';
import type { Database } from '../sql/database.js';
import type { DialectColumnTypes, SqlDialect } from '../sql/sql-dialect.js';
import { errorCode, storageError } from '../sql/storage-errors.js';

/**
 * PostgreSQL specifics. Names use the "C" collation (bytewise, as SQLite), specs are `jsonb`,
 * instants `timestamptz`. Write transactions take a transaction-scoped advisory lock first, so they
 * are serialised across every node sharing the schema; `loadAll` reads in a REPEATABLE READ
 * read-only transaction; migrations run under a session advisory lock. Lock keys are derived from
 * the schema name, so stores in different schemas of one database do not wait for each other.
 */
export class PostgresDialect implements SqlDialect {
  readonly backend = 'postgres' as const;
  readonly columnTypes: DialectColumnTypes = {
    name: sql`text collate "C"`,
    json: 'jsonb',
    timestamp: 'timestamptz',
    bigint: 'bigint',
  };
  #schema: Promise<string> | undefined;

  /**
   * @param schema The schema every connection's search_path is set to; undefined to use the
   *   server's default search_path.
   * @param secrets Strings (the URL's password) removed from every error message.
   */
  constructor(
    private readonly schema: string | undefined,
    private readonly secrets: readonly string[],
  ) {}

  decodeJson(raw: unknown): unknown {
    return typeof raw === 'string' ? JSON.parse(raw) : raw;
  }

  decodeTimestamp(raw: string | Date): string {
    return new Date(raw).toISOString();
  }

  writeTransaction<T>(db: Kysely<Database>, fn: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
    return db.transaction().execute(async (trx) => {
      const key = lockKey('transaction', await this.#schemaName(trx));
      await sql`select pg_advisory_xact_lock(${key}::bigint)`.execute(trx);
      return fn(trx);
    });
  }

  readTransaction<T>(db: Kysely<Database>, fn: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
    return db.transaction().setIsolationLevel('repeatable read').setAccessMode('read only').execute(fn);
  }

  /**
   * Holds a session advisory lock on one connection while `fn` runs there, creating the configured
   * schema first if it is missing. Kysely's migrator takes its own, global, lock inside ours, but
   * only after creating its bookkeeping tables, which concurrent nodes would otherwise race on.
   */
  withMigrationLock<T>(db: Kysely<Database>, fn: (conn: Kysely<Database>, migrationSchema: string | undefined) => Promise<T>): Promise<T> {
    return db.connection().execute(async (conn) => {
      const schema = this.schema ?? (await this.#schemaName(conn));
      const key = lockKey('migrate', schema);
      await sql`select pg_advisory_lock(${key}::bigint)`.execute(conn);
      try {
        if (this.schema !== undefined) {
          const exists = await sql`select 1 from pg_namespace where nspname = ${schema}`.execute(conn);
          if (exists.rows.length === 0) await sql`create schema ${sql.id(schema)}`.execute(conn);
        }
        return await fn(conn, schema);
      } finally {
        // If the connection broke, the server has already released the session's lock.
        await sql`select pg_advisory_unlock(${key}::bigint)`.execute(conn).catch(() => undefined);
      }
    });
  }

  isForeignKeyViolation(err: unknown): boolean {
    return errorCode(err) === '23503';
  }

  toStorageError(err: unknown, context?: string): GatewayError {
    return storageError('PostgreSQL', err, this.secrets, context);
  }

  /** The configured schema, or the first existing schema on the server's search_path (cached). */
  #schemaName(db: Kysely<Database>): Promise<string> {
    if (this.schema !== undefined) return Promise.resolve(this.schema);
    this.#schema ??= sql<{ schema: string | null }>`select current_schema() as schema`.execute(db).then((r) => {
      const schema = r.rows[0]?.schema;
      if (!schema) throw gatewayError('STORAGE', 'PostgreSQL search_path names no existing schema');
      return schema;
    });
    this.#schema.catch(() => {
      this.#schema = undefined;
    });
    return this.#schema;
  }
}

/** A 64-bit advisory lock key for one purpose in one schema. */
function lockKey(purpose: string, schema: string): string {
  return createHash('sha256').update(`portcullis:${purpose}:${schema}`).digest().readBigInt64BE(0).toString();
}
