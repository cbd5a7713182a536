/**
 * Management of applications' credentials and subscriptions: the one write path for them, used by
 * the admin API and the CLI. Like the config service, every write runs in one store transaction with
 * its audit entry, and the data plane reloads after commit. Secrets are generated here, returned
 * once, and stored only as keyed hashes.
 */

import { SYSTEM_CONTEXT, type AuditContext, type AuditFacts } from '../audit/audit-context.js';
import { auditedWrite, type AuditedResult } from '../audit/audited-write.js';
import { parseInput } from '../config/input-validation.js';
import { gatewayError } from '../core/errors.js';
import type { ServiceAccess } from '../model/access.js';
import { CredentialInputSchema, DecisionInputSchema, RevokeInputSchema, RotateInputSchema, SubscriptionInputSchema } from '../model/credential.js';
import type { AuditLinker, CredentialRecord, Store, StoreTx, SubscriptionRecord, SubscriptionStatus } from '../storage/store.js';
import { generateApiKey, generateClientCredentials, type CredentialHasher } from './credential-secrets.js';

export interface AccessServiceDeps {
  readonly store: Store;
  readonly hasher: CredentialHasher;
  readonly audit?: AuditLinker | undefined;
  /** After every committed change (the data plane reloads). */
  readonly onCommitted: () => Promise<void>;
  /** Told of new pending subscription requests (approver webhook); must not throw. */
  readonly onSubscriptionRequested?: ((sub: SubscriptionRecord, access: ServiceAccess) => void) | undefined;
  readonly now?: () => number;
}

/** A credential as clients see it: never the secret nor its hash. */
export type CredentialView = Omit<CredentialRecord, 'secretHash'>;

export interface IssuedCredential {
  readonly credential: CredentialView;
  /** The API key, or the OAuth2 client_secret. Shown once; not retrievable later. */
  readonly secret: string;
  /** The OAuth2 client_id (same as `credential.prefix`), for `oauth-client` credentials. */
  readonly clientId?: string;
}

function view(c: CredentialRecord): CredentialView {
  const { secretHash: _omit, ...rest } = c;
  void _omit;
  return rest;
}

function notFound(what: string, id: string): never {
  throw gatewayError('NOT_FOUND', `${what} "${id}" not found`);
}

/** `name` or `tenant/name` → tenant and name, `name` meaning the caller's tenant. */
function serviceRef(ref: string, tenant: string): { tenant: string; name: string } {
  const slash = ref.indexOf('/');
  return slash < 0 ? { tenant, name: ref } : { tenant: ref.slice(0, slash), name: ref.slice(slash + 1) };
}

export class AccessService {
  constructor(
    private readonly deps: AccessServiceDeps,
    private readonly context: AuditContext = SYSTEM_CONTEXT,
  ) {}

  as(context: AuditContext, store: Store = this.deps.store): AccessService {
    return new AccessService({ ...this.deps, store }, context);
  }

  // --- credentials -------------------------------------------------------------------------------

  async listCredentials(tenant: string, application?: string): Promise<CredentialView[]> {
    const scope = await this.deps.store.tenant(tenant);
    if (application !== undefined && !(await scope.get('application', application))) notFound('Application', application);
    return (await scope.credentials.list(application)).map(view);
  }

  async getCredential(tenant: string, id: string): Promise<CredentialView> {
    const scope = await this.deps.store.tenant(tenant);
    const c = await scope.credentials.get(id);
    return c ? view(c) : notFound('Credential', id);
  }

  /** Creates an API key or OAuth2 client for an application; the secret is in the result only. */
  async createCredential(tenant: string, application: string, input: unknown): Promise<IssuedCredential> {
    const spec = parseInput(CredentialInputSchema, input ?? {}, 'credential');
    const generated = spec.type === 'api-key' ? generateApiKey() : generateClientCredentials();
    const record = await this.#write(async (tx) => {
      const scope = await tx.tenant(tenant);
      if (!(await scope.get('application', application))) notFound('Application', application);
      const created = await scope.credentials.create({
        application,
        type: spec.type,
        prefix: generated.prefix,
        secretHash: this.deps.hasher.hash(generated.secret),
        description: spec.description ?? null,
        scopes: spec.scopes,
        boundCertificate: spec.boundCertificate ?? null,
        expiresAt: spec.expiresIn === undefined ? null : new Date(this.#now() + spec.expiresIn).toISOString(),
      });
      return { result: created, audit: [{ tenant, action: 'credential.create', object: { kind: 'credential', name: created.prefix }, after: view(created) }] };
    });
    return { credential: view(record), secret: generated.secret, ...(spec.type === 'oauth-client' ? { clientId: generated.prefix } : {}) };
  }

  /**
   * Issues a new secret for the same application, type, scopes and binding; the old one keeps working
   * for `overlap`, then expires (never later than it would have anyway). The replacement keeps the
   * old expiry. Throws CONFLICT for a revoked or expired credential.
   */
  async rotateCredential(tenant: string, id: string, input: unknown): Promise<IssuedCredential & { previous: CredentialView }> {
    const { overlap } = parseInput(RotateInputSchema, input ?? {}, 'rotation');
    let generated = { prefix: '', secret: '' };
    const { created, previous } = await this.#write(async (tx) => {
      const scope = await tx.tenant(tenant);
      const old = await scope.credentials.get(id);
      if (!old) notFound('Credential', id);
      if (old.revokedAt !== null) throw gatewayError('CONFLICT', `Credential "${id}" is revoked; create a new one instead`);
      if (old.expiresAt !== null && Date.parse(old.expiresAt) <= this.#now()) throw gatewayError('CONFLICT', `Credential "${id}" has expired; create a new one instead`);
      generated = old.type === 'api-key' ? generateApiKey() : generateClientCredentials();
      const created = await scope.credentials.create({
        application: old.application,
        type: old.type,
        prefix: generated.prefix,
        secretHash: this.deps.hasher.hash(generated.secret),
        description: old.description,
        scopes: old.scopes,
        boundCertificate: old.boundCertificate,
        expiresAt: old.expiresAt,
      });
      const ends = this.#now() + overlap;
      const expiresAt = old.expiresAt !== null && Date.parse(old.expiresAt) < ends ? old.expiresAt : new Date(ends).toISOString();
      const previous = (await scope.credentials.update(id, { expiresAt }))!;
      return {
        result: { created, previous },
        audit: [{ tenant, action: 'credential.rotate', object: { kind: 'credential', name: old.prefix }, before: view(old), after: view(previous), details: { replacement: created.prefix } }],
      };
    });
    return { credential: view(created), secret: generated.secret, previous: view(previous), ...(created.type === 'oauth-client' ? { clientId: created.prefix } : {}) };
  }

  /** Revokes at once (the next request is refused). Revoking twice keeps the first time. */
  async revokeCredential(tenant: string, id: string, input: unknown): Promise<CredentialView> {
    const { reason } = parseInput(RevokeInputSchema, input ?? {}, 'revocation');
    const updated = await this.#write(async (tx) => {
      const scope = await tx.tenant(tenant);
      const old = await scope.credentials.get(id);
      if (!old) notFound('Credential', id);
      const revoked = (await scope.credentials.update(id, { revokedAt: new Date(this.#now()).toISOString() }))!;
      return { result: revoked, audit: [{ tenant, action: 'credential.revoke', object: { kind: 'credential', name: old.prefix }, before: view(old), after: view(revoked), details: reason ? { reason } : null }] };
    });
    return view(updated);
  }

  // --- subscriptions -----------------------------------------------------------------------------

  async listSubscriptions(tenant: string, application?: string): Promise<SubscriptionRecord[]> {
    return (await this.deps.store.tenant(tenant)).subscriptions.listOwn(application);
  }

  async listSubscriptionRequests(tenant: string, status?: SubscriptionStatus): Promise<SubscriptionRecord[]> {
    return (await this.deps.store.tenant(tenant)).subscriptions.listIncoming(status);
  }

  async getSubscription(tenant: string, id: string): Promise<SubscriptionRecord> {
    return (await (await this.deps.store.tenant(tenant)).subscriptions.get(id)) ?? notFound('Subscription', id);
  }

  /**
   * Subscribes an application of `tenant` to a service it can see (its own, or one shared with it).
   * Auto-approval services answer `approved` at once; others stay `pending` for the provider.
   */
  async requestSubscription(tenant: string, input: unknown): Promise<SubscriptionRecord> {
    const spec = parseInput(SubscriptionInputSchema, input, 'subscription');
    const target = serviceRef(spec.service, tenant);
    let access: ServiceAccess | undefined;
    const sub = await this.#write(async (tx) => {
      const scope = await tx.tenant(tenant);
      if (!(await scope.get('application', spec.application))) notFound('Application', spec.application);
      const svc = await scope.visibleService(target.tenant, target.name);
      if (!svc) notFound('Service', spec.service);
      access = svc.spec.access as ServiceAccess | undefined;
      if (!access) throw gatewayError('VALIDATION', `Service "${spec.service}" is public (it has no access block): it needs no subscription`);
      const created = await scope.subscriptions.create({
        application: spec.application,
        serviceTenant: target.tenant,
        service: target.name,
        status: access.approval === 'auto' ? 'approved' : 'pending',
        requestedBy: this.context.actor.name,
        comment: spec.comment ?? null,
      });
      const facts: AuditFacts[] = [{ tenant, action: 'subscription.request', object: { kind: 'subscription', name: created.id }, after: created }];
      if (target.tenant !== tenant) facts.push({ tenant: target.tenant, action: 'subscription.request', object: { kind: 'subscription', name: created.id }, after: created });
      return { result: created, audit: facts };
    });
    if (sub.status === 'pending' && access) this.deps.onSubscriptionRequested?.(sub, access);
    return sub;
  }

  /** Provider side: approve or reject a request (approving a rejected one is allowed). */
  async decideSubscription(tenant: string, id: string, decision: 'approved' | 'rejected', input: unknown): Promise<SubscriptionRecord> {
    const { comment } = parseInput(DecisionInputSchema, input ?? {}, 'decision');
    return this.#changeStatus(tenant, id, decision, comment ?? null, 'provider', (s) => {
      if (s.serviceTenant !== tenant) throw gatewayError('FORBIDDEN', "Only the service's tenant approves or rejects its subscription requests");
      if (s.status === 'revoked' || (decision === 'rejected' && s.status !== 'pending') || s.status === decision) {
        throw gatewayError('CONFLICT', `Subscription "${id}" is ${s.status}; it cannot be ${decision}`);
      }
    });
  }

  /** Either side ends a subscription: the next request is refused. */
  async revokeSubscription(tenant: string, id: string, input: unknown): Promise<SubscriptionRecord> {
    const { comment } = parseInput(DecisionInputSchema, input ?? {}, 'revocation');
    return this.#changeStatus(tenant, id, 'revoked', comment ?? null, undefined, (s) => {
      if (s.status === 'revoked' || s.status === 'rejected') throw gatewayError('CONFLICT', `Subscription "${id}" is already ${s.status}`);
    });
  }

  async #changeStatus(
    tenant: string,
    id: string,
    status: SubscriptionStatus,
    comment: string | null,
    side: 'provider' | undefined,
    check: (s: SubscriptionRecord) => void,
  ): Promise<SubscriptionRecord> {
    return this.#write(async (tx) => {
      const scope = await tx.tenant(tenant);
      const before = await scope.subscriptions.get(id);
      if (!before) notFound('Subscription', id);
      check(before);
      const actualSide = side ?? (before.serviceTenant === tenant ? 'provider' : 'subscriber');
      const after = (await scope.subscriptions.decide(id, { status, comment, decidedBy: this.context.actor.name, side: actualSide }))!;
      const verb = status === 'approved' ? 'approve' : status === 'rejected' ? 'reject' : 'revoke';
      const facts: AuditFacts[] = [{ tenant: before.serviceTenant, action: `subscription.${verb}`, object: { kind: 'subscription', name: id }, before, after }];
      if (before.tenant !== before.serviceTenant) facts.push({ tenant: before.tenant, action: `subscription.${verb}`, object: { kind: 'subscription', name: id }, before, after });
      return { result: after, audit: facts };
    });
  }

  // --- internals ---------------------------------------------------------------------------------

  #write<T>(fn: (tx: StoreTx) => Promise<AuditedResult<T>>): Promise<T> {
    return auditedWrite({ store: this.deps.store, link: this.deps.audit, context: this.context, onCommitted: this.deps.onCommitted }, fn);
  }

  #now(): number {
    return (this.deps.now ?? Date.now)();
  }
}
