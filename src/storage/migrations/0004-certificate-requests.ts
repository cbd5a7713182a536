import type { Kysely, Migration } from 'kysely';
import type { DialectColumnTypes } from '../sql/sql-dialect.js';

/**
 * 0004_certificate_requests: keys and CSRs the gateway made for a tenant's own domains, waiting for
 * the chain a public CA returns. One per certificate name; the key is sealed with the master key.
 */
export function certificateRequestsMigration(types: DialectColumnTypes): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('certificate_requests')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('restrict'))
        .addColumn('name', types.name, (c) => c.notNull())
        .addColumn('hosts', types.json, (c) => c.notNull())
        .addColumn('key_sealed', 'text', (c) => c.notNull())
        .addColumn('csr_pem', 'text', (c) => c.notNull())
        .addColumn('created_at', types.timestamp, (c) => c.notNull())
        .addUniqueConstraint('certificate_requests_tenant_name_key', ['tenant_id', 'name'])
        .execute();
    },
  };
}
