import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import { gatewayError } from '../../core/errors.js';
import type { CaRecord, CaRevocation, CaSettings, CertificateRequestRecord, IssuedCertificateRecord, IssuedFilter, NewCa, NewIssuedCertificate, RevokedEntry, TenantPki, TenantPkiReader } from '../pki-records.js';
import type { CertificateAuthoritiesTable, CertificateRequestsTable, Database, IssuedCertificatesTable } from './database.js';
import { caRef, caVisibleTo, parseCaRef } from '../../pki/ca-ref.js';
import { normaliseTimestamp } from './row-mapping.js';
import { findTenantRow } from './tenants.js';
import type { SqlDialect } from './sql-dialect.js';
import { SqlTenantPart } from './tenant-part.js';

type CaRow = Selectable<CertificateAuthoritiesTable>;
type IssuedRow = Selectable<IssuedCertificatesTable> & { ca_name: string; ca_tenant: string };

/**
 * Serials are compared in one form: upper-case hex without separators, whole bytes (even length),
 * without leading zero bytes (the DER sign byte some tools print, others do not). '' when not hex.
 */
export function normaliseSerial(serial: string): string {
  let hex = serial.replace(/[:\s]/g, '').toUpperCase();
  if (!/^[0-9A-F]{1,64}$/.test(hex)) return '';
  if (hex.length % 2 === 1) hex = `0${hex}`;
  while (hex.length > 2 && hex.startsWith('00')) hex = hex.slice(2);
  return hex;
}

export function toCaRecord(row: CaRow, tenant: string, dialect: SqlDialect): CaRecord {
  return {
    id: row.id,
    tenant,
    name: row.name,
    settings: dialect.decodeJson(row.spec) as CaSettings,
    certPem: row.cert_pem,
    keySealed: row.key_sealed,
    rootCertPem: row.root_cert_pem,
    rootKeySealed: row.root_key_sealed,
    createdAt: dialect.decodeTimestamp(row.created_at),
  };
}

function toIssued(row: IssuedRow, tenant: string, dialect: SqlDialect): IssuedCertificateRecord {
  const ts = (v: string | Date | null) => (v === null ? null : dialect.decodeTimestamp(v));
  return {
    id: row.id,
    tenant,
    ca: caRef(row.ca_tenant, row.ca_name, tenant),
    serial: row.serial,
    usage: row.usage as IssuedCertificateRecord['usage'],
    subject: row.subject,
    sans: (dialect.decodeJson(row.sans) ?? []) as string[],
    application: row.application,
    fingerprint: row.fingerprint,
    notBefore: dialect.decodeTimestamp(row.not_before),
    notAfter: dialect.decodeTimestamp(row.not_after),
    certPem: row.cert_pem,
    revokedAt: ts(row.revoked_at),
    revocationReason: row.revocation_reason,
    createdAt: dialect.decodeTimestamp(row.created_at),
  };
}

/** Every CA and every revoked certificate, for the data plane's CRLs (inside loadAll's read transaction). */
export async function loadPki(trx: Kysely<Database>, dialect: SqlDialect): Promise<{ cas: CaRecord[]; revoked: RevokedEntry[] }> {
  const cas = await trx
    .selectFrom('certificate_authorities as c')
    .innerJoin('tenants as t', 't.id', 'c.tenant_id')
    .selectAll('c')
    .select('t.name as tenant_name')
    .orderBy('t.name')
    .orderBy('c.name')
    .execute();
  const revoked = await trx
    .selectFrom('issued_certificates as i')
    .innerJoin('certificate_authorities as c', 'c.id', 'i.ca_id')
    .innerJoin('tenants as t', 't.id', 'c.tenant_id')
    .select(['t.name as tenant', 'c.name as ca', 'i.serial', 'i.fingerprint', 'i.revoked_at', 'i.revocation_reason'])
    .where('i.revoked_at', 'is not', null)
    .orderBy('i.serial')
    .execute();
  return {
    cas: cas.map((r) => toCaRecord(r, r.tenant_name, dialect)),
    revoked: revoked.map((r) => ({ tenant: r.tenant, ca: r.ca, serial: r.serial, fingerprint: r.fingerprint, revokedAt: dialect.decodeTimestamp(r.revoked_at!), reason: r.revocation_reason ?? 'unspecified' })),
  };
}

/** One tenant's CAs and issued certificates: every query carries `tenant_id = <this tenant>`. */
export class SqlTenantPkiReader extends SqlTenantPart implements TenantPkiReader {

  listCas(): Promise<CaRecord[]> {
    return this.guard(async () => (await this.cas().orderBy('name').execute()).map((r) => toCaRecord(r, this.tenant, this.dialect)));
  }

  getCa(name: string): Promise<CaRecord | undefined> {
    return this.guard(async () => {
      const row = await this.cas().where('name', '=', name).executeTakeFirst();
      return row && toCaRecord(row, this.tenant, this.dialect);
    });
  }

  listSharedCas(): Promise<CaRecord[]> {
    return this.guard(async () => {
      const rows = await this.db
        .selectFrom('certificate_authorities as c')
        .innerJoin('tenants as t', 't.id', 'c.tenant_id')
        .selectAll('c')
        .select('t.name as tenant_name')
        .where('c.tenant_id', '<>', this.tenantId)
        .orderBy('t.name')
        .orderBy('c.name')
        .execute();
      return rows.map((r) => toCaRecord(r, r.tenant_name, this.dialect)).filter((c) => caVisibleTo(c.tenant, c.settings.sharedWith, this.tenant));
    });
  }

  visibleCa(ref: string): Promise<CaRecord | undefined> {
    return this.guard(async () => {
      const { tenant, name } = parseCaRef(ref, this.tenant);
      if (tenant === this.tenant) return this.getCa(name);
      const owner = await findTenantRow(this.db, tenant);
      if (!owner) return undefined;
      const row = await this.db.selectFrom('certificate_authorities').selectAll().where('tenant_id', '=', owner.id).where('name', '=', name).executeTakeFirst();
      const ca = row && toCaRecord(row, owner.name, this.dialect);
      return ca && caVisibleTo(ca.tenant, ca.settings.sharedWith, this.tenant) ? ca : undefined;
    });
  }

  caIssued(ca: string, serial: string): Promise<boolean> {
    return this.guard(async () => (await this.issuedByCa(ca, serial)) !== undefined);
  }

  foreignDomainHosts(): Promise<string[]> {
    return this.guard(async () => {
      const rows = await this.db.selectFrom('config_objects').select('spec').where('kind', '=', 'domain').where('tenant_id', '<>', this.tenantId).execute();
      return rows.flatMap((r) => ((this.dialect.decodeJson(r.spec) as { hosts?: unknown }).hosts as string[] | undefined) ?? []);
    });
  }

  /** The issued certificate `serial` of own CA `ca`, whichever tenant asked. */
  protected async issuedByCa(ca: string, serial: string) {
    const s = normaliseSerial(serial);
    if (!s) return undefined;
    return this.db
      .selectFrom('issued_certificates as i')
      .innerJoin('certificate_authorities as c', 'c.id', 'i.ca_id')
      .innerJoin('tenants as t', 't.id', 'i.tenant_id')
      .select(['i.id', 'i.serial', 't.name as tenant', 'i.revoked_at', 'i.revocation_reason'])
      .where('c.tenant_id', '=', this.tenantId)
      .where('c.name', '=', ca)
      .where('i.serial', '=', s)
      .executeTakeFirst();
  }

  listIssued(filter: IssuedFilter = {}): Promise<IssuedCertificateRecord[]> {
    return this.guard(async () => {
      const ca = filter.ca === undefined ? undefined : parseCaRef(filter.ca, this.tenant);
      const rows = await this.issued()
        .$if(ca !== undefined, (qb) => qb.where('c.name', '=', ca?.name ?? '').where('ct.name', '=', ca?.tenant ?? ''))
        .$if(filter.application !== undefined, (qb) => qb.where('i.application', '=', filter.application ?? ''))
        .$if(filter.expiringBefore !== undefined, (qb) => qb.where('i.not_after', '<', normaliseTimestamp(filter.expiringBefore ?? '', 'expiringBefore')))
        .orderBy('i.not_after')
        .orderBy('i.serial')
        .execute();
      return rows.map((r) => toIssued(r, this.tenant, this.dialect));
    });
  }

  getIssued(serial: string): Promise<IssuedCertificateRecord | undefined> {
    return this.guard(async () => {
      const s = normaliseSerial(serial);
      if (!s) return undefined;
      const row = await this.issued().where('i.serial', '=', s).orderBy('i.created_at').executeTakeFirst();
      return row && toIssued(row, this.tenant, this.dialect);
    });
  }

  listRequests(): Promise<CertificateRequestRecord[]> {
    return this.guard(async () => (await this.requests().orderBy('name').execute()).map((r) => this.toRequest(r)));
  }

  getRequest(name: string): Promise<CertificateRequestRecord | undefined> {
    return this.guard(async () => {
      const row = await this.requests().where('name', '=', name).executeTakeFirst();
      return row && this.toRequest(row);
    });
  }

  protected requests() {
    return this.db.selectFrom('certificate_requests').selectAll().where('tenant_id', '=', this.tenantId);
  }

  protected toRequest(row: Selectable<CertificateRequestsTable>): CertificateRequestRecord {
    return {
      tenant: this.tenant,
      name: row.name,
      hosts: (this.dialect.decodeJson(row.hosts) ?? []) as string[],
      keySealed: row.key_sealed,
      csrPem: row.csr_pem,
      createdAt: this.dialect.decodeTimestamp(row.created_at),
    };
  }

  protected cas() {
    return this.db.selectFrom('certificate_authorities').selectAll().where('tenant_id', '=', this.tenantId);
  }

  protected issued() {
    return this.db
      .selectFrom('issued_certificates as i')
      .innerJoin('certificate_authorities as c', 'c.id', 'i.ca_id')
      .innerJoin('tenants as ct', 'ct.id', 'c.tenant_id')
      .selectAll('i')
      .select(['c.name as ca_name', 'ct.name as ca_tenant'])
      .where('i.tenant_id', '=', this.tenantId);
  }
}

export class SqlTenantPki extends SqlTenantPkiReader implements TenantPki {
  constructor(
    db: Kysely<Database>,
    dialect: SqlDialect,
    tenantId: string,
    tenant: string,
    private readonly onWrite: () => void,
  ) {
    super(db, dialect, tenantId, tenant);
  }

  createCa(input: NewCa): Promise<CaRecord> {
    return this.guard(async () => {
      await this.checkSharedWith(input.settings.sharedWith);
      const row = await this.db
        .insertInto('certificate_authorities')
        .values({
          id: randomUUID(),
          tenant_id: this.tenantId,
          name: input.name,
          spec: JSON.stringify(input.settings),
          cert_pem: input.certPem,
          key_sealed: input.keySealed,
          root_cert_pem: input.rootCertPem,
          root_key_sealed: input.rootKeySealed,
          created_at: new Date().toISOString(),
        })
        .onConflict((oc) => oc.columns(['tenant_id', 'name']).doNothing())
        .returningAll()
        .executeTakeFirst();
      if (!row) throw gatewayError('CONFLICT', `Certificate authority "${input.name}" already exists in tenant "${this.tenant}"`);
      this.onWrite();
      return toCaRecord(row, this.tenant, this.dialect);
    });
  }

  updateCaSettings(name: string, settings: CaSettings): Promise<CaRecord | undefined> {
    return this.guard(async () => {
      await this.checkSharedWith(settings.sharedWith);
      const row = await this.db
        .updateTable('certificate_authorities')
        .set({ spec: JSON.stringify(settings) })
        .where('tenant_id', '=', this.tenantId)
        .where('name', '=', name)
        .returningAll()
        .executeTakeFirst();
      if (!row) return undefined;
      this.onWrite();
      return toCaRecord(row, this.tenant, this.dialect);
    });
  }

  revokeIssuedByCa(ca: string, serial: string, at: string, reason: string): Promise<CaRevocation | undefined> {
    return this.guard(async () => {
      const row = await this.issuedByCa(ca, serial);
      if (!row) return undefined;
      if (row.revoked_at === null) {
        await this.db.updateTable('issued_certificates').set({ revoked_at: normaliseTimestamp(at, 'revokedAt'), revocation_reason: reason }).where('id', '=', row.id).execute();
        this.onWrite();
      }
      const after = (await this.issuedByCa(ca, serial))!;
      return { serial: after.serial, tenant: after.tenant, revokedAt: this.dialect.decodeTimestamp(after.revoked_at!), revocationReason: after.revocation_reason ?? reason };
    });
  }

  /** VALIDATION when a tenant to share with does not exist (a later tenant of that name must not inherit access). */
  private async checkSharedWith(sharedWith: readonly string[] | undefined): Promise<void> {
    if (!sharedWith || sharedWith.length === 0) return;
    const found = new Set((await this.db.selectFrom('tenants').select('name').where('name', 'in', [...sharedWith]).execute()).map((r) => r.name));
    const details = sharedWith.flatMap((t, i) => (found.has(t) ? [] : [{ path: `sharedWith.${i}`, message: `tenant "${t}" does not exist` }]));
    if (details.length > 0) throw gatewayError('VALIDATION', `Cannot share with ${details.map((d) => d.message).join(', ')}`, details);
  }

  recordIssued(input: NewIssuedCertificate): Promise<IssuedCertificateRecord> {
    return this.guard(async () => {
      const ca = await this.visibleCa(input.ca);
      if (!ca) throw gatewayError('NOT_FOUND', `Certificate authority "${input.ca}" not found`);
      const id = randomUUID();
      await this.db
        .insertInto('issued_certificates')
        .values({
          id,
          tenant_id: this.tenantId,
          ca_id: ca.id,
          serial: normaliseSerial(input.serial),
          usage: input.usage,
          subject: input.subject,
          sans: JSON.stringify(input.sans),
          application: input.application,
          fingerprint: input.fingerprint,
          not_before: normaliseTimestamp(input.notBefore, 'notBefore'),
          not_after: normaliseTimestamp(input.notAfter, 'notAfter'),
          cert_pem: input.certPem,
          revoked_at: null,
          revocation_reason: null,
          created_at: new Date().toISOString(),
        })
        .execute();
      const row = await this.issued().where('i.id', '=', id).executeTakeFirstOrThrow();
      return toIssued(row, this.tenant, this.dialect);
    });
  }

  putRequest(input: Omit<CertificateRequestRecord, 'tenant' | 'createdAt'>): Promise<CertificateRequestRecord> {
    return this.guard(async () => {
      await this.db.deleteFrom('certificate_requests').where('tenant_id', '=', this.tenantId).where('name', '=', input.name).execute();
      await this.db
        .insertInto('certificate_requests')
        .values({ id: randomUUID(), tenant_id: this.tenantId, name: input.name, hosts: JSON.stringify(input.hosts), key_sealed: input.keySealed, csr_pem: input.csrPem, created_at: new Date().toISOString() })
        .execute();
      return (await this.getRequest(input.name))!;
    });
  }

  deleteRequest(name: string): Promise<boolean> {
    return this.guard(async () => {
      const r = await this.db.deleteFrom('certificate_requests').where('tenant_id', '=', this.tenantId).where('name', '=', name).executeTakeFirst();
      return r.numDeletedRows > 0n;
    });
  }

  revoke(serial: string, at: string, reason: string): Promise<IssuedCertificateRecord | undefined> {
    return this.guard(async () => {
      const current = await this.getIssued(serial);
      if (!current) return undefined;
      if (current.revokedAt !== null) return current;
      await this.db
        .updateTable('issued_certificates')
        .set({ revoked_at: normaliseTimestamp(at, 'revokedAt'), revocation_reason: reason })
        .where('tenant_id', '=', this.tenantId)
        .where('id', '=', current.id)
        .execute();
      this.onWrite();
      return this.getIssued(serial);
    });
  }
}
