/**
 * Admin endpoints for who may call what: applications' credentials, subscriptions and their
 * approval, admin tokens, the audit trail. Every handler works through the principal's services
 * (`req.access`, `req.store`), which only reach the principal's tenant.
 */

import { z } from 'zod';
import { parseInput } from '../config/input-validation.js';
import { gatewayError } from '../core/errors.js';
import { auditEntry } from '../audit/audit-context.js';
import type { AuditTrail } from '../audit/audit-trail.js';
import { RevokeInputSchema, RotateInputSchema, SubscriptionInputSchema, CredentialInputSchema, DecisionInputSchema } from '../model/credential.js';
import type { AdminTokenRecord, SubscriptionStatus } from '../storage/store.js';
import { generateAdminToken, hashAdminToken } from './admin-auth.js';
import type { AdminRequest, AdminRoute, NamedSchema, ParamSpec } from './admin-routes.js';
import { anyTenant, onTenant, API_PREFIX } from './admin-routes.js';
import {
  AdminTokenInputSchema,
  AdminTokenSchema,
  AfterQuerySchema,
  ApplicationQuerySchema,
  AuditLimitQuerySchema,
  AuditPageSchema,
  AuditReportSchema,
  AuditTenantQuerySchema,
  CredentialSchema,
  IssuedAdminTokenSchema,
  IssuedCredentialSchema,
  SubscriptionSchema,
  SubscriptionStatusQuerySchema,
  WhoAmISchema,
} from './access-schemas.js';
import { grantableRoles, ROLE_PERMISSIONS } from './roles.js';

const AUTH = [401, 403] as const;
const READ = [400, ...AUTH, 404, 503] as const;
const WRITE = [400, ...AUTH, 404, 409, 413, 415, 503] as const;
const DEFAULT_TOKEN_LIFETIME_MS = 90 * 86_400_000;

const list = <T extends z.ZodType>(name: string, item: T): NamedSchema => ({ name, schema: z.object({ items: z.array(item) }).strict() });
const one = (name: string, schema: z.ZodType): NamedSchema => ({ name, schema });

export interface AccessRoutesDeps {
  readonly audit: AuditTrail | undefined;
}

function tokenView(t: AdminTokenRecord) {
  return t;
}

function q<T>(req: AdminRequest, name: string): T {
  return req.query[name] as T;
}

export function accessRoutes(deps: AccessRoutesDeps): AdminRoute[] {
  const T = `${API_PREFIX}/tenants/{tenant}`;
  const credential = one('Credential', CredentialSchema);
  const issued = one('IssuedCredential', IssuedCredentialSchema);
  const subscription = one('Subscription', SubscriptionSchema);
  const decision = (verb: 'approve' | 'reject' | 'revoke'): AdminRoute => ({
    method: 'POST',
    path: `${T}/subscriptions/{id}/${verb}`,
    operationId: `${verb}Subscription`,
    summary:
      verb === 'revoke'
        ? 'End a subscription (either side); the next request is refused'
        : `${verb === 'approve' ? 'Approve' : 'Reject'} a subscription request to one of this tenant's services, with a comment`,
    tag: 'Subscriptions',
    permission: onTenant(verb === 'revoke' ? 'subscriptions.request' : 'subscriptions.decide'),
    body: one('DecisionInput', DecisionInputSchema),
    success: { status: 200, description: 'The subscription after the change', body: subscription },
    errors: WRITE,
    async handle(req) {
      const { tenant, id } = req.params as { tenant: string; id: string };
      const sub =
        verb === 'revoke'
          ? await req.access.revokeSubscription(tenant, id, req.body)
          : await req.access.decideSubscription(tenant, id, verb === 'approve' ? 'approved' : 'rejected', req.body);
      return { status: 200, body: sub };
    },
  });
  const appQuery: ParamSpec[] = [{ name: 'application', schema: ApplicationQuerySchema }];
  const credentialList = list('CredentialList', CredentialSchema);
  const subscriptionList = list('SubscriptionList', SubscriptionSchema);

  return [
    {
      method: 'GET',
      path: `${T}/applications/{name}/credentials`,
      operationId: 'listApplicationCredentials',
      summary: "List an application's credentials (never their secrets)",
      tag: 'Credentials',
      permission: onTenant('config.read'),
      success: { status: 200, description: 'Credentials, newest first', body: credentialList },
      errors: READ,
      async handle(req) {
        return { status: 200, body: { items: await req.access.listCredentials(req.params.tenant!, req.params.name!) } };
      },
    },
    {
      method: 'POST',
      path: `${T}/applications/{name}/credentials`,
      operationId: 'createCredential',
      summary: 'Create an API key or OAuth2 client for an application; the secret is shown once',
      tag: 'Credentials',
      permission: onTenant('credentials.write'),
      body: one('CredentialInput', CredentialInputSchema),
      success: { status: 201, description: 'The credential and its secret', body: issued },
      errors: WRITE,
      async handle(req) {
        return { status: 201, body: await req.access.createCredential(req.params.tenant!, req.params.name!, req.body), headers: { 'cache-control': 'no-store' } };
      },
    },
    {
      method: 'GET',
      path: `${T}/credentials`,
      operationId: 'listCredentials',
      summary: "List the tenant's credentials (optionally one application's)",
      tag: 'Credentials',
      permission: onTenant('config.read'),
      query: appQuery,
      success: { status: 200, description: 'Credentials, newest first', body: credentialList },
      errors: READ,
      async handle(req) {
        return { status: 200, body: { items: await req.access.listCredentials(req.params.tenant!, q<string | undefined>(req, 'application')) } };
      },
    },
    {
      method: 'GET',
      path: `${T}/credentials/{id}`,
      operationId: 'getCredential',
      summary: 'Get a credential (never its secret)',
      tag: 'Credentials',
      permission: onTenant('config.read'),
      success: { status: 200, description: 'The credential', body: credential },
      errors: READ,
      async handle(req) {
        return { status: 200, body: await req.access.getCredential(req.params.tenant!, req.params.id!) };
      },
    },
    {
      method: 'POST',
      path: `${T}/credentials/{id}/rotate`,
      operationId: 'rotateCredential',
      summary: 'Issue a replacement secret; the old one keeps working for the overlap window',
      tag: 'Credentials',
      permission: onTenant('credentials.write'),
      body: one('RotateInput', RotateInputSchema),
      success: { status: 201, description: 'The new credential and secret, and the old credential', body: issued },
      errors: WRITE,
      async handle(req) {
        return { status: 201, body: await req.access.rotateCredential(req.params.tenant!, req.params.id!, req.body), headers: { 'cache-control': 'no-store' } };
      },
    },
    {
      method: 'POST',
      path: `${T}/credentials/{id}/revoke`,
      operationId: 'revokeCredential',
      summary: 'Revoke a credential; the next request with it is refused',
      tag: 'Credentials',
      permission: onTenant('credentials.write'),
      body: one('RevokeInput', RevokeInputSchema),
      success: { status: 200, description: 'The revoked credential', body: credential },
      errors: WRITE,
      async handle(req) {
        return { status: 200, body: await req.access.revokeCredential(req.params.tenant!, req.params.id!, req.body) };
      },
    },
    {
      method: 'GET',
      path: `${T}/subscriptions`,
      operationId: 'listSubscriptions',
      summary: "The tenant's applications' subscriptions",
      tag: 'Subscriptions',
      permission: onTenant('config.read'),
      query: appQuery,
      success: { status: 200, description: 'Subscriptions, newest first', body: subscriptionList },
      errors: READ,
      async handle(req) {
        return { status: 200, body: { items: await req.access.listSubscriptions(req.params.tenant!, q<string | undefined>(req, 'application')) } };
      },
    },
    {
      method: 'POST',
      path: `${T}/subscriptions`,
      operationId: 'requestSubscription',
      summary: 'Subscribe an application to a service (pending until approved, unless the service auto-approves)',
      tag: 'Subscriptions',
      permission: onTenant('subscriptions.request'),
      body: one('SubscriptionInput', SubscriptionInputSchema),
      success: { status: 201, description: 'The subscription', body: subscription },
      errors: WRITE,
      async handle(req) {
        return { status: 201, body: await req.access.requestSubscription(req.params.tenant!, req.body) };
      },
    },
    {
      method: 'GET',
      path: `${T}/subscriptions/{id}`,
      operationId: 'getSubscription',
      summary: 'Get a subscription (of this tenant, or to one of its services)',
      tag: 'Subscriptions',
      permission: onTenant('config.read'),
      success: { status: 200, description: 'The subscription', body: subscription },
      errors: READ,
      async handle(req) {
        return { status: 200, body: await req.access.getSubscription(req.params.tenant!, req.params.id!) };
      },
    },
    decision('approve'),
    decision('reject'),
    decision('revoke'),
    {
      method: 'GET',
      path: `${T}/subscription-requests`,
      operationId: 'listSubscriptionRequests',
      summary: "Subscriptions to the tenant's services (the approval queue with status=pending)",
      tag: 'Subscriptions',
      permission: onTenant('config.read'),
      query: [{ name: 'status', schema: SubscriptionStatusQuerySchema }],
      success: { status: 200, description: 'Subscriptions, newest first', body: subscriptionList },
      errors: READ,
      async handle(req) {
        return { status: 200, body: { items: await req.access.listSubscriptionRequests(req.params.tenant!, q<SubscriptionStatus | undefined>(req, 'status')) } };
      },
    },
    {
      method: 'GET',
      path: `${API_PREFIX}/whoami`,
      operationId: 'whoAmI',
      summary: 'The calling token: role, tenant and permissions',
      tag: 'Admin tokens',
      permission: anyTenant('tenants.read'),
      success: { status: 200, description: 'The principal', body: one('WhoAmI', WhoAmISchema) },
      errors: AUTH,
      async handle(req) {
        const p = req.principal!;
        return { status: 200, body: { id: p.id, name: p.name, role: p.role, tenant: p.tenant, permissions: [...ROLE_PERMISSIONS[p.role]].sort() } };
      },
    },
    {
      method: 'GET',
      path: `${API_PREFIX}/admin-tokens`,
      operationId: 'listAdminTokens',
      summary: "List admin tokens (a tenant's tokens only, for tenant-scoped callers)",
      tag: 'Admin tokens',
      permission: anyTenant('tokens.manage'),
      success: { status: 200, description: 'Tokens, oldest first (never the tokens themselves)', body: list('AdminTokenList', AdminTokenSchema) },
      errors: AUTH,
      async handle(req) {
        return { status: 200, body: { items: (await req.store.adminTokens.list()).map(tokenView) } };
      },
    },
    {
      method: 'POST',
      path: `${API_PREFIX}/admin-tokens`,
      operationId: 'createAdminToken',
      summary: 'Create an admin token for a role (and tenant); the token is shown once',
      tag: 'Admin tokens',
      permission: anyTenant('tokens.manage'),
      body: one('AdminTokenInput', AdminTokenInputSchema),
      success: { status: 201, description: 'The token and its record', body: one('IssuedAdminToken', IssuedAdminTokenSchema) },
      errors: WRITE,
      async handle(req) {
        const p = req.principal!;
        const input = parseInput(AdminTokenInputSchema, req.body, 'admin token');
        const tenant = input.tenant ?? p.tenant ?? undefined;
        if (!grantableRoles(p.role).includes(input.role)) throw gatewayError('FORBIDDEN', `A ${p.role} cannot grant the ${input.role} role`);
        if (input.role === 'platform-admin' && tenant !== undefined) throw gatewayError('VALIDATION', 'platform-admin tokens are not limited to a tenant', [{ path: 'tenant', message: 'must be absent for platform-admin' }]);
        if (input.role !== 'platform-admin' && tenant === undefined) throw gatewayError('VALIDATION', `${input.role} tokens need a tenant`, [{ path: 'tenant', message: 'is required' }]);
        const token = generateAdminToken();
        const expiresAt = new Date(Date.now() + (input.expiresIn ?? DEFAULT_TOKEN_LIFETIME_MS)).toISOString();
        const record = await req.store.adminTokens.create({ name: input.name, tenant: tenant ?? null, role: input.role, hash: hashAdminToken(token), expiresAt });
        await auditAppend(req, deps, { tenant: record.tenant, action: 'admin-token.create', object: { kind: 'admin-token', name: record.id }, after: record });
        return { status: 201, body: { token, record }, headers: { 'cache-control': 'no-store' } };
      },
    },
    {
      method: 'DELETE',
      path: `${API_PREFIX}/admin-tokens/{id}`,
      operationId: 'revokeAdminToken',
      summary: 'Revoke an admin token',
      tag: 'Admin tokens',
      permission: anyTenant('tokens.manage'),
      success: { status: 204, description: 'Revoked' },
      errors: READ,
      async handle(req) {
        const id = req.params.id!;
        if (!(await req.store.adminTokens.revoke(id, new Date()))) throw gatewayError('NOT_FOUND', `Admin token "${id}" not found`);
        await auditAppend(req, deps, { tenant: req.principal!.tenant, action: 'admin-token.revoke', object: { kind: 'admin-token', name: id } });
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      path: `${API_PREFIX}/audit`,
      operationId: 'listAudit',
      summary: 'Audit entries in order (tenant-scoped callers see only their tenant)',
      tag: 'Audit',
      permission: anyTenant('audit.read'),
      query: [
        { name: 'tenant', schema: AuditTenantQuerySchema },
        { name: 'after', schema: AfterQuerySchema },
        { name: 'limit', schema: AuditLimitQuerySchema },
      ],
      success: { status: 200, description: 'A page of entries', body: one('AuditPage', AuditPageSchema) },
      errors: [400, ...AUTH, 503],
      async handle(req) {
        const limit = q<number>(req, 'limit');
        const items = await req.store.audit.list({ tenant: q<string | undefined>(req, 'tenant'), afterSeq: q<number | undefined>(req, 'after'), limit });
        const last = items.at(-1);
        return { status: 200, body: items.length === limit && last ? { items, next: String(last.seq) } : { items } };
      },
    },
    {
      method: 'GET',
      path: `${API_PREFIX}/audit/verify`,
      operationId: 'verifyAudit',
      summary: 'Walk the hash chain and report the first edited, inserted or deleted entry',
      tag: 'Audit',
      permission: anyTenant('audit.verify'),
      success: { status: 200, description: 'The verification report', body: one('AuditReport', AuditReportSchema) },
      errors: [...AUTH, 503],
      async handle(req) {
        if (!deps.audit) throw gatewayError('NOT_FOUND', 'The audit trail is not enabled');
        await deps.audit.flush();
        const r = await deps.audit.verify(req.store);
        return { status: 200, body: { ok: r.ok, entries: r.entries, head: r.head ?? null, problem: r.problem ?? null } };
      },
    },
  ];
}

async function auditAppend(req: AdminRequest, deps: AccessRoutesDeps, facts: Parameters<typeof auditEntry>[1]): Promise<void> {
  if (!deps.audit || !req.principal) return;
  const p = req.principal;
  await req.store.audit.append([auditEntry({ actor: { id: p.id, name: p.name, role: p.role, tenant: p.tenant }, sourceIp: req.sourceIp }, facts)], deps.audit.link);
}
