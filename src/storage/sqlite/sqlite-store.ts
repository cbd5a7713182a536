import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Sqlite from 'better-sqlite3';
import { Kysely, SqliteDialect as KyselySqliteDialect } from 'kysely';
import type { Store } from '../store.js';
import type { Database } from '../sql/database.js';
import { SqlStore } from '../sql/sql-store.js';
import { SqliteDialect } from './sqlite-dialect.js';
import { sqliteUsageWriter } from './sqlite-usage-writer.js';

export interface SqliteStoreOptions {
  /** Database file, or `:memory:` for a private in-memory database (tests). */
  path: string;
  /** How long a write waits for another process holding the file's write lock. Default 5000 ms. */
  busyTimeoutMs?: number;
}

const IN_MEMORY = ':memory:';

/**
 * Opens (creating if needed) a SQLite store. The file and its parent directory are created
 * owner-only (0600 / 0700) and the file's mode is reset to 0600 if it was wider; SQLite gives the
 * -wal and -shm files the same mode. Connection settings: WAL journal, NORMAL sync, busy_timeout,
 * foreign keys on. Call `migrate()` before use. Throws STORAGE when the file cannot be opened.
 *
 * Open one store per file per process: better-sqlite3 waits for another connection's write lock
 * synchronously (up to busy_timeout), so two stores on one file in one process would stall each
 * other and the event loop. Other processes on the same file are fine (they wait, then proceed).
 */
export async function openSqliteStore(opts: SqliteStoreOptions): Promise<Store> {
  const dialect = new SqliteDialect();
  let database: Sqlite.Database;
  try {
    if (opts.path !== IN_MEMORY) prepareFile(opts.path);
    database = new Sqlite(opts.path);
  } catch (err) {
    throw dialect.toStorageError(err, 'open');
  }
  try {
    database.pragma('journal_mode = WAL');
    database.pragma('synchronous = NORMAL');
    database.pragma(`busy_timeout = ${Math.max(0, Math.trunc(opts.busyTimeoutMs ?? 5000))}`);
    database.pragma('foreign_keys = ON');
  } catch (err) {
    database.close();
    throw dialect.toStorageError(err, 'open');
  }
  const db = new Kysely<Database>({ dialect: new KyselySqliteDialect({ database }) });
  return new SqlStore(db, dialect, sqliteUsageWriter(database, db));
}

/** Creates the directory and an empty owner-only file, or narrows an existing file to 0600. */
function prepareFile(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  closeSync(openSync(path, 'a', 0o600));
  chmodSync(path, 0o600);
}
