import type { Kysely, Migration } from 'kysely';
import type { DialectColumnTypes } from '../sql/sql-dialect.js';

/**
 * 0003_pki: the built-in certificate authorities and the certificates they issued.
 *
 * - `certificate_authorities`: per tenant, by name. The issuing certificate (an intermediate, or an
 *   imported CA) signs leaves; its key is sealed with the master key. The root, when the gateway
 *   generated one, is kept (certificate, and sealed key for re-issuing the intermediate).
 * - `issued_certificates`: every certificate a CA issued, with its revocation state; serials are
 *   unique per CA. The certificate is kept (public); private keys never are.
 */
export function pkiMigration(types: DialectColumnTypes): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('certificate_authorities')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('restrict'))
        .addColumn('name', types.name, (c) => c.notNull())
        .addColumn('spec', types.json, (c) => c.notNull())
        .addColumn('cert_pem', 'text', (c) => c.notNull())
        .addColumn('key_sealed', 'text', (c) => c.notNull())
        .addColumn('root_cert_pem', 'text')
        .addColumn('root_key_sealed', 'text')
        .addColumn('created_at', types.timestamp, (c) => c.notNull())
        .addUniqueConstraint('certificate_authorities_tenant_name_key', ['tenant_id', 'name'])
        .execute();

      await db.schema
        .createTable('issued_certificates')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('restrict'))
        .addColumn('ca_id', 'text', (c) => c.notNull().references('certificate_authorities.id').onDelete('restrict'))
        .addColumn('serial', 'text', (c) => c.notNull())
        .addColumn('usage', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('sans', types.json, (c) => c.notNull())
        .addColumn('application', types.name)
        .addColumn('fingerprint', 'text', (c) => c.notNull())
        .addColumn('not_before', types.timestamp, (c) => c.notNull())
        .addColumn('not_after', types.timestamp, (c) => c.notNull())
        .addColumn('cert_pem', 'text', (c) => c.notNull())
        .addColumn('revoked_at', types.timestamp)
        .addColumn('revocation_reason', 'text')
        .addColumn('created_at', types.timestamp, (c) => c.notNull())
        .addUniqueConstraint('issued_certificates_ca_serial_key', ['ca_id', 'serial'])
        .execute();
      await db.schema.createIndex('issued_certificates_tenant_idx').on('issued_certificates').columns(['tenant_id', 'not_after']).execute();
    },
  };
}
