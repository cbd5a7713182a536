import { Migrator, type Kysely } from 'kysely';
import type { Database } from '../sql/database.js';
import type { SqlDialect } from '../sql/sql-dialect.js';
import { migrationProvider } from './migration-provider.js';

/** Bookkeeping tables, named after the product rather than Kysely's defaults. */
export const MIGRATION_TABLE = 'portcullis_migration';
export const MIGRATION_LOCK_TABLE = 'portcullis_migration_lock';

/**
 * Brings the schema to the latest version (the initial migration also creates the `default`
 * tenant). Runs under the dialect's migration lock, so several nodes may call it at once: the first
 * migrates, the others then find nothing to do. Idempotent. Throws STORAGE when a migration fails.
 */
export async function runMigrations(db: Kysely<Database>, dialect: SqlDialect): Promise<void> {
  await dialect.withMigrationLock(db, async (conn, migrationSchema) => {
    const migrator = new Migrator({
      db: conn,
      provider: migrationProvider(dialect.columnTypes),
      migrationTableName: MIGRATION_TABLE,
      migrationLockTableName: MIGRATION_LOCK_TABLE,
      ...(migrationSchema === undefined ? {} : { migrationTableSchema: migrationSchema }),
    });
    const { error, results } = await migrator.migrateToLatest();
    if (error !== undefined) {
      const failed = results?.find((r) => r.status === 'Error')?.migrationName;
      throw dialect.toStorageError(error, failed ? `migration ${failed}` : 'migration');
    }
  });
}
