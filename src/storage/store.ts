/**
 * The storage contract. Two backends implement it (SQLite, the embedded default, and PostgreSQL for
 * multi-node deployments) and both pass the one conformance suite in `store.conformance.ts`.
 *
 * Tenant isolation lives here: every config read or write goes through a {@link TenantScope}
 * whose queries are bound to one tenant id. Handlers never build cross-tenant queries themselves.
 *
 * All methods are safe to call concurrently. Errors are GatewayErrors from the registry:
 * NOT_FOUND, CONFLICT (duplicate name, version mismatch, tenant still owning objects) and STORAGE
 * (backend unreachable). A missing object on `get` returns `undefined`, never throws.
 */

import type { CaRecord, RevokedEntry, TenantPki, TenantPkiReader } from './pki-records.js';
import type { LlmUsageStore } from './llm-usage-records.js';
import type { AcmeCertificateRecord, AcmeStore } from './acme-records.js';

export type * from './pki-records.js';
export type * from './llm-usage-records.js';
export type * from './acme-records.js';

/** Kinds of tenant-owned configuration objects. Later features add kinds without schema changes. */
export type ConfigKind = 'certificate' | 'domain' | 'service' | 'route' | 'application' | 'jwt-issuer' | 'llm-provider' | 'llm-policy';
export const CONFIG_KINDS: readonly ConfigKind[] = ['certificate', 'domain', 'service', 'route', 'application', 'jwt-issuer', 'llm-provider', 'llm-policy'];

export interface TenantRecord {
  id: string;
  name: string;
  displayName: string | null;
  createdAt: string;
  updatedAt: string;
}

/** A stored configuration object. `spec` is the validated object as JSON, with secret fields sealed. */
export interface ConfigRecord<S = Record<string, unknown>> {
  id: string;
  /** Tenant name. */
  tenant: string;
  kind: ConfigKind;
  name: string;
  spec: S;
  /** Starts at 1, +1 on every update. */
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface PageRequest {
  /** 1..1000. */
  limit: number;
  /** Cursor from a previous page's `next`: items strictly after this name. */
  after?: string | undefined;
}

export interface Page<T> {
  items: T[];
  /** Present when more items may follow. */
  next?: string;
}

// --- credentials ------------------------------------------------------------------------------

export type CredentialType = 'api-key' | 'oauth-client';

/** What a credential may be used for; an empty or absent list allows everything the application may use. */
export interface CredentialScopes {
  /** Services, as `name` (own tenant) or `tenant/name`. */
  services?: string[];
  /** LLM models (`provider/model` or aliases). */
  models?: string[];
}

/**
 * An application's credential. The secret is never stored: `secretHash` is its keyed hash
 * (HMAC-SHA-256 with the instance's credential secret). `prefix` is the public, unique part shown in
 * lists and logs (an API key's first characters, or an OAuth2 client's `client_id`).
 */
export interface CredentialRecord {
  id: string;
  tenant: string;
  application: string;
  type: CredentialType;
  prefix: string;
  secretHash: string;
  description: string | null;
  scopes: CredentialScopes;
  /** SHA-256 fingerprint (hex) of the client certificate the credential is bound to (RFC 8705 style). */
  boundCertificate: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
  createdAt: string;
  lastUsedAt: string | null;
}

export interface NewCredential {
  application: string;
  type: CredentialType;
  prefix: string;
  secretHash: string;
  description?: string | null;
  scopes?: CredentialScopes;
  boundCertificate?: string | null;
  expiresAt?: string | null;
}

export interface TenantCredentialsReader {
  /** Newest first; optionally one application's only. */
  list(application?: string): Promise<CredentialRecord[]>;
  get(id: string): Promise<CredentialRecord | undefined>;
}

/** One tenant's credentials. Writes count as config writes (the data plane reloads). */
export interface TenantCredentials extends TenantCredentialsReader {
  /** Throws CONFLICT when the prefix exists (in any tenant: prefixes are global). */
  create(input: NewCredential): Promise<CredentialRecord>;
  /** Sets expiry and/or revocation; returns undefined when absent. A set `revokedAt` is never cleared. */
  update(id: string, patch: { expiresAt?: string | null; revokedAt?: string }): Promise<CredentialRecord | undefined>;
  /** Deletes every credential of an application; returns how many. */
  deleteForApplication(application: string): Promise<number>;
}

// --- subscriptions ----------------------------------------------------------------------------

export type SubscriptionStatus = 'pending' | 'approved' | 'rejected' | 'revoked';

/** An application (in `tenant`) asking to use a service (in `serviceTenant`, possibly the same). */
export interface SubscriptionRecord {
  id: string;
  tenant: string;
  application: string;
  serviceTenant: string;
  service: string;
  status: SubscriptionStatus;
  comment: string | null;
  requestedBy: string | null;
  decidedBy: string | null;
  requestedAt: string;
  decidedAt: string | null;
  updatedAt: string;
}

/**
 * Subscriptions as seen by one tenant: those of its applications (subscriber side) and those to its
 * services (provider side). Nothing else is reachable; an id of another pair of tenants is "absent".
 */
export interface TenantSubscriptionsReader {
  /** Subscriber side: this tenant's applications' subscriptions, newest first. */
  listOwn(application?: string): Promise<SubscriptionRecord[]>;
  /** Provider side: subscriptions to this tenant's services, optionally by status, newest first. */
  listIncoming(status?: SubscriptionStatus): Promise<SubscriptionRecord[]>;
  /** Either side. */
  get(id: string): Promise<SubscriptionRecord | undefined>;
}

export interface TenantSubscriptions extends TenantSubscriptionsReader {
  /**
   * Subscriber side: creates a subscription of `application` (of this tenant) to a service. Throws
   * CONFLICT while a pending or approved one exists for the same pair.
   */
  create(input: { application: string; serviceTenant: string; service: string; status: SubscriptionStatus; requestedBy: string | null; comment?: string | null }): Promise<SubscriptionRecord>;
  /**
   * Provider side only (or both sides for `revoked`): sets the status. Undefined when not reachable:
   * not this tenant's on the given side, or a subscriber-side status other than `revoked`.
   */
  decide(id: string, decision: { status: SubscriptionStatus; comment: string | null; decidedBy: string | null; side: 'provider' | 'subscriber' }): Promise<SubscriptionRecord | undefined>;
  /** Deletes every subscription of an application (subscriber side); returns how many. */
  deleteForApplication(application: string): Promise<number>;
}

// --- audit ------------------------------------------------------------------------------------

export interface AuditActor {
  /** Admin token id, "env", or "system" / "data-plane" for events the gateway raises itself. */
  id: string;
  name: string;
  role: AdminRole | null;
  tenant: string | null;
}

export interface AuditEntryInput {
  /** Tenant the entry concerns; null for platform-wide entries. */
  tenant: string | null;
  actor: AuditActor;
  /** `<object>.<verb>` for admin actions (`service.update`), `security.<event>` for security events. */
  action: string;
  /** Object kind and name (or id), when the entry is about one. */
  object: { kind: string; name: string } | null;
  /** Before/after of the change, secrets redacted. */
  diff: { before: unknown; after: unknown } | null;
  sourceIp: string | null;
  /** Further facts (counts, reasons), never a secret. */
  details: Record<string, unknown> | null;
}

export interface AuditRecord extends AuditEntryInput {
  /** 1, 2, 3… with no gaps. */
  seq: number;
  at: string;
  /** `hash` of the previous entry ("" for the first). */
  prevHash: string;
  hash: string;
}

/** Links an entry into the chain: its hash from the previous hash and the entry's canonical body. */
export type AuditLinker = (prevHash: string, body: string) => string;

export interface AuditQuery {
  /** Only this tenant's entries (platform-wide entries excluded). */
  tenant?: string | undefined;
  /** Entries with seq strictly greater. */
  afterSeq?: number | undefined;
  limit: number;
}

/** A stored entry as hashed: the canonical body string verbatim. */
export interface AuditRawRow {
  seq: number;
  body: string;
  prevHash: string;
  hash: string;
}

export interface AuditLog {
  /** Entries in seq order. */
  list(query: AuditQuery): Promise<AuditRecord[]>;
  /** Stored rows in seq order after `afterSeq` (exclusive), for chain verification. */
  raw(afterSeq: number, limit: number): Promise<AuditRawRow[]>;
  /**
   * Appends entries (outside any config transaction), serialised with every other append on the
   * database, so the chain has no forks.
   */
  append(entries: readonly AuditEntryInput[], link: AuditLinker, now?: Date): Promise<AuditRecord[]>;
}

/** Reads bound to one tenant. */
export interface TenantScopeReader {
  readonly tenant: string;
  /** Items ordered by name ascending. */
  list(kind: ConfigKind, page: PageRequest): Promise<Page<ConfigRecord>>;
  /** Every object of a kind for this tenant, ordered by name. */
  listAll(kind: ConfigKind): Promise<ConfigRecord[]>;
  get(kind: ConfigKind, name: string): Promise<ConfigRecord | undefined>;
  /**
   * A service this tenant may see: its own, or another tenant's whose spec shares it with this tenant
   * (`access.sharedWith`). Undefined otherwise, exactly as when it does not exist.
   */
  visibleService(serviceTenant: string, name: string): Promise<ConfigRecord | undefined>;
  readonly credentials: TenantCredentialsReader;
  readonly subscriptions: TenantSubscriptionsReader;
  readonly pki: TenantPkiReader;
}

/** Reads and writes bound to one tenant, inside a transaction. */
export interface TenantScope extends TenantScopeReader {
  /** Throws CONFLICT when the name exists. */
  create(kind: ConfigKind, name: string, spec: Record<string, unknown>): Promise<ConfigRecord>;
  /** Throws NOT_FOUND when absent, CONFLICT when `expectedVersion` is given and differs. */
  update(kind: ConfigKind, name: string, spec: Record<string, unknown>, expectedVersion?: number): Promise<ConfigRecord>;
  /** Returns false when absent. */
  delete(kind: ConfigKind, name: string): Promise<boolean>;
  readonly credentials: TenantCredentials;
  readonly subscriptions: TenantSubscriptions;
  readonly pki: TenantPki;
}

export interface TenantsWriter {
  list(): Promise<TenantRecord[]>;
  get(name: string): Promise<TenantRecord | undefined>;
  /** Throws CONFLICT when the name exists. */
  create(name: string, displayName?: string | null): Promise<TenantRecord>;
  /**
   * Throws CONFLICT while the tenant owns objects; returns undefined when absent. What it leaves with
   * other tenants is released (see {@link TenantRelease}) and reported, for their audit trails.
   */
  delete(name: string): Promise<TenantRelease | undefined>;
}

/**
 * What deleting a tenant changed in other tenants: its name left their services' `access.sharedWith`
 * and their CAs' `sharedWith`, and the certificates it had obtained from their CAs became theirs,
 * revoked (cessationOfOperation) unless revoked before.
 */
export interface TenantRelease {
  readonly services: ReadonlyArray<{ readonly tenant: string; readonly name: string }>;
  readonly cas: ReadonlyArray<{ readonly tenant: string; readonly name: string }>;
  readonly certificates: ReadonlyArray<{ readonly tenant: string; readonly ca: string; readonly serial: string; readonly revokedNow: boolean }>;
}

/** What a transaction callback receives. */
export interface StoreTx {
  readonly tenants: TenantsWriter;
  /** Throws NOT_FOUND when the tenant does not exist. */
  tenant(name: string): Promise<TenantScope>;
  /**
   * An unrestricted read view of the same transaction, for whole-configuration validation (route
   * clashes across tenants). Never used to answer a client: results must not name other tenants.
   */
  readonly planning: Pick<StoreTx, 'tenants' | 'tenant'>;
  /** Appends audit entries in this transaction: they commit (or roll back) with its writes. */
  audit(entries: readonly AuditEntryInput[], link: AuditLinker): Promise<void>;
}

/** A consistent read of all configuration, used to build the data plane's snapshot. */
export interface ConfigDump {
  revision: number;
  tenants: TenantRecord[];
  objects: ConfigRecord[];
  /** Every credential, revoked and expired ones included (the data plane reports their use). */
  credentials: CredentialRecord[];
  /** Approved and pending subscriptions (the data plane tells "pending" apart from "none"). */
  subscriptions: SubscriptionRecord[];
  /** Every tenant's certificate authorities (keys sealed) and the certificates they revoked. */
  pki: { cas: CaRecord[]; revoked: RevokedEntry[] };
  /** Certificates obtained by ACME for domains (keys sealed). Absent in dumps made only for validation. */
  acme?: AcmeCertificateRecord[];
}

export type AdminRole = 'platform-admin' | 'tenant-admin' | 'developer' | 'viewer';

export interface AdminTokenRecord {
  id: string;
  name: string;
  /** Null for platform-wide tokens. */
  tenant: string | null;
  role: AdminRole;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
}

export interface AdminTokens {
  /** Stores a token by its hash. The clear token is never given to the store. */
  create(token: { name: string; tenant: string | null; role: AdminRole; hash: string; expiresAt?: string | null }): Promise<AdminTokenRecord>;
  /** Active (not revoked, not expired at `now`) token with this hash, or undefined. */
  findActiveByHash(hash: string, now: Date): Promise<AdminTokenRecord | undefined>;
  /** Oldest first; with `tenant`, only that tenant's tokens. */
  list(filter?: { tenant: string }): Promise<AdminTokenRecord[]>;
  /** Returns false when absent (or, with `tenant`, not that tenant's). */
  revoke(id: string, now: Date, filter?: { tenant: string }): Promise<boolean>;
}

export interface Store {
  readonly backend: 'sqlite' | 'postgres';
  /** Runs pending forward-only migrations; safe to call from several nodes at once. Creates the `default` tenant. */
  migrate(): Promise<void>;
  /** Resolves when the backend answers a trivial query; throws STORAGE otherwise. */
  ping(): Promise<void>;
  /** Releases connections. Idempotent. */
  close(): Promise<void>;

  /**
   * Runs `fn` in one transaction. Writes commit together and bump the config revision once (when any
   * config write happened), or none do when `fn` throws. Transactions are serialised per store.
   */
  transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T>;

  /** Read-only view bound to a tenant. Throws NOT_FOUND when the tenant does not exist. */
  tenant(name: string): Promise<TenantScopeReader>;
  listTenants(): Promise<TenantRecord[]>;

  /** Monotonic counter bumped by every committed config write, shared by all nodes on the same database. */
  revision(): Promise<number>;
  /** All tenants and objects at one revision. */
  loadAll(): Promise<ConfigDump>;

  /** Instance-wide settings (for example the API-key hashing secret). */
  getSetting(key: string): Promise<string | undefined>;
  /** Sets the value only when absent; returns the value that is stored afterwards (first writer wins). */
  putSettingIfAbsent(key: string, value: string): Promise<string>;
  putSetting(key: string, value: string): Promise<void>;

  readonly adminTokens: AdminTokens;
  readonly audit: AuditLog;
  /** LLM usage and cost records (not config: no revision bump). */
  readonly llmUsage: LlmUsageStore;
  /** ACME accounts, obtained certificates, challenges and leases. */
  readonly acme: AcmeStore;
  /** Records credentials' last use (batched by the data plane). Not a config write: no revision bump. */
  touchCredentials(uses: ReadonlyArray<{ id: string; at: string }>): Promise<void>;
}
