import type { Kysely, Migration } from 'kysely';
import type { DialectColumnTypes } from '../sql/sql-dialect.js';

/**
 * 0006_acme: ACME accounts (one per tenant and CA directory; key sealed), certificates obtained for
 * domains (key sealed) with their renewal state, challenge answers (any node may be asked), and
 * leases (one node at a time works on a certificate).
 */
export function acmeMigration(types: DialectColumnTypes): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('acme_accounts')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('directory', 'text', (c) => c.notNull())
        .addColumn('email', 'text')
        .addColumn('key_sealed', 'text', (c) => c.notNull())
        .addColumn('url', 'text')
        .addColumn('created_at', types.timestamp, (c) => c.notNull())
        .addUniqueConstraint('acme_accounts_tenant_directory_key', ['tenant_id', 'directory'])
        .execute();
      await db.schema
        .createTable('acme_certificates')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('domain', types.name, (c) => c.notNull())
        .addColumn('hosts', types.json, (c) => c.notNull())
        .addColumn('cert_pem', 'text')
        .addColumn('key_sealed', 'text')
        .addColumn('not_before', types.timestamp)
        .addColumn('not_after', types.timestamp)
        .addColumn('issued_at', types.timestamp)
        .addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('last_error', 'text')
        .addColumn('last_attempt_at', types.timestamp)
        .addColumn('next_attempt_at', types.timestamp)
        .addUniqueConstraint('acme_certificates_tenant_domain_key', ['tenant_id', 'domain'])
        .execute();
      await db.schema
        .createTable('acme_challenges')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('expires_at', types.timestamp, (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('leases')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('holder', 'text', (c) => c.notNull())
        .addColumn('expires_at', types.timestamp, (c) => c.notNull())
        .execute();
    },
  };
}
