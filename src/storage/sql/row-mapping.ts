import type { Selectable } from 'kysely';
import { gatewayError } from '../../core/errors.js';
import type { AdminRole, AdminTokenRecord, ConfigKind, ConfigRecord, TenantRecord } from '../store.js';
import type { AdminTokensTable, ConfigObjectsTable, TenantsTable } from './database.js';
import type { SqlDialect } from './sql-dialect.js';

/** Rows as read from the database, before mapping to the contract's records. */
export type TenantRow = Selectable<TenantsTable>;
export type ConfigObjectRow = Selectable<ConfigObjectsTable>;
export type AdminTokenRow = Selectable<AdminTokensTable> & { tenant_name: string | null };

/** Serialises a spec for a JSON column. */
export function encodeSpec(spec: Record<string, unknown>): string {
  return JSON.stringify(spec);
}

/** Normalises an instant given by a caller to the stored ISO-8601 form; throws VALIDATION when unparsable. */
export function normaliseTimestamp(value: string, field: string): string {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw gatewayError('VALIDATION', `${field} must be an ISO-8601 timestamp`);
  return new Date(ms).toISOString();
}

/** A counter column as a JavaScript number (PostgreSQL `bigint` arrives as a string). */
export function toNumber(raw: number | string | bigint): number {
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw gatewayError('STORAGE', `Storage returned a non-integer counter: ${String(raw)}`);
  return n;
}

export function toTenantRecord(row: TenantRow, dialect: SqlDialect): TenantRecord {
  return {
    id: row.id,
    name: row.name,
    displayName: row.display_name,
    createdAt: dialect.decodeTimestamp(row.created_at),
    updatedAt: dialect.decodeTimestamp(row.updated_at),
  };
}

export function toConfigRecord(row: ConfigObjectRow, tenant: string, dialect: SqlDialect): ConfigRecord {
  const spec = dialect.decodeJson(row.spec);
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
    throw gatewayError('STORAGE', `Stored ${row.kind} "${row.name}" has a spec that is not a JSON object`);
  }
  return {
    id: row.id,
    tenant,
    kind: row.kind as ConfigKind,
    name: row.name,
    spec: spec as Record<string, unknown>,
    version: row.version,
    createdAt: dialect.decodeTimestamp(row.created_at),
    updatedAt: dialect.decodeTimestamp(row.updated_at),
  };
}

export function toAdminTokenRecord(row: AdminTokenRow, dialect: SqlDialect): AdminTokenRecord {
  return {
    id: row.id,
    name: row.name,
    tenant: row.tenant_name,
    role: row.role as AdminRole,
    createdAt: dialect.decodeTimestamp(row.created_at),
    expiresAt: row.expires_at === null ? null : dialect.decodeTimestamp(row.expires_at),
    revokedAt: row.revoked_at === null ? null : dialect.decodeTimestamp(row.revoked_at),
  };
}
