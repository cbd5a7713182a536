import type { ColumnType } from 'kysely';

/**
 * The Kysely view of the schema created by `migrations/`. One interface serves both backends, so
 * the read side of dialect-specific columns is a union: the row mapper (`row-mapping.ts`), through
 * the dialect, turns it into the contract's types.
 */

/** Written as an ISO-8601 string; read as a string (SQLite `text`) or a Date (PostgreSQL `timestamptz`). */
export type TimestampColumn = ColumnType<string | Date, string, string>;
export type NullableTimestampColumn = ColumnType<string | Date | null, string | null, string | null>;
/** Written as a JSON text; read as text (SQLite) or an already parsed value (PostgreSQL `jsonb`). */
export type JsonColumn = ColumnType<unknown, string, string>;
/** SQLite returns numbers, PostgreSQL `bigint` arrives as a decimal string. */
export type BigIntColumn = ColumnType<number | string | bigint, number, number>;

export interface TenantsTable {
  id: string;
  name: string;
  display_name: string | null;
  created_at: TimestampColumn;
  updated_at: TimestampColumn;
}

export interface ConfigObjectsTable {
  id: string;
  tenant_id: string;
  kind: string;
  name: string;
  spec: JsonColumn;
  version: number;
  created_at: TimestampColumn;
  updated_at: TimestampColumn;
}

/** Exactly one row, id = 1. */
export interface ConfigRevisionTable {
  id: number;
  revision: BigIntColumn;
}

export interface SettingsTable {
  key: string;
  value: string;
}

export interface AdminTokensTable {
  id: string;
  name: string;
  tenant_id: string | null;
  role: string;
  token_hash: string;
  created_at: TimestampColumn;
  expires_at: NullableTimestampColumn;
  revoked_at: NullableTimestampColumn;
}

export interface CredentialsTable {
  id: string;
  tenant_id: string;
  application: string;
  type: string;
  prefix: string;
  secret_hash: string;
  description: string | null;
  scopes: JsonColumn;
  bound_certificate: string | null;
  expires_at: NullableTimestampColumn;
  revoked_at: NullableTimestampColumn;
  created_at: TimestampColumn;
  last_used_at: NullableTimestampColumn;
}

export interface SubscriptionsTable {
  id: string;
  tenant_id: string;
  application: string;
  service_tenant_id: string;
  service: string;
  status: string;
  comment: string | null;
  requested_by: string | null;
  decided_by: string | null;
  requested_at: TimestampColumn;
  decided_at: NullableTimestampColumn;
  updated_at: TimestampColumn;
}

export interface AuditLogTable {
  seq: BigIntColumn;
  at: TimestampColumn;
  tenant: string | null;
  /** Canonical JSON of the entry body (what the hash covers). */
  entry: string;
  prev_hash: string;
  hash: string;
}

export interface CertificateAuthoritiesTable {
  id: string;
  tenant_id: string;
  name: string;
  spec: JsonColumn;
  cert_pem: string;
  key_sealed: string;
  root_cert_pem: string | null;
  root_key_sealed: string | null;
  created_at: TimestampColumn;
}

export interface IssuedCertificatesTable {
  id: string;
  tenant_id: string;
  ca_id: string;
  serial: string;
  usage: string;
  subject: string;
  sans: JsonColumn;
  application: string | null;
  fingerprint: string;
  not_before: TimestampColumn;
  not_after: TimestampColumn;
  cert_pem: string;
  revoked_at: NullableTimestampColumn;
  revocation_reason: string | null;
  created_at: TimestampColumn;
}

export interface CertificateRequestsTable {
  id: string;
  tenant_id: string;
  name: string;
  hosts: JsonColumn;
  key_sealed: string;
  csr_pem: string;
  created_at: TimestampColumn;
}

export interface LlmUsageTable {
  id: string;
  tenant: string;
  at: TimestampColumn;
  hour: string;
  request_id: string;
  service: string;
  route: string;
  application: string | null;
  credential: string | null;
  model: string;
  provider: string | null;
  deployment: string | null;
  api: string;
  stream: number;
  status: number;
  outcome: string;
  estimated: number;
  input_tokens: BigIntColumn;
  output_tokens: BigIntColumn;
  cached_tokens: BigIntColumn;
  reasoning_tokens: BigIntColumn;
  cost_nano_usd: BigIntColumn;
  attempts: number;
  latency_ms: number;
  ttft_ms: number | null;
}

export interface AcmeAccountsTable {
  id: string;
  tenant_id: string;
  directory: string;
  email: string | null;
  key_sealed: string;
  url: string | null;
  created_at: TimestampColumn;
}

export interface AcmeCertificatesTable {
  id: string;
  tenant_id: string;
  domain: string;
  hosts: JsonColumn;
  cert_pem: string | null;
  key_sealed: string | null;
  not_before: NullableTimestampColumn;
  not_after: NullableTimestampColumn;
  issued_at: NullableTimestampColumn;
  failures: number;
  last_error: string | null;
  last_attempt_at: NullableTimestampColumn;
  next_attempt_at: NullableTimestampColumn;
}

export interface AcmeChallengesTable {
  key: string;
  value: string;
  expires_at: TimestampColumn;
}

export interface LeasesTable {
  name: string;
  holder: string;
  expires_at: TimestampColumn;
}

export interface Database {
  tenants: TenantsTable;
  config_objects: ConfigObjectsTable;
  config_revision: ConfigRevisionTable;
  settings: SettingsTable;
  admin_tokens: AdminTokensTable;
  credentials: CredentialsTable;
  subscriptions: SubscriptionsTable;
  audit_log: AuditLogTable;
  certificate_authorities: CertificateAuthoritiesTable;
  issued_certificates: IssuedCertificatesTable;
  certificate_requests: CertificateRequestsTable;
  llm_usage: LlmUsageTable;
  acme_accounts: AcmeAccountsTable;
  acme_certificates: AcmeCertificatesTable;
  acme_challenges: AcmeChallengesTable;
  leases: LeasesTable;
}
