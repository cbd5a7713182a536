import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { gatewayError } from '../../core/errors.js';
import { DEFAULT_TENANT } from '../../model/common.js';
import type { TenantRecord, TenantRelease, TenantsWriter } from '../store.js';
import type { Database } from './database.js';
import { encodeSpec, toTenantRecord, type TenantRow } from './row-mapping.js';
import type { SqlDialect } from './sql-dialect.js';
import { withStorageErrors } from './storage-errors.js';

export async function findTenantRow(db: Kysely<Database>, name: string): Promise<TenantRow | undefined> {
  return db.selectFrom('tenants').selectAll().where('name', '=', name).executeTakeFirst();
}

/** The tenant's row; throws NOT_FOUND when it does not exist. */
export async function requireTenantRow(db: Kysely<Database>, name: string): Promise<TenantRow> {
  const row = await findTenantRow(db, name);
  if (!row) throw gatewayError('NOT_FOUND', `Tenant "${name}" not found`);
  return row;
}

/** All tenants ordered by name. */
export async function listTenantRows(db: Kysely<Database>): Promise<TenantRow[]> {
  return db.selectFrom('tenants').selectAll().orderBy('name').execute();
}

/** Inserts a tenant unless the name is taken; returns the new row, or undefined when it existed. */
export async function insertTenantIfAbsent(db: Kysely<Database>, name: string, displayName: string | null): Promise<TenantRow | undefined> {
  const now = new Date().toISOString();
  return db
    .insertInto('tenants')
    .values({ id: randomUUID(), name, display_name: displayName, created_at: now, updated_at: now })
    .onConflict((oc) => oc.column('name').doNothing())
    .returningAll()
    .executeTakeFirst();
}

/**
 * Tenant administration inside a transaction. Every successful create or delete calls `onWrite`,
 * so the transaction bumps the config revision. The `default` tenant cannot be deleted.
 */
export class SqlTenantsWriter implements TenantsWriter {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: SqlDialect,
    private readonly onWrite: () => void,
  ) {}

  list(): Promise<TenantRecord[]> {
    return this.#guard(async () => (await listTenantRows(this.db)).map((r) => toTenantRecord(r, this.dialect)));
  }

  get(name: string): Promise<TenantRecord | undefined> {
    return this.#guard(async () => {
      const row = await findTenantRow(this.db, name);
      return row && toTenantRecord(row, this.dialect);
    });
  }

  create(name: string, displayName?: string | null): Promise<TenantRecord> {
    return this.#guard(async () => {
      const row = await insertTenantIfAbsent(this.db, name, displayName ?? null);
      if (!row) throw gatewayError('CONFLICT', `Tenant "${name}" already exists`);
      this.onWrite();
      return toTenantRecord(row, this.dialect);
    });
  }

  delete(name: string): Promise<TenantRelease | undefined> {
    return this.#guard(async () => {
      const row = await findTenantRow(this.db, name);
      if (!row) return undefined;
      if (name === DEFAULT_TENANT) throw gatewayError('CONFLICT', `Tenant "${DEFAULT_TENANT}" cannot be deleted`);
      const owned = await this.db
        .selectFrom('config_objects')
        .select('id')
        .where('tenant_id', '=', row.id)
        .limit(1)
        .executeTakeFirst();
      if (owned) throw gatewayError('CONFLICT', `Tenant "${name}" still owns configuration objects; delete them first`);
      // Checked before deleting: on PostgreSQL a foreign-key violation would abort the whole transaction.
      const credential = await this.db.selectFrom('credentials').select('id').where('tenant_id', '=', row.id).limit(1).executeTakeFirst();
      if (credential) throw gatewayError('CONFLICT', `Tenant "${name}" still has application credentials; delete them first`);
      const subscription = await this.db
        .selectFrom('subscriptions')
        .select('id')
        .where((eb) => eb.or([eb('tenant_id', '=', row.id), eb('service_tenant_id', '=', row.id)]))
        .limit(1)
        .executeTakeFirst();
      if (subscription) throw gatewayError('CONFLICT', `Tenant "${name}" still has subscriptions (as subscriber or provider); delete them first`);
      for (const [table, what] of [
        ['certificate_authorities', 'certificate authorities'],
        ['certificate_requests', 'pending certificate requests'],
      ] as const) {
        const left = await this.db.selectFrom(table).select('id').where('tenant_id', '=', row.id).limit(1).executeTakeFirst();
        if (left) throw gatewayError('CONFLICT', `Tenant "${name}" still has ${what}`);
      }
      const release = await releaseSharing(this.db, this.dialect, row.id, name);
      try {
        await this.db.deleteFrom('tenants').where('id', '=', row.id).execute();
      } catch (err) {
        // Tables added later reference tenants with ON DELETE RESTRICT: the same conflict.
        if (this.dialect.isForeignKeyViolation(err)) throw gatewayError('CONFLICT', `Tenant "${name}" still owns objects`, undefined, err);
        throw err;
      }
      this.onWrite();
      return release;
    });
  }

  #guard<T>(fn: () => Promise<T>): Promise<T> {
    return withStorageErrors((err) => this.dialect.toStorageError(err), fn);
  }
}

/**
 * What a deleted tenant leaves with other tenants: its name leaves every service's
 * `access.sharedWith` and every CA's `sharedWith` (a later tenant of that name inherits nothing; the
 * services change version), and the certificates it obtained from CAs shared with it are revoked
 * (cessationOfOperation, unless revoked before) and handed to each CA's owner, whose CRL and OCSP
 * keep answering for them.
 */
async function releaseSharing(db: Kysely<Database>, dialect: SqlDialect, tenantId: string, name: string): Promise<TenantRelease> {
  const now = new Date().toISOString();
  const services: Array<{ tenant: string; name: string }> = [];
  const candidates = await db
    .selectFrom('config_objects as o')
    .innerJoin('tenants as t', 't.id', 'o.tenant_id')
    .select(['o.id', 'o.name', 'o.spec', 't.name as tenant'])
    .where('o.kind', '=', 'service')
    .where('o.tenant_id', '<>', tenantId)
    .execute();
  for (const svc of candidates) {
    const spec = dialect.decodeJson(svc.spec) as Record<string, unknown> & { access?: Record<string, unknown> & { sharedWith?: string[] } };
    const shared = spec.access?.sharedWith;
    if (!Array.isArray(shared) || !shared.includes(name)) continue;
    const next = { ...spec, access: { ...spec.access, sharedWith: shared.filter((t) => t !== name) } };
    await db
      .updateTable('config_objects')
      .set((eb) => ({ spec: encodeSpec(next), version: eb('version', '+', 1), updated_at: now }))
      .where('id', '=', svc.id)
      .execute();
    services.push({ tenant: svc.tenant, name: svc.name });
  }
  const obtained = await db
    .selectFrom('issued_certificates as i')
    .innerJoin('certificate_authorities as c', 'c.id', 'i.ca_id')
    .innerJoin('tenants as t', 't.id', 'c.tenant_id')
    .select(['i.serial', 'i.revoked_at', 'c.name as ca', 't.name as tenant'])
    .where('i.tenant_id', '=', tenantId)
    .execute();
  await db
    .updateTable('issued_certificates')
    .set({ revoked_at: now, revocation_reason: 'cessationOfOperation' })
    .where('tenant_id', '=', tenantId)
    .where('revoked_at', 'is', null)
    .execute();
  await db
    .updateTable('issued_certificates')
    .set((eb) => ({ tenant_id: eb.selectFrom('certificate_authorities as c').select('c.tenant_id').whereRef('c.id', '=', 'issued_certificates.ca_id') }))
    .where('tenant_id', '=', tenantId)
    .execute();
  const cas: Array<{ tenant: string; name: string }> = [];
  const owned = await db
    .selectFrom('certificate_authorities as c')
    .innerJoin('tenants as t', 't.id', 'c.tenant_id')
    .select(['c.id', 'c.name', 'c.spec', 't.name as tenant'])
    .where('c.tenant_id', '<>', tenantId)
    .execute();
  for (const ca of owned) {
    const settings = dialect.decodeJson(ca.spec) as { sharedWith?: string[] };
    if (!settings.sharedWith?.includes(name)) continue;
    await db
      .updateTable('certificate_authorities')
      .set({ spec: JSON.stringify({ ...settings, sharedWith: settings.sharedWith.filter((t) => t !== name) }) })
      .where('id', '=', ca.id)
      .execute();
    cas.push({ tenant: ca.tenant, name: ca.name });
  }
  return { services, cas, certificates: obtained.map((c) => ({ tenant: c.tenant, ca: c.ca, serial: c.serial, revokedNow: c.revoked_at === null })) };
}
