import type Sqlite from 'better-sqlite3';
import type { Kysely } from 'kysely';
import type { Database } from '../sql/database.js';
import { USAGE_COLUMNS, type UsageRowValues, type UsageRowWriter } from '../sql/llm-usage-rows.js';

/**
 * The SQLite {@link UsageRowWriter}: one prepared single-row INSERT, run for every row inside one
 * IMMEDIATE transaction (better-sqlite3, synchronous). The statement is prepared on first use (the
 * table exists only after `migrate()`) and kept. It runs while holding Kysely's connection (the
 * driver's mutex), so it never lands inside another caller's open transaction on the same
 * connection, and no Kysely query runs while it writes.
 */
export function sqliteUsageWriter(database: Sqlite.Database, db: Kysely<Database>): UsageRowWriter {
  let insertAll: Sqlite.Transaction<(rows: readonly UsageRowValues[]) => void> | undefined;
  const prepare = (): Sqlite.Transaction<(rows: readonly UsageRowValues[]) => void> => {
    const insert = database.prepare(`insert into llm_usage (${USAGE_COLUMNS.join(', ')}) values (${USAGE_COLUMNS.map(() => '?').join(', ')})`);
    return database.transaction((rows: readonly UsageRowValues[]) => {
      for (const row of rows) insert.run(row);
    });
  };
  return (rows) =>
    db.connection().execute(async () => {
      insertAll ??= prepare();
      insertAll.immediate(rows);
    });
}
