import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gatewayError } from '../core/errors.js';
import { openPostgresStore } from './postgres/postgres-store.js';
import { openSqliteStore } from './sqlite/sqlite-store.js';
import type { Store } from './store.js';

export interface OpenStoreOptions {
  /**
   * `postgres://…` or `postgresql://…` for PostgreSQL; `sqlite:<path>` (`sqlite::memory:` for an
   * in-memory database) or a `file:` URL for SQLite; absent or empty for SQLite at
   * `<dataDir>/portcullis.db`. A relative `sqlite:` path is relative to the working directory.
   */
  databaseUrl?: string | undefined;
  /** Directory for the default SQLite database (created when missing). */
  dataDir: string;
  /** PostgreSQL schema (see {@link openPostgresStore}); ignored for SQLite. */
  schema?: string | undefined;
}

export const DEFAULT_SQLITE_FILE = 'portcullis.db';

/**
 * Opens the store the options designate, without migrating it. Throws CONFIG_INVALID for an
 * unsupported or malformed URL; the message names the scheme at most, never the URL (which may
 * carry a password).
 */
export async function openStore(opts: OpenStoreOptions): Promise<Store> {
  const url = opts.databaseUrl?.trim() ?? '';
  if (url === '') return openSqliteStore({ path: join(opts.dataDir, DEFAULT_SQLITE_FILE) });

  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  switch (scheme) {
    case 'postgres':
    case 'postgresql':
      return openPostgresStore({ url, ...(opts.schema === undefined ? {} : { schema: opts.schema }) });
    case 'sqlite':
      return openSqliteStore({ path: sqlitePath(url.slice('sqlite:'.length)) });
    case 'file':
      return openSqliteStore({ path: filePath(url) });
    case undefined:
      throw gatewayError('CONFIG_INVALID', 'databaseUrl must be a URL: postgres://…, postgresql://…, sqlite:<path> or file:<path>');
    default:
      throw gatewayError('CONFIG_INVALID', `databaseUrl scheme "${scheme}:" is not supported (use postgres://, postgresql://, sqlite: or file:)`);
  }
}

/** `sqlite:/abs`, `sqlite:rel`, `sqlite:///abs` and `sqlite::memory:`. */
function sqlitePath(rest: string): string {
  const path = rest.startsWith('//') ? rest.slice(2) : rest;
  if (path === ':memory:') return path;
  if (path === '') throw gatewayError('CONFIG_INVALID', 'databaseUrl "sqlite:" needs a file path');
  return isAbsolute(path) ? path : resolve(path);
}

function filePath(url: string): string {
  try {
    return fileURLToPath(url);
  } catch {
    throw gatewayError('CONFIG_INVALID', 'databaseUrl file: URL is malformed');
  }
}
