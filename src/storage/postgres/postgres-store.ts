import { CompiledQuery, Kysely, PostgresDialect as KyselyPostgresDialect } from 'kysely';
import pg from 'pg';
import { gatewayError } from '../../core/errors.js';
import type { Database } from '../sql/database.js';
import { SqlStore } from '../sql/sql-store.js';
import type { Store } from '../store.js';
import { PostgresDialect } from './postgres-dialect.js';
import { postgresUsageWriter } from './postgres-usage-writer.js';

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database?…`. */
  url: string;
  /** Schema for all tables, set as the search_path of every pooled connection; created by `migrate()` when missing. */
  schema?: string;
  /** Maximum pooled connections. Default 10. */
  poolSize?: number;
}

const SCHEMA_RE = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/**
 * Opens a PostgreSQL store. Connects lazily: a bad URL throws CONFIG_INVALID here, an unreachable
 * server surfaces as STORAGE from the first call (`ping()` or `migrate()`). Call `migrate()` before use.
 * Error messages never contain the URL's password.
 */
export async function openPostgresStore(opts: PostgresStoreOptions): Promise<Store> {
  const password = passwordOf(opts.url);
  if (opts.schema !== undefined && !SCHEMA_RE.test(opts.schema)) {
    throw gatewayError('CONFIG_INVALID', 'PostgreSQL schema must be a plain identifier (letters, digits, "_"; at most 63)');
  }
  const poolSize = opts.poolSize ?? 10;
  if (!Number.isInteger(poolSize) || poolSize < 1) throw gatewayError('CONFIG_INVALID', 'PostgreSQL pool size must be a positive integer');

  const pool = new pg.Pool({
    connectionString: opts.url,
    max: poolSize,
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
    application_name: 'portcullis',
  });
  // An idle connection dropped by the server must not crash the process; the next query that
  // needs a connection reports the problem as STORAGE.
  pool.on('error', () => undefined);

  const schema = opts.schema;
  const setSearchPath = schema === undefined ? undefined : CompiledQuery.raw(`set search_path to "${schema}"`);
  const dialect = new KyselyPostgresDialect({
    pool,
    ...(setSearchPath && {
      onCreateConnection: async (connection) => {
        await connection.executeQuery(setSearchPath);
      },
    }),
  });
  const secrets = password ? [password, safeDecode(password)] : [];
  const db = new Kysely<Database>({ dialect });
  return new SqlStore(db, new PostgresDialect(schema, secrets), postgresUsageWriter(db));
}

/** The URL's password as written (percent-encoded), or '' when none; CONFIG_INVALID when unparsable. */
function passwordOf(url: string): string {
  try {
    return new URL(url).password;
  } catch {
    throw gatewayError('CONFIG_INVALID', 'PostgreSQL URL is malformed');
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
