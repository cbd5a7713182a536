import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { gatewayError } from '../../core/errors.js';
import type { ConfigKind, ConfigRecord, Page, PageRequest, TenantScope, TenantScopeReader } from '../store.js';
import { SqlTenantCredentials, SqlTenantCredentialsReader } from './credentials.js';
import { SqlTenantSubscriptions, SqlTenantSubscriptionsReader } from './subscriptions.js';
import { SqlTenantPki, SqlTenantPkiReader } from './pki.js';
import { findTenantRow } from './tenants.js';
import type { Database } from './database.js';
import { encodeSpec, toConfigRecord } from './row-mapping.js';
import type { SqlDialect } from './sql-dialect.js';
import { withStorageErrors } from './storage-errors.js';

export const MAX_PAGE_LIMIT = 1000;

/**
 * Reads bound to one tenant. Every query carries `tenant_id = <this tenant>`; there is no way to
 * reach another tenant's rows through this object.
 */
export class SqlTenantScopeReader implements TenantScopeReader {
  readonly credentials: SqlTenantCredentialsReader;
  readonly subscriptions: SqlTenantSubscriptionsReader;
  readonly pki: SqlTenantPkiReader;

  constructor(
    protected readonly db: Kysely<Database>,
    protected readonly dialect: SqlDialect,
    protected readonly tenantId: string,
    readonly tenant: string,
  ) {
    this.credentials = new SqlTenantCredentialsReader(db, dialect, tenantId, tenant);
    this.subscriptions = new SqlTenantSubscriptionsReader(db, dialect, tenantId, tenant);
    this.pki = new SqlTenantPkiReader(db, dialect, tenantId, tenant);
  }

  visibleService(serviceTenant: string, name: string): Promise<ConfigRecord | undefined> {
    return this.guard(async () => {
      if (serviceTenant === this.tenant) return this.get('service', name);
      const owner = await findTenantRow(this.db, serviceTenant);
      if (!owner) return undefined;
      const row = await this.db
        .selectFrom('config_objects')
        .selectAll()
        .where('tenant_id', '=', owner.id)
        .where('kind', '=', 'service')
        .where('name', '=', name)
        .executeTakeFirst();
      if (!row) return undefined;
      const rec = toConfigRecord(row, owner.name, this.dialect);
      const shared = (rec.spec.access as { sharedWith?: unknown } | undefined)?.sharedWith;
      return Array.isArray(shared) && shared.includes(this.tenant) ? rec : undefined;
    });
  }

  /** Throws VALIDATION when `limit` is not an integer in 1..1000. `next` is set whenever the page is full. */
  list(kind: ConfigKind, page: PageRequest): Promise<Page<ConfigRecord>> {
    return this.guard(async () => {
      if (!Number.isInteger(page.limit) || page.limit < 1 || page.limit > MAX_PAGE_LIMIT) {
        throw gatewayError('VALIDATION', `limit must be an integer from 1 to ${MAX_PAGE_LIMIT}`);
      }
      const after = page.after;
      const rows = await this.objects(kind)
        .$if(after !== undefined, (qb) => qb.where('name', '>', after ?? ''))
        .orderBy('name')
        .limit(page.limit)
        .execute();
      const items = rows.map((r) => toConfigRecord(r, this.tenant, this.dialect));
      const last = items.at(-1);
      return items.length === page.limit && last ? { items, next: last.name } : { items };
    });
  }

  listAll(kind: ConfigKind): Promise<ConfigRecord[]> {
    return this.guard(async () => {
      const rows = await this.objects(kind).orderBy('name').execute();
      return rows.map((r) => toConfigRecord(r, this.tenant, this.dialect));
    });
  }

  get(kind: ConfigKind, name: string): Promise<ConfigRecord | undefined> {
    return this.guard(async () => {
      const row = await this.objects(kind).where('name', '=', name).executeTakeFirst();
      return row && toConfigRecord(row, this.tenant, this.dialect);
    });
  }

  /** All columns of this tenant's objects of one kind. */
  protected objects(kind: ConfigKind) {
    return this.db.selectFrom('config_objects').selectAll().where('tenant_id', '=', this.tenantId).where('kind', '=', kind);
  }

  protected guard<T>(fn: () => Promise<T>): Promise<T> {
    return withStorageErrors((err) => this.dialect.toStorageError(err), fn);
  }
}

/** Reads and writes bound to one tenant inside a transaction; each successful write calls `onWrite`. */
export class SqlTenantScope extends SqlTenantScopeReader implements TenantScope {
  declare readonly credentials: SqlTenantCredentials;
  declare readonly subscriptions: SqlTenantSubscriptions;
  declare readonly pki: SqlTenantPki;

  constructor(
    db: Kysely<Database>,
    dialect: SqlDialect,
    tenantId: string,
    tenant: string,
    private readonly onWrite: () => void,
  ) {
    super(db, dialect, tenantId, tenant);
    this.credentials = new SqlTenantCredentials(db, dialect, tenantId, tenant, onWrite);
    this.subscriptions = new SqlTenantSubscriptions(db, dialect, tenantId, tenant, onWrite);
    this.pki = new SqlTenantPki(db, dialect, tenantId, tenant, onWrite);
  }

  create(kind: ConfigKind, name: string, spec: Record<string, unknown>): Promise<ConfigRecord> {
    return this.guard(async () => {
      const now = new Date().toISOString();
      const row = await this.db
        .insertInto('config_objects')
        .values({
          id: randomUUID(),
          tenant_id: this.tenantId,
          kind,
          name,
          spec: encodeSpec(spec),
          version: 1,
          created_at: now,
          updated_at: now,
        })
        .onConflict((oc) => oc.columns(['tenant_id', 'kind', 'name']).doNothing())
        .returningAll()
        .executeTakeFirst();
      if (!row) throw gatewayError('CONFLICT', `${kind} "${name}" already exists in tenant "${this.tenant}"`);
      this.onWrite();
      return toConfigRecord(row, this.tenant, this.dialect);
    });
  }

  update(kind: ConfigKind, name: string, spec: Record<string, unknown>, expectedVersion?: number): Promise<ConfigRecord> {
    return this.guard(async () => {
      const row = await this.db
        .updateTable('config_objects')
        .set((eb) => ({ spec: encodeSpec(spec), version: eb('version', '+', 1), updated_at: new Date().toISOString() }))
        .where('tenant_id', '=', this.tenantId)
        .where('kind', '=', kind)
        .where('name', '=', name)
        .$if(expectedVersion !== undefined, (qb) => qb.where('version', '=', expectedVersion ?? 0))
        .returningAll()
        .executeTakeFirst();
      if (row) {
        this.onWrite();
        return toConfigRecord(row, this.tenant, this.dialect);
      }
      const current = await this.objects(kind).select('version').where('name', '=', name).executeTakeFirst();
      if (!current) throw gatewayError('NOT_FOUND', `${kind} "${name}" not found in tenant "${this.tenant}"`);
      throw gatewayError('CONFLICT', `${kind} "${name}" is at version ${current.version}, not ${String(expectedVersion)}`);
    });
  }

  delete(kind: ConfigKind, name: string): Promise<boolean> {
    return this.guard(async () => {
      const result = await this.db
        .deleteFrom('config_objects')
        .where('tenant_id', '=', this.tenantId)
        .where('kind', '=', kind)
        .where('name', '=', name)
        .executeTakeFirst();
      const deleted = result.numDeletedRows > 0n;
      if (deleted) this.onWrite();
      return deleted;
    });
  }
}
