import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import { gatewayError } from '../../core/errors.js';
import type { SubscriptionRecord, SubscriptionStatus, TenantSubscriptions, TenantSubscriptionsReader } from '../store.js';
import type { Database, SubscriptionsTable } from './database.js';
import type { SqlDialect } from './sql-dialect.js';
import { SqlTenantPart } from './tenant-part.js';
import { requireTenantRow } from './tenants.js';

type SubscriptionRow = Selectable<SubscriptionsTable> & { tenant_name: string; service_tenant_name: string };

function toSubscriptionRecord(row: SubscriptionRow, dialect: SqlDialect): SubscriptionRecord {
  const ts = (v: string | Date | null) => (v === null ? null : dialect.decodeTimestamp(v));
  return {
    id: row.id,
    tenant: row.tenant_name,
    application: row.application,
    serviceTenant: row.service_tenant_name,
    service: row.service,
    status: row.status as SubscriptionStatus,
    comment: row.comment,
    requestedBy: row.requested_by,
    decidedBy: row.decided_by,
    requestedAt: dialect.decodeTimestamp(row.requested_at),
    decidedAt: ts(row.decided_at),
    updatedAt: dialect.decodeTimestamp(row.updated_at),
  };
}

/** Every subscription row joined with both tenants' names. */
export function selectSubscriptions(db: Kysely<Database>) {
  return db
    .selectFrom('subscriptions as s')
    .innerJoin('tenants as t', 't.id', 's.tenant_id')
    .innerJoin('tenants as st', 'st.id', 's.service_tenant_id')
    .selectAll('s')
    .select(['t.name as tenant_name', 'st.name as service_tenant_name']);
}

export function mapSubscriptions(rows: SubscriptionRow[], dialect: SqlDialect): SubscriptionRecord[] {
  return rows.map((r) => toSubscriptionRecord(r, dialect));
}

/**
 * Subscriptions reachable by one tenant: rows where it is the subscriber (`tenant_id`) or the
 * provider (`service_tenant_id`). Every query carries one of those two filters.
 */
export class SqlTenantSubscriptionsReader extends SqlTenantPart implements TenantSubscriptionsReader {

  listOwn(application?: string): Promise<SubscriptionRecord[]> {
    return this.guard(async () => {
      const rows = await selectSubscriptions(this.db)
        .where('s.tenant_id', '=', this.tenantId)
        .$if(application !== undefined, (qb) => qb.where('s.application', '=', application ?? ''))
        .orderBy('s.requested_at', 'desc')
        .orderBy('s.id')
        .execute();
      return mapSubscriptions(rows, this.dialect);
    });
  }

  listIncoming(status?: SubscriptionStatus): Promise<SubscriptionRecord[]> {
    return this.guard(async () => {
      const rows = await selectSubscriptions(this.db)
        .where('s.service_tenant_id', '=', this.tenantId)
        .$if(status !== undefined, (qb) => qb.where('s.status', '=', status ?? ''))
        .orderBy('s.requested_at', 'desc')
        .orderBy('s.id')
        .execute();
      return mapSubscriptions(rows, this.dialect);
    });
  }

  get(id: string): Promise<SubscriptionRecord | undefined> {
    return this.guard(async () => {
      const row = await selectSubscriptions(this.db)
        .where('s.id', '=', id)
        .where((eb) => eb.or([eb('s.tenant_id', '=', this.tenantId), eb('s.service_tenant_id', '=', this.tenantId)]))
        .executeTakeFirst();
      return row && toSubscriptionRecord(row, this.dialect);
    });
  }
}

export class SqlTenantSubscriptions extends SqlTenantSubscriptionsReader implements TenantSubscriptions {
  constructor(
    db: Kysely<Database>,
    dialect: SqlDialect,
    tenantId: string,
    tenant: string,
    private readonly onWrite: () => void,
  ) {
    super(db, dialect, tenantId, tenant);
  }

  create(input: { application: string; serviceTenant: string; service: string; status: SubscriptionStatus; requestedBy: string | null; comment?: string | null }): Promise<SubscriptionRecord> {
    return this.guard(async () => {
      const provider = await requireTenantRow(this.db, input.serviceTenant);
      const live = await this.db
        .selectFrom('subscriptions')
        .select('id')
        .where('tenant_id', '=', this.tenantId)
        .where('application', '=', input.application)
        .where('service_tenant_id', '=', provider.id)
        .where('service', '=', input.service)
        .where('status', 'in', ['pending', 'approved'])
        .executeTakeFirst();
      if (live) throw gatewayError('CONFLICT', `Application "${input.application}" already has a pending or approved subscription to this service`);
      const now = new Date().toISOString();
      const id = randomUUID();
      const decided = input.status !== 'pending';
      await this.db
        .insertInto('subscriptions')
        .values({
          id,
          tenant_id: this.tenantId,
          application: input.application,
          service_tenant_id: provider.id,
          service: input.service,
          status: input.status,
          comment: input.comment ?? null,
          requested_by: input.requestedBy,
          decided_by: decided ? 'auto-approval' : null,
          requested_at: now,
          decided_at: decided ? now : null,
          updated_at: now,
        })
        .execute();
      this.onWrite();
      return (await this.get(id))!;
    });
  }

  decide(id: string, decision: { status: SubscriptionStatus; comment: string | null; decidedBy: string | null; side: 'provider' | 'subscriber' }): Promise<SubscriptionRecord | undefined> {
    return this.guard(async () => {
      // The subscriber side may only end its subscription, never approve (or reject) it.
      if (decision.side === 'subscriber' && decision.status !== 'revoked') return undefined;
      const column = decision.side === 'provider' ? 'service_tenant_id' : 'tenant_id';
      const now = new Date().toISOString();
      const r = await this.db
        .updateTable('subscriptions')
        .set({ status: decision.status, comment: decision.comment, decided_by: decision.decidedBy, decided_at: now, updated_at: now })
        .where('id', '=', id)
        .where(column, '=', this.tenantId)
        .executeTakeFirst();
      if (r.numUpdatedRows === 0n) return undefined;
      this.onWrite();
      return this.get(id);
    });
  }

  deleteForApplication(application: string): Promise<number> {
    return this.guard(async () => {
      const r = await this.db.deleteFrom('subscriptions').where('tenant_id', '=', this.tenantId).where('application', '=', application).executeTakeFirst();
      const n = Number(r.numDeletedRows);
      if (n > 0) this.onWrite();
      return n;
    });
  }
}
