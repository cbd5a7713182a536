/**
 * A store limited to one tenant: the storage-layer half of tenant isolation for tenant-scoped admin
 * tokens. Through it, other tenants do not exist: reading, listing or changing them answers exactly
 * as for a tenant that was never created (NOT_FOUND, empty lists). Handlers cannot forget a check,
 * because they never hold the unrestricted store.
 */

import { gatewayError } from '../core/errors.js';
import type { AcmeStore, AdminTokens, AuditLog, LlmUsageStore, ConfigDump, Store, StoreTx, TenantRecord, TenantScope, TenantScopeReader, TenantsWriter } from './store.js';

function absent(name: string) {
  return gatewayError('NOT_FOUND', `Tenant "${name}" not found`);
}

function boundTenants(inner: TenantsWriter, tenant: string): TenantsWriter {
  return {
    list: async () => (await inner.list()).filter((t) => t.name === tenant),
    get: async (name) => (name === tenant ? inner.get(name) : undefined),
    create: () => Promise.reject(gatewayError('FORBIDDEN', 'Only platform administrators create tenants')),
    delete: () => Promise.reject(gatewayError('FORBIDDEN', 'Only platform administrators delete tenants')),
  };
}

function boundTx(tx: StoreTx, tenant: string): StoreTx {
  return {
    tenants: boundTenants(tx.tenants, tenant),
    tenant: (name: string): Promise<TenantScope> => (name === tenant ? tx.tenant(name) : Promise.reject(absent(name))),
    planning: tx.planning,
    audit: (entries, link) => tx.audit(entries, link),
  };
}

function boundAdminTokens(inner: AdminTokens, tenant: string): AdminTokens {
  return {
    create: (token) => (token.tenant === tenant ? inner.create(token) : Promise.reject(absent(String(token.tenant)))),
    findActiveByHash: async (hash, now) => {
      const t = await inner.findActiveByHash(hash, now);
      return t?.tenant === tenant ? t : undefined;
    },
    list: () => inner.list({ tenant }),
    revoke: (id, now) => inner.revoke(id, now, { tenant }),
  };
}

function boundAudit(inner: AuditLog, tenant: string): AuditLog {
  return {
    list: (q) => inner.list({ ...q, tenant }),
    raw: () => Promise.reject(gatewayError('FORBIDDEN', 'Only platform administrators verify the audit chain')),
    append: (entries, link, now) => inner.append(entries, link, now),
  };
}

function boundLlmUsage(inner: LlmUsageStore, tenant: string): LlmUsageStore {
  return {
    append: (records) => inner.append(records.filter((r) => r.tenant === tenant)),
    query: (q) => (q.tenant === tenant ? inner.query(q) : Promise.resolve([])),
    recent: (t, limit) => (t === tenant ? inner.recent(t, limit) : Promise.resolve([])),
  };
}

/** One tenant's ACME state; challenges and leases (gateway-wide machinery) are not reachable. */
function boundAcme(inner: AcmeStore, tenant: string): AcmeStore {
  const own = <T>(t: string, fn: () => Promise<T>): Promise<T> => (t === tenant ? fn() : Promise.reject(absent(t)));
  const platformOnly = () => Promise.reject(gatewayError('FORBIDDEN', 'Only the gateway itself answers ACME challenges'));
  return {
    getAccount: (t, d) => (t === tenant ? inner.getAccount(t, d) : Promise.resolve(undefined)),
    putAccount: (r) => own(r.tenant, () => inner.putAccount(r)),
    setAccountUrl: (t, d, u) => own(t, () => inner.setAccountUrl(t, d, u)),
    getCertificate: (t, d) => (t === tenant ? inner.getCertificate(t, d) : Promise.resolve(undefined)),
    putCertificate: (r, now) => own(r.tenant, () => inner.putCertificate(r, now)),
    listCertificates: async () => (await inner.listCertificates()).filter((c) => c.tenant === tenant),
    getRenewal: (t, d) => (t === tenant ? inner.getRenewal(t, d) : Promise.resolve(undefined)),
    recordFailure: (t, d, e, at, next) => own(t, () => inner.recordFailure(t, d, e, at, next)),
    putChallenge: platformOnly,
    getChallenge: platformOnly,
    deleteChallenge: platformOnly,
    countChallenges: platformOnly,
    acquireLease: platformOnly,
    releaseLease: platformOnly,
  };
}

/** `store` as seen by a principal limited to `tenant`. */
export function tenantBoundStore(store: Store, tenant: string): Store {
  return {
    backend: store.backend,
    migrate: () => store.migrate(),
    ping: () => store.ping(),
    close: () => Promise.resolve(),
    transaction: (fn) => store.transaction((tx) => fn(boundTx(tx, tenant))),
    tenant: (name: string): Promise<TenantScopeReader> => (name === tenant ? store.tenant(name) : Promise.reject(absent(name))),
    listTenants: async (): Promise<TenantRecord[]> => (await store.listTenants()).filter((t) => t.name === tenant),
    revision: () => store.revision(),
    loadAll: async (): Promise<ConfigDump> => {
      const dump = await store.loadAll();
      return {
        revision: dump.revision,
        tenants: dump.tenants.filter((t) => t.name === tenant),
        objects: dump.objects.filter((o) => o.tenant === tenant),
        credentials: dump.credentials.filter((c) => c.tenant === tenant),
        subscriptions: dump.subscriptions.filter((s) => s.tenant === tenant || s.serviceTenant === tenant),
        pki: { cas: dump.pki.cas.filter((c) => c.tenant === tenant), revoked: dump.pki.revoked.filter((r) => r.tenant === tenant) },
        acme: dump.acme?.filter((c) => c.tenant === tenant),
      };
    },
    getSetting: (key) => store.getSetting(key),
    putSettingIfAbsent: () => Promise.reject(gatewayError('FORBIDDEN', 'Only platform administrators change instance settings')),
    putSetting: () => Promise.reject(gatewayError('FORBIDDEN', 'Only platform administrators change instance settings')),
    adminTokens: boundAdminTokens(store.adminTokens, tenant),
    audit: boundAudit(store.audit, tenant),
    llmUsage: boundLlmUsage(store.llmUsage, tenant),
    acme: boundAcme(store.acme, tenant),
    // Other tenants' credentials do not exist here: their uses are dropped, as for unknown ids.
    touchCredentials: async (uses) => {
      const own = await store.tenant(tenant);
      const mine = [];
      for (const use of uses) if (await own.credentials.get(use.id)) mine.push(use);
      if (mine.length > 0) await store.touchCredentials(mine);
    },
  };
}
