import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import { gatewayError } from '../../core/errors.js';
import type { CredentialRecord, CredentialScopes, CredentialType, NewCredential, TenantCredentials, TenantCredentialsReader } from '../store.js';
import type { CredentialsTable, Database } from './database.js';
import { normaliseTimestamp } from './row-mapping.js';
import type { SqlDialect } from './sql-dialect.js';
import { SqlTenantPart } from './tenant-part.js';

export type CredentialRow = Selectable<CredentialsTable>;

export function toCredentialRecord(row: CredentialRow, tenant: string, dialect: SqlDialect): CredentialRecord {
  const ts = (v: string | Date | null) => (v === null ? null : dialect.decodeTimestamp(v));
  return {
    id: row.id,
    tenant,
    application: row.application,
    type: row.type as CredentialType,
    prefix: row.prefix,
    secretHash: row.secret_hash,
    description: row.description,
    scopes: (dialect.decodeJson(row.scopes) ?? {}) as CredentialScopes,
    boundCertificate: row.bound_certificate,
    expiresAt: ts(row.expires_at),
    revokedAt: ts(row.revoked_at),
    createdAt: dialect.decodeTimestamp(row.created_at),
    lastUsedAt: ts(row.last_used_at),
  };
}

/** Reads of one tenant's credentials: every query carries `tenant_id = <this tenant>`. */
export class SqlTenantCredentialsReader extends SqlTenantPart implements TenantCredentialsReader {

  list(application?: string): Promise<CredentialRecord[]> {
    return this.guard(async () => {
      const rows = await this.rows()
        .$if(application !== undefined, (qb) => qb.where('application', '=', application ?? ''))
        .orderBy('created_at', 'desc')
        .orderBy('id')
        .execute();
      return rows.map((r) => toCredentialRecord(r, this.tenant, this.dialect));
    });
  }

  get(id: string): Promise<CredentialRecord | undefined> {
    return this.guard(async () => {
      const row = await this.rows().where('id', '=', id).executeTakeFirst();
      return row && toCredentialRecord(row, this.tenant, this.dialect);
    });
  }

  protected rows() {
    return this.db.selectFrom('credentials').selectAll().where('tenant_id', '=', this.tenantId);
  }
}

/** One tenant's credentials inside a transaction; each write calls `onWrite` (the revision is bumped). */
export class SqlTenantCredentials extends SqlTenantCredentialsReader implements TenantCredentials {
  constructor(
    db: Kysely<Database>,
    dialect: SqlDialect,
    tenantId: string,
    tenant: string,
    private readonly onWrite: () => void,
  ) {
    super(db, dialect, tenantId, tenant);
  }

  create(input: NewCredential): Promise<CredentialRecord> {
    return this.guard(async () => {
      const row = await this.db
        .insertInto('credentials')
        .values({
          id: randomUUID(),
          tenant_id: this.tenantId,
          application: input.application,
          type: input.type,
          prefix: input.prefix,
          secret_hash: input.secretHash,
          description: input.description ?? null,
          scopes: JSON.stringify(input.scopes ?? {}),
          bound_certificate: input.boundCertificate ?? null,
          expires_at: input.expiresAt == null ? null : normaliseTimestamp(input.expiresAt, 'expiresAt'),
          revoked_at: null,
          created_at: new Date().toISOString(),
          last_used_at: null,
        })
        .onConflict((oc) => oc.column('prefix').doNothing())
        .returningAll()
        .executeTakeFirst();
      if (!row) throw gatewayError('CONFLICT', 'A credential with this prefix already exists');
      this.onWrite();
      return toCredentialRecord(row, this.tenant, this.dialect);
    });
  }

  update(id: string, patch: { expiresAt?: string | null; revokedAt?: string }): Promise<CredentialRecord | undefined> {
    return this.guard(async () => {
      const set: { expires_at?: string | null; revoked_at?: string } = {};
      if (patch.expiresAt !== undefined) set.expires_at = patch.expiresAt === null ? null : normaliseTimestamp(patch.expiresAt, 'expiresAt');
      const current = await this.rows().select('revoked_at').where('id', '=', id).executeTakeFirst();
      if (!current) return undefined;
      if (patch.revokedAt !== undefined && current.revoked_at === null) set.revoked_at = normaliseTimestamp(patch.revokedAt, 'revokedAt');
      if (Object.keys(set).length > 0) {
        await this.db.updateTable('credentials').set(set).where('tenant_id', '=', this.tenantId).where('id', '=', id).execute();
        this.onWrite();
      }
      return this.get(id);
    });
  }

  deleteForApplication(application: string): Promise<number> {
    return this.guard(async () => {
      const r = await this.db.deleteFrom('credentials').where('tenant_id', '=', this.tenantId).where('application', '=', application).executeTakeFirst();
      const n = Number(r.numDeletedRows);
      if (n > 0) this.onWrite();
      return n;
    });
  }
}
