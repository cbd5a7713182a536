import { sql, type Kysely } from 'kysely';
import { GatewayError, gatewayError } from '../../core/errors.js';
import { runMigrations } from '../migrations/run-migrations.js';
import type { AdminTokens, ConfigDump, Store, StoreTx, TenantRecord, TenantScopeReader } from '../store.js';
import { SqlAuditLog } from './audit-log.js';
import { SqlLlmUsage } from './llm-usage.js';
import type { UsageRowWriter } from './llm-usage-rows.js';
import { SqlAcmeStore } from './acme.js';
import { toCredentialRecord } from './credentials.js';
import { mapSubscriptions, selectSubscriptions } from './subscriptions.js';
import { loadPki } from './pki.js';
import { SqlAdminTokens } from './admin-tokens.js';
import { bumpRevision, readRevision } from './config-revision.js';
import type { Database } from './database.js';
import { normaliseTimestamp, toConfigRecord, toTenantRecord } from './row-mapping.js';
import type { SqlDialect } from './sql-dialect.js';
import { withStorageErrors } from './storage-errors.js';
import { SqlStoreTx } from './store-tx.js';
import { SqlTenantScopeReader } from './tenant-scope.js';
import { listTenantRows, requireTenantRow } from './tenants.js';

/**
 * The one {@link Store} implementation for every SQL backend, written against Kysely. Backend
 * differences (column types, transaction serialisation, migration locking, error codes) come from
 * the {@link SqlDialect}; LLM usage rows are appended by the backend's {@link UsageRowWriter}.
 *
 * Driver errors surface as STORAGE GatewayErrors with credentials removed; errors thrown by a
 * transaction callback are rethrown unchanged after rollback. Do not call store methods from inside
 * a transaction callback (use the `tx` argument): on SQLite the store has one connection, and on
 * PostgreSQL a nested `transaction()` waits for the outer one, so either would wait forever.
 */
export class SqlStore implements Store {
  readonly backend: 'sqlite' | 'postgres';
  readonly adminTokens: AdminTokens;
  readonly audit: SqlAuditLog;
  readonly llmUsage: SqlLlmUsage;
  readonly acme: SqlAcmeStore;
  #closing: Promise<void> | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: SqlDialect,
    usageWriter: UsageRowWriter,
  ) {
    this.backend = dialect.backend;
    this.adminTokens = new SqlAdminTokens(db, dialect);
    this.audit = new SqlAuditLog(db, dialect);
    this.llmUsage = new SqlLlmUsage(db, dialect, usageWriter);
    this.acme = new SqlAcmeStore(db, dialect);
  }

  migrate(): Promise<void> {
    return this.#guard(() => runMigrations(this.db, this.dialect));
  }

  ping(): Promise<void> {
    return this.#guard(async () => {
      await sql`select 1`.execute(this.db);
    });
  }

  /** Destroys the Kysely instance (closing the pool or database file) once; later calls return the same promise. */
  close(): Promise<void> {
    this.#closing ??= this.db.destroy().catch((err: unknown) => {
      throw this.dialect.toStorageError(err, 'close');
    });
    return this.#closing;
  }

  async transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    this.#assertOpen();
    // Tells the callback's own errors (rethrown as they are) apart from driver errors (begin, commit).
    let callbackError: { error: unknown } | undefined;
    try {
      return await this.dialect.writeTransaction(this.db, async (trx) => {
        const tx = new SqlStoreTx(trx, this.dialect);
        let result: T;
        try {
          result = await fn(tx);
        } catch (error) {
          callbackError = { error };
          throw error;
        }
        if (tx.wrote) await bumpRevision(trx);
        return result;
      });
    } catch (err) {
      if (callbackError && callbackError.error === err) throw err;
      throw err instanceof GatewayError ? err : this.dialect.toStorageError(err);
    }
  }

  tenant(name: string): Promise<TenantScopeReader> {
    return this.#guard(async () => {
      const row = await requireTenantRow(this.db, name);
      return new SqlTenantScopeReader(this.db, this.dialect, row.id, row.name);
    });
  }

  listTenants(): Promise<TenantRecord[]> {
    return this.#guard(async () => (await listTenantRows(this.db)).map((r) => toTenantRecord(r, this.dialect)));
  }

  revision(): Promise<number> {
    return this.#guard(() => readRevision(this.db));
  }

  /** Revision, tenants (by name) and objects (by tenant, kind, name) from one read snapshot. */
  loadAll(): Promise<ConfigDump> {
    return this.#guard(() =>
      this.dialect.readTransaction(this.db, async (trx) => {
        const revision = await readRevision(trx);
        const tenants = (await listTenantRows(trx)).map((r) => toTenantRecord(r, this.dialect));
        const rows = await trx
          .selectFrom('config_objects as o')
          .innerJoin('tenants as t', 't.id', 'o.tenant_id')
          .selectAll('o')
          .select('t.name as tenant_name')
          .orderBy('t.name')
          .orderBy('o.kind')
          .orderBy('o.name')
          .execute();
        const objects = rows.map((r) => toConfigRecord(r, r.tenant_name, this.dialect));
        const credRows = await trx
          .selectFrom('credentials as c')
          .innerJoin('tenants as t', 't.id', 'c.tenant_id')
          .selectAll('c')
          .select('t.name as tenant_name')
          .orderBy('c.prefix')
          .execute();
        const credentials = credRows.map((r) => toCredentialRecord(r, r.tenant_name, this.dialect));
        const subscriptions = mapSubscriptions(await selectSubscriptions(trx).where('s.status', 'in', ['approved', 'pending']).orderBy('s.id').execute(), this.dialect);
        const pki = await loadPki(trx, this.dialect);
        const acme = await new SqlAcmeStore(trx, this.dialect).listCertificates();
        return { revision, tenants, objects, credentials, subscriptions, pki, acme };
      }),
    );
  }

  getSetting(key: string): Promise<string | undefined> {
    return this.#guard(async () => {
      const row = await this.db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst();
      return row?.value;
    });
  }

  /** Insert-or-ignore, then read back: concurrent callers (on any node) all get the first writer's value. */
  putSettingIfAbsent(key: string, value: string): Promise<string> {
    return this.#guard(async () => {
      await this.db
        .insertInto('settings')
        .values({ key, value })
        .onConflict((oc) => oc.column('key').doNothing())
        .execute();
      const row = await this.db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirstOrThrow();
      return row.value;
    });
  }

  putSetting(key: string, value: string): Promise<void> {
    return this.#guard(async () => {
      await this.db
        .insertInto('settings')
        .values({ key, value })
        .onConflict((oc) => oc.column('key').doUpdateSet((eb) => ({ value: eb.ref('excluded.value') })))
        .execute();
    });
  }

  touchCredentials(uses: ReadonlyArray<{ id: string; at: string }>): Promise<void> {
    return this.#guard(async () => {
      for (const u of uses) {
        // Normalised, as every stored instant: SQLite compares them as text.
        const at = normaliseTimestamp(u.at, 'at');
        await this.db
          .updateTable('credentials')
          .set({ last_used_at: at })
          .where('id', '=', u.id)
          .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', at)]))
          .execute();
      }
    });
  }

  #assertOpen(): void {
    if (this.#closing) throw gatewayError('STORAGE', 'Store is closed');
  }

  #guard<T>(fn: () => Promise<T>): Promise<T> {
    return withStorageErrors(
      (err) => this.dialect.toStorageError(err),
      async () => {
        this.#assertOpen();
        return fn();
      },
    );
  }
}
