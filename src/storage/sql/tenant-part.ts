import type { Kysely } from 'kysely';
import type { Database } from './database.js';
import type { SqlDialect } from './sql-dialect.js';
import { withStorageErrors } from './storage-errors.js';

/**
 * Base of the SQL pieces bound to one tenant (credentials, subscriptions, PKI): the connection (or
 * transaction), the dialect, and the tenant every query filters on. `guard` turns driver errors into
 * STORAGE errors.
 */
export abstract class SqlTenantPart {
  constructor(
    protected readonly db: Kysely<Database>,
    protected readonly dialect: SqlDialect,
    protected readonly tenantId: string,
    protected readonly tenant: string,
  ) {}

  protected guard<T>(fn: () => Promise<T>): Promise<T> {
    return withStorageErrors((err) => this.dialect.toStorageError(err), fn);
  }
}
