import type { Kysely } from 'kysely';
import type { AuditEntryInput, AuditLinker, StoreTx, TenantScope } from '../store.js';
import { appendAudit } from './audit-log.js';
import type { Database } from './database.js';
import type { SqlDialect } from './sql-dialect.js';
import { withStorageErrors } from './storage-errors.js';
import { SqlTenantScope } from './tenant-scope.js';
import { requireTenantRow, SqlTenantsWriter } from './tenants.js';

/**
 * What a {@link SqlStore} transaction callback receives. Records whether any tenant or config
 * object was written, so the store bumps the revision exactly once before committing.
 */
export class SqlStoreTx implements StoreTx {
  readonly tenants: SqlTenantsWriter;
  #wrote = false;

  constructor(
    private readonly trx: Kysely<Database>,
    private readonly dialect: SqlDialect,
  ) {
    this.tenants = new SqlTenantsWriter(trx, dialect, this.#markWritten);
  }

  get planning(): this {
    return this;
  }

  /** True once any write changed a tenant or a config object. */
  get wrote(): boolean {
    return this.#wrote;
  }

  tenant(name: string): Promise<TenantScope> {
    return withStorageErrors(
      (err) => this.dialect.toStorageError(err),
      async () => {
        const row = await requireTenantRow(this.trx, name);
        return new SqlTenantScope(this.trx, this.dialect, row.id, row.name, this.#markWritten);
      },
    );
  }

  async audit(entries: readonly AuditEntryInput[], link: AuditLinker): Promise<void> {
    await withStorageErrors(
      (err) => this.dialect.toStorageError(err),
      () => appendAudit(this.trx, entries, link),
    );
  }

  readonly #markWritten = (): void => {
    this.#wrote = true;
  };
}
