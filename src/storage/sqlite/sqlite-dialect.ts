import { sql, type Kysely } from 'kysely';
import type { GatewayError } from '../../core/errors.js';
import type { Database } from '../sql/database.js';
import type { DialectColumnTypes, SqlDialect } from '../sql/sql-dialect.js';
import { errorCode, storageError } from '../sql/storage-errors.js';

/**
 * SQLite specifics. The store has a single better-sqlite3 connection; Kysely's SqliteDriver hands it
 * out under a mutex held for a whole `connection()` or transaction callback, so transactions of one
 * store never interleave and plain queries wait for a running transaction. Write transactions use
 * BEGIN IMMEDIATE so that another process on the same file makes us wait (busy_timeout) at the
 * start rather than fail half-way. JSON and instants are stored as text.
 */
export class SqliteDialect implements SqlDialect {
  readonly backend = 'sqlite' as const;
  readonly columnTypes: DialectColumnTypes = { name: 'text', json: 'text', timestamp: 'text', bigint: 'integer' };

  decodeJson(raw: unknown): unknown {
    return typeof raw === 'string' ? JSON.parse(raw) : raw;
  }

  decodeTimestamp(raw: string | Date): string {
    return typeof raw === 'string' ? raw : raw.toISOString();
  }

  writeTransaction<T>(db: Kysely<Database>, fn: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
    return this.#transaction(db, 'begin immediate', fn);
  }

  readTransaction<T>(db: Kysely<Database>, fn: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
    return this.#transaction(db, 'begin deferred', fn);
  }

  /** One IMMEDIATE transaction around the whole migration: SQLite DDL is transactional. */
  withMigrationLock<T>(db: Kysely<Database>, fn: (conn: Kysely<Database>, migrationSchema: string | undefined) => Promise<T>): Promise<T> {
    return this.writeTransaction(db, (conn) => fn(conn, undefined));
  }

  /** Deferred and NO ACTION checks report SQLITE_CONSTRAINT_FOREIGNKEY; ON DELETE RESTRICT reports SQLITE_CONSTRAINT_TRIGGER. */
  isForeignKeyViolation(err: unknown): boolean {
    const code = errorCode(err);
    if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') return true;
    return code === 'SQLITE_CONSTRAINT_TRIGGER' && err instanceof Error && err.message.includes('FOREIGN KEY constraint failed');
  }

  toStorageError(err: unknown, context?: string): GatewayError {
    return storageError('SQLite', err, [], context);
  }

  async #transaction<T>(db: Kysely<Database>, begin: string, fn: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
    return db.connection().execute(async (conn) => {
      await sql.raw(begin).execute(conn);
      try {
        const result = await fn(conn);
        await sql.raw('commit').execute(conn);
        return result;
      } catch (err) {
        // Fails harmlessly when SQLite already rolled back (or the commit went through).
        await sql.raw('rollback').execute(conn).catch(() => undefined);
        throw err;
      }
    });
  }
}
