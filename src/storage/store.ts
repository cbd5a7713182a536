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

/** Kinds of tenant-owned configuration objects. Later features add kinds without schema changes. */
export type ConfigKind = 'certificate' | 'domain' | 'service' | 'route';
export const CONFIG_KINDS: readonly ConfigKind[] = ['certificate', 'domain', 'service', 'route'];

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

/** Reads bound to one tenant. */
export interface TenantScopeReader {
  readonly tenant: string;
  /** Items ordered by name ascending. */
  list(kind: ConfigKind, page: PageRequest): Promise<Page<ConfigRecord>>;
  /** Every object of a kind for this tenant, ordered by name. */
  listAll(kind: ConfigKind): Promise<ConfigRecord[]>;
  get(kind: ConfigKind, name: string): Promise<ConfigRecord | undefined>;
}

/** Reads and writes bound to one tenant, inside a transaction. */
export interface TenantScope extends TenantScopeReader {
  /** Throws CONFLICT when the name exists. */
  create(kind: ConfigKind, name: string, spec: Record<string, unknown>): Promise<ConfigRecord>;
  /** Throws NOT_FOUND when absent, CONFLICT when `expectedVersion` is given and differs. */
  update(kind: ConfigKind, name: string, spec: Record<string, unknown>, expectedVersion?: number): Promise<ConfigRecord>;
  /** Returns false when absent. */
  delete(kind: ConfigKind, name: string): Promise<boolean>;
}

export interface TenantsWriter {
  list(): Promise<TenantRecord[]>;
  get(name: string): Promise<TenantRecord | undefined>;
  /** Throws CONFLICT when the name exists. */
  create(name: string, displayName?: string | null): Promise<TenantRecord>;
  /** Throws CONFLICT while the tenant owns objects; returns false when absent. */
  delete(name: string): Promise<boolean>;
}

/** What a transaction callback receives. */
export interface StoreTx {
  readonly tenants: TenantsWriter;
  /** Throws NOT_FOUND when the tenant does not exist. */
  tenant(name: string): Promise<TenantScope>;
}

/** A consistent read of all configuration, used to build the data plane's snapshot. */
export interface ConfigDump {
  revision: number;
  tenants: TenantRecord[];
  objects: ConfigRecord[];
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
  list(): Promise<AdminTokenRecord[]>;
  /** Returns false when absent. */
  revoke(id: string, now: Date): Promise<boolean>;
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
}
