import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { gatewayError } from '../../core/errors.js';
import type { AdminRole, AdminTokenRecord, AdminTokens } from '../store.js';
import type { Database } from './database.js';
import { normaliseTimestamp, toAdminTokenRecord } from './row-mapping.js';
import type { SqlDialect } from './sql-dialect.js';
import { withStorageErrors } from './storage-errors.js';
import { requireTenantRow } from './tenants.js';

/**
 * Admin API tokens, stored by hash only. Writes are single statements outside config transactions
 * and do not bump the config revision. A tenant's tokens are deleted with the tenant. Instants are
 * normalised to `Date#toISOString()` form before storing, so they compare correctly on SQLite (text)
 * as on PostgreSQL (timestamptz).
 */
export class SqlAdminTokens implements AdminTokens {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: SqlDialect,
  ) {}

  /** Throws NOT_FOUND for an unknown tenant, CONFLICT when the hash is already stored, VALIDATION for a bad `expiresAt`. */
  create(token: { name: string; tenant: string | null; role: AdminRole; hash: string; expiresAt?: string | null }): Promise<AdminTokenRecord> {
    return this.#guard(async () => {
      const expiresAt = token.expiresAt == null ? null : normaliseTimestamp(token.expiresAt, 'expiresAt');
      const tenantId = token.tenant === null ? null : (await requireTenantRow(this.db, token.tenant)).id;
      const inserted = await this.db
        .insertInto('admin_tokens')
        .values({
          id: randomUUID(),
          name: token.name,
          tenant_id: tenantId,
          role: token.role,
          token_hash: token.hash,
          created_at: new Date().toISOString(),
          expires_at: expiresAt,
          revoked_at: null,
        })
        .onConflict((oc) => oc.column('token_hash').doNothing())
        .returning('id')
        .executeTakeFirst();
      if (!inserted) throw gatewayError('CONFLICT', 'An admin token with this hash already exists');
      const created = await this.#select().where('t.id', '=', inserted.id).executeTakeFirst();
      // The tenant cannot vanish in between: deleting it cascades to this row, which we just read by id.
      if (!created) throw gatewayError('CONFLICT', `Tenant "${String(token.tenant)}" was deleted concurrently`);
      return toAdminTokenRecord(created, this.dialect);
    });
  }

  findActiveByHash(hash: string, now: Date): Promise<AdminTokenRecord | undefined> {
    return this.#guard(async () => {
      const at = now.toISOString();
      const row = await this.#select()
        .where('t.token_hash', '=', hash)
        .where('t.revoked_at', 'is', null)
        .where((eb) => eb.or([eb('t.expires_at', 'is', null), eb('t.expires_at', '>', at)]))
        .executeTakeFirst();
      return row && toAdminTokenRecord(row, this.dialect);
    });
  }

  /** All tokens (or one tenant's), revoked and expired included, oldest first. */
  list(filter?: { tenant: string }): Promise<AdminTokenRecord[]> {
    return this.#guard(async () => {
      const rows = await this.#select()
        .$if(filter !== undefined, (qb) => qb.where('tn.name', '=', filter?.tenant ?? ''))
        .orderBy('t.created_at')
        .orderBy('t.id')
        .execute();
      return rows.map((r) => toAdminTokenRecord(r, this.dialect));
    });
  }

  /** Revoking an already revoked token keeps its first `revokedAt` and returns true. */
  revoke(id: string, now: Date, filter?: { tenant: string }): Promise<boolean> {
    return this.#guard(async () => {
      let tenantId: string | undefined;
      if (filter) {
        const row = await this.db.selectFrom('tenants').select('id').where('name', '=', filter.tenant).executeTakeFirst();
        if (!row) return false;
        tenantId = row.id;
      }
      const result = await this.db
        .updateTable('admin_tokens')
        .set({ revoked_at: sql<string>`coalesce(revoked_at, ${now.toISOString()})` })
        .where('id', '=', id)
        .$if(tenantId !== undefined, (qb) => qb.where('tenant_id', '=', tenantId ?? ''))
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    });
  }

  #select() {
    return this.db
      .selectFrom('admin_tokens as t')
      .leftJoin('tenants as tn', 'tn.id', 't.tenant_id')
      .selectAll('t')
      .select('tn.name as tenant_name');
  }

  #guard<T>(fn: () => Promise<T>): Promise<T> {
    return withStorageErrors((err) => this.dialect.toStorageError(err), fn);
  }
}
