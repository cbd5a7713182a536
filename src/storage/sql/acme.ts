import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import type { AcmeAccountRecord, AcmeCertificateRecord, AcmeRenewalState, AcmeStore } from '../acme-records.js';
import { bumpRevision } from './config-revision.js';
import type { AcmeCertificatesTable, Database } from './database.js';
import type { SqlDialect } from './sql-dialect.js';
import { withStorageErrors } from './storage-errors.js';
import { findTenantRow, requireTenantRow } from './tenants.js';

type CertRow = Selectable<AcmeCertificatesTable> & { tenant_name: string };

/** {@link AcmeStore} on SQL. Rows belong to tenants (deleted with them); challenges and leases are global. */
export class SqlAcmeStore implements AcmeStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: SqlDialect,
  ) {}

  getAccount(tenant: string, directory: string): Promise<AcmeAccountRecord | undefined> {
    return this.#guard(async () => {
      const row = await this.db
        .selectFrom('acme_accounts as a')
        .innerJoin('tenants as t', 't.id', 'a.tenant_id')
        .selectAll('a')
        .where('t.name', '=', tenant)
        .where('a.directory', '=', directory)
        .executeTakeFirst();
      return row && { tenant, directory: row.directory, email: row.email, keySealed: row.key_sealed, url: row.url, createdAt: this.dialect.decodeTimestamp(row.created_at) };
    });
  }

  putAccount(record: Omit<AcmeAccountRecord, 'createdAt'>): Promise<AcmeAccountRecord> {
    return this.#guard(async () => {
      const t = await requireTenantRow(this.db, record.tenant);
      await this.db
        .insertInto('acme_accounts')
        .values({ id: randomUUID(), tenant_id: t.id, directory: record.directory, email: record.email, key_sealed: record.keySealed, url: record.url, created_at: new Date().toISOString() })
        .onConflict((oc) => oc.columns(['tenant_id', 'directory']).doNothing())
        .execute();
      return (await this.getAccount(record.tenant, record.directory))!;
    });
  }

  setAccountUrl(tenant: string, directory: string, url: string): Promise<void> {
    return this.#guard(async () => {
      const t = await findTenantRow(this.db, tenant);
      if (!t) return;
      await this.db.updateTable('acme_accounts').set({ url }).where('tenant_id', '=', t.id).where('directory', '=', directory).execute();
    });
  }

  #certificates() {
    return this.db.selectFrom('acme_certificates as c').innerJoin('tenants as t', 't.id', 'c.tenant_id').selectAll('c').select('t.name as tenant_name');
  }

  #toCertificate(r: CertRow): AcmeCertificateRecord | undefined {
    if (r.cert_pem === null || r.key_sealed === null || !r.not_before || !r.not_after || !r.issued_at) return undefined;
    return {
      tenant: r.tenant_name,
      domain: r.domain,
      hosts: this.dialect.decodeJson(r.hosts) as string[],
      certPem: r.cert_pem,
      keySealed: r.key_sealed,
      notBefore: this.dialect.decodeTimestamp(r.not_before),
      notAfter: this.dialect.decodeTimestamp(r.not_after),
      issuedAt: this.dialect.decodeTimestamp(r.issued_at),
    };
  }

  getCertificate(tenant: string, domain: string): Promise<AcmeCertificateRecord | undefined> {
    return this.#guard(async () => {
      const row = await this.#certificates().where('t.name', '=', tenant).where('c.domain', '=', domain).executeTakeFirst();
      return row && this.#toCertificate(row);
    });
  }

  listCertificates(): Promise<AcmeCertificateRecord[]> {
    return this.#guard(async () => {
      const rows = await this.#certificates().orderBy('t.name').orderBy('c.domain').execute();
      return rows.flatMap((r) => this.#toCertificate(r) ?? []);
    });
  }

  putCertificate(record: Omit<AcmeCertificateRecord, 'issuedAt'>, now: Date): Promise<void> {
    return this.#guard(() =>
      this.dialect.writeTransaction(this.db, async (trx) => {
        const t = await requireTenantRow(trx, record.tenant);
        const values = {
          hosts: JSON.stringify(record.hosts),
          cert_pem: record.certPem,
          key_sealed: record.keySealed,
          not_before: record.notBefore,
          not_after: record.notAfter,
          issued_at: now.toISOString(),
          failures: 0,
          last_error: null,
          last_attempt_at: now.toISOString(),
          next_attempt_at: null,
        };
        await trx
          .insertInto('acme_certificates')
          .values({ id: randomUUID(), tenant_id: t.id, domain: record.domain, ...values })
          .onConflict((oc) => oc.columns(['tenant_id', 'domain']).doUpdateSet(values))
          .execute();
        await bumpRevision(trx);
      }),
    );
  }

  getRenewal(tenant: string, domain: string): Promise<AcmeRenewalState | undefined> {
    return this.#guard(async () => {
      const r = await this.#certificates().where('t.name', '=', tenant).where('c.domain', '=', domain).executeTakeFirst();
      if (!r) return undefined;
      const ts = (v: string | Date | null) => (v === null ? null : this.dialect.decodeTimestamp(v));
      return { tenant, domain, failures: r.failures, lastError: r.last_error, lastAttemptAt: ts(r.last_attempt_at), nextAttemptAt: ts(r.next_attempt_at) };
    });
  }

  recordFailure(tenant: string, domain: string, error: string, at: Date, nextAttemptAt: Date): Promise<AcmeRenewalState> {
    return this.#guard(async () => {
      const t = await requireTenantRow(this.db, tenant);
      await this.db
        .insertInto('acme_certificates')
        .values({ id: randomUUID(), tenant_id: t.id, domain, hosts: '[]', failures: 1, last_error: error, last_attempt_at: at.toISOString(), next_attempt_at: nextAttemptAt.toISOString() })
        .onConflict((oc) =>
          oc.columns(['tenant_id', 'domain']).doUpdateSet((eb) => ({
            failures: eb('acme_certificates.failures', '+', 1),
            last_error: error,
            last_attempt_at: at.toISOString(),
            next_attempt_at: nextAttemptAt.toISOString(),
          })),
        )
        .execute();
      return (await this.getRenewal(tenant, domain))!;
    });
  }

  putChallenge(key: string, value: string, expiresAt: Date): Promise<void> {
    return this.#guard(async () => {
      await this.db
        .insertInto('acme_challenges')
        .values({ key, value, expires_at: expiresAt.toISOString() })
        .onConflict((oc) => oc.column('key').doUpdateSet({ value, expires_at: expiresAt.toISOString() }))
        .execute();
    });
  }

  getChallenge(key: string, now: Date): Promise<string | undefined> {
    return this.#guard(async () => {
      const row = await this.db.selectFrom('acme_challenges').select(['value', 'expires_at']).where('key', '=', key).executeTakeFirst();
      if (!row || Date.parse(this.dialect.decodeTimestamp(row.expires_at)) <= now.getTime()) return undefined;
      return row.value;
    });
  }

  deleteChallenge(key: string): Promise<void> {
    return this.#guard(async () => {
      await this.db.deleteFrom('acme_challenges').where('key', '=', key).execute();
    });
  }

  countChallenges(prefix: string, now: Date): Promise<number> {
    return this.#guard(async () => {
      const row = await this.db
        .selectFrom('acme_challenges')
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .where('key', '>=', prefix)
        .where('key', '<', `${prefix}\uffff`)
        .where('expires_at', '>', now.toISOString())
        .executeTakeFirst();
      return Number(row?.n ?? 0);
    });
  }

  acquireLease(name: string, holder: string, ttlMs: number, now: Date): Promise<boolean> {
    const expires = new Date(now.getTime() + ttlMs).toISOString();
    return this.#guard(() =>
      this.dialect.writeTransaction(this.db, async (trx) => {
        const inserted = await trx.insertInto('leases').values({ name, holder, expires_at: expires }).onConflict((oc) => oc.column('name').doNothing()).executeTakeFirst();
        if (Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0) return true;
        const updated = await trx
          .updateTable('leases')
          .set({ holder, expires_at: expires })
          .where('name', '=', name)
          .where((eb) => eb.or([eb('holder', '=', holder), eb('expires_at', '<=', now.toISOString())]))
          .executeTakeFirst();
        return Number(updated.numUpdatedRows) > 0;
      }),
    );
  }

  releaseLease(name: string, holder: string): Promise<void> {
    return this.#guard(async () => {
      await this.db.deleteFrom('leases').where('name', '=', name).where('holder', '=', holder).execute();
    });
  }

  #guard<T>(fn: () => Promise<T>): Promise<T> {
    return withStorageErrors((err) => this.dialect.toStorageError(err), fn);
  }
}
