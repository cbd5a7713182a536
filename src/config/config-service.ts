/**
 * The one write path for configuration, used by the admin API and by declarative apply.
 *
 * Every write: validates its input with the model schema (VALIDATION with field paths), seals secret
 * values (an incoming "<redacted>" keeps the stored value), applies its writes in ONE store
 * transaction, re-reads the whole candidate configuration through that transaction and plans it
 * (`planSnapshot`: dangling references, unknown plugins, plugin config, conflicting routes). Any error
 * rolls everything back. After a commit, `onCommitted` lets the gateway reload its snapshot.
 *
 * Reads return specs in canonical form (defaults filled) with secret values replaced by "<redacted>";
 * neither sealed nor clear secret values ever leave this service.
 */

import type { z } from 'zod';
import { Errors, GatewayError, gatewayError, type ErrorDetail } from '../core/errors.js';
import { NameSchema } from '../model/common.js';
import { CertificateSpecSchema } from '../model/certificate.js';
import { DomainSpecSchema } from '../model/domain.js';
import { RouteSpecSchema } from '../model/route.js';
import { ServiceSpecSchema } from '../model/service.js';
import { TenantSpecSchema } from '../model/tenant.js';
import { ApplicationSpecSchema } from '../model/application.js';
import { JwtIssuerSpecSchema } from '../auth/jwt/jwt-issuer-spec.js';
import { LlmPolicySpecSchema } from '../llm/model/llm-policy-spec.js';
import type { ProviderRegistry } from '../llm/providers/provider-registry.js';
import { LlmProviderSpecSchema } from '../llm/model/llm-provider-spec.js';
import type { PluginRegistry } from '../pipeline/plugin.js';
import { planSnapshot, type SnapshotPlan } from '../snapshot/plan.js';
import { isNotLoaded } from '../audit/audited-write.js';
import { auditEntry, SYSTEM_CONTEXT, type AuditContext, type AuditFacts } from '../audit/audit-context.js';
import type { AuditLinker, CaRecord } from '../storage/store.js';
import { CONFIG_KINDS, type ConfigDump, type ConfigKind, type ConfigRecord, type StoreTx, type Store, type TenantRecord, type TenantScope, type TenantScopeReader } from '../storage/store.js';
import { diffKind, jsonEqual, type ConfigChange } from './config-diff.js';
import { buildDocument, ConfigDocumentSchema, documentObjects, type ConfigDocument, type PlacedSpec } from './config-document.js';
import { encodeCursor, pageRequest, type PageParams, type PageResult } from './pagination.js';
import { joinPath, parseInput, validationError } from './input-validation.js';
import { isRecord, redactSecrets, sealSecrets, type SecretSealer } from './secret-sealing.js';

export type { PageParams, PageResult } from './pagination.js';
export type { SecretSealer } from './secret-sealing.js';

export interface ConfigServiceDeps {
  store: Store;
  /** Links audit entries into the chain; without it (unit tests) writes are not audited. */
  audit?: AuditLinker | undefined;
  plugins: PluginRegistry;
  /** LLM provider types (validation of llm-provider objects); default: the built-in ones. */
  providers?: ProviderRegistry | undefined;
  secrets: SecretSealer;
  /** Called after every committed change (the gateway reloads its snapshot). Errors are ignored: the change is committed. */
  onCommitted: () => Promise<void>;
}

/** The schema validating each kind's spec. */
export const SPEC_SCHEMAS = {
  certificate: CertificateSpecSchema,
  domain: DomainSpecSchema,
  service: ServiceSpecSchema,
  route: RouteSpecSchema,
  application: ApplicationSpecSchema,
  'jwt-issuer': JwtIssuerSpecSchema,
  'llm-provider': LlmProviderSpecSchema,
  'llm-policy': LlmPolicySpecSchema,
} as const satisfies Record<ConfigKind, z.ZodType>;

export type SpecOf<K extends ConfigKind> = z.output<(typeof SPEC_SCHEMAS)[K]>;


/** A config object as clients see it. */
export interface ConfigObjectView<S = Record<string, unknown>> {
  name: string;
  /** Canonical spec, secrets redacted. */
  spec: S;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface TenantView {
  name: string;
  displayName: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface ApplyResult {
  /** False for a dry run. */
  applied: boolean;
  changes: ConfigChange[];
  /** The config revision after the apply (unchanged for a dry run or an apply without changes). */
  revision: number;
}

/** Thrown inside the transaction to roll back a dry run. */
class DryRunRollback extends Error {}

// ---------------------------------------------------------------------------------------------
// Plan errors: the planner names objects `services.<tenant>/<name>…`; callers want paths relative to
// what they sent (the request body, or the document).

interface PathRewrite {
  from: string;
  to: string;
}

function rewritePath(path: string, rewrites: readonly PathRewrite[]): string {
  for (const { from, to } of rewrites) {
    if (path === from) return to || path;
    if (path.startsWith(`${from}.`)) return to ? `${to}${path.slice(from.length)}` : path.slice(from.length + 1);
  }
  return path;
}

function remapPlanError(err: unknown, rewrites: readonly PathRewrite[]): unknown {
  if (!(err instanceof GatewayError)) return err;
  const definition = err.code === Errors.VALIDATION.code ? Errors.VALIDATION : err.code === Errors.CONFLICT.code ? Errors.CONFLICT : undefined;
  if (!definition) return err;
  const details = err.details?.map((d) => ({ ...d, path: rewritePath(d.path, rewrites) }));
  const first = details?.[0];
  const message = definition === Errors.VALIDATION && first ? `Configuration is invalid: ${first.path}: ${first.message}` : err.message;
  return new GatewayError(definition, message, details, { cause: err });
}

function objectPrefix(kind: ConfigKind, tenant: string, name: string): string {
  return `${kind}s.${tenant}/${name}`;
}

// ---------------------------------------------------------------------------------------------

function tenantView(t: TenantRecord): TenantView {
  return { name: t.name, displayName: t.displayName, createdAt: t.createdAt, updatedAt: t.updatedAt };
}

function notFound(kind: ConfigKind, name: string, tenant: string): GatewayError {
  return gatewayError('NOT_FOUND', `${kind} "${name}" not found in tenant "${tenant}"`);
}

export class ConfigService {
  constructor(
    private readonly deps: ConfigServiceDeps,
    private readonly context: AuditContext = SYSTEM_CONTEXT,
  ) {}

  /** This service acting for `context` (audited as such), through `store` (a tenant-bound view for tenant-scoped principals). */
  as(context: AuditContext, store: Store = this.deps.store): ConfigService {
    return new ConfigService({ ...this.deps, store }, context);
  }

  // --- tenants ---------------------------------------------------------------------------------

  async listTenants(page: PageParams = {}): Promise<PageResult<TenantView>> {
    const { limit, after } = pageRequest(page);
    const all = await this.deps.store.listTenants();
    const rest = after === undefined ? all : all.filter((t) => t.name > after);
    const items = rest.slice(0, limit).map(tenantView);
    return rest.length > limit ? { items, next: encodeCursor(items[items.length - 1]!.name) } : { items };
  }

  async getTenant(name: string): Promise<TenantView> {
    const tenants = await this.deps.store.listTenants();
    const t = tenants.find((x) => x.name === name);
    if (!t) throw gatewayError('NOT_FOUND', `Tenant "${name}" not found`);
    return tenantView(t);
  }

  async createTenant(input: unknown): Promise<TenantView> {
    const spec = parseInput(TenantSpecSchema, input, 'tenant');
    const rec = await this.deps.store.transaction(async (tx) => {
      const created = await tx.tenants.create(spec.name, spec.displayName ?? null);
      await this.audit(tx, [{ tenant: spec.name, action: 'tenant.create', object: { kind: 'tenant', name: spec.name }, after: spec }]);
      return created;
    });
    await this.notify();
    return tenantView(rec);
  }

  /** Throws NOT_FOUND when absent, CONFLICT while the tenant owns objects (and always for "default"). */
  async deleteTenant(name: string): Promise<void> {
    const deleted = await this.deps.store.transaction(async (tx) => {
      const release = await tx.tenants.delete(name);
      if (!release) return false;
      // Each tenant's trail records what the deletion changed in it.
      const cause = { cause: 'tenant deleted', tenantDeleted: name };
      await this.audit(tx, [
        { tenant: name, action: 'tenant.delete', object: { kind: 'tenant', name } },
        ...release.services.map((s) => ({ tenant: s.tenant, action: 'service.unshare', object: { kind: 'service', name: s.name }, details: cause })),
        ...release.cas.map((c) => ({ tenant: c.tenant, action: 'ca.unshare', object: { kind: 'ca', name: c.name }, details: cause })),
        ...release.certificates
          .filter((c) => c.revokedNow)
          .map((c) => ({ tenant: c.tenant, action: 'certificate.revoke', object: { kind: 'certificate', name: c.serial }, details: { ...cause, ca: c.ca, reason: 'cessationOfOperation' } })),
      ]);
      return true;
    });
    if (!deleted) throw gatewayError('NOT_FOUND', `Tenant "${name}" not found`);
    await this.notify();
  }

  // --- objects ---------------------------------------------------------------------------------

  async list<K extends ConfigKind>(tenant: string, kind: K, page: PageParams = {}): Promise<PageResult<ConfigObjectView<SpecOf<K>>>> {
    const { limit, after } = pageRequest(page);
    const scope = await this.deps.store.tenant(tenant);
    const result = await scope.list(kind, { limit, after });
    const items = result.items.map((r) => this.view(kind, r));
    return result.next === undefined ? { items } : { items, next: encodeCursor(result.next) };
  }

  async get<K extends ConfigKind>(tenant: string, kind: K, name: string): Promise<ConfigObjectView<SpecOf<K>>> {
    const scope = await this.deps.store.tenant(tenant);
    const rec = await scope.get(kind, name);
    if (!rec) throw notFound(kind, name, tenant);
    return this.view(kind, rec);
  }

  /** Throws CONFLICT when the name exists, VALIDATION for a bad spec or a config that would not plan. */
  async create<K extends ConfigKind>(tenant: string, kind: K, input: unknown): Promise<ConfigObjectView<SpecOf<K>>> {
    const spec = parseInput(SPEC_SCHEMAS[kind], input, kind) as Record<string, unknown> & { name: string };
    const rec = await this.deps.store.transaction(async (tx) => {
      const scope = await tx.tenant(tenant);
      if (await scope.get(kind, spec.name)) throw gatewayError('CONFLICT', `${kind} "${spec.name}" already exists in tenant "${tenant}"`, [{ path: 'name', message: 'already exists' }]);
      const stored = this.sealOne(kind, tenant, spec, undefined);
      const created = await scope.create(kind, spec.name, stored);
      await this.validateCandidate(tx, tenant, [{ from: objectPrefix(kind, tenant, spec.name), to: '' }]);
      await this.audit(tx, [{ tenant, action: `${kind}.create`, object: { kind, name: spec.name }, after: redactSecrets(kind, stored) }]);
      return created;
    });
    await this.notify();
    return this.view(kind, rec);
  }

  /**
   * Replaces an object's spec (PUT). The body's `name` may be omitted; when given it must equal `name`.
   * With `expectedVersion`, throws CONFLICT unless the stored version matches. Sending back the spec
   * as read (secrets "<redacted>") changes nothing and keeps the version.
   */
  async replace<K extends ConfigKind>(
    tenant: string,
    kind: K,
    name: string,
    input: unknown,
    opts: { expectedVersion?: number | undefined } = {},
  ): Promise<ConfigObjectView<SpecOf<K>>> {
    const body = isRecord(input) && input.name === undefined ? { ...input, name } : input;
    const spec = parseInput(SPEC_SCHEMAS[kind], body, kind) as Record<string, unknown> & { name: string };
    if (spec.name !== name) {
      throw validationError(kind, [{ path: 'name', message: `must be "${name}" (the name in the URL); objects cannot be renamed` }]);
    }
    const { rec, changed } = await this.deps.store.transaction(async (tx) => {
      const scope = await tx.tenant(tenant);
      const existing = await scope.get(kind, name);
      if (!existing) throw notFound(kind, name, tenant);
      if (opts.expectedVersion !== undefined && existing.version !== opts.expectedVersion) {
        throw gatewayError('CONFLICT', `${kind} "${name}" is at version ${existing.version}, not ${opts.expectedVersion}`);
      }
      const stored = this.sealOne(kind, tenant, spec, existing.spec);
      if (jsonEqual(stored, existing.spec)) return { rec: existing, changed: false };
      const updated = await scope.update(kind, name, stored, existing.version);
      await this.validateCandidate(tx, tenant, [{ from: objectPrefix(kind, tenant, name), to: '' }]);
      await this.audit(tx, [{ tenant, action: `${kind}.update`, object: { kind, name }, before: redactSecrets(kind, existing.spec), after: redactSecrets(kind, stored) }]);
      return { rec: updated, changed: true };
    });
    if (changed) await this.notify();
    return this.view(kind, rec);
  }

  /** Throws NOT_FOUND when absent; CONFLICT when deleting a service that routes still use. */
  async delete(tenant: string, kind: ConfigKind, name: string): Promise<void> {
    await this.deps.store.transaction(async (tx) => {
      const scope = await tx.tenant(tenant);
      const existing = await scope.get(kind, name);
      if (!existing) throw notFound(kind, name, tenant);
      if (kind === 'service') {
        const users = (await scope.listAll('route')).filter((r) => r.spec.service === name);
        if (users.length > 0) {
          const names = users.map((r) => `"${r.name}"`).join(', ');
          throw gatewayError(
            'CONFLICT',
            `service "${name}" is still used by route${users.length > 1 ? 's' : ''} ${names}; delete those routes or point them at another service first`,
            users.map((r) => ({ path: `routes.${r.name}.service`, message: `refers to service "${name}"` })),
          );
        }
      }
      await removeObject(scope, kind, name);
      let plan;
      try {
        plan = await this.planCandidate(tx, tenant, []);
      } catch (err) {
        // What a deletion breaks is a reference to the deleted object: the deletion conflicts with it.
        if (!(err instanceof GatewayError) || err.code !== Errors.VALIDATION.code) throw err;
        const first = err.details?.[0];
        throw gatewayError('CONFLICT', `${kind} "${name}" is still in use${first ? `: ${first.path}: ${first.message}` : ''}`, err.details, err);
      }
      refuseUnresolved(plan, tenant, []);
      await this.audit(tx, [{ tenant, action: `${kind}.delete`, object: { kind, name }, before: redactSecrets(kind, existing.spec) }]);
    });
    await this.notify();
  }

  // --- declarative -----------------------------------------------------------------------------

  /** The tenant's configuration as a document (canonical, secrets redacted). Throws NOT_FOUND for an unknown tenant. */
  async exportDocument(tenant: string): Promise<ConfigDocument> {
    // One transaction for a consistent read of every kind (it writes nothing, so no revision bump).
    const records = await this.deps.store.transaction(async (tx) => {
      const scope = await tx.tenant(tenant);
      const out = {} as Record<ConfigKind, ConfigRecord[]>;
      for (const kind of CONFIG_KINDS) out[kind] = await scope.listAll(kind);
      return out;
    });
    const specs = {} as { [K in ConfigKind]: SpecOf<K>[] };
    for (const kind of CONFIG_KINDS) (specs as Record<ConfigKind, unknown[]>)[kind] = records[kind].map((r) => this.view(kind, r).spec);
    return buildDocument(tenant, specs);
  }

  /**
   * Makes the tenant's objects exactly what `input` (a document) says, in one transaction:
   * creates, updates and deletes (objects absent from the document are removed). Creates the tenant
   * when it does not exist. With `dryRun`, validates everything and reports the changes, then rolls
   * back. Error paths point into the document (`services.0.routes.1.service`).
   */
  async applyDocument(tenant: string, input: unknown, opts: { dryRun: boolean }): Promise<ApplyResult> {
    parseInput(NameSchema, tenant, 'tenant', ['tenant']);
    const doc = parseInput(ConfigDocumentSchema, input, 'document');
    if (doc.tenant !== undefined && doc.tenant !== tenant) {
      throw validationError('document', [{ path: 'tenant', message: `is "${doc.tenant}" but the document was sent to tenant "${tenant}"` }]);
    }
    const desired = documentObjects(doc);
    const changes: ConfigChange[] = [];
    try {
      await this.deps.store.transaction(async (tx) => {
        if (!(await tx.tenants.get(tenant))) {
          await tx.tenants.create(tenant);
          changes.push({ action: 'create', kind: 'tenant', name: tenant });
        }
        const scope = await tx.tenant(tenant);
        const current = {} as Record<ConfigKind, Map<string, ConfigRecord>>;
        const wanted = {} as Record<ConfigKind, Map<string, Record<string, unknown>>>;
        const details: ErrorDetail[] = [];
        for (const kind of CONFIG_KINDS) {
          current[kind] = new Map((await scope.listAll(kind)).map((r) => [r.name, r] as const));
          wanted[kind] = new Map(
            desired[kind].map((p) => {
              const spec = p.spec as Record<string, unknown> & { name: string };
              return [spec.name, sealSecrets(this.deps.secrets, kind, tenant, spec, current[kind].get(spec.name)?.spec, p.path, details)] as const;
            }),
          );
        }
        if (details.length > 0) throw validationError('document', details);

        const specsOf = (m: Map<string, ConfigRecord>) => new Map([...m].map(([n, r]) => [n, r.spec] as const));
        const kindChanges = CONFIG_KINDS.flatMap((kind) => diffKind(kind, specsOf(current[kind]), wanted[kind]));
        changes.push(...kindChanges);
        for (const c of kindChanges) {
          const kind = c.kind as ConfigKind;
          if (c.action === 'create') await scope.create(kind, c.name, wanted[kind].get(c.name)!);
          else if (c.action === 'update') await scope.update(kind, c.name, wanted[kind].get(c.name)!, current[kind].get(c.name)!.version);
          else await removeObject(scope, kind, c.name);
        }
        if (kindChanges.length > 0) {
          const rewrites: PathRewrite[] = CONFIG_KINDS.flatMap((kind) =>
            desired[kind].map((p) => ({ from: objectPrefix(kind, tenant, (p.spec as { name: string }).name), to: joinPath(p.path) })),
          );
          await this.validateCandidate(tx, tenant, rewrites);
        }
        if (opts.dryRun) throw new DryRunRollback();
        await this.audit(
          tx,
          changes.map((c) => {
            const kind = c.kind as ConfigKind;
            if (c.kind === 'tenant') return { tenant, action: 'tenant.create', object: { kind: 'tenant', name: c.name } };
            const before = current[kind].get(c.name)?.spec;
            const after = wanted[kind].get(c.name);
            return {
              tenant,
              action: `${kind}.${c.action}`,
              object: { kind, name: c.name },
              before: before && c.action !== 'create' ? redactSecrets(kind, before) : null,
              after: after && c.action !== 'delete' ? redactSecrets(kind, after) : null,
              details: { via: 'apply' },
            };
          }),
        );
      });
    } catch (err) {
      if (!(err instanceof DryRunRollback)) throw err;
    }
    if (!opts.dryRun && changes.length > 0) await this.notify();
    return { applied: !opts.dryRun, changes, revision: await this.deps.store.revision() };
  }

  // --- internals -------------------------------------------------------------------------------

  /** Seals one spec's secrets; throws VALIDATION (paths relative to the body) for unusable values. */
  private sealOne(kind: ConfigKind, tenant: string, spec: Record<string, unknown>, existing: Record<string, unknown> | undefined): Record<string, unknown> {
    const problems: ErrorDetail[] = [];
    const sealed = sealSecrets(this.deps.secrets, kind, tenant, spec, existing, [], problems);
    if (problems.length > 0) throw validationError(kind, problems);
    return sealed;
  }

  /** A record as clients see it: canonical spec (schema defaults filled), secrets redacted. */
  private view<K extends ConfigKind>(kind: K, rec: ConfigRecord): ConfigObjectView<SpecOf<K>> {
    const redacted = redactSecrets(kind, rec.spec);
    const canonical = SPEC_SCHEMAS[kind].safeParse(redacted);
    const spec = (canonical.success ? canonical.data : redacted) as SpecOf<K>;
    return { name: rec.name, spec, version: rec.version, createdAt: rec.createdAt, updatedAt: rec.updatedAt };
  }

  /**
   * Re-reads the whole configuration through the transaction (including its own uncommitted writes)
   * and plans it. Throws (rolling the transaction back) when the result would not load.
   */
  private async validateCandidate(tx: StoreTx, tenant: string, rewrites: readonly PathRewrite[]): Promise<void> {
    refuseUnresolved(await this.planCandidate(tx, tenant, rewrites), tenant, rewrites);
  }

  /** Plans the configuration as the transaction sees it; throws (rolling back) when it would not load. */
  private async planCandidate(tx: StoreTx, tenant: string, rewrites: readonly PathRewrite[]): Promise<SnapshotPlan> {
    const dump = await candidateDump(tx.planning, tenant);
    try {
      return planSnapshot(dump, this.deps.plugins, this.deps.providers);
    } catch (err) {
      throw remapPlanError(err, rewrites);
    }
  }

  /** Appends audit entries for this service's actor inside `tx`. */
  private async audit(tx: StoreTx, facts: readonly AuditFacts[]): Promise<void> {
    if (!this.deps.audit || facts.length === 0) return;
    await tx.audit(
      facts.map((f) => auditEntry(this.context, f)),
      this.deps.audit,
    );
  }

  private async notify(): Promise<void> {
    try {
      await this.deps.onCommitted();
    } catch (err) {
      if (isNotLoaded(err)) throw err;
      // The change is committed; the snapshot manager's revision polling picks it up and logs failures.
    }
  }
}

/**
 * Refuses a write by `tenant` while one of its domains trusts a CA that is absent or no longer
 * shared with it. Other tenants' such references are theirs to fix: an owner may stop sharing a CA
 * at any time, and that must not block anyone else's writes.
 */
function refuseUnresolved(plan: SnapshotPlan, tenant: string, rewrites: readonly PathRewrite[]): void {
  const own = plan.unresolvedAuthorities.filter((u) => u.tenant === tenant).map((u) => u.detail);
  if (own.length > 0) throw remapPlanError(gatewayError('VALIDATION', 'Configuration is invalid', own), rewrites);
}

/** Deletes an object and what only it owns (an application's credentials and subscriptions). */
async function removeObject(scope: TenantScope, kind: ConfigKind, name: string): Promise<void> {
  if (kind === 'application') {
    await scope.credentials.deleteForApplication(name);
    await scope.subscriptions.deleteForApplication(name);
  }
  await scope.delete(kind, name);
}

/** Kinds whose validity depends only on their own tenant: other tenants' are not re-read. */
const TENANT_LOCAL_KINDS: ReadonlySet<ConfigKind> = new Set(['application', 'jwt-issuer']);

/**
 * Every tenant and object as the transaction sees them (`store.loadAll()` cannot run inside a
 * transaction), except tenant-local kinds of tenants other than `changed`: those did not change and
 * were valid, and there can be very many (100,000 applications).
 */
async function candidateDump(tx: StoreTx['planning'], changed: string): Promise<ConfigDump> {
  const tenants = await tx.tenants.list();
  const objects: ConfigRecord[] = [];
  const cas: CaRecord[] = [];
  for (const t of tenants) {
    const scope: TenantScopeReader = await tx.tenant(t.name);
    for (const kind of CONFIG_KINDS) if (t.name === changed || !TENANT_LOCAL_KINDS.has(kind)) objects.push(...(await scope.listAll(kind)));
    cas.push(...(await scope.pki.listCas()));
  }
  return { revision: -1, tenants, objects, credentials: [], subscriptions: [], pki: { cas, revoked: [] } };
}
