import type { Kysely, Migration } from 'kysely';
import type { DialectColumnTypes } from '../sql/sql-dialect.js';

/**
 * 0002_access: application credentials, subscriptions and the hash-chained audit log.
 *
 * - `credentials`: one row per API key or OAuth2 client; the secret is only a keyed hash. `prefix`
 *   is globally unique (it is how the data plane finds a presented key).
 * - `subscriptions`: an application (subscriber tenant) and a service (provider tenant), with an
 *   approval status. Both tenants are foreign keys, so each side's queries filter on its own id.
 * - `audit_log`: append-only; `seq` has no gaps and each row's `hash` covers the previous row's hash.
 */
export function accessMigration(types: DialectColumnTypes): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('credentials')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('restrict'))
        .addColumn('application', types.name, (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('prefix', 'text', (c) => c.notNull().unique())
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('scopes', types.json, (c) => c.notNull())
        .addColumn('bound_certificate', 'text')
        .addColumn('expires_at', types.timestamp)
        .addColumn('revoked_at', types.timestamp)
        .addColumn('created_at', types.timestamp, (c) => c.notNull())
        .addColumn('last_used_at', types.timestamp)
        .execute();
      await db.schema.createIndex('credentials_tenant_app_idx').on('credentials').columns(['tenant_id', 'application']).execute();

      await db.schema
        .createTable('subscriptions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('restrict'))
        .addColumn('application', types.name, (c) => c.notNull())
        .addColumn('service_tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('restrict'))
        .addColumn('service', types.name, (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('comment', 'text')
        .addColumn('requested_by', 'text')
        .addColumn('decided_by', 'text')
        .addColumn('requested_at', types.timestamp, (c) => c.notNull())
        .addColumn('decided_at', types.timestamp)
        .addColumn('updated_at', types.timestamp, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('subscriptions_tenant_app_idx').on('subscriptions').columns(['tenant_id', 'application']).execute();
      await db.schema.createIndex('subscriptions_service_idx').on('subscriptions').columns(['service_tenant_id', 'service']).execute();

      await db.schema
        .createTable('audit_log')
        .addColumn('seq', types.bigint, (c) => c.primaryKey())
        .addColumn('at', types.timestamp, (c) => c.notNull())
        // No foreign key: entries outlive the tenant they describe.
        .addColumn('tenant', 'text')
        // The canonical JSON body the hash covers, verbatim (not jsonb: its normalisation would change it).
        .addColumn('entry', 'text', (c) => c.notNull())
        .addColumn('prev_hash', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('audit_log_tenant_idx').on('audit_log').columns(['tenant', 'seq']).execute();
    },
  };
}
